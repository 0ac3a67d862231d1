"""Ctrl-C and console output where the system offers less than POSIX: Windows' event loop has no
``add_signal_handler``, and a redirected stream there encodes only a code page such as cp1252."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from importer.console import catch_interrupts, plain_output
from importer.report import summary_line
from tests import test_resume
from tests.deadlines import HANG
from tests.test_resume import TOKEN, customers, results, setup, wait_for_customers

ROOT = Path(__file__).resolve().parent.parent
emulator_url = test_resume.emulator_url  # the emulator in a process of its own, as a fixture

# The CLI in a process whose event loop refuses add_signal_handler, as Windows' loops do.
WITHOUT_SIGNAL_HANDLERS = (
    "import asyncio, sys\n"
    "asyncio.SelectorEventLoop.add_signal_handler = asyncio.BaseEventLoop.add_signal_handler\n"
    "from importer.cli import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


def test_ctrl_c_without_add_signal_handler_still_finishes_the_rows_in_flight(
        emulator_url: str, tmp_path: Path) -> None:
    rows = 2000
    cfg, src = setup(tmp_path, emulator_url, rows)
    out = tmp_path / "r1"
    proc = subprocess.Popen(
        [sys.executable, "-c", WITHOUT_SIGNAL_HANDLERS, "run", str(src), "--config", str(cfg),
         "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "RESUME_TOKEN": TOKEN},
    )
    wait_for_customers(emulator_url, proc, 200)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    reported = results(out)
    assert len(reported) == rows, "every row is in the report"
    counts = Counter(r["status"] for r in reported)
    assert set(counts) == {"created", "not_sent"}
    assert counts["created"] == len(customers(emulator_url)), "nothing half-sent"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == 130


async def test_the_fallback_hands_signals_to_the_loop_and_puts_the_old_handlers_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()

    def refuse(*args: object) -> None:
        raise NotImplementedError

    monkeypatch.setattr(loop, "add_signal_handler", refuse)
    # Were the fallback missing, the signals would land here instead of stopping pytest.
    stray: list[int] = []
    saved = {n: signal.signal(n, lambda n, frame: stray.append(n))
             for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
        interrupted, terminated = asyncio.Event(), asyncio.Event()
        with catch_interrupts(interrupted.set, on_terminate=terminated.set):
            signal.raise_signal(signal.SIGINT)
            await asyncio.wait_for(interrupted.wait(), 30)
            signal.raise_signal(signal.SIGTERM)
            await asyncio.wait_for(terminated.wait(), 30)
        assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
        assert stray == []
    finally:
        for n, handler in saved.items():
            signal.signal(n, handler)


def test_the_summary_line_goes_to_a_cp1252_stream() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252")
    plain_output(stream)
    line = summary_line({"created": 2, "failed": 1}, 1.5, Path("runs") / "x")
    print(line, file=stream)
    print("Zoë Ünal ✓ ☃", file=stream)  # what cp1252 has stays; the rest is plain text
    stream.flush()
    assert raw.getvalue().decode("cp1252").splitlines() == [
        f"2 created, 1 failed in 1.5 s -> {Path('runs') / 'x'}{os.sep}",
        "Zoë Ünal ok \\u2603",
    ]


def test_a_redirected_stdout_that_only_encodes_cp1252_gets_the_whole_summary(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("Name,Email\nZoë Ünal,zoe@contoso.com\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "importer", "run", str(src), "--dry-run", "--out",
         str(tmp_path / "out"), "--quiet"],
        capture_output=True, cwd=ROOT, env={**os.environ, "PYTHONIOENCODING": "cp1252"},
        timeout=HANG,
    )
    assert done.returncode == 0, done.stderr.decode("cp1252")
    where = re.escape(f"{tmp_path / 'out'}{os.sep}")
    assert re.fullmatch(rf"1 valid in [0-9.]+ s -> {where}\r?\n", done.stdout.decode("cp1252"))
    report = (tmp_path / "out" / "results.csv").read_text(encoding="utf-8-sig")
    assert "Zoë Ünal" in report, "reports stay UTF-8"
