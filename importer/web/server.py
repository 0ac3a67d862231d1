"""Serving the upload page: on 127.0.0.1 by default, with a password anywhere else.

``serve`` is what ``bookings-import serve`` runs; ``running_app`` serves for the length of a
block (tests, the browser test). With ``sandbox`` the Graph emulator runs in the same event
loop and every import goes into it, as ``run --sandbox`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ..config import Config
from ..console import catch_interrupts
from ..errors import ConfigError, UsageError
from ..signin import StaticToken, TokenSource, make_token_source
from .app import MB, WebSettings, create_app
from .security import PASSWORD_ENV, is_loopback, password_problem
from .shared import shared_reason

log = logging.getLogger("importer")


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    max_upload_mb: float = 20
    sandbox: bool = False
    sandbox_business: str = "sandbox@contoso.onmicrosoft.com"
    allowed_hosts: tuple[str, ...] = ()  # host names the page answers to besides its address


@dataclass(frozen=True)
class RunningApp:
    url: str
    app: web.Application
    emulator_url: str = ""


def web_settings(config: Config, options: ServeOptions, environ: dict[str, str] | None = None
                 ) -> WebSettings:
    """The page's settings; refuses (UsageError, exit 2) to listen beyond this computer
    without a password."""
    environ = dict(os.environ) if environ is None else environ
    password = environ.get(PASSWORD_ENV, "") or None
    if not is_loopback(options.host) and not password:
        raise UsageError(
            f"--host {options.host} lets other computers reach the page: set {PASSWORD_ENV} "
            "to the password they must give (or leave --host at 127.0.0.1)"
        )
    if password is not None and (problem := password_problem(password)):
        raise UsageError(f"the password in {PASSWORD_ENV} {problem}: anyone who can reach the "
                         "page could guess it")
    if options.max_upload_mb <= 0:
        raise UsageError("--max-upload-mb must be a positive number of megabytes")
    state_dir = Path(config.state.dir).expanduser() if config.state.dir else None
    return WebSettings(max_upload_bytes=int(options.max_upload_mb * MB), password=password,
                       upload_dir=state_dir, bound_host=options.host,
                       allowed_hosts=options.allowed_hosts)


@asynccontextmanager
async def running_app(config: Config, options: ServeOptions, *, settings: WebSettings | None = None,
                      tokens: TokenSource | None = None) -> AsyncIterator[RunningApp]:
    """Serve the page (and, with ``options.sandbox``, the emulator) for the block's length."""
    settings = settings or web_settings(config, options)
    async with contextlib.AsyncExitStack() as stack:
        emulator_url = ""
        if options.sandbox:
            from ..emulator import EmulatorSettings, running_emulator

            token = secrets.token_urlsafe(24)
            emu = await stack.enter_async_context(
                running_emulator(EmulatorSettings(tokens={token}, latency=0.02, jitter=0.01)))
            graph = dataclasses.replace(
                config.graph, base_url=emu.url,
                business_id=config.graph.business_id or options.sandbox_business)
            # A fresh emulator: the journal of what was sent must start empty with it.
            journal_dir = tempfile.mkdtemp(prefix="bookings-sandbox-")
            stack.callback(shutil.rmtree, journal_dir, ignore_errors=True)
            state = dataclasses.replace(config.state, dir=journal_dir)
            config = dataclasses.replace(config, graph=graph, state=state)
            tokens, emulator_url = StaticToken(token), emu.url
        elif tokens is None:
            if not config.graph.business_id:
                raise ConfigError("graph.business_id is not set: name the Bookings business to "
                                  "import into (or try --sandbox)")
            tokens = make_token_source(config)
            stack.callback(getattr(tokens, "close", lambda: None))
        app = create_app(config, tokens, settings)
        # No lingering: a body refused half-way (413) is not read on; the connection closes.
        runner = web.AppRunner(app, handle_signals=False, access_log=None, lingering_time=0)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, options.host, options.port)
        await site.start()
        port = runner.addresses[0][1]
        shown = f"[{options.host}]" if ":" in options.host else options.host
        yield RunningApp(f"http://{shown}:{port}/", app, emulator_url)


def serve(config: Config, options: ServeOptions, *,
          announce: Callable[[str], None] | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM; a running import takes no new rows and finishes its
    requests in flight first. Returns the exit code."""
    settings = web_settings(config, options)  # before anything starts: a refusal is one line
    return asyncio.run(_serve(config, options, settings, announce or _print))


def _print(line: str) -> None:
    print(line, flush=True)


async def _serve(config: Config, options: ServeOptions, settings: WebSettings,
                 announce: Callable[[str], None]) -> int:
    stop = asyncio.Event()
    try:
        with catch_interrupts(stop.set, on_terminate=stop.set):
            async with running_app(config, options, settings=settings) as running:
                if running.emulator_url:
                    log.info("sandbox: imports go to the Graph emulator on %s", running.emulator_url)
                folder = Path(config.report.dir)
                if reason := shared_reason(folder):
                    log.warning("the report folder %s is shared: %s. Everyone who can open the "
                                "page sees every run and downloads its reports; so does anyone "
                                "who can read that folder", folder, reason)
                signed = " (password required)" if settings.password else ""
                announce(f"upload page on {running.url}{signed}; Ctrl-C to stop")
                await stop.wait()
    except OSError as exc:
        raise UsageError(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}") from None
    return 0
