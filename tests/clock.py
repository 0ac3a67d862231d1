"""Fake clocks for tests that must never wait for real: one moves at each sleep, one when told."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


class SteppedClock:
    """A fake clock that moves only when the test says so: ``sleep`` waits until
    ``advance_to`` reaches its end. Tests see who is waiting, and until when, without waiting
    for real."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._waiters: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    @property
    def waiting(self) -> list[float]:
        """The times the sleepers wait for, earliest first."""
        return sorted(when for when, future in self._waiters if not future.done())

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((self.now + seconds, future))
        await future

    def advance_to(self, when: float) -> None:
        """Move time forward to ``when`` and wake every sleeper whose time has come."""
        self.now = max(self.now, when)
        for due, future in self._waiters:
            if due <= self.now and not future.done():
                future.set_result(None)
        self._waiters = [(due, f) for due, f in self._waiters if not f.done()]


async def until(condition: Callable[[], bool], what: str, *, turns: int = 10_000) -> None:
    """Let the other tasks run until ``condition()`` holds (an event, not a time)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")
