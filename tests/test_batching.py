"""JSON batching: per-item statuses, retries of only the failed items, envelope failures, bounded
attempts; aioresponses at the HTTP edge with a fake clock, then the real emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses

from importer.emulator import EmulatorSettings, running_emulator
from importer.models import Customer, MappedRow, Row, Status
from importer.send.batching import BatchSender, group_jobs, send_batch
from importer.send.graph import GraphClient
from importer.send.pacing import Pacer
from importer.send.submitter import FatalRunError, Job, run_pool
from importer.signin import StaticToken
from tests.clock import FakeClock
from tests.deadlines import HANG

BASE = "https://graph.example.test"
BIZ = "biz/1@contoso.com"
BATCH_URL = f"{BASE}/v1.0/$batch"
CUSTOMERS = "/solutions/bookingBusinesses/biz%2F1%40contoso.com/customers"

Answer = tuple[int, dict[str, str], Any]  # status, headers, body of one item


def job(n: int, business: str = BIZ) -> Job:
    email = f"c{n}@contoso.com"
    row = Row(n + 2, (f"C{n}", email))
    return Job(n, MappedRow(row, Customer(f"C{n}", email)),
               {"displayName": f"C{n}", "emailAddress": email}, business)


def created(n: int) -> Answer:
    return 201, {"Location": f"x/{n}"}, {"id": f"id-{n}"}


def error(status: int, code: str = "Err", retry_after: str | None = None) -> Answer:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return status, headers, {"error": {"code": code, "message": f"{code} says no"}}


class FakeBatchService:
    """Answers each $batch by asking ``decide(email)`` for every item; records what was sent."""

    def __init__(self, clock: FakeClock, decide: Callable[[str, int], Answer]) -> None:
        self.clock = clock
        self.decide = decide
        self.rounds: list[tuple[float, list[dict[str, Any]]]] = []
        self.seen: dict[str, int] = {}

    def __call__(self, url: Any, **kwargs: Any) -> CallbackResult:
        items = json.loads(kwargs["data"])["requests"]
        self.rounds.append((self.clock.now, items))
        responses = []
        for item in reversed(items):  # any order: the client must match answers by id
            email = item["body"]["emailAddress"]
            self.seen[email] = self.seen.get(email, 0) + 1
            status, headers, body = self.decide(email, self.seen[email])
            responses.append({"id": item["id"], "status": status, "headers": headers, "body": body})
        return CallbackResult(status=200, payload={"responses": responses},
                              headers={"request-id": "envelope-rid"})

    def emails(self, round_no: int) -> list[str]:
        return [i["body"]["emailAddress"] for i in self.rounds[round_no][1]]


def sender(session: aiohttp.ClientSession, clock: FakeClock, pacer: Pacer, **kw: Any) -> BatchSender:
    client = GraphClient(session, BASE, "v1.0", StaticToken("t"))
    return BatchSender(client, pacer=lambda _b: pacer, clock=clock, sleep=clock.sleep, **kw)


def pacer_for(clock: FakeClock) -> Pacer:
    return Pacer(4, clock=clock, sleep=clock.sleep)


async def test_mixed_statuses_retry_only_the_failed_items_each_after_its_own_retry_after() -> None:
    script = {
        "c0@contoso.com": [created(0)],
        "c1@contoso.com": [error(429, "TooManyRequests", "2"), created(1)],
        "c2@contoso.com": [error(400, "BadRequest")],
        "c3@contoso.com": [error(503, "ServiceUnavailable", "0.5"), created(3)],
        "c4@contoso.com": [created(4)],
    }
    clock = FakeClock()
    service = FakeBatchService(clock, lambda email, n: script[email][n - 1])
    pacer = pacer_for(clock)
    start = clock.now
    async with aiohttp.ClientSession() as session:
        s = sender(session, clock, pacer, chain=False)
        with aioresponses() as m:
            m.post(BATCH_URL, callback=service, repeat=True)
            results = await s.send([job(n) for n in range(5)])

    assert [r.status for r in results] == [
        Status.CREATED, Status.CREATED, Status.FAILED, Status.CREATED, Status.CREATED]
    assert [r.customer_id for r in results] == ["id-0", "id-1", "", "id-3", "id-4"]
    assert (results[2].http_status, results[2].error_code, results[2].message) == (
        400, "BadRequest", "BadRequest says no")
    # Only the throttled items go again, each no sooner than its own Retry-After.
    assert [service.emails(i) for i in range(len(service.rounds))] == [
        [f"c{n}@contoso.com" for n in range(5)], ["c3@contoso.com"], ["c1@contoso.com"]]
    assert service.rounds[1][0] - start >= 0.5
    assert service.rounds[2][0] - start >= 2.0
    assert [a.status for a in results[1].attempts] == [429, 201]
    assert [a.status for a in results[0].attempts] == [201]
    assert pacer.throttled == 1, "one envelope, however many throttled items: halve once"
    assert s.requests_sent == 3 and s.throttled == 1


async def test_items_carry_unique_ids_relative_urls_and_their_own_client_request_ids() -> None:
    clock = FakeClock()
    service = FakeBatchService(clock, lambda email, n: created(int(email[1])))
    async with aiohttp.ClientSession() as session:
        with aioresponses() as m:
            m.post(BATCH_URL, callback=service)
            results = await sender(session, clock, pacer_for(clock)).send([job(n) for n in range(3)])
    items = service.rounds[0][1]
    assert [i["id"] for i in items] == ["1", "2", "3"]
    assert {i["url"] for i in items} == {CUSTOMERS}
    assert {i["method"] for i in items} == {"POST"}
    # Chained by default: the batch uses one of the business's places at the service.
    assert [i.get("dependsOn") for i in items] == [None, ["1"], ["2"]]
    crids = [i["headers"]["client-request-id"] for i in items]
    assert len(set(crids)) == 3
    assert [r.attempts[0].client_request_id for r in results] == crids
    assert {r.attempts[0].request_id for r in results} == {"envelope-rid"}


async def test_a_failed_link_of_the_chain_resends_its_dependants_without_spending_attempts() -> None:
    def decide(email: str, n: int) -> Answer:
        if email == "c1@contoso.com" and n == 1:
            return error(429, "TooManyRequests", "1")
        if email in ("c2@contoso.com", "c3@contoso.com") and n == 1:
            return error(424, "FailedDependency")
        return created(int(email[1]))

    clock = FakeClock()
    service = FakeBatchService(clock, decide)
    async with aiohttp.ClientSession() as session:
        s = sender(session, clock, pacer_for(clock), max_attempts=2)
        with aioresponses() as m:
            m.post(BATCH_URL, callback=service, repeat=True)
            results = await s.send([job(n) for n in range(4)])
    assert all(r.status is Status.CREATED for r in results)
    assert service.emails(1) == ["c1@contoso.com", "c2@contoso.com", "c3@contoso.com"]
    assert [len(r.attempts) for r in results] == [1, 2, 1, 1]


@pytest.mark.parametrize(
    ("first", "pacer_told"),
    [
        pytest.param((429, {"Retry-After": "3"}), True, id="envelope-429"),
        pytest.param((503, {}), False, id="envelope-503-no-retry-after"),
        pytest.param((504, {"Retry-After": "1"}), True, id="envelope-504-retry-after"),
        pytest.param((502, {}), False, id="envelope-502"),
    ],
)
async def test_an_envelope_failure_retries_the_whole_batch(
    first: tuple[int, dict[str, str]], pacer_told: bool
) -> None:
    status, headers = first
    clock = FakeClock()
    service = FakeBatchService(clock, lambda email, n: created(int(email[1])))
    pacer = pacer_for(clock)
    async with aiohttp.ClientSession() as session:
        with aioresponses() as m:
            m.post(BATCH_URL, status=status, headers=headers,
                   payload={"error": {"code": "Busy", "message": "later"}})
            m.post(BATCH_URL, callback=service)
            results = await sender(session, clock, pacer).send([job(n) for n in range(3)])
    assert [r.status for r in results] == [Status.CREATED] * 3
    assert [[a.status for a in r.attempts] for r in results] == [[status, 201]] * 3
    assert (pacer.throttled == 1) is pacer_told
    if "Retry-After" in headers:
        assert clock.sleeps and max(clock.sleeps) >= float(headers["Retry-After"])


async def test_an_envelope_refused_with_a_4xx_fails_every_row_at_once() -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        with aioresponses() as m:
            m.post(BATCH_URL, status=400,
                   payload={"error": {"code": "BadRequest", "message": "Invalid batch payload"}})
            results = await sender(session, clock, pacer_for(clock)).send([job(0), job(1)])
    assert [(r.status, r.http_status, r.error_code) for r in results] == [
        (Status.FAILED, 400, "BadRequest")] * 2
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("where", "max_attempts"),
    [pytest.param("item", 3, id="item-503"), pytest.param("envelope", 4, id="envelope-503")],
)
async def test_attempts_are_bounded_per_row(where: str, max_attempts: int) -> None:
    clock = FakeClock()

    def decide(email: str, n: int) -> Answer:
        return error(503, "ServiceUnavailable") if email == "c1@contoso.com" else created(0)

    service = FakeBatchService(clock, decide)
    async with aiohttp.ClientSession() as session:
        s = sender(session, clock, pacer_for(clock), max_attempts=max_attempts, max_backoff=8,
                   chain=False)
        with aioresponses() as m:
            if where == "item":
                m.post(BATCH_URL, callback=service, repeat=True)
            else:
                m.post(BATCH_URL, status=503, repeat=True,
                       payload={"error": {"code": "ServiceUnavailable", "message": "down"}})
            results = await s.send([job(0), job(1)])
    failed = results[1]
    assert (failed.status, failed.http_status) == (Status.FAILED, 503)
    assert len(failed.attempts) == max_attempts
    assert s.requests_sent == max_attempts
    assert all(0 <= w <= 8 for w in clock.sleeps)
    if where == "item":
        assert results[0].status is Status.CREATED and len(results[0].attempts) == 1


async def test_a_lost_answer_makes_every_create_ambiguous_and_only_absent_ones_are_resent() -> None:
    clock = FakeClock()
    looked_up: list[str] = []

    async def reconcile(j: Job) -> str | None:
        looked_up.append(j.body["emailAddress"])
        return "found-0" if j.seq == 0 else None

    service = FakeBatchService(clock, lambda email, n: created(int(email[1])))
    async with aiohttp.ClientSession() as session:
        s = sender(session, clock, pacer_for(clock), reconcile=reconcile)
        with aioresponses() as m:
            m.post(BATCH_URL, exception=aiohttp.ServerDisconnectedError())
            m.post(BATCH_URL, callback=service)
            results = await s.send([job(0), job(1), job(2)])
    assert sorted(looked_up) == ["c0@contoso.com", "c1@contoso.com", "c2@contoso.com"]
    assert service.emails(0) == ["c1@contoso.com", "c2@contoso.com"], "the found one is not resent"
    assert [r.customer_id for r in results] == ["found-0", "id-1", "id-2"]
    assert results[0].extra["reconciled"] is True


async def test_an_item_missing_from_the_answer_is_ambiguous() -> None:
    clock = FakeClock()
    found: list[int] = []

    async def reconcile(j: Job) -> str | None:
        found.append(j.seq)
        return f"found-{j.seq}"

    def drop_second(url: Any, **kwargs: Any) -> CallbackResult:
        items = json.loads(kwargs["data"])["requests"]
        return CallbackResult(status=200, payload={"responses": [
            {"id": items[0]["id"], "status": 201, "body": {"id": "id-0"}}]})

    async with aiohttp.ClientSession() as session:
        with aioresponses() as m:
            m.post(BATCH_URL, callback=drop_second)
            results = await sender(session, clock, pacer_for(clock), reconcile=reconcile).send(
                [job(0), job(1)])
    assert found == [1]
    assert [r.customer_id for r in results] == ["id-0", "found-1"]


async def test_a_refused_token_stops_the_run() -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        with aioresponses() as m:
            m.post(BATCH_URL, status=401, repeat=True,
                   payload={"error": {"code": "InvalidAuthenticationToken", "message": "expired"}})
            with pytest.raises(FatalRunError):
                await sender(session, clock, pacer_for(clock)).send([job(0)])


@pytest.mark.parametrize(
    "jobs",
    [
        pytest.param([job(n) for n in range(21)], id="more-than-20"),
        pytest.param([job(0), job(1, "other@contoso.com")], id="two-businesses"),
    ],
)
async def test_a_batch_is_at_most_20_rows_of_one_business(jobs: list[Job]) -> None:
    clock = FakeClock()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError):
            await sender(session, clock, pacer_for(clock)).send(jobs)


async def test_send_batch_is_a_one_off_sender() -> None:
    clock = FakeClock()
    service = FakeBatchService(clock, lambda email, n: created(int(email[1])))
    async with aiohttp.ClientSession() as session:
        client = GraphClient(session, BASE, "v1.0", StaticToken("t"))
        with aioresponses() as m:
            m.post(BATCH_URL, callback=service)
            results = await send_batch(client, [job(0), job(1)], pacer_for(clock),
                                       max_attempts=2, sleep=clock.sleep, clock=clock)
    assert [r.customer_id for r in results] == ["id-0", "id-1"]


# --- grouping ---------------------------------------------------------------------------------


async def collect(source: AsyncIterator[list[Job]]) -> list[list[int]]:
    return [[j.seq for j in batch] async for batch in source]


async def test_jobs_are_grouped_per_business_in_order_of_first_row() -> None:
    async def jobs() -> AsyncIterator[Job]:
        for n in range(7):
            yield job(n, "a" if n % 3 else "b")

    assert await collect(group_jobs(jobs(), 2)) == [[1, 2], [0, 3], [4, 5], [6]]


async def test_a_stalled_producer_never_waits_on_a_row_held_back_in_a_partial_batch() -> None:
    written = asyncio.Event()

    async def jobs() -> AsyncIterator[Job]:
        yield job(0)
        # Like the runner's reorder window: wait until row 0 has been sent and written.
        await asyncio.wait_for(written.wait(), timeout=HANG)
        yield job(1)

    batches = []
    async for batch in group_jobs(jobs(), 20, linger=0.01):
        batches.append([j.seq for j in batch])
        written.set()
    assert batches == [[0], [1]]


# --- against the emulator ---------------------------------------------------------------------


@pytest.mark.parametrize("chain", [pytest.param(True, id="chained"), pytest.param(False, id="unchained")])
async def test_100_rows_in_batches_of_20_are_each_created_once(chain: bool) -> None:
    settings = EmulatorSettings(latency=0.002, retry_after=0.01, seed=1)
    async with running_emulator(settings) as server, aiohttp.ClientSession() as session:
        client = GraphClient(session, server.url, "v1.0", StaticToken("t"))
        pacers: dict[str, Pacer] = {}
        s = BatchSender(client, pacer=lambda b: pacers.setdefault(b, Pacer(4)), chain=chain,
                        max_attempts=20)

        async def rows() -> AsyncIterator[Job]:
            for n in range(100):
                yield job(n)

        results = []

        async def handle(batch: list[Job]) -> None:
            results.extend(await s.send(batch))

        await run_pool(group_jobs(rows(), 20), handle, workers=4,  # type: ignore[arg-type]
                       skipped=lambda b: None, lane=lambda b: b[0].business_id)  # type: ignore[index]
        stored = server.emulator.customers(BIZ)
        counters = server.emulator.counters

    assert sorted(r.row.number for r in results) == [n + 2 for n in range(100)]
    assert all(r.status is Status.CREATED for r in results)
    assert sorted(c["emailAddress"] for c in stored) == sorted(f"c{n}@contoso.com" for n in range(100))
    assert {r.customer_id for r in results} == {c["id"] for c in stored}
    if chain:
        # One slot per batch, and each batch uses one place at the service: never a 429.
        assert counters.throttled == 0
        assert counters.max_in_flight[BIZ.casefold()] <= 4
    else:
        # Twenty items at once against four places: the service throttles the rest.
        assert counters.throttled > 0
