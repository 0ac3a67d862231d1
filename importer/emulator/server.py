"""Running the emulator on a real socket: in-process for tests, or until stopped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from ..console import catch_interrupts
from .app import EMULATOR_KEY, create_app, create_download_app
from .settings import EmulatorSettings
from .state import Emulator

# On exit, requests still in flight (a "slow" fault, a client that went away) get this long.
SHUTDOWN_TIMEOUT = 1.0


@dataclass(frozen=True)
class RunningEmulator:
    url: str  # "http://127.0.0.1:PORT", the client's base_url
    emulator: Emulator
    app: web.Application
    download_url: str = ""  # the second host, where file downloads are redirected


@asynccontextmanager
async def running_emulator(
    settings: EmulatorSettings | None = None, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[RunningEmulator]:
    """Serve on ``host:port`` (0 = any free port) for the duration of the block."""
    app = create_app(settings)
    # No access log: tests and benchmarks send thousands of requests.
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT
    )
    await runner.setup()
    # A second host for the pre-authenticated download URLs, as Graph redirects file content
    # to another host than its own: a client that sends its token there can be caught.
    downloads = web.AppRunner(create_download_app(app[EMULATOR_KEY]), access_log=None,
                              handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await downloads.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        await web.TCPSite(downloads, host, 0).start()
        bound_port = runner.addresses[0][1]
        shown = f"[{host}]" if ":" in host else host
        download_url = f"http://{shown}:{downloads.addresses[0][1]}"
        app[EMULATOR_KEY].download_base = download_url
        yield RunningEmulator(f"http://{shown}:{bound_port}", app[EMULATOR_KEY], app, download_url)
    finally:
        await downloads.cleanup()
        await runner.cleanup()


def serve_forever(
    settings: EmulatorSettings | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM. First prints ``listening on URL`` (flushed), the line a
    parent process waits for; ``announce`` replaces that print."""
    asyncio.run(_serve(settings, host, port, announce or _print))


def _print(line: str) -> None:
    print(line, flush=True)


async def _serve(
    settings: EmulatorSettings | None, host: str, port: int, announce: Callable[[str], None]
) -> None:
    stop = asyncio.Event()
    with catch_interrupts(stop.set, on_terminate=stop.set):
        async with running_emulator(settings, host, port) as server:
            announce(f"listening on {server.url}")
            await stop.wait()
