"""Async servers served from a background thread, for tests that run sync code against them
(the CLI runs its own event loop with asyncio.run; Playwright's sync API blocks).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from importer.emulator import Emulator, EmulatorSettings, running_emulator
from tests.deadlines import HANG

T = TypeVar("T")


@contextmanager
def in_thread(
    open_server: Callable[[], AbstractAsyncContextManager[T]], *, timeout: float = HANG
) -> Iterator[tuple[T, asyncio.AbstractEventLoop]]:
    """Enter ``open_server()`` on a new event loop in a daemon thread; yield what it gives
    and that loop; leave it (on its loop) when the block ends."""
    ready = threading.Event()
    box: dict[str, Any] = {}
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        async with open_server() as server:
            box["server"] = server
            box["stop"] = stop = asyncio.Event()
            ready.set()
            await stop.wait()

    def target() -> None:
        try:
            loop.run_until_complete(serve())
        except BaseException as exc:  # pragma: no cover - surfaced below
            box["error"] = exc
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    ready.wait(timeout=timeout)
    if "server" not in box:
        raise RuntimeError(f"the server did not start: {box.get('error')!r}")
    try:
        yield box["server"], loop
    finally:
        loop.call_soon_threadsafe(box["stop"].set)
        thread.join(timeout=timeout)


@dataclass
class ThreadedEmulator:
    url: str
    emulator: Emulator
    loop: asyncio.AbstractEventLoop

    def call(self, fn, *args):  # type: ignore[no-untyped-def]
        """Run ``fn(*args)`` on the emulator's loop (for state changes while it serves)."""

        async def run():  # type: ignore[no-untyped-def]
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=HANG)


@contextmanager
def emulator_in_thread(settings: EmulatorSettings | None = None) -> Iterator[ThreadedEmulator]:
    with in_thread(lambda: running_emulator(settings)) as (emu, loop):
        yield ThreadedEmulator(emu.url, emu.emulator, loop)
