"""The Graph emulator in its own process, with the time of every request it serves recorded.

    python benchmarks/timed_emulator.py --port 0 --latency 0.05 --jitter 0.01 --max-concurrent 4

Serves exactly what ``python -m importer.emulator`` serves (same app, same flags) and prints the
same ``listening on URL`` line. One middleware is added, for the benchmark only: it notes when
each request arrived and when its answer left, under the request's ``client-request-id`` (and,
for a ``$batch``, under each item's), so the benchmark can tell per row how long the service saw
it take, first attempt to last, for any client. ``GET /_bench/timings`` returns
``[[client_request_id, start, end, status], ...]``; ``POST /_emulator/reset`` also clears them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from importer.emulator import EmulatorSettings, create_app

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_timings(app: web.Application) -> None:
    timings: list[tuple[str, float, float, int]] = []

    @web.middleware
    async def timing(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/_bench/timings":
            return web.json_response(timings)
        if request.path == "/_emulator/reset":
            timings.clear()
        start = time.perf_counter()
        crids = [request.headers.get("client-request-id", "")]
        if request.path.endswith("/$batch"):
            crids += _item_ids(await request.read())  # cached: the handler reads it again
        response = await handler(request)
        end = time.perf_counter()
        timings.extend((crid, start, end, response.status) for crid in crids if crid)
        return response

    app.middlewares.append(timing)


def _item_ids(raw: bytes) -> list[str]:
    try:
        items: Any = json.loads(raw).get("requests") or []
        return [str((i.get("headers") or {}).get("client-request-id") or "") for i in items]
    except (ValueError, AttributeError):
        return []


async def serve(settings: EmulatorSettings, host: str, port: int) -> None:
    app = create_app(settings)
    add_timings(app)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await web.TCPSite(runner, host, port).start()
        print(f"listening on http://{host}:{runner.addresses[0][1]}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--jitter", type=float, default=0.0)
    parser.add_argument("--max-concurrent", type=int, default=4)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    settings = EmulatorSettings(latency=args.latency, jitter=args.jitter,
                                max_concurrent=args.max_concurrent, seed=args.seed)
    asyncio.run(serve(settings, args.host, args.port))


if __name__ == "__main__":
    main()
