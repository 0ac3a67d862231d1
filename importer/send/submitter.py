"""The asyncio worker pool that sends creates to Graph.

A bounded queue is fed lazily by the producer (loader + mapper), so a million-row file never
becomes a million pending tasks. Each worker takes one job, waits for a place from its business's
``Pacer`` (at most four in flight per business, AIMD on 429) and the optional requests-per-second
cap, and sends it with the retry policy of ``retrying.py``. A 429 pauses every worker of that
business until ``Retry-After`` has passed, not just the one that got it.

A create whose answer never arrived (timeout, connection dropped after sending) is ambiguous: the
service may have created the customer. It is never re-sent blindly: ``reconcile`` looks the
customer up first and the create is repeated only when it is really absent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tenacity import RetryCallState

from ..models import Attempt, MappedRow, RowResult, Status
from .graph import AuthRefused, GraphClient, GraphError, GraphResponse, TransportError
from .pacing import Clock, Pacer, RateLimiter, Sleep
from .retrying import is_retryable, retry_policy

log = logging.getLogger("importer.submitter")

Reconcile = Callable[["Job"], Awaitable[str | None]]

# A gateway's "I gave up waiting": the service behind it may have acted on the request.
AMBIGUOUS_STATUSES = frozenset({502, 504})
# The producer lets the workers run at least once per this many queued jobs.
YIELD_EVERY = 4


@dataclass
class Job:
    """One row to send. ``seq`` is its position in the input, for in-order reporting."""

    seq: int
    mapped: MappedRow
    body: dict[str, Any]
    business_id: str
    method: str = "POST"
    customer_id: str = ""  # PATCH target
    key: str = ""  # the customer key the journal knows it by (sync.py)
    fp: str = ""  # fingerprint of the body
    merge_into: int | None = None  # merge into the customer of this earlier row (duplicates)
    attempts: list[Attempt] = field(default_factory=list)
    ambiguous: bool = False


class FatalRunError(Exception):
    """Raised inside the pool when the whole run must stop (e.g. the token was refused twice)."""

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause
        super().__init__(str(cause))


class Submitter:
    def __init__(
        self,
        client: GraphClient,
        *,
        concurrency: int = 4,
        rps: float = 0.0,
        max_attempts: int = 6,
        max_backoff: float = 60.0,
        reconcile: Reconcile | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.client = client
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.reconcile = reconcile
        self._clock = clock
        self._sleep = sleep
        self._pacers: dict[str, Pacer] = {}
        self.rate = RateLimiter(rps, clock=clock, sleep=sleep)
        self.requests_sent = 0
        self.throttled = 0

    def pacer(self, business_id: str) -> Pacer:
        pacer = self._pacers.get(business_id)
        if pacer is None:
            pacer = Pacer(self.concurrency, clock=self._clock, sleep=self._sleep)
            self._pacers[business_id] = pacer
        return pacer

    async def _exchange(self, job: Job) -> GraphResponse:
        """One attempt for the job, holding a place of its business for its duration."""
        pacer = self.pacer(job.business_id)
        if job.ambiguous and job.method == "POST" and self.reconcile is not None:
            # The look-up reads the business's customers: it takes one of the business's
            # places like any request, or it would push a create over the limit into a 429.
            async with pacer.slot():
                found = await self.reconcile(job)
            if found:
                return GraphResponse(200, {"id": found}, "", "", {"x-reconciled": "1"})
            job.ambiguous = False
        async with pacer.slot():
            await self.rate.acquire()
            self.requests_sent += 1
            try:
                if job.method == "POST":
                    resp = await self.client.create_customer(job.business_id, job.body)
                else:
                    resp = await self.client.update_customer(
                        job.business_id, job.customer_id, job.body
                    )
            except GraphError as exc:
                job.attempts.append(Attempt(exc.client_request_id, exc.request_id, exc.status))
                if exc.status == 429 or (exc.status in (503, 504) and exc.retry_after):
                    self.throttled += exc.status == 429
                    pacer.on_throttled(exc.retry_after)
                if exc.status in AMBIGUOUS_STATUSES and job.method == "POST":
                    job.ambiguous = True  # a gateway gave up; the service may have created it
                raise
            except TransportError as exc:
                job.attempts.append(Attempt(exc.client_request_id, "", None))
                if exc.maybe_received and job.method == "POST":
                    job.ambiguous = True
                raise
            pacer.on_success()
            job.attempts.append(Attempt(resp.client_request_id, resp.request_id, resp.status))
            return resp

    @contextlib.asynccontextmanager
    async def paced(self, business_id: str) -> AsyncIterator[None]:
        """Hold one of the business's places for a request that is not a row's own."""
        async with self.pacer(business_id).slot():
            await self.rate.acquire()
            yield

    def _log_retry(self, job: Job) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.debug(
                "row %d: attempt %d failed (%s); retrying in %.2f s",
                job.mapped.row.number,
                state.attempt_number,
                exc,
                wait,
            )

        return before_sleep

    async def _attempts(self, job: Job) -> GraphResponse:
        """The first attempt, then the retry policy's, if the first one failed retryably.

        Most rows succeed at once, so the first attempt runs outside tenacity (whose per-call
        machinery costs about a tenth of the client's CPU per row); a failure is handed to
        the policy as its own first attempt's outcome, so waits, logging and the attempt
        count are exactly the policy's.
        """
        try:
            return await self._exchange(job)
        except (GraphError, TransportError) as exc:
            if not is_retryable(exc) or self.max_attempts <= 1:
                raise
            first: BaseException | None = exc

        async def attempt(job: Job) -> GraphResponse:
            nonlocal first
            if first is not None:
                failed, first = first, None
                raise failed
            return await self._exchange(job)

        policy = retry_policy(
            max_attempts=self.max_attempts,
            max_backoff=self.max_backoff,
            sleep=self._sleep,
            before_sleep=self._log_retry(job),
        )
        return await policy(attempt, job)

    async def send(self, job: Job) -> RowResult:
        """Send one job with retries; always returns the row's result (raises FatalRunError)."""
        row = job.mapped.row
        customer = job.mapped.customer
        name = customer.display_name if customer else ""
        email = customer.email if customer else ""
        try:
            resp: GraphResponse = await self._attempts(job)
        except AuthRefused as exc:
            raise FatalRunError(exc) from None
        except (GraphError, TransportError) as exc:
            return RowResult(
                row,
                Status.FAILED,
                display_name=name,
                email=email,
                http_status=exc.status,
                error_code=exc.code or ("TransportError" if exc.status is None else ""),
                message=str(exc) if isinstance(exc, TransportError) else exc.message,
                attempts=tuple(job.attempts),
                business_id=job.business_id,
            )
        body = resp.body if isinstance(resp.body, dict) else {}
        status = Status.CREATED if job.method == "POST" else Status.UPDATED
        return RowResult(
            row,
            status,
            display_name=name,
            email=email,
            customer_id=str(body.get("id") or job.customer_id),
            http_status=resp.status,
            attempts=tuple(job.attempts),
            business_id=job.business_id,
            extra={"response": body, "reconciled": "x-reconciled" in resp.headers},
        )


async def run_pool(
    jobs: AsyncIterator[Job],
    handle: Callable[[Job], Awaitable[None]],
    *,
    workers: int,
    skipped: Callable[[Job], None],
    stop: asyncio.Event | None = None,
    lane: Callable[[Job], str] = lambda job: job.business_id.lower(),
) -> None:
    """Feed ``jobs`` through concurrent ``handle`` calls: ``workers`` per lane (business).

    Each business gets its own bounded queue and workers, so a throttled business never holds
    up another, and the whole never holds more than a few queues' worth of jobs.
    When ``stop`` is set, no new job is taken: jobs already queued go to ``skipped`` (the
    caller reports them as not sent) and jobs being sent finish. The first exception raised by
    ``handle`` (e.g. FatalRunError) sets ``stop`` and is re-raised once the pool is quiet;
    so is an exception of the ``jobs`` iterator.
    """
    stop = stop or asyncio.Event()
    failure: list[BaseException] = []
    queues: dict[str, asyncio.Queue[Job | None]] = {}
    tasks: list[asyncio.Task[None]] = []
    fed = 0

    async def work(queue: asyncio.Queue[Job | None]) -> None:
        while (job := await queue.get()) is not None:
            if stop.is_set():
                skipped(job)
                continue
            try:
                await handle(job)
            except Exception as exc:
                if not failure:
                    failure.append(exc)
                stop.set()

    try:
        async for job in jobs:
            if stop.is_set():
                skipped(job)
                break
            key = lane(job)
            queue = queues.get(key)
            if queue is None:
                queue = queues[key] = asyncio.Queue(maxsize=workers * 8)
                tasks.extend(asyncio.create_task(work(queue)) for _ in range(workers))
            await queue.put(job)
            fed += 1
            if fed % YIELD_EVERY == 0:
                # put() only suspends on a full queue: without this, the producer would map
                # rows for every lane's whole queue (hundreds of rows with ten businesses)
                # before the first worker got to send anything.
                await asyncio.sleep(0)
    except Exception as exc:
        failure.insert(0, exc)
        stop.set()
    finally:
        for queue in queues.values():
            for _ in range(workers):
                await queue.put(None)
        await asyncio.gather(*tasks)
    if failure:
        raise failure[0]
