"""Import runs started from the page: one at a time per business, live counts, past reports.

A run is ``run_import`` in the app's event loop; ``LiveProgress`` takes its count updates so
the status endpoint can answer at any moment without touching the files being written. Past
runs are the report folders under ``report.dir`` that hold a summary.json; downloads are only
ever served from such a folder and only under the names in ``DOWNLOADS``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import ImporterError
from ..report import FAILED_STATUSES, Progress, default_run_dir
from ..runner import RunOptions, run_import
from ..signin import TokenSource

log = logging.getLogger("importer")

DOWNLOADS = ("results.csv", "failures.csv", "failures.xlsx")
# A report folder name as default_run_dir makes it, or as a person names one with --out.
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_FAILED = tuple(s.value for s in FAILED_STATUSES)


class RunRefused(Exception):
    """A start that cannot go ahead now (another run holds the business)."""


class LiveProgress(Progress):
    """The counts of a running import, as the runner reports them, and its time: from the
    start of the run until ``close``, the run's end (``begin``, the first row, is no end)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(enabled=False)
        self.clock = clock
        self.counts: dict[str, int] = {}
        self.started = clock()
        self.finished: float | None = None

    def update(self, counts: Mapping[str, int], *, force: bool = False) -> None:
        self.counts = dict(counts)

    def close(self) -> None:
        self.finished = self.clock()

    @property
    def seconds(self) -> float:
        """Since the run started: still growing while it runs, fixed at its end."""
        end = self.finished if self.finished is not None else self.clock()
        return max(end - self.started, 1e-6)


@dataclass
class Run:
    id: str
    business: str
    input_name: str
    total: int
    out_dir: Path
    progress: LiveProgress = field(default_factory=LiveProgress)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    # Set by the run once its input is open (the page's one-read-at-a-time gate waits for it).
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    state: str = "running"  # running | finished | error
    exit_code: int | None = None
    error: str = ""
    task: asyncio.Task[None] | None = None

    def status(self) -> dict[str, Any]:
        counts = self.progress.counts
        done = sum(counts.values())
        seconds = self.progress.seconds
        return {
            "id": self.id,
            "state": self.state,
            "business": self.business,
            "input": self.input_name,
            "total": self.total,
            "done": done,
            "failed": sum(counts.get(s, 0) for s in _FAILED),
            "counts": dict(sorted(counts.items())),
            "seconds": round(seconds, 1),
            "rate": round(done / seconds, 1),
            "exit_code": self.exit_code,
            "error": self.error,
            "files": available_files(self.out_dir) if self.state != "running" else [],
        }


