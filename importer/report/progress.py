"""A progress bar with an end in sight on an interactive terminal; nothing at all otherwise.

    1,204/5,000 rows |█████▏         | 24%  181 rows/s  00:21 left  3 failed

The total is the input's row count, known before the first row is sent (a CSV is read through
once when it is opened; a workbook and a DataFrame say how many rows they have). It counts
blank rows the run will skip, so the bar is set to the rows actually done when the run ends.
tqdm draws it, at most every ``interval`` seconds: in between, a row costs a clock reading.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

_FAILED = ("failed", "invalid", "not_sent")
BAR_FORMAT = ("{done}/{all} rows |{bar}| {percentage:3.0f}%  {per_second} rows/s  "
              "{remaining} left  {failed} failed")
COUNT_FORMAT = "{done} rows  {per_second} rows/s  {failed} failed"


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
        self._bar: Any = None
        self._counts: Mapping[str, int] | None = None
        self._next = 0.0

    def begin(self, total: int | None) -> None:
        """A run starts with about ``total`` rows (None: not known); the clock starts now.
        A bar left from an earlier run is put away; ``close`` (the run's end) is not called."""
        self._put_away()
        self.total = total
        if self.enabled:
            self._open()

    def update(self, counts: Mapping[str, int], *, force: bool = False) -> None:
        if not self.enabled:
            return
        self._counts = counts
        now = time.monotonic()
        if self._bar is not None and now < self._next and not force:
            return  # a row costs a clock reading; the bar is drawn every ``interval``
        self._next = now + self.interval
        self._show(self._bar or self._open(), counts, force=force)

    def close(self) -> None:
        """The run has ended: the bar shows its last counts and goes."""
        self._put_away()

    def _put_away(self) -> None:
        bar, self._bar = self._bar, None
        counts, self._counts = self._counts, None
        if bar is None:
            return
        if counts is not None:
            self._show(bar, counts, force=False)
        if bar.total is not None:
            bar.total = bar.n  # blank rows were counted in the total but never done
        bar.refresh()  # the end, however soon after the previous drawing
        bar.close()

    def _show(self, bar: Any, counts: Mapping[str, int], *, force: bool) -> None:
        done = sum(counts.values())
        bar.failed = sum(counts.get(s, 0) for s in _FAILED)
        if bar.total is not None and done > bar.total:
            bar.total = done  # the input held more rows than it said
        if done != bar.n:
            bar.update(done - bar.n)  # draws, and feeds the rate's moving average
        elif force:
            bar.refresh()

    def _open(self) -> Any:
        from tqdm import tqdm

        class Bar(tqdm):  # type: ignore[misc,type-arg]
            failed = 0

            @property
            def format_dict(self) -> dict[str, Any]:
                values: dict[str, Any] = super().format_dict
                elapsed, n = values["elapsed"], values["n"]
                rate = values["rate"] or (n / elapsed if elapsed else 0.0)
                total = values["total"]
                values.update(done=f"{n:,}", all=f"{total:,}" if total is not None else "?",
                              per_second=f"{rate:,.0f}", failed=f"{self.failed:,}")
                return values

        self._bar = Bar(total=self.total, file=self.stream, mininterval=0, miniters=1,
                        bar_format=BAR_FORMAT if self.total else COUNT_FORMAT,
                        dynamic_ncols=True, leave=False, smoothing=0.1)
        return self._bar
