"""One import run, start to finish: load, map, check the business, send, report.

This is the library entry point that the command line (and the upload page) call; it parses no
flags and prints nothing but logs and progress.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from . import __version__
from .auth import TokenSource
from .clouds import CLOUDS
from .config import Config
from .errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_SERVICE,
    ConfigError,
    ServiceRefused,
)
from .existing import Reconciler
from .graph import GraphClient, GraphError, TransportError
from .loader import open_input, sha256_file
from .mapper import MapOptions, build_mapping, map_row, to_body
from .models import MappedRow, RowResult, Status
from .progress import Progress
from .report import FAILED_STATUSES, ReportWriter, default_run_dir
from .submitter import FatalRunError, Job, Submitter, run_pool

log = logging.getLogger("importer")

# How far the producer may run ahead of the first unwritten row: bounds the reorder buffer
# (and memory) when one row waits out long retries while the others go on.
REORDER_WINDOW = 5000

PERMISSION = "BookingsAppointment.ReadWrite.All"


@dataclass
class RunOptions:
    input: Path
    out_dir: Path | None = None
    sheet: str | None = None
    dry_run: bool = False


@dataclass
class RunOutcome:
    exit_code: int
    out_dir: Path
    counts: dict[str, int]
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)
    fatal: str = ""


def graph_root(config: Config) -> str:
    return config.graph.base_url or CLOUDS[config.graph.cloud].graph_root


def ssl_context(config: Config) -> ssl.SSLContext:
    """Verification is always on; ``graph.ca_bundle`` adds a CA (a proxy's, a test CA)."""
    ctx = ssl.create_default_context()
    if config.graph.ca_bundle:
        try:
            ctx.load_verify_locations(cafile=config.graph.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"graph.ca_bundle {config.graph.ca_bundle}: cannot load: {exc}") from None
    return ctx


def new_session(config: Config) -> aiohttp.ClientSession:
    # One connection pool for the run; a few spare connections beyond the in-flight limit so a
    # dropped connection never makes a worker wait for a socket.
    connector = aiohttp.TCPConnector(limit=max(16, config.limits.concurrency * 4),
                                     ssl=ssl_context(config))
    return aiohttp.ClientSession(
        connector=connector, headers={"User-Agent": f"bookings-import/{__version__}"}
    )


def refusal_message(exc: GraphError | TransportError, business_id: str, root: str) -> str:
    """Why the service refused the whole job, and the step that fixes it."""
    if isinstance(exc, TransportError):
        return f"cannot reach Microsoft Graph at {root}: {exc}"
    if exc.status == 401:
        return (
            f"Graph refused the sign-in (HTTP 401 {exc.code}): the token is missing, expired or "
            f"for another cloud; run 'bookings-import check' to see which"
        )
    if exc.status == 403:
        return (
            f"Graph denied access to business {business_id!r} (HTTP 403 {exc.code}): the app needs "
            f"the {PERMISSION} permission (application or delegated) with admin consent granted"
        )
    if exc.status == 404:
        return (
            f"business {business_id!r} not found (HTTP 404 {exc.code}): check graph.business_id; "
            f"it is usually the booking mailbox address, e.g. contoso@contoso.onmicrosoft.com"
        )
    return f"Graph refused business {business_id!r}: HTTP {exc.status} {exc.code} {exc.message}"


async def preflight(client: GraphClient, business_id: str) -> dict[str, Any]:
    """Read the business before sending anything, so a wrong config fails in seconds."""
    try:
        resp = await client.get_business(business_id)
    except (GraphError, TransportError) as exc:
        raise ServiceRefused(refusal_message(exc, business_id, client.root)) from None
    return resp.body if isinstance(resp.body, dict) else {}


class _Feed:
    """The input rows, mapped, handed out once each, in order, with their position."""

    def __init__(self, rows: Iterator[Any], mapping: Any, options: MapOptions, version: str):
        self._rows = enumerate(rows)
        self._mapping = mapping
        self._options = options
        self._version = version

    def __iter__(self) -> Iterator[tuple[int, MappedRow, dict[str, Any] | None]]:
        for seq, row in self._rows:
            mapped = map_row(row, self._mapping, self._options)
            body = to_body(mapped.customer, self._version) if mapped.ok and mapped.customer else None
            yield seq, mapped, body


def invalid_result(mapped: MappedRow) -> RowResult:
    c = mapped.customer
    return RowResult(
        mapped.row,
        Status.INVALID,
        display_name=c.display_name if c else "",
        email=c.email if c else "",
        message="; ".join(str(p) for p in mapped.problems),
        problems=mapped.problems,
    )


def not_sent(mapped: MappedRow, reason: str) -> RowResult:
    c = mapped.customer
    return RowResult(
        mapped.row,
        Status.NOT_SENT,
        display_name=c.display_name if c else "",
        email=c.email if c else "",
        message=reason,
    )


async def run_import(
    config: Config,
    options: RunOptions,
    *,
    tokens: TokenSource | None = None,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
) -> RunOutcome:
    stop = stop or asyncio.Event()
    progress = progress or Progress(enabled=False)
    started = time.monotonic()
    loaded = open_input(options.input, sheet=options.sheet)
    with loaded:
        info = loaded.info
        mapping = build_mapping(info.headers, config.columns,
                                auto_detect=config.mapping.auto_detect)
        for warning in (*loaded.warnings, *getattr(mapping, "notes", ())):
            log.warning("%s: %s", info.path, warning)
        map_options = MapOptions(
            default_region=config.mapping.default_region,
            max_name_length=config.mapping.max_name_length,
        )
        feed = _Feed(loaded.rows(), mapping, map_options, config.graph.version)
        business_id = config.graph.business_id
        if not options.dry_run:
            if not business_id:
                raise ConfigError("graph.business_id is not set: name the Bookings business to import into")
            if tokens is None:
                raise ConfigError("no sign-in configured")
        out_dir = options.out_dir or default_run_dir(config.report.dir)
        writer = ReportWriter(out_dir, info, dry_run=options.dry_run)
        fields: dict[str, Any] = {
            "input": {
                "path": str(info.path),
                "sha256": sha256_file(info.path),
                "kind": info.kind,
                "sheet": info.sheet,
                "header_row": info.header_row,
                "encoding": info.encoding,
                "delimiter": info.delimiter,
            },
            "dry_run": options.dry_run,
            "business_id": business_id,
            "config": config.public_dict(),
            "version": __version__,
        }
        writer.write_summary({"state": "running", **fields})
        fatal = ""
        interrupted = False
        try:
            if options.dry_run:
                for seq, mapped, body in feed:
                    if body is None:
                        writer.add(seq, invalid_result(mapped))
                    else:
                        c = mapped.customer
                        assert c is not None
                        writer.add(seq, RowResult(mapped.row, Status.VALID, display_name=c.display_name,
                                                  email=c.email, extra={"body": body}))
                    progress.update(writer.counts)
            else:
                fatal, interrupted = await _send_all(
                    config, feed, writer, business_id, tokens, progress, stop  # type: ignore[arg-type]
                )
        finally:
            writer.flush()
            seconds = time.monotonic() - started
            progress.close()
            exit_code = (
                EXIT_SERVICE if fatal
                else EXIT_INTERRUPTED if interrupted
                else EXIT_ROWS_FAILED if any(writer.counts.get(s.value) for s in FAILED_STATUSES)
                else EXIT_OK
            )
            summary = writer.summary(state="finished", exit_code=exit_code, fatal_error=fatal,
                                     **fields)
            writer.write_summary(summary)
            writer.close()
    return RunOutcome(exit_code, out_dir, dict(writer.counts), seconds, summary, fatal)


async def _send_all(
    config: Config,
    feed: _Feed,
    writer: ReportWriter,
    business_id: str,
    tokens: TokenSource,
    progress: Progress,
    stop: asyncio.Event,
) -> tuple[str, bool]:
    """Send every valid row; returns (fatal error message or "", interrupted?)."""
    limits = config.limits
    root = graph_root(config)
    written = asyncio.Event()
    async with new_session(config) as session:
        client = GraphClient(session, root, config.graph.version, tokens, timeout=limits.timeout)
        business = await preflight(client, business_id)
        log.info("importing into %s (%s)", business.get("displayName") or business_id, business_id)
        reconciler = Reconciler(client)
        submitter = Submitter(
            client,
            concurrency=limits.concurrency,
            rps=limits.rps,
            max_attempts=limits.max_attempts,
            max_backoff=limits.max_backoff,
            reconcile=reconciler.find,
        )

        def record(seq: int, result: RowResult) -> None:
            reconciler.claim(result.customer_id)
            writer.add(seq, result)
            progress.update(writer.counts)
            written.set()

        async def jobs() -> AsyncIterator[Job]:
            for seq, mapped, body in feed:
                if body is None:
                    record(seq, invalid_result(mapped))
                    continue
                while seq - writer.written > REORDER_WINDOW:
                    written.clear()
                    await written.wait()
                yield Job(seq, mapped, body, business_id)

        async def handle(job: Job) -> None:
            try:
                result = await submitter.send(job)
            except FatalRunError as exc:
                record(job.seq, not_sent(job.mapped, f"not sent: {exc}"))
                raise
            record(job.seq, result)

        fatal = ""
        try:
            await run_pool(
                jobs(),
                handle,
                workers=limits.concurrency,
                skipped=lambda job: record(job.seq, not_sent(job.mapped, "the run stopped first")),
                stop=stop,
            )
        except FatalRunError as exc:
            fatal = refusal_message(exc.cause, business_id, root)  # type: ignore[arg-type]
            log.error("%s", fatal)
        reason = "not sent: " + (fatal or "the run was interrupted")
        for seq, mapped, _body in feed:  # whatever the pool never took
            record(seq, not_sent(mapped, reason) if mapped.ok else invalid_result(mapped))
        return fatal, stop.is_set() and not fatal
