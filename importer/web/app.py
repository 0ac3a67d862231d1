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
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.resources
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from ..config import Config, validate
from ..errors import ConfigError, ImporterError, InputError
from ..map import IGNORE, PhoneRegion
from ..previewer import build_preview, to_dict
from ..read import ENCODINGS, ReadBusy
from ..runner import business_phone_region
from ..signin import TokenSource
from . import mapping, memory, pages
from .malformed import malformed_requests
from .pace import BodyPace, TooSlow
from .runs import RunBoard, RunRefused
from .security import (
    CSRF_FIELD,
    CSRF_HEADER,
    Csrf,
    Middleware,
    SignInGuard,
    allowed_hosts,
    auth_middleware,
    host_middleware,
    security_headers,
)
from .uploads import Upload, UploadRefused, UploadStore, size_text

MB = 1024 * 1024
# Room for the multipart framing and the small form fields around the file itself.
_FORM_OVERHEAD = 64 * 1024
_SMALL_FIELD = 1024
_READ_CHUNK = 64 * 1024
_FORM_FIELDS = (CSRF_FIELD, "sheet")
# A form post other than an upload (the start button) carries a token and nothing else.
_CLIENT_MAX_SIZE = 64 * 1024
_BUSY_RETRY_SECONDS = 5
_STATIC = {"app.css": "text/css", "app.js": "text/javascript"}

log = logging.getLogger("importer")


@dataclass(frozen=True)
class WebSettings:
    max_upload_bytes: int = 20 * MB
    password: str | None = None  # None: no sign-in (only for 127.0.0.1)
    upload_dir: Path | None = None  # a private folder is made inside; None: the system temp dir
    poll_interval: float = 0.5  # seconds between the run page's status requests
    bound_host: str = "127.0.0.1"  # the address listened on: a Host the page answers to
    allowed_hosts: tuple[str, ...] = ()  # more names it answers to (--allowed-host)
    max_uploads: int = 20  # uploads kept at once (the oldest make room)
    max_stored_bytes: int = 0  # disk they may take in all; 0: ten times max_upload_bytes
    upload_idle_seconds: float = 3600  # an upload unused this long is deleted
    max_waiting_previews: int = 4  # previews waiting for the one being read; more get 503
    max_read_mb: int | None = None  # None: the config's [limits] max_read_mb
    # An upload's body may take this long, plus a second for every upload_min_rate bytes
    # that have arrived; slower, it is cut off (408) and its slot freed (pace.py).
    upload_grace_seconds: float = 10.0
    upload_min_rate: int = 16 * 1024


@dataclass
class _State:
    config: Config
    settings: WebSettings
    uploads: UploadStore
    board: RunBoard
    csrf: Csrf
    reading: asyncio.Semaphore
    waiting: int = 0
    business: PhoneRegion | None = None  # the business's country, once read
    business_lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)


STATE = web.AppKey("state", _State)
log = logging.getLogger("importer.web")


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
    state = _State(config, settings, uploads, RunBoard(config, tokens), Csrf(), asyncio.Semaphore(1))
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


# --- helpers ------------------------------------------------------------------------------


