"""One import run, start to finish: load, map, check the business, send, report.

This is the library entry point that the command line (and the upload page) call; it parses no
flags and prints nothing but logs and progress. What to do with each valid row (skip, update,
create, repair) is sync.py's business; how requests go out is submitter.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from . import parallel
from .config import Config
from .drive import fetch_input, is_url
from .errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_SERVICE,
    ConfigError,
    ImporterError,
)
from .map import (
    LANGUAGES,
    SAMPLE_ROWS,
    ColumnMapping,
    MapOptions,
    PhoneRegion,
    build_mapping,
    business_region,
    choose_region,
    customer_key,
    fingerprint,
    header_fit,
    lookalike_notes,
    map_row,
    region_name,
    sheet_evidence,
    to_body,
)
from .models import MappedRow, Problem, Row, RowResult, Status
from .read import LoadedInput, open_source
from .report import FAILED_STATUSES, Progress, ReportWriter, default_run_dir
from .send import (
    FatalRunError,
    GraphClient,
    Job,
    SeenKeys,
    Submitter,
    Sync,
    business_phone_region,
    graph_root,
    new_session,
    refusal_message,
    run_pool,
)
from .signin import TokenSource
from .version import __version__

__all__ = ["RunOptions", "RunOutcome", "business_phone_region", "graph_root", "new_session",
           "refusal_message", "run_import"]

log = logging.getLogger("importer")

# How far the producer may run ahead of the first unwritten row: bounds the reorder buffer
# (and memory) when one row waits out long retries while the others go on.
REORDER_WINDOW = 5000
SPARE_WORKERS = 2
# Rows mapped ahead while the business is being read at the start of a run.
PREFETCH_ROWS = 200
# Graph's overall limit: 130,000 requests per 10 seconds per app, across all tenants.
GRAPH_APP_RPS = 13_000.0


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


def state_dir(config: Config) -> Path:
    return Path(config.state.dir) if config.state.dir else platformdirs.user_data_path(
        "bookings-import", appauthor=False)


@dataclass
class _Planned:
    seq: int
    mapped: MappedRow
    body: dict[str, Any] | None  # None: invalid
    business_id: str = ""
    key: str = ""
    fp: str = ""
    repeats: int | None = None  # the row this one repeats (same customer key)


class _Regions:
    """The phone region of each business of a run into several (``import.business_column``):
    its own country when the run reads the businesses (after the row's own country and
    ``[mapping] default_region``), else the run's region (the config's or the sheet's), which
    is also what the rows of a business that gives no country are read in. Each business is
    read once; its region is logged when its first row is met and kept for summary.json."""

    def __init__(self, path: str, run: PhoneRegion, sheet: PhoneRegion, options: MapOptions,
                 *, reads: bool) -> None:
        self._path = path
        self._run = run  # the config's, else the sheet's
        self._sheet = sheet
        self._options = options  # the mapping options without a region
        self._fallback = options.with_region(run.region, run.conflict)
        self.reads = reads  # False: a dry run, or the config decides; nothing to wait for
        self._known: dict[str, MapOptions] = {}  # lane -> options
        self.summary: dict[str, dict[str, str]] = {}  # business as first written -> region

    def options(self, business: str) -> MapOptions | None:
        """The options the rows of ``business`` are mapped with; None: its country is not
        read yet (``learn`` it first)."""
        if not business:  # bound for no business: its rows fail on their own
            return self._fallback
        known = self._known.get(business.lower())
        if known is None and not self.reads:
            known = self._settle(business, self._run)
        return known

    def fallback(self) -> MapOptions:
        return self._fallback

    async def learn(self, business: str,
                    read: Callable[[str], Awaitable[Any]]) -> MapOptions:
        """Read ``business`` (``read``: the sync's ``ready``) and settle its region. What
        reading it raises (no such business, sign-in refused) is raised: the run stops there
        as it does when a row is sent to it."""
        if (known := self.options(business)) is not None:
            return known
        opened = await read(business)
        found = business_region(opened.info)
        if found is None:
            return self._settle(business, self._run)
        return self._settle(business, choose_region("", found, self._sheet))

    def _settle(self, business: str, region: PhoneRegion) -> MapOptions:
        options = (self._fallback if region is self._run
                   else self._options.with_region(region.region, region.conflict))
        self._known[business.lower()] = options
        self.summary[business] = region.as_dict()
        _say_region(f"{self._path}: rows for {business}", region)
        return options


class _Feed:
    """The input rows, mapped and keyed, handed out once each, in order."""

    def __init__(self, rows: Iterator[Row], mapping: ColumnMapping, config: Config,
                 options: MapOptions | None = None) -> None:
        # None: the phone region waits for the business; rows are read ahead, not mapped.
        # A run into several businesses maps each row with its business's options instead
        # (``use_regions``).
        self._mapping = mapping
        self.regions: _Regions | None = None
        self._options = options or MapOptions.of(config.mapping, mapping)
        self._final = options is not None
        # One iterator for the whole run: the feed is read by the pool, then drained after it.
        self._rows = iter(rows)
        self._read_ahead: deque[Row] = deque()  # read by prefetch, not mapped yet
        self._seq = 0
        self._version = config.graph.version
        self._default_business = config.graph.business_id
        self._business_index = parallel.business_index(mapping.headers, config.import_.business_column)
        self._match_name_phone = config.import_.match_name_phone
        self.seen = SeenKeys()
        self._ahead: deque[_Planned] = deque()
        self._error: BaseException | None = None

    def set_options(self, options: MapOptions) -> None:
        self._options, self._final = options, True

    @property
    def several(self) -> bool:
        """Each row names its business (``import.business_column``)."""
        return self._business_index is not None

    def unread(self, business: str) -> bool:
        """The phones of ``business``'s rows wait for its country, which was not read."""
        return self.regions is not None and self.regions.options(business) is None

    def use_regions(self, regions: _Regions) -> None:
        self.regions = regions
        self.set_options(regions.fallback())

    def worker_setup(self) -> parallel.Setup:
        """What a worker process needs to map rows exactly as this feed does."""
        return parallel.Setup(self._mapping.headers, self._mapping.field_of, self._options,
                              self._version, self._business_index, self._default_business,
                              self._match_name_phone)

    def business_of(self, row: Row) -> str:
        if self._business_index is not None:
            value = row.values[self._business_index].strip()
            if value:
                return value
        return self._default_business

    def __iter__(self) -> Iterator[_Planned]:
        # Not a ``for`` over a generator: the pool's iteration may be abandoned part way and
        # the rest drained by a second one, so nothing here may close the shared iterators.
        while True:
            if self._ahead:
                yield self._ahead.popleft()
                continue
            planned = self._plan_next()
            if planned is None:
                return
            yield planned

    async def prefetch(self, until: asyncio.Future[Any], *, limit: int,
                       seen: Callable[[str], object]) -> None:
        """Work ahead while ``until`` is pending (the business being read): read up to
        ``limit`` rows and call ``seen`` with each business they name (so those start opening
        now), then map them, yielding to the loop between rows: the mapper's first rows warm
        its libraries (tens of milliseconds) while the service answers instead of after. An
        error of the input is kept for the iteration to raise where it would have."""
        self._read_rows(limit, seen)
        while not until.done() and self._read_ahead and self._final and not (
                self.regions and self.regions.reads):
            planned = self._plan_next()
            if planned is None:
                return
            self._ahead.append(planned)
            await asyncio.sleep(0)

    async def planned(self, read: Callable[[str], Awaitable[Any]],
                      seen: Callable[[str], object]) -> AsyncIterator[_Planned]:
        """The rows in order, as ``__iter__``; but a row bound for a business whose country is
        not read yet waits for it (``read``), after reading rows ahead and starting to open
        (``seen``) every business they name: the businesses open at once, not one by one."""
        while True:
            if self._ahead:
                yield self._ahead.popleft()
                continue
            if self.regions is not None and self.regions.reads:
                row = self._peek_row()
                if row is None:
                    return
                business = self.business_of(row)
                if self.regions.options(business) is None:
                    self._read_rows(PREFETCH_ROWS, seen)
                    await self.regions.learn(business, read)
            planned = self._plan_next()
            if planned is None:
                return
            yield planned

    def _peek_row(self) -> Row | None:
        """The next row, left to be read again (an input error: raised now)."""
        row = self._next_row()
        if row is not None:
            self._read_ahead.appendleft(row)
        return row

    def _read_rows(self, limit: int, seen: Callable[[str], object]) -> None:
        while len(self._read_ahead) < limit and self._error is None:
            try:
                row = next(self._rows, None)
            except Exception as exc:
                self._error = exc
                break
            if row is None:
                break
            self._read_ahead.append(row)
            if business := self.business_of(row):
                seen(business)

    def _next_row(self) -> Row | None:
        if self._read_ahead:
            return self._read_ahead.popleft()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return next(self._rows, None)

    def _plan_next(self) -> _Planned | None:
        row = self._next_row()
        if row is None:
            return None
        seq = self._seq
        self._seq += 1
        business = self.business_of(row)
        options = self._options
        if self.regions is not None:
            options = self.regions.options(business) or options
        mapped = map_row(row, self._mapping, options)
        if not (mapped.ok and mapped.customer):
            return _Planned(seq, mapped, None, business)
        body = to_body(mapped.customer, self._version)
        key = customer_key(body, match_name_phone=self._match_name_phone)
        fp = fingerprint(body)
        key = key or f"body:{fp}"
        repeats = self.seen.first_in(business, key, row.number)
        return _Planned(seq, mapped, body, business, key, fp, repeats)

    def close(self) -> None:
        self.seen.close()


def _peek(rows: Iterator[Row], count: int) -> tuple[list[Row], Iterator[Row]]:
    """The first ``count`` rows, and every row (those first) as one iterator. An error of the
    input met while peeking is raised where the run would have met it."""
    sample: list[Row] = []
    try:
        for row in rows:
            sample.append(row)
            if len(sample) >= count:
                break
    except Exception as exc:
        return sample, itertools.chain(sample, _raise(exc))
    return sample, itertools.chain(sample, rows)


def _raise(exc: Exception) -> Iterator[Row]:
    raise exc
    yield  # pragma: no cover - makes this a generator


def problems_text(problems: tuple[Problem, ...]) -> str:
    return "; ".join(str(p) for p in problems)


def invalid_result(mapped: MappedRow) -> RowResult:
    return RowResult.of(mapped, Status.INVALID, problems=mapped.problems,
                        message=problems_text(mapped.problems))


def not_sent(mapped: MappedRow, reason: str, business_id: str = "") -> RowResult:
    return RowResult.of(mapped, Status.NOT_SENT, message=reason, business_id=business_id)


_SAME = {"email": "same email", "namephone": "same name and phone", "body": "same values"}


def repeats_text(key: str, repeats: int) -> str:
    return f"repeats row {repeats} ({_SAME.get(key.partition(':')[0], 'same customer')})"


def duplicate_result(p: _Planned) -> RowResult:
    assert p.repeats is not None
    return RowResult.of(p.mapped, Status.DUPLICATE, business_id=p.business_id,
                        message=repeats_text(p.key, p.repeats))


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
        log.info("%s: %sheader on row %d", info.path, where, info.header_row)
        if info.kind == "csv":
            log.info("%s: text read as %s (%s)", info.path, info.encoding, info.encoding_how)
        if mapping.layout:
            log.info("%s: recognised layout: %s", info.path, mapping.layout)
        if mapping.language:
            log.info("%s: headers in %s", info.path, LANGUAGES[mapping.language])
        # The first rows tell whether a column that feeds nothing holds what a customer needs.
        sample, rows = _peek(loaded.rows(), SAMPLE_ROWS)
        for note in (*mapping.notes, *lookalike_notes(
                mapping, sample, used=(config.import_.business_column,))):
            log.warning("%s: %s", info.path, note)
        sheet = sheet_evidence(mapping, sample)
        waits = not options.dry_run and bool(config.graph.business_id) \
            and not config.mapping.default_region
        region = choose_region(config.mapping.default_region, None, sheet)
        map_options = MapOptions.of(config.mapping, mapping)
        feed = _Feed(rows, mapping, config,
                     None if waits else map_options.with_region(region.region, region.conflict))
        stack.callback(feed.close)
        if feed.several:
            # Each row names its business: each business's country reads the numbers of the
            # rows bound for it, not the configured business's for them all.
            feed.use_regions(_Regions(str(info.path), region, sheet, map_options,
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
                _Sender.open(config, tokens, input_sha, restart=options.restart, stop=stop))
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
            _say_region(info.path, region)
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
                _dry_run(rows, mapping, feed, record, parallel.processes_for(Path(info.path)))
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


def _say_region(path: str, region: PhoneRegion) -> None:
    log.info("%s: %s", path, region.describe())
    if region.conflict:
        log.warning("%s: phones without a country code are %s", path, region.conflict)


def _dry_run(rows: Iterator[Row], mapping: ColumnMapping, feed: _Feed,
             record: Callable[[int, RowResult], None], processes: int) -> None:
    """Map, check and report every row, in ``processes`` worker processes (a big file) or in
    this one (``processes == 0``); the duplicate check and the report stay here, in order."""
    seq = 0

    def handle(row: Row, outcome: parallel.Valid | parallel.Invalid) -> None:
        nonlocal seq
        if len(outcome) == 3:
            name, email, problems = outcome
            result = RowResult(row, Status.INVALID, display_name=name, email=email,
                               problems=problems, message=problems_text(problems))
        else:
            name, email, business, key, encoded, warnings = outcome
            repeats = feed.seen.first_in(business, key, row.number)
            if repeats is not None:
                result = RowResult(row, Status.DUPLICATE, display_name=name, email=email,
                                   business_id=business, message=repeats_text(key, repeats),
                                   warnings=warnings)
            else:
                result = RowResult(row, Status.VALID, display_name=name, email=email,
                                   business_id=business, extra={"body_json": encoded},
                                   warnings=warnings)
        record(seq, result)
        seq += 1

    setup = feed.worker_setup()
    if feed.regions is not None:
        rows = _noting(rows, feed)
    if processes:
        parallel.map_in_workers(rows, setup, processes, handle)
    else:
        parallel.map_here(rows, mapping, setup, handle)


def _noting(rows: Iterator[Row], feed: _Feed) -> Iterator[Row]:
    """``rows``, telling the run's regions the business each is bound for (a dry run into
    several businesses: its summary names the region each was read in)."""
    assert feed.regions is not None
    options = feed.regions.options
    for row in rows:
        options(feed.business_of(row))
        yield row


class _Sender:
    """The live half of a run: session, client, submitter and the per-business sync."""

    def __init__(self, config: Config, client: GraphClient, sync: Sync, submitter: Submitter,
                 stop: asyncio.Event) -> None:
        self.config = config
        self.client = client
        self.sync = sync
        self.submitter = submitter
        self.stop = stop
        self.finished = False

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, config: Config, tokens: TokenSource, input_sha: str, *, restart: bool,
                   stop: asyncio.Event) -> AsyncIterator[_Sender]:
        limits = config.limits
        async with new_session(config) as session:
            client = GraphClient(session, graph_root(config), config.graph.version, tokens,
                                 timeout=limits.timeout)
            submitter = Submitter(
                client,
                concurrency=limits.concurrency,
                rps=min(limits.rps, GRAPH_APP_RPS) if limits.rps else GRAPH_APP_RPS,
                max_attempts=limits.max_attempts,
                max_backoff=limits.max_backoff,
            )
            sync = Sync(client, submitter, config, state_dir=state_dir(config),
                        input_sha256=input_sha, restart=restart)
            submitter.reconcile = sync.reconcile
            sender = cls(config, client, sync, submitter, stop)
            try:
                yield sender
            finally:
                sync.close(finished=sender.finished)

    async def send_all(
        self, feed: _Feed, writer: ReportWriter, record: Callable[[int, RowResult], None]
    ) -> tuple[str, int, bool]:
        """Send every valid row; returns (fatal error or "", its exit code, interrupted?)."""
        sync, stop = self.sync, self.stop
        written = asyncio.Event()
        merge = self.config.import_.merge_duplicates

        def done(seq: int, result: RowResult) -> None:
            sync.claim(result)
            record(seq, result)
            written.set()

        async def jobs() -> AsyncIterator[Job]:
            async for p in feed.planned(sync.ready, sync.prepare):
                if p.body is None:
                    done(p.seq, invalid_result(p.mapped))
                    continue
                if p.repeats is not None and not merge:
                    done(p.seq, duplicate_result(p))
                    continue
                while p.seq - writer.written > REORDER_WINDOW:
                    written.clear()
                    await written.wait()
                sync.prepare(p.business_id)
                job = Job(p.seq, p.mapped, p.body, p.business_id, key=p.key, fp=p.fp,
                          merge_into=p.repeats)
                sync.queued(job)
                yield job

        async def handle(job: Job) -> None:
            try:
                result = await sync.process(job)
            except (FatalRunError, ImporterError) as exc:
                # The sign-in was refused, or the business cannot be used (not found, locked).
                done(job.seq, not_sent(job.mapped, f"not sent: {exc}", job.business_id))
                raise
            if job.mapped.warnings and not result.warnings:
                result = dataclasses.replace(result, warnings=job.mapped.warnings)
            done(job.seq, result)

        def skipped(job: Job) -> None:
            done(job.seq, not_sent(job.mapped, "not sent: the run stopped first", job.business_id))

        fatal, fatal_code = "", 0
        try:
            # Two more workers per business than its in-flight limit: they do their
            # bookkeeping (journal, body) while the others wait for answers, and take a place
            # the moment one frees, so the business's four places never stand idle between
            # an answer and the next request. The pacer still bounds what is in flight.
            # With batching, each of the four places carries a whole batch.
            workers = self.config.limits.concurrency * self.config.import_.batch_size
            await run_pool(jobs(), handle, workers=workers + SPARE_WORKERS,
                           skipped=skipped, stop=stop)
        except FatalRunError as exc:
            fatal = refusal_message(exc.cause, self.config.graph.business_id,  # type: ignore[arg-type]
                                    self.client.root)
            fatal_code = EXIT_SERVICE
        except ImporterError as exc:
            fatal, fatal_code = str(exc), exc.exit_code
        if fatal:
            log.error("%s", fatal)
        reason = "not sent: " + (fatal or "the run was interrupted")
        for p in feed:  # whatever the pool never took
            # A row whose business's country was never read (it could not be, or the run
            # stopped first) cannot be told valid or not: it was not sent, that is all.
            done(p.seq, not_sent(p.mapped, reason, p.business_id)
                 if p.body is not None or feed.unread(p.business_id)
                 else invalid_result(p.mapped))
        self.finished = not (fatal or stop.is_set())
        return fatal, fatal_code, stop.is_set() and not fatal
