"""Graph's files API over the emulator's drives: shares, items, children, content, moves.

    GET   /shares/{u!…}/driveItem[/content]              resolve a sharing link or an item's URL
    GET   /drives/{d}/items/{i}  (or /root)              an item; PATCH moves or renames it
    GET   /drives/{d}/items/{i}/children                 paged by @odata.nextLink
    POST  /drives/{d}/items/{i}/children                 create a folder
    GET   /drives/{d}/items/{i}/content                  302 to the download host
    PUT   /drives/{d}/items/{i}:/{path}:/content         upload, making the folders on the path
    POST  /drives/{d}/items/{i}:/{path}:/createUploadSession   a large file, in ranges PUT to
                                                         the upload host (no token there); a
                                                         GET of that URL names the ranges it
                                                         still expects (nextExpectedRanges)
    GET   /drives/{d}/items/{i}:/{path}:                 an item by its path

Refusals use Graph's shapes (``itemNotFound``, ``accessDenied``, ``nameAlreadyExists``,
``resourceLocked``), and the fault rules apply to these calls as to the customers API. The
download host answers only requests that carry no ``Authorization`` header: its URLs carry
their own authorisation, and a client that sends its token there has leaked it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from aiohttp import web

from . import faults as f
from .files import Drive, FileError, Files, Item
from .responses import RESET, Exchange, Outcome, graph_error

# Largest upload the emulator takes in one PUT (Graph: 250 MB; the tests need far less).
MAX_UPLOAD = 64 * 1024 * 1024
WRITES = ("PUT", "POST", "PATCH", "DELETE")

_DRIVE = re.compile(
    r"^/(?P<version>[^/]+)/drives/(?P<drive>[^/]+)/(?:items/(?P<item>[^/:]+)|(?P<root>root))"
    r"(?::/(?P<path>.+?):)?(?P<tail>/children|/content|/createUploadSession)?/?$",
    re.IGNORECASE,
)
_SHARE = re.compile(
    r"^/(?P<version>[^/]+)/shares/(?P<share>[^/]+)/driveItem(?P<tail>/content|/children)?/?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Call:
    raw_path: str
    params: dict[str, list[str]]
    download_base: str
    page_size: int


@dataclass(frozen=True)
class FilesRoute:
    version: str
    drive_id: str = ""
    item_id: str = ""
    path: str = ""
    tail: str = ""  # "", "children" or "content"
    share: str = ""


def parse_files_route(raw_path: str, versions: tuple[str, ...]) -> FilesRoute | None:
    """The files route of a raw path, or None when it is no files call."""
    if m := _SHARE.match(raw_path):
        if m["version"] not in versions:
            return None
        return FilesRoute(m["version"], share=unquote(m["share"]),
                          tail=(m["tail"] or "").strip("/").lower())
    if m := _DRIVE.match(raw_path):
        if m["version"] not in versions:
            return None
        return FilesRoute(m["version"], unquote(m["drive"]), unquote(m["item"] or "root"),
                          unquote(m["path"] or ""), (m["tail"] or "").strip("/").lower())
    return None


def decode_share(share: str) -> str | None:
    """The URL inside a ``u!`` share id (base64url without padding), or None."""
    if not share.startswith("u!"):
        return None
    data = share[2:]
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


async def answer_files(files: Files, request: web.Request, ex: Exchange, route: FilesRoute,
                       query: str, fault: f.FaultRule | None, download_base: str,
                       page_size: int) -> Outcome:
    if fault and fault.kind == f.RESET_BEFORE:
        return Outcome(0, action=RESET, fault=fault.kind)
    if fault and fault.kind in f.STATUS_KINDS:
        from .operations import fault_answer

        outcome = fault_answer(ex, fault)
        outcome.fault = fault.kind
        return outcome
    call = _Call(request.raw_path.partition("?")[0], parse_qs(query, keep_blank_values=True),
                 download_base, page_size)
    try:
        return await _dispatch(files, request, ex, route, call)
    except FileError as exc:
        return graph_error(ex, exc.status, exc.code, exc.message)


async def _dispatch(files: Files, request: web.Request, ex: Exchange, route: FilesRoute,
                    call: _Call) -> Outcome:
    params, download_base = call.params, call.download_base
    method = request.method.upper()
    if route.share:
        url = decode_share(route.share)
        if url is None:
            return graph_error(ex, 400, "invalidRequest", "The sharing token is not valid.")
        item = files.resolve(url)
        drive = files.drive(item.drive_id)
        _may(drive, method)
        return _item_call(files, ex, item, route.tail, method, call)
    drive = files.drive(route.drive_id)
    _may(drive, method)
    base = files.item(drive.id, route.item_id)
    if route.path and route.tail == "createuploadsession" and method == "POST":
        conflict = (params.get("@microsoft.graph.conflictBehavior") or ["replace"])[0]
        token = files.new_session(drive.id, base.id, route.path, conflict)
        return Outcome(200, {"uploadUrl": f"{download_base}/_upload/{token}",
                             "expirationDateTime": "2099-01-01T00:00:00Z",
                             "nextExpectedRanges": ["0-"]})
    if route.path and route.tail == "content" and method == "PUT":
        return await _upload(files, request, ex, drive, base, route.path, params, download_base)
    item = files.by_path(base, route.path) if route.path else base
    if method == "PATCH" and not route.tail:
        return _move(files, ex, drive, item, await _json(request), params, download_base)
    if method == "POST" and route.tail == "children":
        return _create_folder(files, ex, drive, item, await _json(request), download_base)
    if method == "PUT" and route.tail == "content":
        parent = files.items[item.parent_id or item.id]
        return await _upload(files, request, ex, drive, parent, item.name, params, download_base)
    if method == "DELETE" and not route.tail:
        files.items.pop(item.id, None)
        return Outcome(204)
    return _item_call(files, ex, item, route.tail, method, call)


def _may(drive: Drive, method: str) -> None:
    if drive.access == "none" or (drive.access == "read" and method in WRITES):
        raise FileError(403, "accessDenied", "Access denied")


def _item_call(files: Files, ex: Exchange, item: Item, tail: str, method: str,
               call: _Call) -> Outcome:
    download_base = call.download_base
    if method != "GET":
        return graph_error(ex, 405, "invalidRequest", "The method is not allowed here.")
    if tail == "content":
        if item.is_folder:
            return graph_error(ex, 400, "invalidRequest", "A folder has no content.")
        token = files.download_token(item)
        return Outcome(302, None, {"Location": f"{download_base}/_download/{token}"})
    if tail == "children":
        return _children(files, ex, item, call)
    return Outcome(200, files.render(item, download_base))


def _children(files: Files, ex: Exchange, item: Item, call: _Call) -> Outcome:
    if not item.is_folder:
        return Outcome(200, {"value": []})
    raw = (call.params.get("$skiptoken") or ["0"])[0]
    skip = int(raw) if raw.isdigit() else -1
    if skip < 0:
        return graph_error(ex, 400, "invalidRequest", "Invalid value for '$skiptoken'.")
    every = files.children(item)
    page = every[skip: skip + call.page_size]
    body: dict[str, Any] = {"value": [files.render(i, call.download_base) for i in page]}
    if skip + call.page_size < len(every):
        body["@odata.nextLink"] = (f"{ex.base_url}{call.raw_path}"
                                   f"?$skiptoken={skip + call.page_size}")
    return Outcome(200, body)


async def _json(request: web.Request) -> Any:
    try:
        return json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


async def _upload(files: Files, request: web.Request, ex: Exchange, drive: Drive, parent: Item,
                  path: str, params: dict[str, list[str]], download_base: str) -> Outcome:
    if request.content_length is not None and request.content_length > MAX_UPLOAD:
        return graph_error(ex, 413, "maxFileSizeExceeded", "The file is too large to upload.")
    data = await request.read()
    conflict = (params.get("@microsoft.graph.conflictBehavior") or ["replace"])[0]
    *folders, name = [unquote(p) for p in path.split("/") if p]
    folder = files.make_folders(drive, parent.id, folders)
    item, created = files.write(drive, folder.id, name, data, conflict=conflict)
    return Outcome(201 if created else 200, files.render(item, download_base))


def _move(files: Files, ex: Exchange, drive: Drive, item: Item, body: Any,
          params: dict[str, list[str]], download_base: str) -> Outcome:
    if not isinstance(body, dict):
        return graph_error(ex, 400, "invalidRequest", "Send the changes as a JSON object.")
    parent = None
    ref = body.get("parentReference")
    if isinstance(ref, dict) and ref.get("id"):
        parent = files.item(drive.id, str(ref["id"]))
    name = body.get("name")
    moved = files.move(item, parent, str(name) if name else None)
    return Outcome(200, files.render(moved, download_base))


def _create_folder(files: Files, ex: Exchange, drive: Drive, parent: Item, body: Any,
                   download_base: str) -> Outcome:
    if not isinstance(body, dict) or "folder" not in body or not body.get("name"):
        return graph_error(ex, 400, "invalidRequest", "Send a name and a folder facet.")
    conflict = str(body.get("@microsoft.graph.conflictBehavior") or "fail")
    folder = files.create_folder(drive, parent, str(body["name"]), conflict=conflict)
    return Outcome(201, files.render(folder, download_base))
