"""Pacing: how many requests go out at once, and how fast.

Bookings serves a fixed number of concurrent requests per app and business (four); more in flight
only earns 429s. A ``Pacer`` per business therefore keeps at most ``limit`` requests in flight and
adapts that limit with AIMD (additive increase, multiplicative decrease — the TCP congestion
control rule): a 429 halves the limit and pauses the whole business until ``Retry-After`` has
passed; each success adds ``1/limit``, so after a full window of successes the limit grows by
one, back up to the configured ceiling. Several jobs sharing one business thereby converge on
their share instead of collecting 429s.

``RateLimiter`` caps requests per second with GCRA (the generic cell rate algorithm, as in
aiometer): each request is given the earliest time it may start, ``1/rate`` after the previous.

The clock and sleep are injected so tests never wait for real.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """Concurrency limit with AIMD for one business, and a pause shared by all its requests."""

    def __init__(
        self,
        ceiling: int = 4,
        *,
        floor: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if ceiling < 1:
            raise ValueError(f"ceiling must be at least 1, not {ceiling}")
        self.ceiling = ceiling
        self.floor = max(1, min(floor, ceiling))
        self._limit = float(ceiling)
        self._in_flight = 0
        self._paused_until = 0.0
        self._clock = clock
        self._sleep = sleep
        self._changed = asyncio.Condition()
        self._waiting = 0
        self.peak_in_flight = 0
        self.throttled = 0

    @property
    def limit(self) -> int:
        return max(self.floor, int(self._limit))

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def pause_remaining(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    async def wait_unpaused(self) -> None:
        while (delay := self.pause_remaining()) > 0:
            await self._sleep(delay)

    def slot(self) -> _Slot:
        """Hold one of the business's in-flight places for the duration of one HTTP exchange
        (``async with pacer.slot(): ...``)."""
        return _Slot(self)

    async def _acquire(self) -> None:
        if not self._waiting and self._in_flight < self.limit and self.pause_remaining() <= 0:
            self._take()  # the usual case: a place is free and nobody is queued for one
            return
        while True:
            await self.wait_unpaused()
            async with self._changed:
                self._waiting += 1
                try:
                    await self._changed.wait_for(lambda: self._in_flight < self.limit)
                finally:
                    self._waiting -= 1
                # A 429 may have paused the business while this task waited for a place.
                if self.pause_remaining() <= 0:
                    self._take()
                    return

    def _take(self) -> None:
        self._in_flight += 1
        if self._in_flight > self.peak_in_flight:
            self.peak_in_flight = self._in_flight

    async def _release(self) -> None:
        if not self._waiting:
            self._in_flight -= 1
            return
        async with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()
        # Hand the place over before going on: the task that got this answer has its
        # bookkeeping to do (journal, report), and would otherwise take the place for its own
        # next request first, leaving it idle for that long. Yielding a few times lets a
        # waiting request (already journaled, body ready) go out now, its bytes included:
        # aiohttp writes them from a task of its own.
        for _ in range(3):
            await asyncio.sleep(0)

    def on_success(self) -> None:
        if self._limit < self.ceiling:
            self._limit = min(float(self.ceiling), self._limit + 1.0 / self.limit)

    def on_throttled(self, retry_after: float | None) -> None:
        """A 429 (or a 503 with Retry-After): halve the limit and pause the whole business."""
        self.throttled += 1
        self._limit = max(float(self.floor), self._limit / 2)
        if retry_after:
            self._paused_until = max(self._paused_until, self._clock() + retry_after)


class _Slot:
    __slots__ = ("_pacer",)

    def __init__(self, pacer: Pacer) -> None:
        self._pacer = pacer

    async def __aenter__(self) -> None:
        await self._pacer._acquire()

    async def __aexit__(self, *exc: object) -> None:
        await self._pacer._release()


class RateLimiter:
    """At most ``rate`` request starts per second (GCRA); ``rate <= 0`` means no cap."""

    def __init__(self, rate: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep):
        self.rate = rate
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._clock = clock
        self._sleep = sleep

    async def acquire(self) -> None:
        if self._interval == 0.0:
            return
        now = self._clock()
        start = max(now, self._next)
        self._next = start + self._interval
        if start > now:
            await self._sleep(start - now)
