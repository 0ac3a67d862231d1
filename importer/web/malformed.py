"""Requests the page cannot parse: a 400 and one line in the log, never a 500 and a traceback.

aiohttp parses a multipart body as the handler reads it, and refuses what it cannot parse with
an ``HttpProcessingError`` (a NUL in a part's header, 100,000 headers in one part, a broken
boundary); a JSON body nested thousands deep exhausts the decoder's recursion. Those are the
client's faults: the middleware answers 400 with what was wrong, and logs it on one line.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from .security import Handler

__all__ = ["malformed_requests", "one_line"]

log = logging.getLogger("importer")
_LOGGED_CHARS = 200


def one_line(text: str) -> str:
    """``text`` as one short printable line (a client chose it: no line breaks in the log)."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat[:_LOGGED_CHARS]


@web.middleware
async def malformed_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except HttpProcessingError as exc:
        reason = one_line(exc.message or type(exc).__name__)
    except RecursionError:
        reason = "the body is nested too deeply"
    log.warning("refused a malformed request %s %s from %s: %s", request.method,
                one_line(request.path), request.remote, reason)
    response = web.json_response({"error": f"the request is malformed: {reason}"}, status=400)
    response.force_close()  # what is left of the body is not read
    return response
