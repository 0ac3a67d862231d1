"""Admin endpoints, for tests and benchmarks that run the emulator in another process.

No authentication, under ``/_emulator/``: never part of Graph.
    GET  /_emulator/state[?log=1]   customers per business, counters (and the request log)
    POST /_emulator/reset           back to the state just after start
    POST /_emulator/faults          [{"kind": "status_503", "first": 2}, ...] replaces the rules
    POST /_emulator/tokens          {"add": [...], "revoke": [...]}
    POST /_emulator/files           {"library": URL, "path": "Inbox/a.csv", "content": base64,
                                     "access": "write"} stores a file (the library is made
                                     when missing); answers its URL and a sharing link
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aiohttp import web

from .faults import fault_rule_from_dict
from .state import Emulator


def add_admin_routes(app: web.Application, key: web.AppKey[Emulator]) -> None:
    async def state(request: web.Request) -> web.Response:
        with_log = request.query.get("log", "") not in ("", "0", "false")
        return web.json_response(request.app[key].snapshot(with_log=with_log))

    async def reset(request: web.Request) -> web.Response:
        request.app[key].reset()
        return web.json_response({"reset": True})

    async def faults(request: web.Request) -> web.Response:
        body = await _json(request)
        if not isinstance(body, list):
            return _refuse("send a JSON list of fault rules")
        try:
            rules = [fault_rule_from_dict(r) for r in body]
        except ValueError as exc:
            return _refuse(str(exc))
        request.app[key].set_faults(rules)
        return web.json_response({"faults": len(rules)})

    async def tokens(request: web.Request) -> web.Response:
        body = await _json(request)
        if not isinstance(body, dict) or set(body) - {"add", "revoke"}:
            return _refuse('send {"add": [tokens], "revoke": [tokens]}')
        emu = request.app[key]
        for token in body.get("add") or []:
            emu.add_token(str(token))
        for token in body.get("revoke") or []:
            emu.revoke_token(str(token))
        return web.json_response({"ok": True})

    async def files(request: web.Request) -> web.Response:
        body = await _json(request)
        if not isinstance(body, dict) or not {"library", "path"} <= set(body):
            return _refuse('send {"library": URL, "path": "folder/name", "content": base64}')
        store = request.app[key].files
        library = str(body["library"]).rstrip("/")
        drive = next((d for d in store.drives.values() if d.web_url == library), None)
        try:
            data = base64.b64decode(str(body.get("content") or ""), validate=True)
            drive = drive or store.add_drive(library, access=str(body.get("access") or "write"))
        except (binascii.Error, ValueError) as exc:
            return _refuse(str(exc))
        item = store.put(drive.id, str(body["path"]), data)
        return web.json_response({"id": item.id, "webUrl": store.web_url(item),
                                  "sharingLink": store.sharing_link(item)})

    app.router.add_post("/_emulator/files", files)
    app.router.add_get("/_emulator/state", state)
    app.router.add_post("/_emulator/reset", reset)
    app.router.add_post("/_emulator/faults", faults)
    app.router.add_post("/_emulator/tokens", tokens)


async def _json(request: web.Request) -> Any:
    try:
        return json.loads(await request.read() or b"null")
    except ValueError:
        return None


def _refuse(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)
