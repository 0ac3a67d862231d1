"""A one-line progress display on an interactive terminal; nothing at all otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import TextIO

_FAILED = ("failed", "invalid", "not_sent")


class Progress:
    def __init__(
        self,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        interval: float = 0.2,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = total
        self.interval = interval
        self._started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def update(self, counts: Mapping[str, int], *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        done = sum(counts.values())
        failed = sum(counts.get(s, 0) for s in _FAILED)
        elapsed = max(now - self._started, 1e-6)
        rate = done / elapsed
        line = f"{done:,} rows"
        if self.total:
            line = f"{done:,}/{self.total:,} rows ({100 * done / self.total:.0f}%)"
            if rate > 0 and done < self.total:
                line += f", ETA {_duration((self.total - done) / rate)}"
        line += f", {rate:,.0f}/s, {failed:,} failed"
        self.stream.write("\r\x1b[2K" + line)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
