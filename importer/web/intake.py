"""A file coming in: ``POST /uploads`` streams the form, checks it and reads its first preview.

The body is bounded as it streams (the file by ``max_upload_bytes``, each other field by
``_SMALL_FIELD``, the whole by both) and must keep a pace (pace.py); the CSRF token comes
before the file, so nothing is stored for a forged request. The file is kept by the upload
store (uploads.py) and read through the one gate (gate.py). Nothing here starts an import.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from ..errors import ConfigError, InputError
from ..read import ReadBusy
from . import gate, replies
from .pace import BodyPace, TooSlow
from .replies import BUSY_RETRY_SECONDS, input_message, refuse, wants_json
from .security import CSRF_FIELD, CSRF_HEADER
from .state import header_of, state_of
from .uploads import Upload, UploadRefused, size_text

# Room for the multipart framing and the small form fields around the file itself.
_FORM_OVERHEAD = 64 * 1024
_SMALL_FIELD = 1024
_READ_CHUNK = 64 * 1024
_FORM_FIELDS = (CSRF_FIELD, "sheet")

log = logging.getLogger("importer.web")


async def upload(request: web.Request) -> web.Response:
    state = state_of(request)
    limit = state.settings.max_upload_bytes
    # A declared length over the limit is refused before a byte of the body is read.
    if request.content_length is not None and request.content_length > limit + _FORM_OVERHEAD:
        return replies.too_large(request, f"the file is larger than the limit of {size_text(limit)}; "
                                   "split it into smaller files")
    token = request.headers.get(CSRF_HEADER)
    checked = False
    sheet = ""
    stored: Upload | None = None
    too_large = (f"the upload is larger than the limit of {size_text(limit)}; "
                 "split the file into smaller files")
    body = request.content
    pace = BodyPace(body, grace=state.settings.upload_grace_seconds,
                    rate=state.settings.upload_min_rate)
    try:
        reader = await request.multipart()
        while (part := await pace.within(reader.next())) is not None:
            if body.total_bytes > limit + _FORM_OVERHEAD:
                return replies.too_large(request, too_large)
            if not isinstance(part, BodyPartReader):
                return refuse(request, 400, "send the file as a simple form upload")
            if part.name in _FORM_FIELDS:
                value = await _small_field(part, pace)
                if value is None:
                    return replies.too_large(request, f"the form field {part.name!r} is too long")
                if part.name == CSRF_FIELD:
                    token = value
                else:
                    sheet = value
            elif part.name == "file" and stored is None:
                # The token comes first in the form: nothing is stored for a forged request.
                refused = state.csrf.check(request, token)
                if refused:
                    response = refuse(request, 403, refused)
                    response.force_close()
                    return response
                checked = True
                stored = await state.uploads.receive(shown_name(part.filename), _chunks(part, pace),
                                                     sheet, session=state.csrf.session(request))
            else:
                return replies.too_large(request, "the upload holds fields the form does not have")
    except UploadRefused as exc:
        response = refuse(request, exc.status, exc.message)
        response.force_close()  # the rest of the body is not read
        if exc.status == 503:
            response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
        return response
    except TooSlow:
        log.warning("upload from %s cut off: %s bytes arrived in its time (at least %s bytes/s "
                    "after %s s)", request.remote, body.total_bytes,
                    state.settings.upload_min_rate, state.settings.upload_grace_seconds)
        response = refuse(request, 408, "the upload arrived too slowly and was stopped; try "
                                         "again on a faster connection, or split the file")
        response.force_close()
        return response
    except ValueError:  # not multipart, or a broken body
        return refuse(request, 400, "send the file as a multipart form upload (field 'file')")
    if stored is None:
        if not checked and (refused := state.csrf.check(request, token)):
            return refuse(request, 403, refused)
        return refuse(request, 400, "no file in the upload; choose a .csv, .xlsx or .xlsm file")
    try:
        stored.preview = await gate.read_preview(state, stored)
    except (gate.Busy, ReadBusy):
        state.uploads.discard(stored.id)
        return replies.busy(request)
    except (InputError, ConfigError) as exc:
        if isinstance(exc, InputError) and _undecided(exc):
            # Kept: the page asks which code page it is in, then reads it again.
            stored.reading_error = input_message(stored, exc)
            if wants_json(request):
                return web.json_response({"error": stored.reading_error, "upload_id": stored.id,
                                          "reading_url": f"/uploads/{stored.id}/reading"},
                                         status=400)
            raise web.HTTPSeeOther(f"/uploads/{stored.id}") from None
        state.uploads.discard(stored.id)
        return refuse(request, 400, input_message(stored, exc))
    if stored.preview.get("header_is_data") and stored.header is None:
        await gate.first_row_as_customer(state, stored)
    if wants_json(request):
        return web.json_response({"upload_id": stored.id, "name": stored.name, "size": stored.size,
                                  "preview_url": f"/uploads/{stored.id}", "preview": stored.preview,
                                  "header": header_of(state.config, stored)},
                                 status=201)
    raise web.HTTPSeeOther(f"/uploads/{stored.id}")


async def _small_field(part: BodyPartReader, pace: BodyPace) -> str | None:
    """A short form field's text; None if it is longer than _SMALL_FIELD (read no further)."""
    data = b""
    while chunk := await pace.within(part.read_chunk(_SMALL_FIELD)):
        data += chunk
        if len(data) > _SMALL_FIELD:
            return None
    return data.decode("utf-8", "replace").strip()


def shown_name(filename: str | None) -> str:
    """The uploaded file's name as a person knows it; only ever shown, never used as a path.

    Browsers percent-encode quotes and line breaks in it (and some clients everything else);
    an old browser sends the whole path it came from.
    """
    name = unquote(filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:200] or "upload"


def _undecided(exc: InputError) -> bool:
    """The file is text, but two code pages read it equally well: the person chooses."""
    return "cannot tell which encoding" in exc.reason


async def _chunks(part: BodyPartReader, pace: BodyPace) -> AsyncIterator[bytes]:
    # The reader holds one chunk back to look for the closing boundary, so the body read before
    # a refusal is at most the limit plus two chunks.
    while chunk := await pace.within(part.read_chunk(_READ_CHUNK)):
        yield chunk

