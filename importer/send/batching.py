"""Creates through Graph JSON batching: up to 20 rows of one business in one ``POST $batch``.

A batch is one HTTP exchange, but the service throttles its items one by one: Bookings serves
four concurrent requests per business, and the items of a batch run concurrently unless chained
with ``dependsOn``. A batch of twenty unchained items therefore collects sixteen 429s. So by
default the items are chained, one after another: the batch then uses exactly one of the
business's places at the service, and holds exactly one ``Pacer`` slot here, like a lone request.
What batching saves is round trips and client work per row, not service time.

Per item: 2xx is the row's result; 429/5xx retries only that item after its own Retry-After (the
business's pacer is told, as for a lone 429); other 4xx fail the row with the service's code;
424 (its predecessor in the chain failed) means it never ran, so it is sent again without
counting an attempt. For the envelope: 429/5xx or a connection error retries every item; a
connection lost after sending makes every create ambiguous, and ``reconcile`` looks each one up
before it is sent again, as ``Submitter`` does. Attempts are bounded per row.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..models import Attempt, RowResult, Status
from .graph import (
    AuthRefused,
    GraphClient,
    GraphError,
    GraphResponse,
    TransportError,
    error_parts,
    parse_retry_after,
    segment,
)
from .pacing import Clock, Pacer, RateLimiter, Sleep
from .retrying import is_retryable
from .submitter import FatalRunError, Job, Reconcile

MAX_BATCH = 20  # Graph's limit on requests in one $batch
GATHER = 0.1  # seconds: rows due this close together are sent in one envelope
DEPENDENCY_FAILED = 424
# As retrying.py: Retry-After honoured up to ten minutes; otherwise full-jitter exponential
# backoff from half a second.
RETRY_AFTER_CAP = 600.0
BACKOFF_BASE = 0.5

Failure = GraphError | TransportError


@dataclass
class _Row:
    """One job's state across the rounds of its batch."""

    index: int
    job: Job
    tries: int = 0
    ready_at: float = 0.0


