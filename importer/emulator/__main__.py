"""``python -m importer.emulator --port P``: serve the emulator until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .server import serve_forever
from .settings import EmulatorSettings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m importer.emulator",
        description="Serve the Microsoft Bookings customers API emulator. Prints "
        "'listening on URL' once it accepts connections.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--jitter", type=float, default=0.0, help="latency varies by +- this")
    parser.add_argument("--max-concurrent", type=int, default=4, help="per business; more: 429")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--token", action="append", default=None, help="accepted bearer token (repeat); default any"
    )
    args = parser.parse_args(argv)
    settings = EmulatorSettings(
        tokens=set(args.token) if args.token else None,
        latency=args.latency,
        jitter=args.jitter,
        max_concurrent=args.max_concurrent,
        page_size=args.page_size,
        seed=args.seed,
    )
    serve_forever(settings, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
