import asyncio
import itertools

import pytest

from importer.send.pacing import Pacer, RateLimiter
from tests.clock import FakeClock


class Spy:
    """Counts how many tasks are inside the guarded section at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.peak = 0

    async def visit(self, pacer: Pacer, hold: int = 3) -> None:
        async with pacer.slot():
            self.inside += 1
            self.peak = max(self.peak, self.inside)
            for _ in range(hold):
                await asyncio.sleep(0)
            self.inside -= 1


@pytest.mark.parametrize("ceiling", [1, 2, 4, 7])
async def test_peak_in_flight_never_exceeds_the_ceiling(ceiling: int) -> None:
    pacer = Pacer(ceiling)
    spy = Spy()
    await asyncio.gather(*(spy.visit(pacer) for _ in range(50)))
    assert spy.peak == ceiling
    assert pacer.peak_in_flight == ceiling
    assert pacer.in_flight == 0


async def test_throttle_halves_the_limit_and_successes_grow_it_back() -> None:
    clock = FakeClock()
    pacer = Pacer(4, clock=clock, sleep=clock.sleep)
    pacer.on_throttled(None)
    assert pacer.limit == 2
    pacer.on_throttled(None)
    assert pacer.limit == 1
    pacer.on_throttled(None)
    assert pacer.limit == 1, "never below the floor"
    # Additive increase: about `limit` successes raise the limit by one.
    for _ in range(1):
        pacer.on_success()
    assert pacer.limit == 2
    for _ in range(2):
        pacer.on_success()
    assert pacer.limit == 3
    for _ in range(20):
        pacer.on_success()
    assert pacer.limit == 4, "never above the ceiling"


async def test_a_lower_limit_is_respected_by_waiting_tasks() -> None:
    pacer = Pacer(4)
    pacer.on_throttled(None)  # limit 2
    spy = Spy()
    await asyncio.gather(*(spy.visit(pacer) for _ in range(10)))
    assert spy.peak <= 3  # 2, growing by successes while the run goes


async def test_retry_after_pauses_every_worker_of_the_business() -> None:
    clock = FakeClock()
    pacer = Pacer(4, clock=clock, sleep=clock.sleep)
    pacer.on_throttled(2.5)
    entered_at: list[float] = []

    async def worker() -> None:
        async with pacer.slot():
            entered_at.append(clock.now)

    await asyncio.gather(*(worker() for _ in range(3)))
    assert all(t >= 1002.5 for t in entered_at)
    assert pacer.throttled == 1


async def test_rate_limiter_spaces_requests_evenly() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(5):
        await limiter.acquire()
        starts.append(clock.now)
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(starts)]
    assert gaps == [0.1, 0.1, 0.1, 0.1]


async def test_rate_limiter_zero_means_no_cap() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        await limiter.acquire()
    assert clock.sleeps == []


def test_pacer_rejects_a_zero_ceiling() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Pacer(0)


async def test_a_freed_place_goes_to_the_waiting_request_before_the_releasing_task_goes_on() -> None:
    """The task that got an answer has bookkeeping to do; a request already waiting for a place
    must go out first (and get its bytes written), not after that bookkeeping."""
    pacer = Pacer(1)
    order: list[str] = []
    holding = asyncio.Event()

    async def first() -> None:
        async with pacer.slot():
            holding.set()
            await asyncio.sleep(0)
        order.append("first: bookkeeping")  # synchronous work right after the answer
        async with pacer.slot():
            order.append("first: next request")

    async def second() -> None:
        await holding.wait()
        async with pacer.slot():
            order.append("second: request")
            # The request's body goes out from a task of its own (as aiohttp writes it): it
            # must run before the releasing task resumes too.
            asyncio.get_running_loop().call_soon(order.append, "second: bytes written")
            await asyncio.sleep(0)

    await asyncio.gather(first(), second())
    assert order == ["second: request", "second: bytes written", "first: bookkeeping",
                     "first: next request"]