class RunBoard:
    """The runs of this app: starts them, refuses a second one per business, lists them."""

    def __init__(self, config: Config, tokens: TokenSource | None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.tokens = tokens
        self.clock = clock  # the runs' elapsed time; injected in tests
        self.report_dir = Path(config.report.dir)
        self._runs: dict[str, Run] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def business(self) -> str:
        return self.config.graph.business_id

    def active(self, business: str | None = None) -> Run | None:
        business = business or self.business
        return next((r for r in self._runs.values()
                     if r.business == business and r.state == "running"), None)

    async def start(self, path: Path, *, input_name: str, total: int, sheet: str | None,
                    columns: Mapping[str, str] | None = None,
                    config: Config | None = None) -> Run:
        """Start a run; ``columns`` (the page's mapping step) replaces the config's [columns];
        ``config``, the page's choices (encoding, phone region) in place of the config."""
        business = self.business
        lock = self._locks.setdefault(business, asyncio.Lock())
        if lock.locked():
            running = self.active(business)
            since = f" (run {running.id}, {running.input_name})" if running else ""
            raise RunRefused(f"an import into {business} is already running{since}; "
                             "wait for it to finish, then start this one")
        # Not locked, so this takes it without yielding: no second start can slip in between.
        await lock.acquire()
        try:
            self.report_dir.mkdir(parents=True, exist_ok=True)
            out_dir = default_run_dir(self.report_dir)
            out_dir.mkdir(parents=True)
        except BaseException:
            lock.release()
            raise
        run = Run(out_dir.name, business, input_name, total, out_dir,
                  progress=LiveProgress(self.clock))
        self._runs[run.id] = run
        config = config or self.config
        if columns is not None:
            config = dataclasses.replace(config, columns=dict(columns))
        run.task = asyncio.create_task(self._run(run, path, sheet, lock, config),
                                       name=f"import {run.id}")
        return run

    async def _run(self, run: Run, path: Path, sheet: str | None, lock: asyncio.Lock,
                   config: Config) -> None:
        try:
            outcome = await run_import(
                config, RunOptions(input=path, out_dir=run.out_dir, sheet=sheet,
                                   input_name=run.input_name),
                tokens=self.tokens, progress=run.progress, stop=run.stop, opened=run.opened,
            )
            run.exit_code = outcome.exit_code
            run.error = outcome.fatal
            run.state = "error" if outcome.fatal else "finished"
        except ImporterError as exc:
            run.state, run.exit_code, run.error = "error", exc.exit_code, str(exc)
        except Exception as exc:  # the page must show it; the log keeps the traceback
            log.exception("run %s failed", run.id)
            run.state, run.exit_code, run.error = "error", 70, f"unexpected error: {exc}"
        finally:
            if run.progress.finished is None:
                run.progress.close()
            lock.release()

    def get(self, run_id: str) -> Run | None:
        return self._runs.get(run_id)

    def status(self, run_id: str) -> dict[str, Any] | None:
        run = self._runs.get(run_id)
        if run is not None:
            return run.status()
        folder = self.folder(run_id)
        return past_status(folder) if folder else None

    def folder(self, run_id: str) -> Path | None:
        """The report folder of a run, only if it is a known one directly under report.dir."""
        if not _RUN_ID.fullmatch(run_id):
            return None
        base = self.report_dir.resolve()
        folder = (base / run_id).resolve()
        if folder.parent != base or not (folder / "summary.json").is_file():
            return None
        return folder

    def download(self, run_id: str, name: str) -> Path | None:
        if name not in DOWNLOADS:
            return None
        run = self._runs.get(run_id)
        if run is not None and run.state == "running":
            return None  # half-written files would look like a finished report
        folder = self.folder(run_id)
        if folder is None:
            return None
        path = folder / name
        return path if path.is_file() and path.resolve().parent == folder else None

    def past(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest report folders first, with what their summary.json says."""
        if not self.report_dir.is_dir():
            return []
        found: list[dict[str, Any]] = []
        for folder in sorted(self.report_dir.iterdir(), key=lambda p: p.name, reverse=True):
            if len(found) >= limit:
                break
            if self.folder(folder.name) is None:
                continue
            status = self.status(folder.name)
            if status is not None:
                found.append(status)
        return found

    async def close(self) -> None:
        """Stop taking rows in every run; let the requests in flight finish."""
        tasks = [r.task for r in self._runs.values() if r.task and not r.task.done()]
        for run in self._runs.values():
            run.stop.set()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def available_files(folder: Path) -> list[str]:
    return [name for name in DOWNLOADS if (folder / name).is_file()]


def past_status(folder: Path) -> dict[str, Any] | None:
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(summary, dict):
        return None
    raw_counts = summary.get("counts")
    counts: dict[str, int] = ({str(k): v for k, v in raw_counts.items() if isinstance(v, int)}
                              if isinstance(raw_counts, dict) else {})
    raw_source = summary.get("input")
    source: dict[str, Any] = raw_source if isinstance(raw_source, dict) else {}
    state = summary.get("state")
    finished = state == "finished"
    return {
        "id": folder.name,
        # A summary still saying "running" belongs to a run this app did not start (the command
        # line) or one that ended with the process.
        "state": ("error" if summary.get("fatal_error") else "finished") if finished else "unfinished",
        "business": str(summary.get("business_id") or ""),
        # The name the person uploaded; a summary from before it was recorded has the path.
        "input": str(source.get("name") or Path(str(source.get("path") or "")).name),
        "total": summary.get("rows"),
        "done": sum(counts.values()),
        "failed": sum(counts.get(s, 0) for s in _FAILED),
        "counts": dict(sorted(counts.items())),
        "seconds": summary.get("duration_seconds"),
        "rate": summary.get("rows_per_second"),
        "exit_code": summary.get("exit_code"),
        "error": str(summary.get("fatal_error") or ""),
        "started": str(summary.get("started") or ""),
        "dry_run": bool(summary.get("dry_run")),
        "files": available_files(folder) if finished else [],
    }
