"""Who may use the page, and from where: password, CSRF token, browser security headers.

On 127.0.0.1 only this computer's users can reach the page. Bound to any other address it asks
for a password (HTTP Basic auth; any user name), compared in constant time. Every POST carries
a per-session token tied to a cookie and must come from this page's own origin, so another web
site open in the same browser cannot start an import.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

PASSWORD_ENV = "BOOKINGS_IMPORT_PASSWORD"
SESSION_COOKIE = "bookings_import_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
REALM = "bookings-import"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# No external assets, no inline script: the page's own files only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def password_matches(header: str | None, password: str) -> bool:
    """Whether an ``Authorization: Basic`` header carries the password (user name ignored)."""
    if not header or not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    _user, sep, given = decoded.partition(":")
    # Compared as bytes of equal meaning in constant time; an absent ":" still costs a compare.
    return hmac.compare_digest(given.encode(), password.encode()) and bool(sep)


def auth_middleware(password: str) -> Middleware:
    @web.middleware
    async def check_password(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not password_matches(request.headers.get("Authorization"), password):
            return web.Response(
                status=401,
                text="Sign in with the password of this upload page.\n",
                headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
            )
        return await handler(request)

    return check_password


class Csrf:
    """A session cookie, and a token derived from it that each form and POST must carry."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def session(self, request: web.Request) -> str:
        return request.cookies.get(SESSION_COOKIE, "")

    def token_for(self, session: str) -> str:
        return hmac.new(self._secret, session.encode(), hashlib.sha256).hexdigest()

    def ensure_session(self, request: web.Request, response: web.StreamResponse) -> str:
        """The session of this request, or a new one set as a cookie on ``response``."""
        session = self.session(request) or request.get("new_session", "")
        if not session:
            session = request["new_session"] = secrets.token_urlsafe(24)
        if session != self.session(request):
            response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Strict", path="/")
        return session

    def check(self, request: web.Request, token: str | None) -> str | None:
        """None if the POST is allowed, else why not (for a 403)."""
        origin = request.headers.get("Origin")
        if origin and origin != "null":
            parts = urlsplit(origin)
            if parts.netloc.lower() != request.host.lower():
                return "the request came from another web site"
        elif origin == "null":
            return "the request came from another web site"
        session = self.session(request)
        if not session or not token:
            return "the form has expired; reload the page and try again"
        if not hmac.compare_digest(self.token_for(session).encode(), token.encode()):
            return "the form has expired; reload the page and try again"
        return None


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Not "no-referrer": with it, browsers send "Origin: null" on the page's own form POSTs.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException):
        raise response
    return response
