"""Serve an aiohttp application on 127.0.0.1 (a free port) in a thread of its own: the fake
sign-in authority and the fake managed-identity endpoint both stand there while a test's real
client code, MSAL's included, talks to them over a socket."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from tests.deadlines import HANG


@contextmanager
def app_in_thread(app: web.Application, *, name: str,
                  ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL (https with ``ssl_context``).
    A failure to start is raised in the test's thread."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, shutdown_timeout=1)
    ready = threading.Event()
    failure: list[BaseException] = []
    base_url: list[str] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        scheme = "https" if ssl_context is not None else "http"
        base_url.append(f"{scheme}://127.0.0.1:{runner.addresses[0][1]}")

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except BaseException as exc:  # reported to the test thread below
            failure.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=serve, name=name, daemon=True)
    thread.start()
    ready.wait(HANG)
    try:
        if failure:
            raise failure[0]
        yield base_url[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(HANG)
        loop.close()
