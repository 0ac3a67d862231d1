"""The library API: the import the command line runs, from Python.

    preview(source, config=None, *, sheet=None)            ->  Preview   (reads; sends nothing)
    run(source, config, *, dry_run=False, restart=False,
        progress=False, out_dir=None, sheet=None)          ->  Outcome
    await run_async(...)                                   ->  Outcome   (inside an event loop)

``source`` is a spreadsheet's path, a pandas DataFrame, or an iterable of mappings
(``{"Name": ..., "Email": ...}``), or the https URL of a file on SharePoint or OneDrive (read
through Graph with the config's sign-in); ``config`` a TOML file's path, a dict shaped like that file,
or a ``Config``. Every source goes the one way a file goes (read.open_source, then
runner.run_import, the function the command line and the upload page call too): the same
header recognition, mapping, validation, exactly-once journal, pacing and report folder.

Errors that stop a run before it starts (config, input, sign-in, a business locked by another
run) are raised as ``ImporterError`` subclasses with the message the command line would print.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from .config import Config, load_config, parse_config
from .drive import check_url, fetched_copy, is_url
from .errors import EXIT_OK
from .previewer import Preview, build_preview
from .read import frame_row_offset, is_frame
from .report import FAILED_STATUSES, Progress, results_frame
from .runner import RunOptions, run_import
from .signin import make_token_source

if TYPE_CHECKING:
    import pandas as pd

    from .models import RowResult

__all__ = ["ConfigLike", "Outcome", "Preview", "Source", "preview", "run", "run_async"]

Source: TypeAlias = "str | os.PathLike[str] | pd.DataFrame | Iterable[Mapping[str, Any]]"
ConfigLike: TypeAlias = "str | os.PathLike[str] | Mapping[str, Any] | Config | None"


@dataclass(frozen=True)
class Outcome:
    """How a run went: ``counts`` per status, the report folder, and every row's result."""

    exit_code: int  # as the command line's: 0 all rows succeeded, 1 some failed, 3, 130 ...
    counts: dict[str, int]
    out_dir: Path  # results.csv, failures.csv, summary.json
    seconds: float
    fatal: str = ""  # why the run stopped early ("" when it did not)
    _results: tuple[RowResult, ...] = field(default=(), repr=False)
    _index: tuple[Any, ...] | None = field(default=None, repr=False)
    _index_name: str | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Every row succeeded (created, updated, skipped as existing, ...)."""
        return self.exit_code == EXIT_OK

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def failed(self) -> int:
        """Rows not imported: failed, invalid or not sent."""
        return sum(self.counts.get(s.value, 0) for s in FAILED_STATUSES)

    def results_frame(self) -> pd.DataFrame:
        """One row per input row, in input order: row, status (categorical), customer_id,
        display_name, email, business_id, http_status, error_code, message, attempts,
        client_request_ids, request_ids, source_row. A DataFrame source's index labels it."""
        return results_frame(self._results, self._index, self._index_name)

    def failures_frame(self) -> pd.DataFrame:
        """The rows of ``results_frame()`` that were not imported (failed, invalid, not sent)."""
        frame = self.results_frame()
        return frame[frame["status"].isin([s.value for s in FAILED_STATUSES])]


def load(config: ConfigLike) -> Config:
    """A ``Config`` from a TOML file's path, a dict shaped like that file, or a Config (None:
    the defaults)."""
    if config is None or isinstance(config, Config):
        return config or Config()
    if isinstance(config, Mapping):
        return parse_config(_plain(config), "config dict")
    return load_config(config)


def preview(source: Source, config: ConfigLike = None, *, sheet: str | None = None) -> Preview:
    """Read and check every row as a run would, without any network. ``Preview`` holds the
    sheet and header row found, which column feeds which field, the counts of valid and
    invalid rows, the first problems and the first bodies that would be sent."""
    settings = load(config)
    if is_url(source):
        tokens = make_token_source(settings)
        try:
            with fetched_copy(settings, tokens, check_url(source)) as fetched:
                return dataclasses.replace(build_preview(settings, fetched.path, sheet),
                                           path=source)
        finally:
            close = getattr(tokens, "close", None)
            if callable(close):
                close()
    return build_preview(settings, source, sheet)


async def run_async(
    source: Source,
    config: ConfigLike,
    *,
    dry_run: bool = False,
    restart: bool = False,
    progress: bool = False,
    out_dir: str | os.PathLike[str] | None = None,
    sheet: str | None = None,
) -> Outcome:
    """Import ``source`` into the business of ``config``; see ``run``."""
    settings = load(config)
    tokens = None if dry_run and not is_url(source) else make_token_source(settings)
    if is_url(source):
        check_url(source)
    results: list[RowResult] = []
    options = RunOptions(input=source, out_dir=Path(out_dir) if out_dir is not None else None,
                         sheet=sheet, dry_run=dry_run, restart=restart)
    try:
        outcome = await run_import(settings, options, tokens=tokens,
                                   progress=Progress(enabled=progress or False),
                                   on_result=results.append)
    finally:
        close = getattr(tokens, "close", None)
        if callable(close):
            close()
    results.sort(key=lambda r: r.row.number)  # they arrive as answers come back
    index, name = _labels(source, results)
    return Outcome(outcome.exit_code, dict(outcome.counts), outcome.out_dir, outcome.seconds,
                   outcome.fatal, tuple(results), index, name)


def run(
    source: Source,
    config: ConfigLike,
    *,
    dry_run: bool = False,
    restart: bool = False,
    progress: bool = False,
    out_dir: str | os.PathLike[str] | None = None,
    sheet: str | None = None,
) -> Outcome:
    """Import ``source`` into the business of ``config`` and wait for the end.

    ``dry_run``: map and check every row and write the reports (and bodies.jsonl), sending
    nothing. ``restart``: start afresh instead of continuing an interrupted run over the same
    input (what was imported stays known: nothing is created twice). ``progress``: draw a
    progress bar on stderr. ``out_dir``: the report folder (default: a new one under
    ``report.dir``). Runs its own event loop; in a thread whose loop is already running (a
    notebook's), it runs in a helper thread while this one waits.
    """
    work = run_async(source, config, dry_run=dry_run, restart=restart, progress=progress,
                     out_dir=out_dir, sheet=sheet)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["outcome"] = asyncio.run(work)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    helper = threading.Thread(target=target, name="bookings-import run")
    helper.start()
    helper.join()
    if "error" in box:
        raise box["error"]
    outcome: Outcome = box["outcome"]
    return outcome


def _labels(source: Any, results: list[RowResult]) -> tuple[tuple[Any, ...] | None, str | None]:
    """The results' index: a DataFrame's own labels, or a record's position in the list."""
    if is_frame(source):
        offset = frame_row_offset(source)
        labels = source.index
        return tuple(labels[r.row.number - offset] for r in results), labels.name
    if not isinstance(source, str | os.PathLike):
        return tuple(r.row.number - 2 for r in results), None
    return None, None


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) if isinstance(v, Mapping) else v for k, v in data.items()}
