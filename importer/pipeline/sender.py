"""The live half of a run: session, client, submitter and the per-business sync, and the
sending of every valid row the feed plans, in the order the report is written.

Takes the feed and the report writer; gives each row's result to ``record``. The retry policy,
pacing and exactly-once bookkeeping are send's; this only drives them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import platformdirs

from ..config import Config
from ..errors import EXIT_SERVICE, ImporterError
from ..models import RowResult
from ..report import ReportWriter
from ..send import (
    FatalRunError,
    GraphClient,
    Job,
    Submitter,
    Sync,
    graph_root,
    new_session,
    refusal_message,
    run_pool,
)
from ..signin import TokenSource
from .feed import Feed
from .results import duplicate_result, invalid_result, not_sent

log = logging.getLogger("importer")
# How far the producer may run ahead of the first unwritten row: bounds the reorder buffer
# (and memory) when one row waits out long retries while the others go on.
REORDER_WINDOW = 5000
SPARE_WORKERS = 2
# Graph's overall limit: 130,000 requests per 10 seconds per app, across all tenants.
GRAPH_APP_RPS = 13_000.0


def state_dir(config: Config) -> Path:
    return Path(config.state.dir) if config.state.dir else platformdirs.user_data_path(
        "bookings-import", appauthor=False)



class Sender:
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
                   stop: asyncio.Event) -> AsyncIterator[Sender]:
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
        self, feed: Feed, writer: ReportWriter, record: Callable[[int, RowResult], None]
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

