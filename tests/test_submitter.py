"""Retries, Retry-After and the pool, at the HTTP edge with aioresponses; no real sleeping."""

from __future__ import annotations

import asyncio
import email.utils
import json

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses

from importer.models import Customer, MappedRow, Row, Status
from importer.send.graph import GraphClient
from importer.send.submitter import FatalRunError, Job, Submitter, run_pool
from importer.signin import StaticToken
from tests.clock import FakeClock, SteppedClock, until

BASE = "https://graph.example.test"
BIZ = "biz@contoso.com"
URL = f"{BASE}/v1.0/solutions/bookingBusinesses/biz%40contoso.com/customers"
ERR429 = {"error": {"code": "TooManyRequests", "message": "throttled"}}
ERR503 = {"error": {"code": "ServiceUnavailable", "message": "try later"}}


def job(n: int = 2, email: str = "a@contoso.com") -> Job:
    row = Row(n, ("A", email))
    customer = Customer("A", email)
    return Job(n - 2, MappedRow(row, customer), {"displayName": "A", "emailAddress": email}, BIZ)


async def make(session: aiohttp.ClientSession, clock: FakeClock | SteppedClock, **kw: object) -> Submitter:
    client = GraphClient(session, BASE, "v1.0", StaticToken("t"))
    return Submitter(client, clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


def posts(m: aioresponses) -> int:
    return sum(len(v) for (method, _), v in m.requests.items() if method == "POST")


@pytest.mark.parametrize(
    ("retry_after", "at_least"),
    [
        pytest.param("2", 2.0, id="seconds"),
        pytest.param("0.25", 0.25, id="fractional"),
    ],
)
async def test_429_waits_retry_after_then_succeeds(retry_after: str, at_least: float) -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        sub = await make(session, clock)
        with aioresponses() as m:
            m.post(URL, status=429, payload=ERR429, headers={"Retry-After": retry_after})
            m.post(URL, status=201, payload={"id": "c1"}, headers={"request-id": "r2"})
            result = await sub.send(job())
    assert result.status is Status.CREATED and result.customer_id == "c1"
    assert [a.status for a in result.attempts] == [429, 201]
    assert result.attempts[1].request_id == "r2"
    assert clock.sleeps and max(clock.sleeps) >= at_least
    assert sub.throttled == 1


async def test_429_with_http_date_retry_after() -> None:
    # The HTTP date is read against the time of day (the client's wall clock), the wait is
    # made on the monotonic clock: two fake clocks, so neither is the machine's.
    clock = FakeClock()
    wall = 1_750_000_000.0
    when = email.utils.formatdate(wall + 5, usegmt=True)
    async with aiohttp.ClientSession() as session:
        client = GraphClient(session, BASE, "v1.0", StaticToken("t"), wall_clock=lambda: wall)
        sub = Submitter(client, clock=clock, sleep=clock.sleep)
        with aioresponses() as m:
            m.post(URL, status=429, payload=ERR429, headers={"Retry-After": when})
            m.post(URL, status=201, payload={"id": "c1"})
            result = await sub.send(job())
    assert result.status is Status.CREATED
    assert len(clock.sleeps) == 1 and 5.0 <= clock.sleeps[0] <= 5.05, clock.sleeps


async def test_429_pauses_the_whole_business() -> None:
    # Two rows of one business. The first is refused with 429 and Retry-After: 2; the second
    # is sent only after that: it must not go out before the clock reaches 1002, although
    # a place is free and its own sending never failed. The clock moves only when told, so
    # the first row's retry wait cannot move it for the second.
    clock = SteppedClock(1000.0)
    sent: list[tuple[str, float]] = []

    def spy(url: object, **kwargs: object) -> CallbackResult:
        email = json.loads(kwargs["data"])["emailAddress"]  # type: ignore[arg-type]
        sent.append((email, clock.now))
        if len(sent) == 1:
            return CallbackResult(status=429, payload=ERR429, headers={"Retry-After": "2"})
        return CallbackResult(status=201, payload={"id": email})

    async with aiohttp.ClientSession() as session:
        sub = await make(session, clock)
        with aioresponses() as m:
            m.post(URL, callback=spy, repeat=True)
            first = asyncio.create_task(sub.send(job(2, "a@contoso.com")))
            await until(lambda: len(clock.waiting) == 1, "the first row waits to retry")
            assert sent == [("a@contoso.com", 1000.0)]
            second = asyncio.create_task(sub.send(job(3, "b@contoso.com")))
            await until(lambda: len(sent) == 2 or len(clock.waiting) == 2,
                        "the second row is sent or waits")
            assert len(sent) == 1, f"sent while the business was paused: {sent}"
            assert clock.waiting[0] >= 1002.0, "both wait out the Retry-After"
            clock.advance_to(1002.1)  # the first row's retry waits 2 s plus up to 0.05 s jitter
            results = await asyncio.gather(first, second)
    assert [r.status for r in results] == [Status.CREATED, Status.CREATED]
    assert sorted(sent) == [("a@contoso.com", 1000.0), ("a@contoso.com", 1002.1),
                            ("b@contoso.com", 1002.1)]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_retry_with_backoff_then_fail_bounded(status: int) -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        sub = await make(session, clock, max_attempts=4, max_backoff=8)
        with aioresponses() as m:
            m.post(URL, status=status, payload=ERR503, repeat=True)
            result = await sub.send(job())
            sent = posts(m)
    assert result.status is Status.FAILED
    assert result.http_status == status
    assert sent == 4 and len(result.attempts) == 4
    assert len(clock.sleeps) == 3 and all(0 <= s <= 8 for s in clock.sleeps)


@pytest.mark.parametrize("status", [400, 403, 404, 409])
async def test_other_4xx_fail_at_once_with_graph_code(status: int) -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        sub = await make(session, clock)
        with aioresponses() as m:
            m.post(URL, status=status,
                   payload={"error": {"code": "BadRequest", "message": "bad phone"}}, repeat=True)
            result = await sub.send(job())
            sent = posts(m)
    assert sent == 1
    assert (result.status, result.http_status, result.error_code, result.message) == (
        Status.FAILED, status, "BadRequest", "bad phone")
    assert clock.sleeps == []


async def test_connection_refused_is_retried() -> None:
    clock = FakeClock()
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("h", 1, False, None, None, None, None),
        OSError(111, "refused"))
    async with aiohttp.ClientSession() as session:
        sub = await make(session, clock)
        with aioresponses() as m:
            m.post(URL, exception=refused)
            m.post(URL, status=201, payload={"id": "c9"})
            result = await sub.send(job())
    assert result.status is Status.CREATED and len(result.attempts) == 2


