"""The run's output folder: results.csv, failures.csv (and failures.xlsx for a workbook input),
bodies.jsonl (dry run) and summary.json.

Results arrive out of order (four requests in flight, retries); ``ReportWriter`` holds them in a
small reorder buffer and writes each row as soon as every row before it is written, so
results.csv is in input order and is flushed while the run goes: a crash keeps everything that
was already done. The caller bounds the buffer by not starting rows too far ahead.

CSV cells are made safe to open in a spreadsheet program by ``text.neutralise``.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..models import RowResult, SheetInfo, body_json
from .text import FAILED_STATUSES, error_text, neutralise

if TYPE_CHECKING:
    from .workbook import FailuresWorkbook

RESULT_COLUMNS = (
    "row",
    "status",
    "customer_id",
    "display_name",
    "email",
    "http_status",
    "error_code",
    "message",
    "warnings",
    "attempts",
    "client_request_ids",
    "request_ids",
    "business_id",
    "source_row",
)
def default_run_dir(base: str | Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(base) / stamp
    n = 1
    while path.exists():
        n += 1
        path = Path(base) / f"{stamp}-{n}"
    return path


class ReportWriter:
    def __init__(self, out_dir: Path, info: SheetInfo, *, dry_run: bool = False) -> None:
        self.out_dir = out_dir
        self.info = info
        self.dry_run = dry_run
        out_dir.mkdir(parents=True, exist_ok=True)
        self.counts: Counter[str] = Counter()
        self._pending: dict[int, RowResult] = {}
        self._next = 0
        self._files: list[IO[str]] = []
        self._results = csv.writer(self._open("results.csv"))
        self._results.writerow(RESULT_COLUMNS)
        self._failures_file = self._open("failures.csv")
        self._failures = csv.writer(self._failures_file)
        # A header is a cell like any other: one that reads as a formula is neutralised too.
        self._failures.writerow(["source_row", *(neutralise(h) for h in info.headers), "error"])
        self._bodies = self._open("bodies.jsonl") if dry_run else None
        self._failures_xlsx: FailuresWorkbook | None = None
        if info.kind != "csv":  # people who sent a workbook fix their failures in one
            from .workbook import FILE_NAME, FailuresWorkbook  # openpyxl loads slowly

            self._failures_xlsx = FailuresWorkbook(out_dir / FILE_NAME, info)
        self.started = time.time()
        self._flush_every = 1000 if dry_run else 1
        self.flush()

    def _open(self, name: str) -> IO[str]:
        # utf-8-sig: Excel opens a CSV with a BOM as UTF-8; without one it guesses the ANSI page.
        encoding = "utf-8" if name.endswith(".jsonl") else "utf-8-sig"
        f = open(self.out_dir / name, "w", encoding=encoding, newline="")  # noqa: SIM115
        self._files.append(f)
        return f

    @property
    def written(self) -> int:
        return self._next

    @property
    def buffered(self) -> int:
        return len(self._pending)

    def add(self, seq: int, result: RowResult) -> None:
        """Record the result of the ``seq``-th input row (0-based); writes what is in order."""
        self._pending[seq] = result
        wrote = 0
        while self._next in self._pending:
            self._write(self._pending.pop(self._next))
            self._next += 1
            wrote += 1
        if wrote and (self._next % self._flush_every == 0 or self._flush_every == 1):
            self.flush()

    def _write(self, r: RowResult) -> None:
        self.counts[r.status.value] += 1
        self._results.writerow(
            [
                r.row.number,
                r.status.value,
                r.customer_id,
                neutralise(r.display_name),
                neutralise(r.email),
                r.http_status or "",
                r.error_code,
                neutralise(error_text(r) if r.status in FAILED_STATUSES else r.message),
                neutralise("; ".join(r.warnings)),
                len(r.attempts),
                " ".join(a.client_request_id for a in r.attempts if a.client_request_id),
                " ".join(a.request_id for a in r.attempts if a.request_id),
                r.business_id,
                r.row.source_row or "",
            ]
        )
        if r.status in FAILED_STATUSES:
            source = r.row.source_row or r.row.number
            self._failures.writerow(
                [source, *(neutralise(v) for v in r.row.values), neutralise(error_text(r))]
            )
            if self._failures_xlsx is not None:
                self._failures_xlsx.add(r)
        if self._bodies is not None and ("body_json" in r.extra or "body" in r.extra):
            # The body may come encoded already (json.dumps(body, ensure_ascii=False)); the line
            # is what json.dumps({"row": ..., "body": body}, ensure_ascii=False) would write.
            encoded = r.extra.get("body_json") or body_json(r.extra["body"])
            self._bodies.write(f'{{"row": {r.row.number}, "body": {encoded}}}\n')

    def flush(self) -> None:
        for f in self._files:
            f.flush()

    def close(self) -> None:
        for f in self._files:
            f.close()
        if self._failures_xlsx is not None:
            self._failures_xlsx.close()

    def write_summary(self, data: dict[str, Any]) -> None:
        tmp = self.out_dir / "summary.json.tmp"
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.out_dir / "summary.json")

    def summary(self, **fields: Any) -> dict[str, Any]:
        finished = time.time()
        duration = finished - self.started
        rows = sum(self.counts.values())
        return {
            "counts": dict(sorted(self.counts.items())),
            "rows": rows,
            "started": _iso(self.started),
            "finished": _iso(finished),
            "duration_seconds": round(duration, 3),
            "rows_per_second": round(rows / duration, 1) if duration > 0 else None,
            **fields,
        }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def summary_line(counts: Counter[str] | dict[str, int], seconds: float, out_dir: Path) -> str:
    """``2,341 created, 12 skipped, 3 failed, 1 invalid in 41 s → runs/…/``"""
    order = ["created", "updated", "repaired", "unchanged", "skipped", "duplicate", "valid",
             "failed", "invalid", "not_sent"]
    parts = [f"{counts[s]:,} {s.replace('_', ' ')}" for s in order if counts.get(s)]
    took = f"{seconds:.1f} s" if seconds < 10 else f"{seconds:,.0f} s"
    return f"{', '.join(parts) or 'no rows'} in {took} → {out_dir}{os.sep}"
