"""--log-format json: one JSON object per stderr line, the summary last, never a secret."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.cli import main
from importer.config import Config
from importer.emulator import EmulatorSettings, FaultRule
from importer.models import Attempt, Problem, Row, RowResult, Status
from importer.report import logs
from tests.deadlines import HANG
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread
from tests.test_cli import BIZ, SAMPLE_INVALID, SAMPLES, TOKEN, write_config

SAMPLE_ROWS = 10
SECRET = "s3cret-token-value-xyz"  # stands in for a real secret: the emulator accepts it


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    settings = EmulatorSettings(tokens={SECRET, TOKEN}, businesses={BIZ: "Contoso"},
                                retry_after=0.05)
    with emulator_in_thread(settings) as server:
        yield server


def json_lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines()]


def test_json_run_is_start_rows_retries_and_summary_last(
    emu: ThreadedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("E2E_TOKEN", SECRET)
    emu.call(emu.emulator.set_faults, [FaultRule("status_503", first=2)])
    config = write_config(tmp_path / "c.toml", emu.url, extra="max_attempts = 5")
    out = tmp_path / "o"
    code = main(["run", str(SAMPLES / "customers.csv"), "--config", str(config), "--out", str(out),
                 "--log-format", "json", "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == "", "in JSON mode stdout stays empty"
    assert "\r" not in captured.err, "no progress bar"
    events = json_lines(captured.err)  # every line parses
    assert events[0]["event"] == "start" and events[0]["input"] == str(SAMPLES / "customers.csv")
    rows = [e for e in events if e["event"] == "row"]
    assert len(rows) == SAMPLE_ROWS
    assert sorted(e["row"] for e in rows) == list(range(2, 12))
    created = [e for e in rows if e["status"] == "created"]
    assert all(e["customer_id"] and e["request_ids"] and e["http_status"] == 201 for e in created)
    assert all(isinstance(e["elapsed_ms"], int) for e in rows)
    invalid = next(e for e in rows if e["row"] == 7)
    assert invalid["status"] == "invalid" and invalid["error"].startswith("Email:")
    retries = [e for e in events if e["event"] == "retry"]
    assert retries and {"row", "attempt", "error", "wait_seconds"} <= retries[0].keys()
    assert any(e["attempts"] > 1 for e in rows)
    summary = events[-1]
    assert summary["event"] == "summary"
    report = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"] == report["counts"] and summary["rows"] == SAMPLE_ROWS
    assert summary["counts"]["invalid"] == SAMPLE_INVALID
    assert summary["exit_code"] == 1 and summary["out_dir"] == str(out)
    assert isinstance(summary["seconds"], float)
    assert [e["event"] for e in events].count("summary") == 1
    assert SECRET not in captured.err


def test_json_error_before_the_run_ends_with_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", str(SAMPLES / "customers.csv"), "--config", str(tmp_path / "nope.toml"),
                 "--log-format", "json"])
    assert code == 2
    events = json_lines(capsys.readouterr().err)
    assert [e["event"] for e in events] == ["error", "summary"]
    assert events[-1]["exit_code"] == 2 and "nope.toml" in events[-1]["error"]


def test_text_mode_is_unchanged(
    emu: ThreadedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("E2E_TOKEN", TOKEN)
    config = write_config(tmp_path / "c.toml", emu.url)
    assert main(["run", str(SAMPLES / "customers.csv"), "--config", str(config),
                 "--out", str(tmp_path / "o")]) == 1
    captured = capsys.readouterr()
    assert f"{SAMPLE_INVALID} invalid in" in captured.out
    assert "{" not in captured.err and '"event"' not in captured.err


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize(
    "message",
    [
        pytest.param(f"token {SECRET} leaked", id="plain"),
        pytest.param(f'header "Authorization: Bearer {SECRET}"', id="bearer"),
        pytest.param("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abcdefgh", id="any-bearer"),
    ],
)
def test_secret_values_never_reach_a_line(log_format: str, message: str) -> None:
    stream = io.StringIO()
    logs.install(log_format, logging.INFO, stream)
    config = Config().replace("auth", token_env="MY_TOKEN")
    logs.protect(logs.secret_values(config, {"MY_TOKEN": SECRET, "OTHER": "not-named"}))
    logging.getLogger("importer.anything").error("%s", message)
    text = stream.getvalue()
    assert SECRET not in text and "eyJhbGciOiJIUzI1NiJ9" not in text
    assert logs.REDACTED in text


def test_secret_values_are_the_named_variables_only() -> None:
    config = Config().replace("auth", token_env="T", client_secret_env="S",
                              certificate_passphrase_env="P")
    assert logs.secret_values(config, {"T": "tok", "S": "", "P": "pass", "X": "other"}) == [
        "tok", "pass"]


def test_row_event_fields() -> None:
    stream = io.StringIO()
    logs.install("json", logging.ERROR, stream)
    ticks = iter([10.0, 10.25])
    events = logs.RowEvents(clock=lambda: next(ticks))
    events(RowResult(Row(5, ("a",), source_row=3), Status.FAILED, http_status=409,
                     error_code="conflict", message="exists",
                     attempts=(Attempt("c1", "r1", 409),)))
    line = json.loads(stream.getvalue())
    assert {k: line[k] for k in ("event", "row", "source_row", "status", "http_status",
                                 "error_code", "attempts", "client_request_ids", "request_ids",
                                 "elapsed_ms", "error")} == {
        "event": "row", "row": 5, "source_row": 3, "status": "failed", "http_status": 409,
        "error_code": "conflict", "attempts": 1, "client_request_ids": ["c1"],
        "request_ids": ["r1"], "elapsed_ms": 250, "error": "HTTP 409 conflict: exists"}


@pytest.mark.parametrize(
    ("level", "shown"),
    [
        pytest.param(logging.ERROR, ["row", "error"], id="quiet"),
        pytest.param(logging.INFO, ["row", "info", "warning", "error"], id="default"),
        pytest.param(logging.DEBUG, ["row", "debug", "info", "warning", "error"], id="verbose"),
    ],
)
def test_quiet_and_verbose_select_messages_never_events(level: int, shown: list[str]) -> None:
    stream = io.StringIO()
    logs.install("json", level, stream)
    log = logging.getLogger("importer.test")
    logs.emit("row", "row 2: created", row=2)
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    assert [e["event"] for e in json_lines(stream.getvalue())] == shown


def test_invalid_problems_in_row_event() -> None:
    stream = io.StringIO()
    logs.install("json", logging.INFO, stream)
    logs.RowEvents()(RowResult(Row(3, ("",)), Status.INVALID,
                               problems=(Problem("name is required", "Name", ""),)))
    assert json.loads(stream.getvalue())["error"] == "Name: name is required"


def test_subprocess_json_lines_only(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "importer", "run", str(SAMPLES / "customers.xlsx"), "--dry-run",
         "--out", str(tmp_path / "o"), "--log-format", "json"],
        capture_output=True, text=True, timeout=HANG, cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    events = json_lines(proc.stderr)
    assert events[0]["event"] == "start" and events[-1]["event"] == "summary"
    assert sum(e["event"] == "row" for e in events) == SAMPLE_ROWS
