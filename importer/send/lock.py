"""One run per business at a time.

Two runs against one business would race each other into duplicates. ``RunLock`` takes an
exclusive ``flock`` on a file in the state folder; the kernel releases it when the process
ends however it ends, so a lock left by a killed process is simply free again (taken over),
and a live holder is named in the message (pid, host, start time) from what it wrote there.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from ..errors import RunLocked
from .journal import journal_path


class RunLock:
    def __init__(self, state_dir: Path, business_id: str) -> None:
        self.business_id = business_id
        self.path = journal_path(state_dir, business_id).with_suffix(".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(self.path)
            os.close(fd)
            raise RunLocked(
                f"another run is importing into {self.business_id!r}{holder}; "
                f"try again when it has finished (lock file {self.path})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": time.strftime("%Y-%m-%d %H:%M:%S")}).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

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