async def test_a_lost_answer_is_reconciled_before_any_resend() -> None:
    clock = FakeClock()
    looked_up: list[str] = []

    async def reconcile(j: Job) -> str | None:
        looked_up.append(j.body["emailAddress"])
        return "already-there"

    async with aiohttp.ClientSession() as session:
        sub = await make(session, clock, reconcile=reconcile)
        with aioresponses() as m:
            m.post(URL, exception=aiohttp.ServerDisconnectedError())
            m.post(URL, status=201, payload={"id": "dup"})
            result = await sub.send(job())
            sent = posts(m)
    assert sent == 1, "the create must not be sent again once the customer is found"
    assert looked_up == ["a@contoso.com"]
    assert result.status is Status.CREATED and result.customer_id == "already-there"


async def test_a_lost_answer_is_resent_when_the_customer_is_absent() -> None:
    clock = FakeClock()

    async def reconcile(j: Job) -> str | None:
        return None

    async with aiohttp.ClientSession() as session:
        sub = await make(session, clock, reconcile=reconcile)
        with aioresponses() as m:
            m.post(URL, exception=TimeoutError())
            m.post(URL, status=201, payload={"id": "c2"})
            result = await sub.send(job())
    assert result.status is Status.CREATED and result.customer_id == "c2"


async def test_auth_refused_twice_is_fatal() -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        sub = await make(session, clock)
        with aioresponses() as m:
            m.post(URL, status=401, payload={"error": {"code": "InvalidAuthenticationToken"}},
                   repeat=True)
            with pytest.raises(FatalRunError):
                await sub.send(job())


async def test_pool_is_bounded_and_takes_every_job() -> None:
    inside = 0
    peak = 0
    done: list[int] = []
    produced = 0

    async def jobs():  # type: ignore[no-untyped-def]
        nonlocal produced
        for n in range(100):
            produced += 1
            # The producer never runs far ahead of the workers: bounded queue.
            assert produced - len(done) <= 4 * 8 + 4 + 1
            yield job(n + 2)

    async def handle(j: Job) -> None:
        nonlocal inside, peak
        inside += 1
        peak = max(peak, inside)
        await asyncio.sleep(0)
        inside -= 1
        done.append(j.seq)

    await run_pool(jobs(), handle, workers=4, skipped=lambda j: None)
    assert sorted(done) == list(range(100))
    assert peak == 4


