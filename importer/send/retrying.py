"""The one place that decides whether, and how long after, a request is tried again.

Retried: 429, 500, 502, 503, 504, connection errors and timeouts. ``Retry-After`` is honoured
(seconds, fractional seconds or an HTTP date) and waited out in full; without it the wait is
random exponential backoff ("full jitter"): plain exponential backoff makes contending workers
retry in lockstep, which tenacity's own docs warn against. Everything else (400, 403, 404, ...)
fails the row at once. Attempts are bounded, so a service that never recovers ends the run with
failures reported, not an endless loop.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from .graph import AuthRefused, GraphError, TransportError

Sleep = Callable[[float], Awaitable[None]]


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, AuthRefused):
        return False
    if isinstance(exc, GraphError):
        return exc.retryable
    return isinstance(exc, TransportError) and exc.retryable


class wait_retry_after:
    """Wait what the service asked for; fall back to another strategy when it did not say."""

    def __init__(self, fallback: Callable[[RetryCallState], float], *, cap: float) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = getattr(exc, "retry_after", None)
        if asked is not None:
            # At least what was asked, plus a little jitter so paused workers do not all
            # return in the same millisecond.
            return min(self.cap, asked) + random.uniform(0, 0.05)
        return self.fallback(state)


def retry_policy(
    *,
    max_attempts: int,
    max_backoff: float = 60.0,
    base: float = 0.5,
    sleep: Sleep = asyncio.sleep,
    before_sleep: Callable[[RetryCallState], Any] | None = None,
) -> AsyncRetrying:
    """A fresh AsyncRetrying for one row. ``reraise``: the last error is what the row reports."""
    return AsyncRetrying(
        retry=retry_if_exception(is_retryable),
        stop=stop_after_attempt(max_attempts),
        # Retry-After may legitimately exceed the backoff cap (a long outage): honour up to 10 min.
        wait=wait_retry_after(wait_random_exponential(multiplier=base, max=max_backoff), cap=600.0),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
