"""The progress bar: on a terminal, done/total rows, a bar, percentage, rate, time left and failures;
nothing when stderr is not a terminal, with --quiet or with --log-format json."""

from __future__ import annotations

import csv
import fcntl
import io
import os
import re
import struct
import subprocess
import sys
import termios
from fractions import Fraction
from pathlib import Path

import pytest

from importer.report import Progress

ROWS = 200
BAD_EVERY = 40  # rows 0, 40, 80 ... have a broken email: 5 invalid


def write_input(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Email"])
        for i in range(ROWS):
            w.writerow([f"Person {i}", "broken@" if i % BAD_EVERY == 0 else f"p{i}@example.com"])
    return path


def run_in_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the command line with a pseudo-terminal as stdin, stdout and stderr; read all it
    writes until it closes the terminal (no sleeps: the read blocks until output or the end)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "COLUMNS": "120"}
    env.pop("BOOKINGS_IMPORT_CONFIG", None)
    child = subprocess.Popen([sys.executable, "-m", "importer", *args], stdin=slave, stdout=slave,
                             stderr=slave, cwd=cwd, env=env, close_fds=True)
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    return child.wait(), b"".join(chunks).decode("utf-8", "replace")


def bar_states(output: str) -> list[tuple[int, int, int]]:
    """(done, total, percent) of every drawing of the bar."""
    found = re.findall(r"([\d,]+)/([\d,]+) rows \|[^|]*\|\s*(\d+)%", output)
    return [(int(d.replace(",", "")), int(t.replace(",", "")), int(p)) for d, t, p in found]


def test_a_run_on_a_terminal_shows_a_bar_towards_the_files_row_count(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.csv")
    code, output = run_in_terminal(["run", str(source), "--sandbox", "--out", str(tmp_path / "o")],
                                   tmp_path)
    assert code == 1, output  # five invalid rows
    states = bar_states(output)
    assert states, output
    assert {total for _, total, _ in states} == {ROWS}, "the total is known from the start"
    assert states[0] == (0, ROWS, 0)
    assert states[-1] == (ROWS, ROWS, 100)
    # The bar rounds the share it is given, a float: at 109 of 200 rows that is 54.500000000000001,
    # shown as 55%. Whichever way the last half percent goes, it is the nearest whole percent.
    assert all(abs(p - Fraction(done * 100, ROWS)) <= Fraction(1, 2) for done, _, p in states), states
    last = output[output.rindex(f"{ROWS}/{ROWS} rows"):]
    assert re.search(r"100%\s+[\d,]+ rows/s\s+\S+ left\s+5 failed", last), last
    assert "195 created, 5 invalid" in output


@pytest.mark.parametrize("flags", [["--quiet"], ["--log-format", "json"]], ids=["quiet", "json log"])
def test_no_bar_with_quiet_or_a_json_log(tmp_path: Path, flags: list[str]) -> None:
    source = write_input(tmp_path / "in.csv")
    code, output = run_in_terminal(["run", str(source), "--dry-run", "--out", str(tmp_path / "o"),
                                    *flags], tmp_path)
    assert code == 1, output
    assert bar_states(output) == [] and "rows |" not in output
    assert "invalid" in output  # the run did happen: its summary is there


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_not_a_terminal_draws_nothing() -> None:
    stream = io.StringIO()
    progress = Progress(stream=stream)
    progress.begin(10)
    progress.update({"created": 5}, force=True)
    progress.close()
    assert stream.getvalue() == ""


def test_the_bar_ends_at_the_rows_done_when_the_total_was_more_or_less() -> None:
    stream = FakeTerminal()
    progress = Progress(stream=stream)
    progress.begin(10)  # blank rows counted in the total, never done
    progress.update({"created": 6, "failed": 2}, force=True)
    progress.close()
    assert bar_states(stream.getvalue()) == [(0, 10, 0), (8, 10, 80), (8, 8, 100)]
    assert "2 failed" in stream.getvalue()

    stream = FakeTerminal()
    progress = Progress(stream=stream)
    progress.begin(3)  # more rows than said
    progress.update({"created": 5}, force=True)
    progress.close()
    assert bar_states(stream.getvalue())[-1] == (5, 5, 100)
