"""Crash safety with real processes: SIGKILL and Ctrl-C mid-run, then resume.

The emulator and the CLI each run in their own process, as in production; kills happen when
the emulator holds a chosen number of customers (read from its admin endpoint), not after a
guessed delay.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deadlines import HANG

ROOT = Path(__file__).resolve().parent.parent
BIZ = "resume@contoso.onmicrosoft.com"
TOKEN = "resume-token"


@pytest.fixture
def emulator_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "importer.emulator", "--port", "0", "--latency", "0.003",
         "--token", TOKEN],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("listening on "), line
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.communicate(timeout=HANG)


def state(url: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(f"{url}/_emulator/state", timeout=HANG) as resp:
        return json.loads(resp.read())


def customers(url: str) -> list[dict]:  # type: ignore[type-arg]
    for bid, data in state(url)["businesses"].items():
        if bid.lower() == BIZ:
            return data["customers"]
    return []


def setup(tmp_path: Path, url: str, rows: int) -> tuple[Path, Path]:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[graph]\nbase_url = "{url}"\nbusiness_id = "{BIZ}"\n[auth]\ntoken_env = "RESUME_TOKEN"\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n[limits]\ntimeout = 5\nmax_backoff = 0.2\n',
        encoding="utf-8")
    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Email"])
        w.writerows((f"Person {i}", f"p{i}@contoso.com") for i in range(rows))
    return cfg, src


def start_cli(cfg: Path, src: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "importer", "run", str(src), "--config", str(cfg), "--out",
         str(out), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "RESUME_TOKEN": TOKEN},
    )


def wait_for_customers(url: str, proc: subprocess.Popen[str], at_least: int) -> None:
    deadline = time.monotonic() + HANG
    while len(customers(url)) < at_least:
        assert proc.poll() is None, "the run ended before the kill point"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.02)


def results(out: Path) -> list[dict[str, str]]:
    with (out / "results.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    ("rows", "kills"),
    [
        pytest.param(3000, 3, id="3000-rows-3-kills"),
        # The soak version: `pytest -m slow tests/test_resume.py` (a few minutes).
        pytest.param(20000, 12, id="soak-20000-rows-12-kills", marks=pytest.mark.slow),
    ],
)
def test_sigkill_at_random_points_then_resume(
    emulator_url: str, tmp_path: Path, rows: int, kills: int
) -> None:
    cfg, src = setup(tmp_path, emulator_url, rows)
    rng = random.Random(int(os.environ.get("KILL_SEED", "20261125")))
    points = sorted(rng.sample(range(150, rows - 300), kills))
    for n, point in enumerate(points):
        proc = start_cli(cfg, src, tmp_path / f"killed{n}")
        wait_for_customers(emulator_url, proc, point)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=HANG)
        assert proc.returncode == -signal.SIGKILL
    final = start_cli(cfg, src, tmp_path / "final")
    _, err = final.communicate(timeout=HANG)
    final_results = results(tmp_path / "final")
    assert final.returncode == 0, (err, [r for r in final_results if r["status"] != "created"])
    held = customers(emulator_url)
    emails = Counter(c["emailAddress"] for c in held)
    assert len(held) == rows and max(emails.values()) == 1, "every row exactly once"
    assert len(final_results) == rows, "every row accounted for"
    assert {r["status"] for r in final_results} == {"created"}
    assert {r["customer_id"] for r in final_results} == {c["id"] for c in held}
    resumed = [r for r in final_results if "interrupted" in r["message"]]
    assert len(resumed) >= points[-1] - 10, "rows done before the kills were not sent again"


def test_ctrl_c_finishes_in_flight_rows_writes_the_report_and_exits_130(
    emulator_url: str, tmp_path: Path
) -> None:
    rows = 2000
    cfg, src = setup(tmp_path, emulator_url, rows)
    proc = start_cli(cfg, src, tmp_path / "r1")
    wait_for_customers(emulator_url, proc, 200)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    first = results(tmp_path / "r1")
    assert len(first) == rows
    counts = Counter(r["status"] for r in first)
    assert set(counts) == {"created", "not_sent"}
    assert counts["created"] == len(customers(emulator_url)), "nothing half-sent"
    summary = json.loads((tmp_path / "r1" / "summary.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == 130
    proc = start_cli(cfg, src, tmp_path / "r2")
    _, err = proc.communicate(timeout=HANG)
    assert proc.returncode == 0, err
    assert len(customers(emulator_url)) == rows


def test_two_concurrent_runs_one_gets_the_lock(emulator_url: str, tmp_path: Path) -> None:
    cfg, src = setup(tmp_path, emulator_url, 1500)
    first = start_cli(cfg, src, tmp_path / "r1")
    wait_for_customers(emulator_url, first, 50)
    second = start_cli(cfg, src, tmp_path / "r2")
    _, err2 = second.communicate(timeout=HANG)
    _, err1 = first.communicate(timeout=HANG)
    assert second.returncode == 75, err2
    assert "another run is importing into" in err2 and f"pid {first.pid}" in err2
    assert first.returncode == 0, err1
    assert len(customers(emulator_url)) == 1500
