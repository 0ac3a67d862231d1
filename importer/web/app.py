"""The upload page: an aiohttp.web application over the same pipeline as the command line.

    GET  /                          upload form and past runs
    POST /uploads                   stream a file in, check it, preview it -> /uploads/{id}
    GET  /uploads/{id}              the preview (also /uploads/{id}/preview.json)
    POST /uploads/{id}/mapping      the mapping step: a field (or "ignore") per column, and
                                    whether the first row is a customer (no header row)
    POST /uploads/{id}/start        start the import -> /runs/{id} (409 if one is running)
    GET  /runs/{id}                 live progress; the page polls /runs/{id}/status.json
    GET  /runs/{id}/files/{name}    results.csv, failures.csv, failures.xlsx of a known run
    GET  /runs.json                 past runs

Answers are HTML for a browser and JSON when the request asks for ``application/json``.
Every request body is bounded: a form post by ``client_max_size``, an upload as it streams
(the file by ``max_upload_bytes``, each other field by 1 KiB, the whole body by both); a
refused body is not read on, and the connection is closed (server.py serves without
lingering). An upload's body must keep a pace (pace.py) or is cut off with 408, and one
browser session may send only a few at once (uploads.py). One workbook is read at a time, for
a new upload's preview or a mapping change; a few more wait, the rest get 503.

This module makes the application and holds the routes that only show what is there (home,
runs, reports, static files). The handlers that take a file in (intake.py), show and change its
preview (choices.py) and start its import (launch.py) are in modules of their own; they pass
every read through the one gate (gate.py), answer through replies.py and find the page's
state through state.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
from typing import Any

from aiohttp import web

from ..config import Config
from ..signin import TokenSource
from . import pages, replies
from .choices import choose_mapping, choose_reading, preview, preview_json
from .intake import shown_name, upload
from .launch import start
from .malformed import malformed_requests
from .replies import html
from .runs import RunBoard
from .security import (
    Csrf,
    Middleware,
    SignInGuard,
    allowed_hosts,
    auth_middleware,
    host_middleware,
    security_headers,
)
from .state import MB, STATE, PageState, WebSettings, state_of
from .uploads import UploadStore

__all__ = ["MB", "STATE", "WebSettings", "create_app", "shown_name"]

# A form post other than an upload (the start button) carries a token and nothing else.
_CLIENT_MAX_SIZE = 64 * 1024
_STATIC = {"app.css": "text/css", "app.js": "text/javascript"}


def create_app(config: Config, tokens: TokenSource | None,
               settings: WebSettings | None = None) -> web.Application:
    """The page for one config (one business). ``tokens`` signs in to Graph for each run."""
    settings = settings or WebSettings()
    if settings.max_read_mb is not None:
        config = config.replace("limits", max_read_mb=settings.max_read_mb)
    hosts = allowed_hosts(settings.bound_host, settings.allowed_hosts)
    any_address = settings.bound_host.strip("[]") in ("", "0.0.0.0", "::")
    middlewares: list[Middleware] = [security_headers, host_middleware(hosts, any_address=any_address)]
    if settings.password:
        middlewares.append(auth_middleware(settings.password, SignInGuard()))
    middlewares.append(malformed_requests)
    app = web.Application(middlewares=middlewares, client_max_size=_CLIENT_MAX_SIZE)
    uploads = UploadStore(settings.upload_dir, max_bytes=settings.max_upload_bytes,
                          max_uploads=settings.max_uploads,
                          max_total_bytes=settings.max_stored_bytes or None,
                          idle_seconds=settings.upload_idle_seconds)
    state = PageState(config, settings, uploads, RunBoard(config, tokens), Csrf(), asyncio.Semaphore(1))
    app[STATE] = state
    app.add_routes([
        web.get("/", home),
        web.post("/uploads", upload),
        web.get("/uploads/{upload_id}", preview),
        web.get("/uploads/{upload_id}/preview.json", preview_json),
        web.post("/uploads/{upload_id}/mapping", choose_mapping),
        web.post("/uploads/{upload_id}/reading", choose_reading),
        web.post("/uploads/{upload_id}/start", start),
        web.get("/runs.json", runs_json),
        web.get("/runs/{run_id}", run_page),
        web.get("/runs/{run_id}/status.json", run_status),
        web.get("/runs/{run_id}/files/{name}", download),
        web.get("/static/{name}", static),
    ])

    async def close(_app: web.Application) -> None:
        await state.board.close()
        state.uploads.close()

    app.on_shutdown.append(close)
    return app



async def home(request: web.Request) -> web.Response:
    return replies.home(request)


async def runs_json(request: web.Request) -> web.Response:
    return web.json_response({"runs": state_of(request).board.past()})


def _status_of(request: web.Request) -> dict[str, Any]:
    status = state_of(request).board.status(request.match_info["run_id"])
    if status is None:
        raise web.HTTPNotFound(text="No such run.")
    return status


async def run_page(request: web.Request) -> web.Response:
    state = state_of(request)
    status = _status_of(request)
    poll_ms = round(state.settings.poll_interval * 1000)
    return html(request, pages.run_page(status, business=state.config.graph.business_id,
                                         poll_ms=poll_ms))


async def run_status(request: web.Request) -> web.Response:
    return web.json_response(_status_of(request))


async def download(request: web.Request) -> web.FileResponse:
    path = state_of(request).board.download(request.match_info["run_id"], request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound(text="No such report file.")
    response = web.FileResponse(path)
    response.headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    return response


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in _STATIC:
        raise web.HTTPNotFound()
    with contextlib.suppress(FileNotFoundError):
        data = importlib.resources.files("importer.web").joinpath("static", name).read_bytes()
        return web.Response(body=data, content_type=_STATIC[name], charset="utf-8",
                            headers={"Cache-Control": "no-cache"})
    raise web.HTTPNotFound()

