"""One import run, start to finish: load, map, check the business, send, report.

This is the library entry point that the command line (and the upload page) call; it parses no
flags and prints nothing but logs and progress. It opens the input, builds the mapping, chooses
the phone region and writes the summary; the rows themselves are planned, sent or dry-run by
``importer.pipeline`` (feed, regions, sender, dry run). What to do with each valid row (skip, update,
create, repair) is sync.py's business; how requests go out is submitter.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import parallel
from .config import Config
from .drive import fetch_input, is_url
from .errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_ROWS_FAILED, ConfigError
from .map import (
    LANGUAGES,
    SAMPLE_ROWS,
    MapOptions,
    build_mapping,
    business_region,
    choose_region,
    header_fit,
    lookalike_notes,
    region_name,
    sheet_evidence,
)
from .models import RowResult
from .pipeline import (
    PREFETCH_ROWS,
    Feed,
    Regions,
    Sender,
    dry_run,
    peek,
    say_region,
    state_dir,
)
from .read import LoadedInput, open_source
from .report import FAILED_STATUSES, Progress, ReportWriter, default_run_dir
from .send import business_phone_region, graph_root, new_session, refusal_message
from .signin import TokenSource
from .version import __version__

__all__ = ["RunOptions", "RunOutcome", "business_phone_region", "graph_root", "new_session",
           "refusal_message", "run_import", "state_dir"]

log = logging.getLogger("importer")


@dataclass
class RunOptions:
    input: Any  # a path, a pandas DataFrame or records: whatever read.open_source takes
    out_dir: Path | None = None
    sheet: str | None = None
    dry_run: bool = False
    restart: bool = False  # start afresh instead of continuing an interrupted run
    input_name: str = ""  # the file's name as a person knows it (an upload's), for reports
    # A file read from SharePoint or OneDrive: its URL, drive item id, eTag, last change.
    source: dict[str, Any] | None = None


@dataclass
class RunOutcome:
    exit_code: int
    out_dir: Path
    counts: dict[str, int]
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)
    fatal: str = ""
    fatal_code: int = 0


async def run_import(
    config: Config,
    options: RunOptions,
    *,
    tokens: TokenSource | None = None,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
    on_result: Callable[[RowResult], None] | None = None,
    opened: asyncio.Event | None = None,
) -> RunOutcome:
    """One run. ``options.input`` may be the https URL of a file on SharePoint or OneDrive (a
    sharing link or the file's own URL): it is read through Graph with the run's sign-in into
    a private temporary copy, removed afterwards, and summary.json records where it came from.

    A file is opened in a worker thread, so that a big workbook does not hold up the event
    loop; ``opened`` is set once it is open (not when the open fails: the run ends then)."""
    if is_url(options.input):
        async with fetch_input(config, tokens, options.input) as fetched:
            local = dataclasses.replace(options, input=fetched.path, source=fetched.source,
                                        input_name=options.input_name or fetched.item.name)
            return await _run_local(config, local, tokens=tokens, progress=progress, stop=stop,
                                    on_result=on_result, opened=opened)
    return await _run_local(config, options, tokens=tokens, progress=progress, stop=stop,
                            on_result=on_result, opened=opened)


async def _open_off_the_loop(source: Any, **how: Any) -> LoadedInput:
    """``open_source(source, **how)``; a file is opened in a worker thread. Should the run be
    cancelled meanwhile, what the thread opens is closed when it comes, so its file and its
    share of the read budget are let go."""
    if not (isinstance(source, str | Path) or hasattr(source, "__fspath__")):
        # A DataFrame or the caller's records stay on the caller's thread (a database cursor
        # may work on no other).
        return open_source(source, **how)
    opening = asyncio.ensure_future(asyncio.to_thread(open_source, source, **how))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(_close_unused)
        raise


def _close_unused(opening: asyncio.Future[LoadedInput]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


async def _run_local(
    config: Config,
    options: RunOptions,
    *,
    tokens: TokenSource | None = None,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
    on_result: Callable[[RowResult], None] | None = None,
    opened: asyncio.Event | None = None,
) -> RunOutcome:
    stop = stop or asyncio.Event()
    progress = progress or Progress(enabled=False)
    started = time.monotonic()
    fit = functools.partial(header_fit, columns=config.columns,
                            auto_detect=config.mapping.auto_detect)
    loaded = await _open_off_the_loop(options.input, sheet=options.sheet,
                                      max_read_mb=config.limits.max_read_mb, score=fit,
                                      header=config.input.header, encoding=config.input.encoding)
    async with contextlib.AsyncExitStack() as stack:
        stack.enter_context(loaded)
        if opened is not None:
            opened.set()
        info = loaded.info
        try:
            mapping = build_mapping(info.headers, config.columns,
                                    auto_detect=config.mapping.auto_detect)
        except ConfigError as exc:
            raise ConfigError(f"{info.path}: {exc}") from None
        where = f"sheet {info.sheet!r}, " if info.sheet is not None else ""
        header = (f"header on row {info.header_row}" if info.header_row
                  else "no header row: every row is a customer")
        log.info("%s: %s%s", info.path, where, header)
        if info.kind == "csv":
            log.info("%s: text read as %s (%s)", info.path, info.encoding, info.encoding_how)
        if mapping.layout:
            log.info("%s: recognised layout: %s", info.path, mapping.layout)
        if mapping.language:
            log.info("%s: headers in %s", info.path, LANGUAGES[mapping.language])
        # The first rows tell whether a column that feeds nothing holds what a customer needs.
        sample, rows = peek(loaded.rows(), SAMPLE_ROWS)
        for note in (*mapping.notes, *lookalike_notes(
                mapping, sample, used=(config.import_.business_column,))):
            log.warning("%s: %s", info.path, note)
        sheet = sheet_evidence(mapping, sample)
        waits = not options.dry_run and bool(config.graph.business_id) \
            and not config.mapping.default_region
        region = choose_region(config.mapping.default_region, None, sheet)
        map_options = MapOptions.of(config.mapping, mapping)
        feed = Feed(rows, mapping, config,
                     None if waits else map_options.with_region(region.region, region.conflict))
        stack.callback(feed.close)
        if feed.several:
            # Each row names its business: each business's country reads the numbers of the
            # rows bound for it, not the configured business's for them all.
            feed.use_regions(Regions(str(info.path), region, sheet, map_options,
                                      reads=not (options.dry_run
                                                 or config.mapping.default_region)))
        input_sha = loaded.sha256()
        sender = None
        if not options.dry_run:
            if not config.graph.business_id and not config.import_.business_column:
                raise ConfigError("graph.business_id is not set: name the Bookings business to "
                                  "import into")
            if tokens is None:
                raise ConfigError("no sign-in configured")
            sender = await stack.enter_async_context(
                Sender.open(config, tokens, input_sha, restart=options.restart, stop=stop))
            if config.graph.business_id:
                # Lock, sign in and read the business before anything is sent or written: a
                # wrong config fails in seconds and leaves no report behind. Meanwhile the
                # first rows are read (and mapped, unless their phone region waits for the
                # business's country), and the businesses they name start opening too.
                opening = sender.sync.prepare(config.graph.business_id)
                await feed.prefetch(opening, limit=PREFETCH_ROWS, seen=sender.sync.prepare)
                business = await sender.sync.ready(config.graph.business_id)
                if waits and feed.regions is None:
                    region = choose_region("", business_region(business.info), sheet)
                    feed.set_options(map_options.with_region(region.region, region.conflict))
        if feed.regions is not None and feed.regions.reads:
            otherwise = (f"as {region_name(region.region)} ({region.reason})" if region.region
                         else f"not at all ({region.reason})")
            log.info("%s: phones without a country code are read in the country of the "
                     "business each row goes to; for a business that gives none, %s",
                     info.path, otherwise)
        else:
            say_region(info.path, region)
        out_dir = options.out_dir or default_run_dir(config.report.dir)
        fields: dict[str, Any] = {
            "input": {
                "path": options.source["url"] if options.source else str(info.path),
                **({"source": options.source} if options.source else {}),
                "name": options.input_name or Path(info.path).name,
                "sha256": input_sha,
                "kind": info.kind,
                "sheet": info.sheet,
                "header_row": info.header_row,
                "encoding": info.encoding,
                "encoding_how": info.encoding_how,
                "delimiter": info.delimiter,
            },
            "mapping": {
                "layout": mapping.layout,
                "language": mapping.language,
                "name_order": MapOptions.of(config.mapping, mapping).name_order,
                "columns": {h: f for h, f in zip(mapping.headers, mapping.field_of, strict=True)
                            if f is not None},
            },
            "phone_region": region.as_dict(),
            # A run into several businesses: the region each one's rows were read in.
            **({"phone_regions": feed.regions.summary} if feed.regions is not None else {}),
            "dry_run": options.dry_run,
            "business_id": config.graph.business_id,
            "config": config.public_dict(),
            "version": __version__,
        }
        writer = ReportWriter(out_dir, info, dry_run=options.dry_run)
        writer.write_summary({"state": "running", **fields})
        progress.begin(loaded.rows_hint)

        def record(seq: int, result: RowResult) -> None:
            writer.add(seq, result)
            progress.update(writer.counts)
            if on_result is not None:
                on_result(result)

        fatal, fatal_code, interrupted = "", 0, False
        try:
            if sender is None:
                dry_run(rows, mapping, feed, record, parallel.processes_for(Path(info.path)))
            else:
                fatal, fatal_code, interrupted = await sender.send_all(feed, writer, record)
        finally:
            for warning in loaded.warnings:
                log.warning("%s: %s", info.path, warning)
            writer.flush()
            seconds = time.monotonic() - started
            progress.close()
            exit_code = (
                fatal_code if fatal
                else EXIT_INTERRUPTED if interrupted
                else EXIT_ROWS_FAILED if any(writer.counts.get(s.value) for s in FAILED_STATUSES)
                else EXIT_OK
            )
            summary = writer.summary(state="finished", exit_code=exit_code, fatal_error=fatal,
                                     **fields)
            writer.write_summary(summary)
            writer.close()
    return RunOutcome(exit_code, out_dir, dict(writer.counts), seconds, summary, fatal, fatal_code)


