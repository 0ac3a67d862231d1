"""The page's answers: HTML for a browser, JSON for a script, the refusals and the preview page.

Handlers build every response through these, so a refusal reads the same wherever it comes
from: ``refuse`` for a plain one, ``busy`` for the 503 with Retry-After when the one-read gate
is full, ``preview_page`` for an upload's page (with a message on one of its cards). Nothing
here reads a file or changes an upload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from aiohttp import web

from ..config import Config
from ..errors import ConfigError, InputError
from ..read import ENCODINGS
from . import mapping, pages
from .state import PageState, header_of, state_of
from .uploads import Upload, size_text

BUSY_RETRY_SECONDS = 5
_BUSY = "the page is busy reading other uploads"


def wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def html(request: web.Request, text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _csrf_token(request: web.Request, response: web.StreamResponse) -> str:
    csrf = state_of(request).csrf
    return csrf.token_for(csrf.ensure_session(request, response))


def render(request: web.Request, build: Callable[[str], str], status: int = 200) -> web.Response:
    """An HTML response whose forms carry this session's CSRF token (set the cookie if new)."""
    response = web.Response(status=status, content_type="text/html", charset="utf-8")
    response.text = build(_csrf_token(request, response))
    return response


def active(state: PageState) -> dict[str, Any] | None:
    run = state.board.active()
    return run.status() if run else None


def home(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    """The upload form and the past runs (with ``error`` when a request was refused)."""
    state = state_of(request)
    return render(request, lambda csrf: pages.home_page(
        csrf=csrf, max_size=size_text(state.settings.max_upload_bytes), runs=state.board.past(),
        business=state.config.graph.business_id, error=error, active=active(state)), status)


def refuse(request: web.Request, status: int, message: str) -> web.Response:
    if wants_json(request):
        return web.json_response({"error": message}, status=status)
    return home(request, error=message, status=status)


def too_large(request: web.Request, message: str) -> web.Response:
    """413, and the connection closed: the rest of the body is never read."""
    response = refuse(request, 413, message)
    response.force_close()
    return response


def busy(request: web.Request, found: Upload | None = None, *, again: str = "try again",
         on: Literal["page", "mapping", "reading"] = "page") -> web.Response:
    """503 and Retry-After: the one-read gate is full. A script, or a request without an
    upload, gets the short answer; a browser gets the upload's page again, saying what to do
    ``again`` on its card ``on`` (the page's own message, the mapping's or the reading's)."""
    if found is None or wants_json(request):
        response = refuse(request, 503, f"{_BUSY}; try again in a moment")
    else:
        message = f"{_BUSY}; {again} in a moment"
        response = preview_page(request, found, status=503,
                                error=message if on == "page" else "",
                                mapping_error=message if on == "mapping" else "",
                                reading_error=message if on == "reading" else "")
    response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
    return response


def upload_of(request: web.Request) -> Upload:
    """The upload named in the path, only for the session that made it."""
    state = state_of(request)
    found = state.uploads.get(request.match_info["upload_id"], state.csrf.session(request))
    # (An upload without a preview is being read, or waits for its encoding to be chosen.)
    if found is None or (found.preview is None and not found.reading_error):
        raise web.HTTPNotFound(text="No such upload: it was deleted after its import or after an "
                                    "hour unused, or it belongs to another browser. Upload it again.")
    return found


def input_message(stored: Upload, exc: InputError | ConfigError) -> str:
    """The loader's message with the uploaded name in place of the private stored path."""
    if isinstance(exc, InputError):
        where = stored.name
        if exc.row is not None:
            where += f", row {exc.row}"
        if exc.column is not None:
            where += f", column {exc.column!r}"
        return f"{where}: {exc.reason}"
    return f"{stored.name}: {exc}"


def preview_body(config: Config, found: Upload) -> dict[str, Any]:
    """The preview as a script gets it (preview.json and the mapping and reading answers)."""
    preview = found.preview or {}
    pairs = [(mapping.column_name(c), c["field"]) for c in preview.get("columns", [])]
    waiting = {"error": found.reading_error,
               "reading_url": f"/uploads/{found.id}/reading"} if found.preview is None else {}
    header = header_of(config, found)
    return {"upload_id": found.id, "name": found.name, "size": found.size, **preview,
            "header": header, "columns_snippet": mapping.snippet(pairs, header=header),
            **waiting}


def preview_page(request: web.Request, found: Upload, *, status: int = 200, error: str = "",
                 mapping_error: str = "", reading_error: str = "") -> web.Response:
    state = state_of(request)

    def build(csrf: str) -> str:
        if found.preview is None:
            return pages.encoding_page(upload_id=found.id, name=found.name, csrf=csrf,
                                       message=error or found.reading_error,
                                       encodings=ENCODINGS, business=state.config.graph.business_id)
        reading = pages.reading_card(upload_id=found.id, preview=found.preview, csrf=csrf,
                                     encoding=found.encoding, region=found.region,
                                     encodings=ENCODINGS, error=reading_error)
        preview = found.preview
        header = header_of(state.config, found)
        # Ticked when it is read so, or (until the person says) when its first row looks so.
        first_row_data = not header or (found.header is None and bool(preview.get("header_is_data")))
        columns = mapping.columns_card(upload_id=found.id, columns=preview["columns"],
                                       csrf=csrf, error=mapping_error,
                                       samples=preview.get("column_samples") or (),
                                       header=header, first_row_data=first_row_data)
        return pages.preview_page(
            upload_id=found.id, name=found.name, preview=found.preview or {}, csrf=csrf,
            business=state.config.graph.business_id, active=active(state), error=error,
            columns_html=columns, reading_html=reading)

    return render(request, build, status)
