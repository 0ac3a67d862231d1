"""An upload's preview and the person's choices on it: the columns' fields, whether the first
row is a customer, the code page and the phone region.

    GET  /uploads/{id}              the preview (also /uploads/{id}/preview.json)
    POST /uploads/{id}/mapping      a field (or "ignore") per column, and the header row
    POST /uploads/{id}/reading      the encoding and the region of numbers without a code

Each choice reads the file again through the one gate (gate.py) with the config it makes,
and is kept only when that read succeeds. Nothing here starts an import.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from ..config import validate
from ..errors import ConfigError, InputError
from ..map import IGNORE
from ..read import ReadBusy
from . import gate, mapping, replies
from .replies import input_message, preview_body, preview_page, refuse, upload_of, wants_json
from .security import CSRF_FIELD, CSRF_HEADER
from .state import config_of, header_of, state_of


async def preview(request: web.Request) -> web.Response:
    return preview_page(request, upload_of(request))


async def preview_json(request: web.Request) -> web.Response:
    return web.json_response(preview_body(state_of(request).config, upload_of(request)))


async def choose_mapping(request: web.Request) -> web.Response:
    """The mapping step: a form (field-0, field-1, ..., and the box "first-row") from the page,
    or JSON ``{"columns": {"Header": "field" | "ignore"}, "header": true | false}`` from a
    script; then the preview again.

    ``header`` false (the box ticked): the file has no header row, its first row is a
    customer and its columns are named by letter. A change of it names the columns anew: the
    page's choices are then dropped (the config's [columns] apply again when the choice is
    the config's own, else none: recognition alone, and no letter is recognised), and a script's
    ``columns`` name the new columns (letters) and are the whole table."""
    state = state_of(request)
    found = upload_of(request)
    if found.preview is None:
        return refuse(request, 409, "choose the file's encoding first")
    headers = [mapping.column_name(c) for c in found.preview["columns"]]
    header = header_of(state.config, found)
    token = request.headers.get(CSRF_HEADER)
    values: dict[str, Any]
    try:
        if request.content_type == "application/json":
            body = await request.json()
            body = body if isinstance(body, dict) else {}
            wanted = body.get("header", header)
            chosen = body.get("columns", {} if wanted != header else None)
            if not isinstance(chosen, dict) or not isinstance(wanted, bool):
                return refuse(request, 400, 'send {"columns": {"Header": "field"}}, and '
                                             '"header": false for a file without a header row')
            # A column the script leaves out keeps what it feeds now.
            # A column is named by its whole header ("name" in the preview when it was cut).
            now = [c["field"] or IGNORE for c in (found.preview or {})["columns"]]
            values = {f"{mapping.FIELD_PREFIX}{i}": chosen.get(h, now[i])
                      for i, h in enumerate(headers)}
        else:
            form = await request.post()
            token = token or str(form.get(CSRF_FIELD) or "")
            values = {k: v for k, v in form.items() if isinstance(v, str)}
            wanted = values.get(mapping.FIRST_ROW) != mapping.FIRST_ROW_CUSTOMER
            chosen = {}
    except ValueError:
        return refuse(request, 400, "the mapping could not be read; reload the page and try again")
    refused = state.csrf.check(request, token)
    if refused:
        return refuse(request, 403, refused)
    switched = wanted != header
    try:
        columns: dict[str, str] | None
        if not switched:
            columns = mapping.choose(headers, values)
        elif chosen:
            columns = mapping.table(chosen)
        else:
            # Back to the config's own reading, its [columns] again; else none yet (they
            # name the columns the other way).
            columns = None if wanted == state.config.input.header else {}
        # Through the one gate and budget every read of the page takes.
        config = config_of(state.config, dataclasses.replace(found, columns=columns,
                                                              header=wanted))
        # Columns named anew open the mapping step as a new upload's do, nothing mapped yet.
        preview = await gate.read_preview(state, found, config,
                                      require_name=not switched or bool(columns))
    except (gate.Busy, ReadBusy):
        return replies.busy(request, found, again="apply the mapping again", on="mapping")
    except (InputError, ConfigError) as exc:
        message = str(exc) if isinstance(exc, ConfigError) else input_message(found, exc)
        if wants_json(request):
            return web.json_response({"error": message}, status=400)
        return preview_page(request, found, status=400, mapping_error=message)
    found.columns, found.preview = columns, preview
    if switched:
        found.header = wanted
    if wants_json(request):
        return web.json_response(preview_body(state.config, found))
    raise web.HTTPSeeOther(f"/uploads/{found.id}#columns")


async def choose_reading(request: web.Request) -> web.Response:
    """How the file is read: its code page (``encoding``, "" to detect) and the region of
    phone numbers without a country code (``region``, "" for the run's own choice); from the
    page's form or JSON; then the preview again."""
    state = state_of(request)
    found = upload_of(request)
    token = request.headers.get(CSRF_HEADER)
    try:
        if request.content_type == "application/json":
            body = await request.json()
            values = body if isinstance(body, dict) else {}
        else:
            form = await request.post()
            token = token or str(form.get(CSRF_FIELD) or "")
            values = {k: v for k, v in form.items() if isinstance(v, str)}
    except ValueError:
        return refuse(request, 400, "the choice could not be read; reload the page and try again")
    refused = state.csrf.check(request, token)
    if refused:
        return refuse(request, 403, refused)
    encoding = str(values.get("encoding") or "").strip()[:40]
    region = str(values.get("region") or "").strip().upper()[:2]
    chosen = dataclasses.replace(found, encoding=encoding, region=region)
    try:
        config = config_of(state.config, chosen)
        validate(config, "the page")
        # Through the one gate and budget every read of the page takes.
        preview = await gate.read_preview(state, found, config, require_name=False)
    except (gate.Busy, ReadBusy):
        return replies.busy(request, found, again="choose again",
                            on="page" if found.preview is None else "reading")
    except (InputError, ConfigError) as exc:
        message = str(exc) if isinstance(exc, ConfigError) else input_message(found, exc)
        if wants_json(request):
            return web.json_response({"error": message}, status=400)
        if found.preview is None:
            return preview_page(request, found, status=400, error=message)
        return preview_page(request, found, status=400, reading_error=message)
    first = found.preview is None
    found.encoding, found.region, found.preview, found.reading_error = (
        encoding, region, preview, "")
    if first and preview.get("header_is_data") and found.header is None:
        await gate.first_row_as_customer(state, found)  # as a new upload's first preview
    if wants_json(request):
        return web.json_response(preview_body(state.config, found))
    raise web.HTTPSeeOther(f"/uploads/{found.id}#reading")