class BatchSender:
    """Sends the jobs of one business as ``$batch`` requests; one instance serves a whole run.

    ``pacer`` gives the business's Pacer (share ``Submitter.pacer`` so lone requests and
    batches of a business count against the same four places). ``chain=False`` lets the items
    of a batch run concurrently at the service: only sensible when the service's limit per
    business is at least the batch size.
    """

    def __init__(
        self,
        client: GraphClient,
        *,
        pacer: Callable[[str], Pacer],
        rate: RateLimiter | None = None,
        max_attempts: int = 6,
        max_backoff: float = 60.0,
        reconcile: Reconcile | None = None,
        chain: bool = True,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self.client = client
        self.pacer = pacer
        self.rate = rate
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.reconcile = reconcile
        self.chain = chain
        self._clock = clock
        self._sleep = sleep
        self.requests_sent = 0  # envelopes
        self.throttled = 0  # 429s, envelopes and items

    async def send(self, jobs: Sequence[Job]) -> list[RowResult]:
        """Send ``jobs`` (one business, at most 20) until each has a final result, in order.

        Raises FatalRunError when the token is refused for good, as ``Submitter.send`` does."""
        if len(jobs) > MAX_BATCH:
            raise ValueError(f"a batch holds at most {MAX_BATCH} requests, not {len(jobs)}")
        if len({j.business_id for j in jobs}) > 1:
            raise ValueError("a batch holds the rows of one business only")
        rows = [_Row(i, job) for i, job in enumerate(jobs)]
        results: dict[int, RowResult] = {}
        while len(results) < len(rows):
            open_rows = [r for r in rows if r.index not in results]
            # Rows due within GATHER of the first go out together, once the last of them is due:
            # each waits at least its own time, and jitter does not split the batch.
            first = min(r.ready_at for r in open_rows)
            wait = max(r.ready_at for r in open_rows if r.ready_at <= first + GATHER) - self._clock()
            if wait > 0:
                await self._sleep(wait)
            now = self._clock()
            due = [r for r in open_rows if r.ready_at <= now]
            sending = [r for r in due if not await self._reconciled(r, results)]
            if sending:
                await self._round(sending, results)
        return [results[r.index] for r in rows]

    async def _reconciled(self, row: _Row, results: dict[int, RowResult]) -> bool:
        """Look up an ambiguous create before sending it again; True when the row is settled."""
        job = row.job
        if not (job.ambiguous and job.method == "POST" and self.reconcile is not None):
            return False
        try:
            async with self.pacer(job.business_id).slot():  # a read like any other request
                found = await self.reconcile(job)
        except AuthRefused as exc:
            raise FatalRunError(exc) from None
        except (GraphError, TransportError) as exc:
            self._failed(row, exc, results)
            return True
        if found:
            ok = GraphResponse(200, {"id": found}, "", "", {"x-reconciled": "1"})
            results[row.index] = _success(job, ok)
            return True
        job.ambiguous = False
        return False

    async def _round(self, sending: list[_Row], results: dict[int, RowResult]) -> None:
        """One envelope with the due rows, holding one slot of their business throughout."""
        business_id = sending[0].job.business_id
        pacer = self.pacer(business_id)
        items = {str(n): (row, str(uuid.uuid4())) for n, row in enumerate(sending, 1)}
        payload = {
            "requests": [
                self._item(item_id, row.job, crid, after=str(int(item_id) - 1))
                for item_id, (row, crid) in items.items()
            ]
        }
        async with pacer.slot():
            if self.rate is not None:
                for _ in sending:
                    await self.rate.acquire()
            self.requests_sent += 1
            try:
                resp = await self.client.request("POST", f"{self.client.root}/$batch", payload)
            except AuthRefused as exc:
                raise FatalRunError(exc) from None
            except GraphError as exc:
                if _throttles(exc):
                    self.throttled += exc.status == 429
                    pacer.on_throttled(exc.retry_after)
                delay = self._backoff(max(r.tries for r in sending) + 1, exc.retry_after)
                for row in sending:
                    row.job.attempts.append(Attempt(exc.client_request_id, exc.request_id, exc.status))
                    self._failed(row, exc, results, delay=delay)
                return
            except TransportError as exc:
                delay = self._backoff(max(r.tries for r in sending) + 1, None)
                for row in sending:
                    row.job.attempts.append(Attempt(exc.client_request_id, "", None))
                    if exc.maybe_received and row.job.method == "POST":
                        row.job.ambiguous = True
                    self._failed(row, exc, results, delay=delay)
                return
            pauses = self._answers(resp, items, results)
            if pauses:
                # Once per envelope: a 429 on every item must not halve the limit twenty times.
                # The shortest wait pauses the business; each item also waits its own.
                pacer.on_throttled(min((p for p in pauses if p is not None), default=None))
            else:
                pacer.on_success()

    def _item(self, item_id: str, job: Job, crid: str, *, after: str) -> dict[str, Any]:
        url = f"/solutions/bookingBusinesses/{segment(job.business_id)}/customers"
        if job.method != "POST":
            url = f"{url}/{segment(job.customer_id)}"
        item: dict[str, Any] = {
            "id": item_id,
            "method": job.method,
            "url": url,
            "headers": {"Content-Type": "application/json", "client-request-id": crid},
            "body": job.body,
        }
        if self.chain and item_id != "1":
            item["dependsOn"] = [after]
        return item

    def _answers(
        self,
        resp: GraphResponse,
        items: dict[str, tuple[_Row, str]],
        results: dict[int, RowResult],
    ) -> list[float | None]:
        """Settle or reschedule each item from the envelope's answer; the Retry-After of each
        throttled item (None: it gave none)."""
        body = resp.body if isinstance(resp.body, dict) else {}
        answers = {
            str(a.get("id")): a for a in body.get("responses") or [] if isinstance(a, dict)
        }
        pauses: list[float | None] = []
        held = 0.0  # when the latest rescheduled item of the chain so far is due
        for item_id, (row, crid) in items.items():
            answer = answers.get(item_id)
            if answer is None:
                # The service took the envelope but did not say what became of this request.
                exc: Failure = TransportError(
                    "no answer for this request in the $batch response",
                    client_request_id=crid,
                    maybe_received=True,
                )
                row.job.attempts.append(Attempt(crid, resp.request_id, None))
                row.job.ambiguous = row.job.method == "POST"
                self._failed(row, exc, results)
                continue
            status = _int(answer.get("status"))
            headers = {str(k).lower(): str(v) for k, v in (answer.get("headers") or {}).items()}
            item_body = answer.get("body")
            code, message, inner_rid = error_parts(item_body)
            request_id = headers.get("request-id") or inner_rid or resp.request_id
            if status == DEPENDENCY_FAILED and self.chain and item_id != "1":
                # Its predecessor failed, so it never ran: no attempt spent, and due with the
                # predecessor, so the chain travels together again. (The first item of each
                # round always spends an attempt, so rounds always progress.)
                row.ready_at = held
                continue
            row.job.attempts.append(Attempt(crid, request_id, status))
            if 200 <= status < 300:
                ok = GraphResponse(status, item_body, crid, request_id, headers)
                results[row.index] = _success(row.job, ok)
                continue
            err = GraphError(
                status,
                code,
                message,
                client_request_id=crid,
                request_id=request_id,
                retry_after=parse_retry_after(headers.get("retry-after"), now=self.client.wall_clock()),
            )
            if _throttles(err):
                self.throttled += status == 429
                pauses.append(err.retry_after)
            self._failed(row, err, results)
            if row.index not in results:
                held = max(held, row.ready_at)
        return pauses

    def _failed(
        self, row: _Row, exc: Failure, results: dict[int, RowResult], *, delay: float | None = None
    ) -> None:
        """An attempt failed: schedule the row again (after ``delay``, when the whole envelope
        failed), or give it its final failure."""
        row.tries += 1
        if is_retryable(exc) and row.tries < self.max_attempts:
            wait = self._backoff(row.tries, exc.retry_after) if delay is None else delay
            row.ready_at = self._clock() + wait
        else:
            results[row.index] = _failure(row.job, exc)

    def _backoff(self, tries: int, retry_after: float | None) -> float:
        if retry_after is not None:
            # At least what was asked, plus a little jitter so paused rows do not all return
            # in the same millisecond.
            return min(RETRY_AFTER_CAP, retry_after) + random.uniform(0, 0.05)
        # Full jitter: plain exponential backoff makes contending clients retry in lockstep.
        return random.uniform(0, min(self.max_backoff, BACKOFF_BASE * 2 ** (tries - 1)))


async def send_batch(
    client: GraphClient,
    jobs: Sequence[Job],
    pacer: Pacer,
    *,
    max_attempts: int = 6,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.monotonic,
    reconcile: Reconcile | None = None,
) -> list[RowResult]:
    """Send one batch of one business's jobs with a one-off BatchSender."""
    sender = BatchSender(
        client,
        pacer=lambda _business: pacer,
        max_attempts=max_attempts,
        reconcile=reconcile,
        clock=clock,
        sleep=sleep,
    )
    return await sender.send(jobs)


async def group_jobs(
    jobs: AsyncIterator[Job], size: int, *, linger: float = 0.05
) -> AsyncIterator[list[Job]]:
    """Group consecutive jobs into batches of ``size`` per business, in order of first row.

    A business's batch goes out when it is full, and any partial batch goes out when no new job
    has come for ``linger`` seconds: a producer that waits for earlier rows to be written (the
    runner's reorder window) must never wait on a row held back here.
    """
    if not 1 <= size <= MAX_BATCH:
        raise ValueError(f"batch size must be between 1 and {MAX_BATCH}, not {size}")
    source = aiter(jobs)
    open_batches: dict[str, list[Job]] = {}  # insertion order = order of their first row
    following: asyncio.Future[Job] | None = None
    try:
        while True:
            if following is None:
                following = asyncio.ensure_future(anext(source))
            # Never cancel the pending anext(): cancelling would close the producer.
            done, _ = await asyncio.wait({following}, timeout=linger if open_batches else None)
            if not done:
                for batch in list(open_batches.values()):
                    yield batch
                open_batches.clear()
                continue
            try:
                job = following.result()
            except StopAsyncIteration:
                break
            finally:
                following = None
            batch = open_batches.setdefault(job.business_id, [])
            batch.append(job)
            if len(batch) == size:
                del open_batches[job.business_id]
                yield batch
        for batch in open_batches.values():
            yield batch
    finally:
        if following is not None and not following.done():
            following.cancel()


def _throttles(exc: GraphError) -> bool:
    return exc.status == 429 or (exc.status in (503, 504) and exc.retry_after is not None)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _success(job: Job, resp: GraphResponse) -> RowResult:
    customer = job.mapped.customer
    body = resp.body if isinstance(resp.body, dict) else {}
    return RowResult(
        job.mapped.row,
        Status.CREATED if job.method == "POST" else Status.UPDATED,
        display_name=customer.display_name if customer else "",
        email=customer.email if customer else "",
        customer_id=str(body.get("id") or job.customer_id),
        http_status=resp.status,
        attempts=tuple(job.attempts),
        business_id=job.business_id,
        extra={"response": body, "reconciled": "x-reconciled" in resp.headers},
    )


def _failure(job: Job, exc: Failure) -> RowResult:
    customer = job.mapped.customer
    transport = isinstance(exc, TransportError)
    return RowResult(
        job.mapped.row,
        Status.FAILED,
        display_name=customer.display_name if customer else "",
        email=customer.email if customer else "",
        http_status=exc.status,
        error_code=exc.code or ("TransportError" if transport else ""),
        message=str(exc) if transport else exc.message,
        attempts=tuple(job.attempts),
        business_id=job.business_id,
    )


class CreateBatcher:
    """Gathers the creates that workers hand in one at a time into batches per business.

    A worker calls ``await create(job)`` exactly where it would send the create alone; the
    call returns that row's result once its batch has been answered. A business's batch goes
    out when it holds ``size`` creates, or ``linger`` seconds after its first one.
    """

    def __init__(self, sender: BatchSender, size: int, *, linger: float = GATHER) -> None:
        if not 1 <= size <= MAX_BATCH:
            raise ValueError(f"batch size must be between 1 and {MAX_BATCH}, not {size}")
        self.sender = sender
        self.size = size
        self.linger = linger
        self._open: dict[str, list[tuple[Job, asyncio.Future[RowResult]]]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._sending: set[asyncio.Task[None]] = set()

    async def create(self, job: Job) -> RowResult:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[RowResult] = loop.create_future()
        lane = job.business_id.lower()
        batch = self._open.setdefault(lane, [])
        batch.append((job, future))
        if len(batch) >= self.size:
            self._flush(lane)
        elif len(batch) == 1:
            self._timers[lane] = loop.call_later(self.linger, self._flush, lane)
        return await future

    def _flush(self, lane: str) -> None:
        timer = self._timers.pop(lane, None)
        if timer is not None:
            timer.cancel()
        batch = self._open.pop(lane, [])
        if batch:
            task = asyncio.ensure_future(self._send(batch))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[Job, asyncio.Future[RowResult]]]) -> None:
        try:
            results = await self.sender.send([job for job, _ in batch])
        except BaseException as exc:  # FatalRunError and cancellation reach every row's worker
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
