"""The connection to Graph: which root, which TLS trust, and the check that a business answers.

Shared by ``run``, ``check`` and the upload page.
"""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp

from ..config import Config
from ..errors import ConfigError, ServiceRefused
from ..signin import CLOUDS
from ..version import __version__
from .graph import GraphClient, GraphError, GraphResponse, TransportError
from .retrying import retry_policy

PERMISSION = "BookingsAppointment.ReadWrite.All"
# The reads before a run (the business, its customers) meet the same passing trouble as the
# creates (503, 429, a dropped connection): retried a few times before the job is refused.
READ_ATTEMPTS = 4
READ_BACKOFF = 2.0


def graph_root(config: Config) -> str:
    return config.graph.base_url or CLOUDS[config.graph.cloud].graph_root


def ssl_context(config: Config) -> ssl.SSLContext:
    """Verification is always on; ``graph.ca_bundle`` adds a CA (a proxy's, a test CA)."""
    ctx = ssl.create_default_context()
    if config.graph.ca_bundle:
        try:
            ctx.load_verify_locations(cafile=config.graph.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"graph.ca_bundle {config.graph.ca_bundle}: cannot load: {exc}") from None
    return ctx


def new_session(config: Config) -> aiohttp.ClientSession:
    # One connection pool for the run and every business in it. The workers (four per
    # business) bound what is in flight; a cap here would only make businesses wait for each
    # other's sockets (ten businesses need forty).
    connector = aiohttp.TCPConnector(limit=0, ssl=ssl_context(config))
    return aiohttp.ClientSession(
        connector=connector, headers={"User-Agent": f"bookings-import/{__version__}"}
    )


def bookings_unknown(exc: GraphError) -> bool:
    """Graph does not know the Bookings API at this root: the China cloud answers so."""
    text = f"{exc.code} {exc.message}".casefold()
    return exc.status in (400, 404) and (
        "segment" in text or "resource not found" in text or "unsupported resource" in text
    )


def refusal_message(exc: GraphError | TransportError, business_id: str, root: str) -> str:
    """Why the service refused the whole job, and the step that fixes it."""
    if isinstance(exc, TransportError):
        return f"cannot reach Microsoft Graph at {root}: {exc}"
    if bookings_unknown(exc):
        return (
            f"Microsoft Graph at {root} does not offer Bookings (HTTP {exc.status}: "
            f"{exc.message or exc.code}); this cloud or API version is unsupported by the "
            f"service (the China cloud has no bookingCustomer): try graph.version = \"beta\" or "
            f"another cloud"
        )
    if exc.status == 401:
        return (
            f"Graph refused the sign-in (HTTP 401 {exc.code}): the token is missing, expired or "
            f"for another cloud; run 'bookings-import check' to see which"
        )
    if exc.status == 403:
        return (
            f"Graph denied access to business {business_id!r} (HTTP 403 {exc.code}): the app needs "
            f"the {PERMISSION} permission (application or delegated) with admin consent granted"
        )
    if exc.status == 404:
        return (
            f"business {business_id!r} not found (HTTP 404 {exc.code}): check graph.business_id; "
            f"it is usually the booking mailbox address, e.g. contoso@contoso.onmicrosoft.com"
        )
    return f"Graph refused business {business_id!r}: HTTP {exc.status} {exc.code} {exc.message}"


async def preflight(client: GraphClient, business_id: str) -> dict[str, Any]:
    """Read the business before sending anything, so a wrong config fails in seconds."""
    try:
        policy = retry_policy(max_attempts=READ_ATTEMPTS, max_backoff=READ_BACKOFF)
        resp: GraphResponse = await policy(client.get_business, business_id)
    except (GraphError, TransportError) as exc:
        raise ServiceRefused(refusal_message(exc, business_id, client.root)) from None
    return resp.body if isinstance(resp.body, dict) else {}
