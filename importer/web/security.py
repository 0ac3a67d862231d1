"""Who may use the page, and from where: host names, password, CSRF token, security headers.

On 127.0.0.1 only this computer's users can reach the page. Bound to any other address it asks
for a password (HTTP Basic auth; any user name) of at least 12 characters, compared in constant
time; a client address that gives a wrong one 10 times in a minute is refused for the rest of
that minute. Every request must name the page by a host name it serves (127.0.0.1, localhost,
[::1], the address it listens on, or a name given with --allowed-host): a web site whose name
an attacker points at 127.0.0.1 (DNS rebinding) gets 421, never the page. Every POST carries a
per-session token tied to a cookie and must come from this page's own origin (scheme, host and
port), so another web site open in the same browser cannot start an import.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

PASSWORD_ENV = "BOOKINGS_IMPORT_PASSWORD"
SESSION_COOKIE = "bookings_import_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
REALM = "bookings-import"
MIN_PASSWORD_LENGTH = 12
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})

log = logging.getLogger("importer")

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


def password_problem(password: str) -> str | None:
    """Why ``password`` is too weak for the page, or None."""
    if not password.strip():
        return "is blank"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"has {len(password)} characters; use at least {MIN_PASSWORD_LENGTH}"
    return None


def allowed_hosts(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The host names requests may give: the loopback names, the address listened on (unless
    it is every address), and ``extra`` (--allowed-host); lowercase, without brackets."""
    names = set(LOOPBACK_NAMES)
    bound = bound.strip("[]").lower()
    if bound not in _WILDCARDS:
        names.add(bound)
    names.update(name.strip().strip("[]").lower().rstrip(".") for name in extra if name.strip())
    return frozenset(names)


def host_name(host: str) -> str:
    """"Example.org:8080" -> "example.org", "[::1]:80" -> "::1" (the name a Host header gives)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def host_middleware(allowed: frozenset[str], *, any_address: bool) -> Middleware:
    """421 for a Host the page does not serve (DNS rebinding). With ``any_address`` (listening
    on 0.0.0.0 or ::), an IP address is allowed too: rebinding needs a name, never an address."""

    @web.middleware
    async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
        name = host_name(request.headers.get("Host", ""))
        if name not in allowed and not (any_address and _is_address(name)):
            return web.Response(status=421, text="This page is not served under that name.\n",
                                headers={"Connection": "close"})
        return await handler(request)

    return check_host


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


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


class SignInGuard:
    """Wrong passwords per client address: after ``limit`` within ``window`` seconds the
    address is refused (429) until the oldest of them is ``window`` seconds old."""

    def __init__(self, limit: int = 10, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def wait(self, client: str) -> float:
        """Seconds until ``client`` may try again; 0 if it may now."""
        failures = self._recent(client)
        if len(failures) < self.limit:
            return 0.0
        return max(failures[0] + self.window - self._clock(), 0.001)

    def failed(self, client: str) -> None:
        failures = self._recent(client)
        failures.append(self._clock())
        if len(failures) == self.limit:
            log.warning("sign-in: %d wrong passwords from %s within %.0f s; refusing it for a while",
                        self.limit, client, self.window)

    def _recent(self, client: str) -> deque[float]:
        now = self._clock()
        # Addresses with no recent failure are forgotten, so a flood of addresses costs nothing.
        for key in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.window]:
            del self._failures[key]
        failures = self._failures.setdefault(client, deque(maxlen=self.limit))
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures


def auth_middleware(password: str, guard: SignInGuard | None = None) -> Middleware:
    guard = guard or SignInGuard()

    @web.middleware
    async def check_password(request: web.Request, handler: Handler) -> web.StreamResponse:
        client = request.remote or "?"
        wait = guard.wait(client)
        if wait:
            return web.Response(status=429, text="Too many wrong passwords; try again later.\n",
                                headers={"Retry-After": str(max(1, round(wait)))})
        if not password_matches(request.headers.get("Authorization"), password):
            if "Authorization" in request.headers:
                guard.failed(client)
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
        if origin is not None and not same_origin(origin, request):
            return "the request came from another web site"
        session = self.session(request)
        if not session or not token:
            return "the form has expired; reload the page and try again"
        if not hmac.compare_digest(self.token_for(session).encode(), token.encode()):
            return "the form has expired; reload the page and try again"
        return None


_DEFAULT_PORTS = {"http": 80, "https": 443}


def same_origin(origin: str, request: web.Request) -> bool:
    """Whether an Origin header names this page: the same scheme, host and port. The scheme
    is https behind a TLS proxy on this computer that says so (X-Forwarded-Proto)."""
    try:
        given = urlsplit(origin)
        given_port = given.port or _DEFAULT_PORTS.get(given.scheme)
        ours = urlsplit(f"//{request.host}")
        scheme = request.scheme
        forwarded = request.headers.get("X-Forwarded-Proto", "").strip().lower()
        if forwarded in _DEFAULT_PORTS and is_loopback(request.remote or ""):
            scheme = forwarded
        our_port = ours.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number
        return False
    return (given.scheme == scheme and bool(given.hostname)
            and given.hostname == ours.hostname and given_port == our_port)


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