async def test_pool_stop_reports_untaken_jobs_as_skipped() -> None:
    stop = asyncio.Event()
    handled: list[int] = []
    skipped: list[int] = []

    async def jobs():  # type: ignore[no-untyped-def]
        for n in range(50):
            yield job(n + 2)

    async def handle(j: Job) -> None:
        handled.append(j.seq)
        if len(handled) == 10:
            stop.set()
        await asyncio.sleep(0)

    await run_pool(jobs(), handle, workers=4, skipped=lambda j: skipped.append(j.seq), stop=stop)
    taken = set(handled) | set(skipped)
    assert len(handled) + len(skipped) == len(taken), "no job both handled and skipped"
    assert len(handled) >= 10 and len(handled) < 50
    # Everything the producer pulled was either handled or skipped: nothing vanished.
    assert max(taken) == len(taken) - 1


async def test_pool_reraises_the_first_fatal_error_after_the_others_finish() -> None:
    async def jobs():  # type: ignore[no-untyped-def]
        for n in range(20):
            yield job(n + 2)

    async def handle(j: Job) -> None:
        await asyncio.sleep(0)
        if j.seq == 5:
            raise FatalRunError(RuntimeError("token refused"))

    with pytest.raises(FatalRunError):
        await run_pool(jobs(), handle, workers=4, skipped=lambda j: None)


async def test_each_business_gets_its_own_workers() -> None:
    inside: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def jobs():  # type: ignore[no-untyped-def]
        for n in range(80):
            j = job(n + 2)
            j.business_id = f"biz{n % 4}@contoso.com"
            yield j

    async def handle(j: Job) -> None:
        inside[j.business_id] = inside.get(j.business_id, 0) + 1
        peak[j.business_id] = max(peak.get(j.business_id, 0), inside[j.business_id])
        for _ in range(20):  # longer than the producer takes to queue a few rows
            await asyncio.sleep(0)
        inside[j.business_id] -= 1

    await run_pool(jobs(), handle, workers=4, skipped=lambda j: None)
    assert peak == {f"biz{i}@contoso.com": 4 for i in range(4)}


async def test_an_error_of_the_job_source_is_reraised() -> None:
    async def jobs():  # type: ignore[no-untyped-def]
        yield job(2)
        raise RuntimeError("business locked")

    seen: list[int] = []

    async def handle(j: Job) -> None:
        seen.append(j.seq)

    with pytest.raises(RuntimeError, match="business locked"):
        await run_pool(jobs(), handle, workers=2, skipped=lambda j: seen.append(j.seq))
    assert seen == [0], "the job taken before the error is handled or skipped, never lost"


@pytest.mark.parametrize("status", [502, 504])
async def test_a_gateway_timeout_on_create_is_looked_up_before_resending(status: int) -> None:
    clock = FakeClock()

    async def reconcile(j: Job) -> str | None:
        return "made-anyway"

    async with aiohttp.ClientSession() as session:
        sub = await make(session, clock, reconcile=reconcile)
        with aioresponses() as m:
            m.post(URL, status=status, payload={"error": {"code": "GatewayTimeout"}})
            m.post(URL, status=201, payload={"id": "dup"})
            result = await sub.send(job())
            sent = posts(m)
    assert sent == 1
    assert result.customer_id == "made-anyway"


async def test_the_look_up_takes_a_place_of_the_business() -> None:
    clock = FakeClock()
    seen_in_flight: list[int] = []

    async with aiohttp.ClientSession() as session:
        sub = await make(session, clock)

        async def reconcile(j: Job) -> str | None:
            seen_in_flight.append(sub.pacer(BIZ).in_flight)
            return "x"

        sub.reconcile = reconcile
        with aioresponses() as m:
            m.post(URL, exception=aiohttp.ServerDisconnectedError())
            await sub.send(job())
    assert seen_in_flight == [1]


async def test_workers_start_before_the_producer_fills_every_queue() -> None:
    """put() only waits on a full queue: the producer must still let the workers run, or
    with ten businesses hundreds of rows are mapped before the first one is sent."""
    produced = 0
    produced_at_first_send: list[int] = []

    async def jobs():  # type: ignore[no-untyped-def]
        nonlocal produced
        for n in range(400):
            j = job(n + 2)
            j.business_id = f"biz{n % 10}@contoso.com"
            produced += 1
            yield j

    async def handle(j: Job) -> None:
        if not produced_at_first_send:
            produced_at_first_send.append(produced)
        await asyncio.sleep(0)

    await run_pool(jobs(), handle, workers=6, skipped=lambda j: None)
    assert produced_at_first_send[0] <= 8, "a handful of rows, not every queue's worth"
