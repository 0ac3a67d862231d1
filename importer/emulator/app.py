"""The aiohttp application: HTTP in, an Outcome computed, HTTP (or a dropped connection) out.

Every answer carries ``request-id`` (new), ``client-request-id`` (echoed, or new) and ``Date``,
as Graph's do. Routing reads ``request.raw_path`` itself (see routing.py) rather than aiohttp's
decoded path, so a percent-encoded "/" stays inside its segment.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from aiohttp import web

from .admin import add_admin_routes
from .batch import run_batch
from .drives import answer_files, parse_files_route
from .faults import DROP_AFTER_CREATE, RESET_BEFORE
from .operations import Operation, perform
from .responses import (
    GONE,
    JSON_CONTENT_TYPE,
    NO_ANSWER,
    TRUNCATE,
    WWW_AUTHENTICATE,
    Exchange,
    Outcome,
    graph_error,
)
from .routing import BATCH, Route, RouteError, parse_route
from .settings import EmulatorSettings
from .state import Emulator, LoggedRequest

EMULATOR_KEY = web.AppKey("emulator", Emulator)


def create_app(settings: EmulatorSettings | None = None) -> web.Application:
    app = web.Application()
    app[EMULATOR_KEY] = Emulator(settings)
    add_admin_routes(app, EMULATOR_KEY)
    app.router.add_get("/_download/{token}", handle_download)
    app.router.add_put("/_upload/{token}", handle_upload)
    app.router.add_get("/_upload/{token}", handle_upload_status)
    app.router.add_route("*", "/{tail:.*}", handle_graph)
    return app


def create_download_app(emulator: Emulator) -> web.Application:
    """The second host, where ``/content`` redirects: pre-authenticated download URLs only."""
    app = web.Application()
    app[EMULATOR_KEY] = emulator
    app.router.add_get("/_download/{token}", handle_download)
    app.router.add_put("/_upload/{token}", handle_upload)
    app.router.add_get("/_upload/{token}", handle_upload_status)
    return app


async def handle_upload(request: web.Request) -> web.StreamResponse:
    """One range of an upload session (``Content-Range: bytes a-b/total``). Like a download
    URL, the session URL is its own authorisation: a request with a token is refused."""
    emu = request.app[EMULATOR_KEY]
    files = emu.files
    session = files.sessions.get(request.match_info["token"])
    bearer = "Authorization" in request.headers
    record = {"token": request.match_info["token"], "authorization": bearer, "status": None,
              "host": request.host, "upload": True}
    files.downloads.append(record)
    if bearer:
        return _plain_error(401, "invalidAuthenticationToken",
                            "An upload URL takes no Authorization header.")
    if session is None:
        return _plain_error(404, "itemNotFound", "The upload session does not exist.")
    fault = emu.faults.decide("PUT", request.path)
    if fault and fault.kind in ("status_503", "status_429"):
        return _plain_error(int(fault.kind[7:10]), "serviceNotAvailable", "try again",
                            fault.retry_after_header())
    if fault and fault.kind == RESET_BEFORE:  # the connection drops, nothing kept
        record["reset"] = True
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)
    data = await request.read()
    match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.headers.get("Content-Range", ""))
    have = session["data"]
    if not match or int(match[1]) != len(have) or int(match[2]) - int(match[1]) + 1 != len(data):
        return _plain_error(416, "invalidRange", f"Expected the range from {len(have)}.")
    have.extend(data)
    total = int(match[3])
    if len(have) < total:
        answer = web.json_response({"nextExpectedRanges": [f"{len(have)}-"]}, status=202)
    else:
        files.sessions.pop(request.match_info["token"], None)
        drive = files.drive(session["drive"])
        *folders, name = [unquote(p) for p in session["path"].split("/") if p]
        folder = files.make_folders(drive, session["parent"], folders)
        item, created = files.write(drive, folder.id, name, bytes(have),
                                    conflict=session["conflict"])
        answer = web.json_response(files.render(item, emu.download_base or ""),
                                   status=201 if created else 200)
    if fault and fault.kind == DROP_AFTER_CREATE:
        # The range is kept (the file made, for the last one); the answer is lost on the way.
        record["dropped"] = True
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)
    return answer


async def handle_upload_status(request: web.Request) -> web.StreamResponse:
    """``GET`` of an upload session's URL: the ranges it still expects (how a client resumes
    after an answer it did not get); 404 once the session has ended (its file is made)."""
    emu = request.app[EMULATOR_KEY]
    files = emu.files
    session = files.sessions.get(request.match_info["token"])
    bearer = "Authorization" in request.headers
    files.downloads.append({"token": request.match_info["token"], "authorization": bearer,
                            "status": None, "host": request.host, "upload": True,
                            "method": "GET"})
    if bearer:
        return _plain_error(401, "invalidAuthenticationToken",
                            "An upload URL takes no Authorization header.")
    if session is None:
        return _plain_error(404, "itemNotFound", "The upload session does not exist.")
    expires = datetime.now(UTC) + timedelta(hours=1)
    return web.json_response({"expirationDateTime": expires.isoformat().replace("+00:00", "Z"),
                              "nextExpectedRanges": [f"{len(session['data'])}-"]})


def _plain_error(status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status,
                             headers=headers)


async def handle_download(request: web.Request) -> web.StreamResponse:
    """A pre-authenticated download URL: the token in its path is the authorisation, so a
    request that also carries an ``Authorization`` header is refused (and remembered)."""
    emu = request.app[EMULATOR_KEY]
    files = emu.files
    token = request.match_info["token"]
    bearer = "Authorization" in request.headers
    item_id = files.download_tokens.get(token)
    item = files.items.get(item_id) if item_id else None
    fault = emu.faults.decide("GET", request.path)
    status = (401 if bearer else 404 if item is None or item.content is None
              else int(fault.kind[7:10]) if fault and fault.kind in ("status_503", "status_429",
                                                                      "status_504")
              else 200)
    files.downloads.append({"token": token, "authorization": bearer, "status": status,
                            "host": request.host})
    if status == 401:
        return web.json_response({"error": {"code": "invalidAuthenticationToken",
                                             "message": "A pre-authenticated URL takes no "
                                                        "Authorization header."}}, status=401)
    if status != 200:
        headers = fault.retry_after_header() if fault else {}
        return web.json_response({"error": {"code": "itemNotFound" if status == 404
                                            else "serviceNotAvailable",
                                            "message": "download failed"}},
                                 status=status, headers=headers)
    assert item is not None and item.content is not None
    return web.Response(body=item.content, content_type="application/octet-stream")


async def handle_graph(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR_KEY]
    exchange = Exchange(
        base_url=f"{request.scheme}://{request.host}",
        client_request_id=request.headers.get("client-request-id") or str(uuid.uuid4()),
        arrived=asyncio.get_running_loop().time(),
    )
    raw_path, _, query = request.raw_path.partition("?")
    route = parse_route(raw_path, request.method, emu.settings.versions)
    try:
        outcome = await _answer(emu, request, exchange, route, raw_path, query)
    except ConnectionError:
        # The client went away mid-request: nobody to answer, and nothing worth a traceback.
        outcome = Outcome(0, action=GONE)
    found = route if isinstance(route, Route) else None
    delivered = outcome.action not in NO_ANSWER
    emu.record(
        LoggedRequest(
            method=request.method,
            raw_path=raw_path,
            business_id=found.business_id if found else None,
            status=outcome.status if delivered else None,
            client_request_id=exchange.client_request_id,
            request_id=exchange.request_id,
            version=route.version,
            customer_id=outcome.customer_id,
            fault=outcome.fault,
        )
    )
    return _respond(request, exchange, outcome)


async def _answer(
    emu: Emulator,
    request: web.Request,
    ex: Exchange,
    route: Route | RouteError,
    raw_path: str,
    query: str,
) -> Outcome:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _unauthorized(ex, "Access token is empty.")
    if not emu.token_valid(token):
        return _unauthorized(ex, "Access token has expired or is not yet valid.")
    files_route = parse_files_route(raw_path, emu.settings.versions)
    if files_route is not None:
        fault = emu.faults.decide(request.method, raw_path)
        return await answer_files(emu.files, request, ex, files_route, query, fault,
                                  emu.download_base or ex.base_url, emu.settings.page_size)
    if isinstance(route, RouteError):
        return graph_error(ex, route.status, route.code, route.message)
    op = Operation(
        request.method,
        raw_path,
        query,
        route,
        ex,
        request.headers.get("Content-Type"),
        request.read,
    )
    if route.kind == BATCH:
        return await run_batch(emu, op, emu.faults.decide(request.method, raw_path, envelope=True))
    return await perform(emu, op, emu.faults.decide(request.method, raw_path))


def _unauthorized(ex: Exchange, message: str) -> Outcome:
    headers = {"WWW-Authenticate": WWW_AUTHENTICATE}
    return graph_error(ex, 401, "InvalidAuthenticationToken", message, headers)


def _respond(request: web.Request, ex: Exchange, outcome: Outcome) -> web.Response:
    headers = {
        "request-id": ex.request_id,
        "client-request-id": ex.client_request_id,
        **outcome.headers,
    }
    if outcome.action in NO_ANSWER:
        # Abort the socket and hand aiohttp a response it cannot write: it treats that as a
        # client that went away (no traceback), and the client sees the connection close.
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)
    if outcome.body is None:
        return web.Response(status=outcome.status, headers=headers)
    if isinstance(outcome.body, str):
        headers.setdefault("Content-Type", "text/plain")
        return web.Response(status=outcome.status, body=outcome.body.encode(), headers=headers)
    data = json.dumps(outcome.body).encode()
    if outcome.action == TRUNCATE:
        data = data[: len(data) // 2]
    headers["Content-Type"] = JSON_CONTENT_TYPE
    return web.Response(status=outcome.status, body=data, headers=headers)
