"""The HTTP edge: one request to Microsoft Graph, and what came back.

``GraphClient`` builds URLs (ids percent-encoded as single path segments), adds the bearer token
and a fresh ``client-request-id``, and turns every answer into a ``GraphResponse`` or one of:

    GraphError            Graph answered with an error status (code, message, Retry-After)
    TransportError        no usable answer: connection refused/reset, timeout, garbage body
                          ``.maybe_received`` tells whether the server may have acted on it

It makes exactly one attempt (plus one token renewal on a 401): retry policy lives in
``retrying.py``, pacing in ``pacing.py``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

from ..errors import AuthError, ServiceRefused
from ..models import body_json
from ..signin import TokenSource

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class GraphResponse:
    status: int
    body: Any
    client_request_id: str
    request_id: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


class GraphError(Exception):
    """Graph answered with an error status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        client_request_id: str = "",
        request_id: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.client_request_id = client_request_id
        self.request_id = request_id
        self.retry_after = retry_after
        super().__init__(f"HTTP {status} {code or 'error'}: {message or '(no message)'}")

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE_STATUSES


class TransportError(Exception):
    """No usable answer. ``maybe_received``: the request may have reached the service."""

    def __init__(self, message: str, *, client_request_id: str = "", maybe_received: bool) -> None:
        self.client_request_id = client_request_id
        self.maybe_received = maybe_received
        super().__init__(message)

    retryable = True  # False for a refused certificate (set on the instance)
    status = None
    code = ""
    request_id = ""
    retry_after = None


class AuthRefused(GraphError):
    """A 401 that survived one token renewal: the run cannot go on."""


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: seconds (may be fractional) or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:  # pragma: no cover - older Pythons
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds == float("inf"):  # NaN / inf
        return None
    return max(0.0, seconds)


def error_parts(body: Any) -> tuple[str, str, str]:
    """(code, message, request-id) from a Graph error body; keys matched case-insensitively."""
    if not isinstance(body, dict):
        return "", "", ""
    err = {k.lower(): v for k, v in body.items()}.get("error")
    if not isinstance(err, dict):
        return "", "", ""
    low = {k.lower(): v for k, v in err.items()}
    inner = low.get("innererror")
    request_id = ""
    if isinstance(inner, dict):
        request_id = str({k.lower(): v for k, v in inner.items()}.get("request-id") or "")
    return str(low.get("code") or ""), str(low.get("message") or ""), request_id


