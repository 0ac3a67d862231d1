"""How long an upload's body may take: it must keep arriving, or it is cut off (HTTP 408).

A body may take ``grace`` seconds, plus one second for every ``rate`` bytes that have arrived:
an office line that sends 20 MB at a steady 16 KiB/s gets there; a client that opens uploads
and sends a byte every few seconds loses them after ``grace`` seconds, and with them the slots
it held (uploads.py keeps a few per session and a few in all). Only the body is timed here;
the request line and headers are aiohttp's to bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from aiohttp import StreamReader

__all__ = ["BodyPace", "TooSlow"]

T = TypeVar("T")
log = logging.getLogger("importer")


class TooSlow(Exception):
    """The body fell behind its pace."""


class BodyPace:
    """The deadline of one request body, moved on by every byte that arrives."""

    def __init__(self, content: StreamReader, *, grace: float, rate: float) -> None:
        if grace <= 0 or rate <= 0:
            raise ValueError("grace and rate must be positive")
        self._content = content
        self._grace = grace
        self._rate = rate
        self._start = asyncio.get_running_loop().time()

    def deadline(self) -> float:
        """The loop time by which more of the body must have arrived."""
        return self._start + self._grace + self._content.total_bytes / self._rate

    async def within(self, step: Awaitable[T]) -> T:
        """``step`` (a read of the body), or TooSlow if the body falls behind meanwhile."""
        try:
            async with asyncio.timeout_at(self.deadline()):
                return await step
        except TimeoutError:
            raise TooSlow from None
