"""The run lock: one run per business, named holder, freed at once when its holder is killed."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.errors import EXIT_LOCKED, ConfigError, RunLocked
from importer.send.lock import RunLock
from tests.deadlines import HANG

ROOT = Path(__file__).resolve().parent.parent
BIZ = "biz@contoso.com"


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that takes the lock, says so, and holds it until killed."""
    code = (
        "import sys; from pathlib import Path; from importer.send.lock import RunLock; "
        f"lock = RunLock(Path({str(tmp_path)!r}), {BIZ!r}); lock.acquire(); print('held', flush=True); "
        "sys.stdin.read()"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        yield proc
    finally:
        proc.kill()
        proc.communicate(timeout=HANG)


def test_a_second_run_is_refused_and_told_who_holds_the_lock(
        tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(RunLocked) as refused:
        RunLock(tmp_path, BIZ.upper()).acquire()  # the same business, however it is spelt
    assert refused.value.exit_code == EXIT_LOCKED
    assert f"pid {holder.pid} on {socket.gethostname()}, started " in str(refused.value)


def test_a_killed_holder_frees_the_lock_at_once(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    holder.kill()
    holder.wait(timeout=HANG)
    with RunLock(tmp_path, BIZ):
        pass  # taken over: nothing to wait for, nothing to clean up by hand


def test_the_holder_is_recorded_beside_the_lock_file_not_in_it(tmp_path: Path) -> None:
    # Windows cannot read a locked byte from another process: the name must be elsewhere.
    lock = RunLock(tmp_path, BIZ)
    with lock:
        assert '"pid"' in lock.holder_path.read_text(encoding="utf-8")
        assert b"pid" not in lock.path.read_bytes()
        with pytest.raises(RunLocked, match=r"\(pid \d+ on "):
            RunLock(tmp_path, BIZ).acquire()
    assert not lock.holder_path.exists(), "a released lock names no holder"
    with RunLock(tmp_path, BIZ):
        pass


def test_a_state_folder_that_cannot_hold_the_lock_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match=r"cannot take the run lock .*state\.dir"):
        RunLock(blocker, BIZ).acquire()