def segment(value: str) -> str:
    """One path segment: every '/', '?', '#', '%' and '..' stays inside it."""
    quoted = quote(value, safe="")
    # "." and ".." alone would mean "here" and "up one"; encoded, they stay a name.
    return quoted.replace(".", "%2E") if not quoted.strip(".") else quoted


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of an absolute URL, the default port made explicit; None when the
    URL has no host or carries a user name or password (aiohttp would send those instead)."""
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return None
    if not parsed.is_absolute() or not parsed.host or parsed.user is not None \
            or parsed.password is not None:
        return None
    return parsed.scheme.lower(), parsed.host.lower(), parsed.port


def next_page(url: object, root: str, what: str) -> str:
    """``url`` (a page's ``@odata.nextLink``) when it is on the origin of the Graph ``root`` the
    run was configured with (scheme, host and port): the bearer token goes to no other host.
    Otherwise ServiceRefused (exit 3), naming only the other host: the URL may carry a secret."""
    if isinstance(url, str) and (theirs := _origin(url)) is not None and theirs == _origin(root):
        return url
    try:
        host = urlsplit(url).netloc.rpartition("@")[2] if isinstance(url, str) else ""
    except ValueError:  # "https://[::1" and the like
        host = ""
    host = "".join(c if c.isprintable() else "?" for c in host[:100])  # one line, bounded
    raise ServiceRefused(f"{what}: Graph's next page is on another host ({host or '?'}), "
                         f"not on {root}; not followed, so the token stays with Graph")


class GraphClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        version: str,
        tokens: TokenSource,
        *,
        timeout: float = 30.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        # The time of day, for a Retry-After given as an HTTP date; injected so that tests
        # keep it apart from the monotonic clock the pacing waits on.
        self.wall_clock = wall_clock
        self.root = f"{base_url.rstrip('/')}/{version}"
        self.version = version
        self.tokens = tokens
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def business_url(self, business_id: str) -> str:
        return f"{self.root}/solutions/bookingBusinesses/{segment(business_id)}"

    def customers_url(self, business_id: str, customer_id: str | None = None) -> str:
        url = f"{self.business_url(business_id)}/customers"
        return f"{url}/{segment(customer_id)}" if customer_id is not None else url

    async def request(self, method: str, url: str, body: Any = None, *, data: bytes | None = None,
                      content_type: str = "application/octet-stream",
                      follow: bool = True) -> GraphResponse:
        """One exchange; on a 401 the token is renewed once and the request sent again.

        ``data`` sends raw bytes (a file's content) instead of a JSON ``body``. With
        ``follow=False`` a redirect is the answer (its ``Location`` in the headers) instead of
        being followed: the file calls follow it themselves, without the token."""
        raw = (data, content_type, follow)
        try:
            return await self._send(method, url, body, refresh=False, raw=raw)
        except GraphError as exc:
            if exc.status != 401:
                raise
        try:
            return await self._send(method, url, body, refresh=True, raw=raw)
        except AuthError as exc:  # the token cannot be renewed (a fixed token, sign-in refused)
            raise AuthRefused(401, "InvalidAuthenticationToken", str(exc)) from None
        except GraphError as exc:
            if exc.status == 401:
                raise AuthRefused(
                    401,
                    exc.code,
                    exc.message,
                    client_request_id=exc.client_request_id,
                    request_id=exc.request_id,
                ) from None
            raise

    async def _send(self, method: str, url: str, body: Any, *, refresh: bool,
                    raw: tuple[bytes | None, str, bool] = (None, "", True)) -> GraphResponse:
        raw_data, content_type, follow = raw
        token = await self.tokens.token(refresh=refresh)
        crid = str(uuid.uuid4())
        headers = {
            "Authorization": f"Bearer {token}",
            "client-request-id": crid,
            "return-client-request-id": "true",
            "Accept": "application/json",
        }
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = body_json(body).encode("utf-8")
        elif raw_data is not None:
            headers["Content-Type"] = content_type
            data = raw_data
        try:
            # A "%2E%2E" segment (an id of "..") must go as built: yarl would decode it and drop
            # it with the segment before it, and the request would go elsewhere.
            target: str | URL = URL(url, encoded=True) if "%2E" in url else url
            async with self.session.request(
                method, target, data=data, headers=headers, timeout=self.timeout,
                allow_redirects=follow,
            ) as resp:
                if not follow and resp.status in REDIRECTS:
                    return GraphResponse(resp.status, None, crid, resp.headers.get("request-id", ""),
                                         dict(resp.headers))
                answer = await resp.read()
                return self._answer(resp.status, resp.headers, answer, crid)
        except aiohttp.ClientConnectorCertificateError as exc:
            # Not a passing fault: retrying cannot make the certificate trusted.
            error = TransportError(
                f"the certificate of {exc.host} is not trusted ({exc.certificate_error}); "
                "if a proxy inspects TLS, set graph.ca_bundle to its CA file",
                client_request_id=crid,
                maybe_received=False,
            )
            error.retryable = False
            raise error from None
        except (aiohttp.ClientConnectorError, aiohttp.ClientSSLError) as exc:
            # The connection never opened: nothing reached the service.
            raise TransportError(
                f"cannot connect to {exc.host}:{exc.port}: {exc.os_error or exc}",
                client_request_id=crid,
                maybe_received=False,
            ) from None
        except TimeoutError:
            raise TransportError(
                f"no answer within {self.timeout.total:g} s",
                client_request_id=crid,
                maybe_received=True,
            ) from None
        except aiohttp.ClientError as exc:
            # Dropped mid-exchange: the request may have been read and acted on.
            raise TransportError(
                f"connection lost: {type(exc).__name__}",
                client_request_id=crid,
                maybe_received=True,
            ) from None

    def _answer(
        self, status: int, headers: Mapping[str, str], raw: bytes, crid: str
    ) -> GraphResponse:
        request_id = headers.get("request-id", "")
        body: Any = None
        parsed = True
        if raw:
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                parsed = False
        if 200 <= status < 300:
            if not parsed:
                # A success status with a body we cannot read: the service probably acted.
                raise TransportError(
                    f"HTTP {status} with a body that is not JSON",
                    client_request_id=crid,
                    maybe_received=True,
                )
            return GraphResponse(status, body, crid, request_id, dict(headers))
        code, message, inner_rid = error_parts(body)
        if not parsed:
            ctype = headers.get("Content-Type", "").split(";")[0] or "unknown content"
            message = f"{ctype} answer instead of a Graph error (a proxy or gateway?)"
        raise GraphError(
            status,
            code,
            message,
            client_request_id=crid,
            request_id=request_id or inner_rid,
            retry_after=parse_retry_after(headers.get("Retry-After"), now=self.wall_clock()),
        )

    # --- operations ---------------------------------------------------------------------

    async def get_business(self, business_id: str) -> GraphResponse:
        return await self.request("GET", self.business_url(business_id))

    async def create_customer(self, business_id: str, body: dict[str, Any]) -> GraphResponse:
        return await self.request("POST", self.customers_url(business_id), body)

    async def update_customer(
        self, business_id: str, customer_id: str, changes: dict[str, Any]
    ) -> GraphResponse:
        return await self.request("PATCH", self.customers_url(business_id, customer_id), changes)

    async def list_businesses(self) -> AsyncIterator[dict[str, Any]]:
        """Every Bookings business the sign-in can see (GET /solutions/bookingBusinesses),
        following @odata.nextLink until it is absent."""
        async for item in self._pages(f"{self.root}/solutions/bookingBusinesses",
                                      "the list of businesses"):
            yield item

    async def list_customers(self, business_id: str) -> AsyncIterator[dict[str, Any]]:
        """Every customer of the business, following @odata.nextLink until it is absent."""
        async for item in self._pages(self.customers_url(business_id),
                                      f"business {business_id!r}"):
            yield item

    async def _pages(self, url: str, what: str) -> AsyncIterator[dict[str, Any]]:
        """The items of a collection, page after page; a next page off the Graph root's origin
        ends the listing with ServiceRefused before anything is sent there."""
        while True:
            resp = await self.request("GET", url)
            body = resp.body if isinstance(resp.body, dict) else {}
            for item in body.get("value") or []:
                yield item
            link = body.get("@odata.nextLink")
            if not link:
                return
            url = next_page(link, self.root, what)
            await asyncio.sleep(0)
