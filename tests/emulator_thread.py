"""The Graph emulator served from a background thread, for tests that run the CLI in-process.

The CLI runs its own event loop (asyncio.run), so the emulator needs a loop of its own.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from importer.emulator import Emulator, EmulatorSettings, running_emulator


@dataclass
class ThreadedEmulator:
    url: str
    emulator: Emulator
    loop: asyncio.AbstractEventLoop

    def call(self, fn, *args):  # type: ignore[no-untyped-def]
        """Run ``fn(*args)`` on the emulator's loop (for state changes while it serves)."""

        async def run():  # type: ignore[no-untyped-def]
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)


@contextmanager
def emulator_in_thread(settings: EmulatorSettings | None = None) -> Iterator[ThreadedEmulator]:
    ready = threading.Event()
    box: dict[str, object] = {}
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        async with running_emulator(settings) as emu:
            box["emu"] = emu
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
    ready.wait(timeout=10)
    if "error" in box:
        raise RuntimeError(f"emulator did not start: {box['error']!r}")
    emu = box["emu"]
    try:
        yield ThreadedEmulator(emu.url, emu.emulator, loop)  # type: ignore[attr-defined]
    finally:
        loop.call_soon_threadsafe(box["stop"].set)  # type: ignore[attr-defined]
        thread.join(timeout=10)
