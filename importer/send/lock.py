"""One run per business at a time, on POSIX and Windows alike.

Two runs against one business would race each other into duplicates. ``RunLock`` holds an
operating-system lock on a file in the state folder through ``filelock``: ``flock`` on POSIX,
``LockFileEx`` on byte 0 of the file on Windows. Either way the system drops the lock when the
process ends however it ends, so a lock left by a killed process is free again at once.

Who holds it (pid, host, start time) is written to a file of its own beside the lock, never
into the lock file: on Windows a locked byte cannot be read by another process, and the lock
file belongs to the library (its fallback for file systems without ``flock`` keeps its own
record there). The holder writes the record just after taking the lock and deletes it just
before letting go, so a run that finds the lock taken reads the record without touching the
lock. A holder that was killed leaves its record behind; the next holder writes over it. Only in
the instant between another run taking the lock and writing its record can the message name
no one, or the run before.
"""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import suppress
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from ..errors import ConfigError, RunLocked
from .journal import journal_path


class RunLock:
    def __init__(self, state_dir: Path, business_id: str) -> None:
        self.business_id = business_id
        self.path = journal_path(state_dir, business_id).with_suffix(".lock")
        self.holder_path = self.path.with_name(self.path.name + ".holder")
        # blocking=False: a taken lock is an answer now (exit 75), not a wait. thread_local=False:
        # the run may release it from another thread than the one that took it.
        self._lock = FileLock(self.path, mode=0o600, blocking=False, thread_local=False)

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except Timeout:
            raise RunLocked(
                f"another run is importing into {self.business_id!r}{_describe(self.holder_path)}; "
                f"try again when it has finished (lock file {self.path})"
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"cannot take the run lock {self.path}: {exc.strerror or exc}; "
                "check that state.dir is a folder you can write to"
            ) from None
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        with suppress(OSError):  # the name is a courtesy; the lock is the promise
            self.holder_path.write_text(json.dumps(record), encoding="utf-8")

    def release(self) -> None:
        if self._lock.is_locked:
            # The record goes first: once the lock is free, the record may be the next run's.
            with suppress(OSError):
                self.holder_path.unlink()
            self._lock.release()

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _describe(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return ""
    if not isinstance(info, dict) or "pid" not in info:
        return ""
    return f" (pid {info['pid']} on {info.get('host', '?')}, started {info.get('started', '?')})"