def _state(request: web.Request) -> _State:
    return request.app[STATE]


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _html(request: web.Request, text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _csrf_token(request: web.Request, response: web.StreamResponse) -> str:
    csrf = _state(request).csrf
    return csrf.token_for(csrf.ensure_session(request, response))


def _render(request: web.Request, build: Any, status: int = 200) -> web.Response:
    """An HTML response whose forms carry this session's CSRF token (set the cookie if new)."""
    response = web.Response(status=status, content_type="text/html", charset="utf-8")
    response.text = build(_csrf_token(request, response))
    return response


def _refuse(request: web.Request, status: int, message: str) -> web.Response:
    if _wants_json(request):
        return web.json_response({"error": message}, status=status)
    state = _state(request)
    return _render(request, lambda csrf: pages.home_page(
        csrf=csrf, max_size=size_text(state.settings.max_upload_bytes), runs=state.board.past(),
        business=state.config.graph.business_id, error=message,
        active=_active(state)), status)


def _active(state: _State) -> dict[str, Any] | None:
    run = state.board.active()
    return run.status() if run else None


def _upload_of(request: web.Request) -> Upload:
    """The upload named in the path, only for the session that made it."""
    state = _state(request)
    found = state.uploads.get(request.match_info["upload_id"], state.csrf.session(request))
    # (An upload without a preview is being read, or waits for its encoding to be chosen.)
    if found is None or (found.preview is None and not found.reading_error):
        raise web.HTTPNotFound(text="No such upload: it was deleted after its import or after an "
                                    "hour unused, or it belongs to another browser. Upload it again.")
    return found


def _too_large(request: web.Request, message: str) -> web.Response:
    """413, and the connection closed: the rest of the body is never read."""
    response = _refuse(request, 413, message)
    response.force_close()
    return response


# --- handlers -----------------------------------------------------------------------------


async def home(request: web.Request) -> web.Response:
    state = _state(request)
    return _render(request, lambda csrf: pages.home_page(
        csrf=csrf, max_size=size_text(state.settings.max_upload_bytes), runs=state.board.past(),
        business=state.config.graph.business_id, active=_active(state)))


async def upload(request: web.Request) -> web.Response:
    state = _state(request)
    limit = state.settings.max_upload_bytes
    # A declared length over the limit is refused before a byte of the body is read.
    if request.content_length is not None and request.content_length > limit + _FORM_OVERHEAD:
        return _too_large(request, f"the file is larger than the limit of {size_text(limit)}; "
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
                return _too_large(request, too_large)
            if not isinstance(part, BodyPartReader):
                return _refuse(request, 400, "send the file as a simple form upload")
            if part.name in _FORM_FIELDS:
                value = await _small_field(part, pace)
                if value is None:
                    return _too_large(request, f"the form field {part.name!r} is too long")
                if part.name == CSRF_FIELD:
                    token = value
                else:
                    sheet = value
            elif part.name == "file" and stored is None:
                # The token comes first in the form: nothing is stored for a forged request.
                refused = state.csrf.check(request, token)
                if refused:
                    response = _refuse(request, 403, refused)
                    response.force_close()
                    return response
                checked = True
                stored = await state.uploads.receive(shown_name(part.filename), _chunks(part, pace),
                                                     sheet, session=state.csrf.session(request))
            else:
                return _too_large(request, "the upload holds fields the form does not have")
    except UploadRefused as exc:
        response = _refuse(request, exc.status, exc.message)
        response.force_close()  # the rest of the body is not read
        if exc.status == 503:
            response.headers["Retry-After"] = str(_BUSY_RETRY_SECONDS)
        return response
    except TooSlow:
        log.warning("upload from %s cut off: %s bytes arrived in its time (at least %s bytes/s "
                    "after %s s)", request.remote, body.total_bytes,
                    state.settings.upload_min_rate, state.settings.upload_grace_seconds)
        response = _refuse(request, 408, "the upload arrived too slowly and was stopped; try "
                                         "again on a faster connection, or split the file")
        response.force_close()
        return response
    except ValueError:  # not multipart, or a broken body
        return _refuse(request, 400, "send the file as a multipart form upload (field 'file')")
    if stored is None:
        if not checked and (refused := state.csrf.check(request, token)):
            return _refuse(request, 403, refused)
        return _refuse(request, 400, "no file in the upload; choose a .csv, .xlsx or .xlsm file")
    try:
        stored.preview = await _read_preview(state, stored)
    except (_Busy, ReadBusy):
        state.uploads.discard(stored.id)
        return _busy(request)
    except (InputError, ConfigError) as exc:
        if isinstance(exc, InputError) and _undecided(exc):
            # Kept: the page asks which code page it is in, then reads it again.
            stored.reading_error = _input_message(stored, exc)
            if _wants_json(request):
                return web.json_response({"error": stored.reading_error, "upload_id": stored.id,
                                          "reading_url": f"/uploads/{stored.id}/reading"},
                                         status=400)
            raise web.HTTPSeeOther(f"/uploads/{stored.id}") from None
        state.uploads.discard(stored.id)
        return _refuse(request, 400, _input_message(stored, exc))
    if stored.preview.get("header_is_data") and stored.header is None:
        await _first_row_as_customer(state, stored)
    if _wants_json(request):
        return web.json_response({"upload_id": stored.id, "name": stored.name, "size": stored.size,
                                  "preview_url": f"/uploads/{stored.id}", "preview": stored.preview,
                                  "header": _header_of(state.config, stored)},
                                 status=201)
    raise web.HTTPSeeOther(f"/uploads/{stored.id}")


async def _first_row_as_customer(state: _State, stored: Upload) -> None:
    """A new upload whose first row, read as the header, is a customer: read it again without
    a header row, its columns named by letter and left to the person to map (the page shows the
    box "the first row is a customer" ticked). Through the same gate and budget as every read;
    busy or refused, the first preview stays, and the page offers the choice all the same."""
    chosen = dataclasses.replace(stored, header=False, columns={})
    try:
        preview = await _read_preview(state, chosen)
    except (_Busy, ReadBusy, InputError, ConfigError) as exc:
        log.info("%s read again without a header row: %s", stored.id, exc or "busy")
        return
    stored.header, stored.columns, stored.preview = False, {}, preview


def _header_of(config: Config, found: Upload) -> bool:
    """Whether the upload is read with a header row: the page's choice, else the config's."""
    return config.input.header if found.header is None else found.header


def _once(action: Callable[[], object]) -> Callable[[], None]:
    done = False

    def call() -> None:
        nonlocal done
        if not done:
            done = True
            action()

    return call


class _Busy(Exception):
    """Too many previews are waiting for the one being read."""


def _busy(request: web.Request) -> web.Response:
    response = _refuse(request, 503, "the page is busy reading other uploads; try again in a "
                                     "moment")
    response.headers["Retry-After"] = str(_BUSY_RETRY_SECONDS)
    return response


async def _enter_gate(state: _State) -> None:
    """Take the one-read-at-a-time gate, waiting behind at most max_waiting_previews others;
    _Busy if there are more."""
    if state.reading.locked() and state.waiting >= state.settings.max_waiting_previews:
        raise _Busy
    state.waiting += 1
    try:
        await state.reading.acquire()
    finally:
        state.waiting -= 1


async def _read_preview(state: _State, stored: Upload, config: Config | None = None, *,
                        require_name: bool = False) -> dict[str, Any]:
    """Read one upload at a time (a new upload's preview, a mapping change's, or a change of
    its encoding or phone region), so that the memory the page holds is one read's budget
    however many arrive at once; what the read let go is handed back to the system.
    ``config``: the page's own with this upload's choices, or one with a chosen mapping. An
    import's read counts against the same budget (read/budget.py): a read that does not fit
    beside it raises ReadBusy. A new upload's sheet none of whose columns is recognised opens
    the mapping step all the same (``require_name`` False); a chosen mapping must name one.
    The business's country is asked before the gate is taken, so the gate is never held
    through a sign-in or a Graph call."""
    business = await _business_region(state)
    await _enter_gate(state)
    reading = asyncio.ensure_future(asyncio.to_thread(
        _preview, config or _config_of(state.config, stored), stored.path, stored.sheet, business,
        require_name=require_name))

    def done(_: object) -> None:  # only when the read has ended, even if the request has not
        state.reading.release()
        memory.give_back()

    reading.add_done_callback(done)
    return await asyncio.shield(reading)


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


def _config_of(config: Config, found: Upload) -> Config:
    """The config with the page's choices for this upload: columns, header row, encoding,
    phone region."""
    config = mapping.with_columns(config, found.columns)
    if found.header is not None:
        config = config.replace("input", header=found.header)
    if found.encoding:
        config = config.replace("input", encoding=found.encoding)
    if found.region:
        config = config.replace("mapping", default_region=found.region)
    return config


def _undecided(exc: InputError) -> bool:
    """The file is text, but two code pages read it equally well: the person chooses."""
    return "cannot tell which encoding" in exc.reason


async def _business_region(state: _State) -> PhoneRegion | None:
    """The business's country, read once (a run reads it again), so that the page's preview
    reads numbers as the import will. Unreadable (no sign-in yet, Graph down): None, and the
    preview goes by the config and the sheet; the run itself then says what it used."""
    if state.config.mapping.default_region or not state.config.graph.business_id \
            or state.board.tokens is None:
        return None
    async with state.business_lock:
        if state.business is None:
            try:
                found = await business_phone_region(state.config, state.board.tokens)
            except (ImporterError, OSError) as exc:
                # Asked once: a page whose Graph is away must not wait for it at every upload.
                log.info("the business's country could not be read for the preview: %s", exc)
                found = None
            state.business = found or PhoneRegion("", "none", "the business gives no country")
    return state.business if state.business.region else None


def _preview(config: Config, path: Path, sheet: str | None,
             business: PhoneRegion | None = None, *, require_name: bool = True) -> dict[str, Any]:
    """The preview as JSON, without the private path the upload is stored under."""
    data = to_dict(build_preview(config, path, sheet, require_name=require_name,
                                 business=business))
    data.pop("path", None)
    return data


async def _chunks(part: BodyPartReader, pace: BodyPace) -> AsyncIterator[bytes]:
    # The reader holds one chunk back to look for the closing boundary, so the body read before
    # a refusal is at most the limit plus two chunks.
    while chunk := await pace.within(part.read_chunk(_READ_CHUNK)):
        yield chunk


def _input_message(stored: Upload, exc: InputError | ConfigError) -> str:
    """The loader's message with the uploaded name in place of the private stored path."""
    if isinstance(exc, InputError):
        where = stored.name
        if exc.row is not None:
            where += f", row {exc.row}"
        if exc.column is not None:
            where += f", column {exc.column!r}"
        return f"{where}: {exc.reason}"
    return f"{stored.name}: {exc}"


def _preview_page(request: web.Request, found: Upload, *, status: int = 200, error: str = "",
                  mapping_error: str = "", reading_error: str = "") -> web.Response:
    state = _state(request)

    def build(csrf: str) -> str:
        if found.preview is None:
            return pages.encoding_page(upload_id=found.id, name=found.name, csrf=csrf,
                                       message=error or found.reading_error,
                                       encodings=ENCODINGS, business=state.config.graph.business_id)
        reading = pages.reading_card(upload_id=found.id, preview=found.preview, csrf=csrf,
                                     encoding=found.encoding, region=found.region,
                                     encodings=ENCODINGS, error=reading_error)
        preview = found.preview
        header = _header_of(state.config, found)
        # Ticked when it is read so, or (until the person says) when its first row looks so.
        first_row_data = not header or (found.header is None and bool(preview.get("header_is_data")))
        columns = mapping.columns_card(upload_id=found.id, columns=preview["columns"],
                                       csrf=csrf, error=mapping_error,
                                       samples=preview.get("column_samples") or (),
                                       header=header, first_row_data=first_row_data)
        return pages.preview_page(
            upload_id=found.id, name=found.name, preview=found.preview or {}, csrf=csrf,
            business=state.config.graph.business_id, active=_active(state), error=error,
            columns_html=columns, reading_html=reading)

    return _render(request, build, status)


async def preview(request: web.Request) -> web.Response:
    return _preview_page(request, _upload_of(request))


def _preview_body(config: Config, found: Upload) -> dict[str, Any]:
    preview = found.preview or {}
    pairs = [(mapping.column_name(c), c["field"]) for c in preview.get("columns", [])]
    waiting = {"error": found.reading_error,
               "reading_url": f"/uploads/{found.id}/reading"} if found.preview is None else {}
    header = _header_of(config, found)
    return {"upload_id": found.id, "name": found.name, "size": found.size, **preview,
            "header": header, "columns_snippet": mapping.snippet(pairs, header=header),
            **waiting}


async def preview_json(request: web.Request) -> web.Response:
    return web.json_response(_preview_body(_state(request).config, _upload_of(request)))


async def choose_mapping(request: web.Request) -> web.Response:
    """The mapping step: a form (field-0, field-1, ..., and the box "first-row") from the page,
    or JSON ``{"columns": {"Header": "field" | "ignore"}, "header": true | false}`` from a
    script; then the preview again.

    ``header`` false (the box ticked): the file has no header row, its first row is a
    customer and its columns are named by letter. A change of it names the columns anew: the
    page's choices are then dropped (the config's [columns] apply again when the choice is
    the config's own, else none: recognition alone, and no letter is recognised), and a script's
    ``columns`` name the new columns (letters) and are the whole table."""
    state = _state(request)
    found = _upload_of(request)
    if found.preview is None:
        return _refuse(request, 409, "choose the file's encoding first")
    headers = [mapping.column_name(c) for c in found.preview["columns"]]
    header = _header_of(state.config, found)
    token = request.headers.get(CSRF_HEADER)
    values: dict[str, Any]
    try:
        if request.content_type == "application/json":
            body = await request.json()
            body = body if isinstance(body, dict) else {}
            wanted = body.get("header", header)
            chosen = body.get("columns", {} if wanted != header else None)
            if not isinstance(chosen, dict) or not isinstance(wanted, bool):
                return _refuse(request, 400, 'send {"columns": {"Header": "field"}}, and '
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
        return _refuse(request, 400, "the mapping could not be read; reload the page and try again")
    refused = state.csrf.check(request, token)
    if refused:
        return _refuse(request, 403, refused)
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
        config = _config_of(state.config, dataclasses.replace(found, columns=columns,
                                                              header=wanted))
        # Columns named anew open the mapping step as a new upload's do, nothing mapped yet.
        preview = await _read_preview(state, found, config,
                                      require_name=not switched or bool(columns))
    except (_Busy, ReadBusy):
        if _wants_json(request):
            return _busy(request)
        response = _preview_page(request, found, status=503, mapping_error=(
            "the page is busy reading other uploads; apply the mapping again in a moment"))
        response.headers["Retry-After"] = str(_BUSY_RETRY_SECONDS)
        return response
    except (InputError, ConfigError) as exc:
        message = str(exc) if isinstance(exc, ConfigError) else _input_message(found, exc)
        if _wants_json(request):
            return web.json_response({"error": message}, status=400)
        return _preview_page(request, found, status=400, mapping_error=message)
    found.columns, found.preview = columns, preview
    if switched:
        found.header = wanted
    if _wants_json(request):
        return web.json_response(_preview_body(state.config, found))
    raise web.HTTPSeeOther(f"/uploads/{found.id}#columns")


async def choose_reading(request: web.Request) -> web.Response:
    """How the file is read: its code page (``encoding``, "" to detect) and the region of
    phone numbers without a country code (``region``, "" for the run's own choice); from the
    page's form or JSON; then the preview again."""
    state = _state(request)
    found = _upload_of(request)
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
        return _refuse(request, 400, "the choice could not be read; reload the page and try again")
    refused = state.csrf.check(request, token)
    if refused:
        return _refuse(request, 403, refused)
    encoding = str(values.get("encoding") or "").strip()[:40]
    region = str(values.get("region") or "").strip().upper()[:2]
    chosen = dataclasses.replace(found, encoding=encoding, region=region)
    try:
        config = _config_of(state.config, chosen)
        validate(config, "the page")
        # Through the one gate and budget every read of the page takes.
        preview = await _read_preview(state, found, config, require_name=False)
    except (_Busy, ReadBusy):
        if _wants_json(request):
            return _busy(request)
        busy = "the page is busy reading other uploads; choose again in a moment"
        response = (_preview_page(request, found, status=503, error=busy) if found.preview is None
                    else _preview_page(request, found, status=503, reading_error=busy))
        response.headers["Retry-After"] = str(_BUSY_RETRY_SECONDS)
        return response
    except (InputError, ConfigError) as exc:
        message = str(exc) if isinstance(exc, ConfigError) else _input_message(found, exc)
        if _wants_json(request):
            return web.json_response({"error": message}, status=400)
        if found.preview is None:
            return _preview_page(request, found, status=400, error=message)
        return _preview_page(request, found, status=400, reading_error=message)
    first = found.preview is None
    found.encoding, found.region, found.preview, found.reading_error = (
        encoding, region, preview, "")
    if first and preview.get("header_is_data") and found.header is None:
        await _first_row_as_customer(state, found)  # as a new upload's first preview
    if _wants_json(request):
        return web.json_response(_preview_body(state.config, found))
    raise web.HTTPSeeOther(f"/uploads/{found.id}#reading")


async def _when_set(event: asyncio.Event, then: Callable[[], None]) -> None:
    await event.wait()
    then()


async def start(request: web.Request) -> web.Response:
    state = _state(request)
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        return _too_large(request, "the form is too large")
    token = request.headers.get(CSRF_HEADER) or str(form.get(CSRF_FIELD) or "")
    refused = state.csrf.check(request, token)  # before the upload is looked up
    if refused:
        return _refuse(request, 403, refused)
    found = _upload_of(request)
    if found.preview is None:
        return _refuse(request, 409, "choose the file's encoding first")
    # The import opens its input through the gate the previews take: not beside a workbook
    # being read, and none is read beside it while it opens (its read then counts against the
    # process's one read budget for as long as it runs). The run opens it in a worker thread,
    # so the page answers meanwhile, and says so with ``run.opened``: the gate is let go then
    # (or when the run ends, should the open fail), never held through sign-in or sending.
    try:
        await _enter_gate(state)
    except _Busy:
        if _wants_json(request):
            return _busy(request)
        response = _preview_page(request, found, status=503, error=(
            "the page is busy reading other uploads; start the import again in a moment"))
        response.headers["Retry-After"] = str(_BUSY_RETRY_SECONDS)
        return response
    opened = _once(state.reading.release)
    try:
        run = await state.board.start(found.path, input_name=found.name,
                                      total=int(found.preview["rows"]), sheet=found.sheet,
                                      columns=found.columns,
                                      config=_config_of(state.config, found))
        found.importing = True
        assert run.task is not None
        letting_go = asyncio.create_task(_when_set(run.opened, opened),
                                         name=f"gate of {run.id}")

        def ended(_task: object) -> None:
            letting_go.cancel()
            opened()
            memory.give_back()  # what the import's read held goes back to the system

        run.task.add_done_callback(ended)
        # The file is deleted once its import has read it to the end, however it ended.
        run.task.add_done_callback(lambda _task: state.uploads.discard(found.id))
    except RunRefused as exc:
        opened()
        message = str(exc)
        if _wants_json(request):
            return web.json_response({"error": message}, status=409)
        return _preview_page(request, found, status=409, error=message)
    except BaseException:
        opened()
        raise
    if _wants_json(request):
        return web.json_response({"run_id": run.id, "run_url": f"/runs/{run.id}",
                                  "status_url": f"/runs/{run.id}/status.json"}, status=202)
    raise web.HTTPSeeOther(f"/runs/{run.id}")


async def runs_json(request: web.Request) -> web.Response:
    return web.json_response({"runs": _state(request).board.past()})


def _status_of(request: web.Request) -> dict[str, Any]:
    status = _state(request).board.status(request.match_info["run_id"])
    if status is None:
        raise web.HTTPNotFound(text="No such run.")
    return status


async def run_page(request: web.Request) -> web.Response:
    state = _state(request)
    status = _status_of(request)
    poll_ms = round(state.settings.poll_interval * 1000)
    return _html(request, pages.run_page(status, business=state.config.graph.business_id,
                                         poll_ms=poll_ms))


async def run_status(request: web.Request) -> web.Response:
    return web.json_response(_status_of(request))


async def download(request: web.Request) -> web.FileResponse:
    path = _state(request).board.download(request.match_info["run_id"], request.match_info["name"])
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
