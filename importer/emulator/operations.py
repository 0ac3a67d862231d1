"""One Graph operation, whether it came alone or inside a $batch: faults, throttling, latency,
then the customers API itself."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote

from . import faults as f
from .faults import FaultRule
from .responses import (
    DROP,
    GONE,
    PROXY_502_PAGE,
    RESET,
    TRUNCATE,
    Exchange,
    Outcome,
    bad_request,
    graph_error,
)
from .routing import BUSINESS, BUSINESSES, CUSTOMER, CUSTOMERS, Route
from .schema import SchemaError, render_customer, store_fields, validate_customer
from .state import Emulator

BAD_JSON = (
    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload "
    "is of valid JSON format."
)


@dataclass
class Operation:
    method: str
    raw_path: str  # percent-encoded path, no query
    query: str
    route: Route
    exchange: Exchange
    content_type: str | None
    # Read lazily: a connection reset "before" must not have consumed the body.
    read_body: Callable[[], Awaitable[bytes]]
    params: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.params = parse_qs(self.query, keep_blank_values=True)


async def perform(emu: Emulator, op: Operation, fault: FaultRule | None) -> Outcome:
    """Answer one operation whose route is known. The business is checked before throttling:
    a mailbox that does not exist has no concurrency to protect."""
    kind = fault.kind if fault else None
    if fault and kind == f.RESET_BEFORE:
        return Outcome(0, action=RESET, fault=kind)
    if fault and kind in f.STATUS_KINDS:
        outcome = fault_answer(op.exchange, fault)
        outcome.fault = kind
        return outcome
    try:
        # Read it all first, as Graph's front end does: a client that gives up while the
        # service works does not stop the service from acting.
        body = await op.read_body() if op.method in ("POST", "PATCH") else b""
    except ConnectionError:
        return Outcome(0, action=GONE)
    if op.route.kind == BUSINESSES:
        return _list_businesses(emu, op)
    business_id = op.route.business_id or ""
    business = emu.business(business_id)
    if business is None:
        return graph_error(
            op.exchange,
            404,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    if not emu.try_enter(business_id):
        return graph_error(
            op.exchange,
            429,
            "TooManyRequests",
            "Please retry after the time given in the Retry-After header.",
            {"Retry-After": f"{emu.settings.retry_after:g}"},
        )
    try:
        # ``latency`` is the service's whole time for the request, its own work included
        # (from the moment the handler got it): act first, then wait out what is left, so
        # the emulator's CPU time does not lower the ceiling every client is measured against.
        loop = asyncio.get_running_loop()
        began = op.exchange.arrived or loop.time()
        outcome = await _handle(emu, op, business, body)
        await _hold_until(emu, began + _delay(emu, fault))
    finally:
        emu.leave(business_id)
    if kind == f.DROP_AFTER_CREATE:
        outcome.action = DROP
    elif kind == f.MALFORMED_JSON:
        outcome.action = TRUNCATE
    outcome.fault = kind
    return outcome


def fault_answer(exchange: Exchange, rule: FaultRule) -> Outcome:
    retry = rule.retry_after_header()
    if rule.kind == "status_503":
        return graph_error(
            exchange, 503, "ServiceUnavailable", "The service is temporarily unavailable.", retry
        )
    if rule.kind == "status_504":
        return graph_error(exchange, 504, "GatewayTimeout", "The gateway timed out.", retry)
    if rule.kind == "status_429":
        return graph_error(exchange, 429, "TooManyRequests", "Please retry again later.", retry)
    if rule.kind == "status_500_empty":
        return graph_error(exchange, 500, "", "", retry)
    return Outcome(502, PROXY_502_PAGE, {"Content-Type": "text/html", **retry})


async def _hold_until(emu: Emulator, deadline: float) -> None:
    """Sleep until ``deadline`` (loop time), on average: a timer fires late (epoll waits in
    whole milliseconds, then the loop must get round to it), so the sleep ends early by the
    lateness measured so far, or every request would take about a millisecond too long."""
    loop = asyncio.get_running_loop()
    wake = deadline - emu.timer_lateness
    if wake <= loop.time():
        return
    await asyncio.sleep(wake - loop.time())
    late = loop.time() - wake
    emu.timer_lateness += 0.05 * (min(late, 0.01) - emu.timer_lateness)


def _delay(emu: Emulator, fault: FaultRule | None) -> float:
    s = emu.settings
    delay = s.latency + (emu.rng.uniform(-s.jitter, s.jitter) if s.jitter else 0.0)
    if fault and fault.kind == f.SLOW:
        delay += fault.delay
    return max(0.0, delay)


async def _handle(
    emu: Emulator, op: Operation, business: tuple[str, str], raw_body: bytes
) -> Outcome:
    route, ex = op.route, op.exchange
    business_id = business[0]
    if op.method in ("POST", "PATCH", "DELETE") and emu.is_read_only(business_id):
        return graph_error(
            ex, 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
        )
    if route.kind == BUSINESS:
        return Outcome(200, _business_body(op, business, emu.settings))
    body: Any = None
    if op.method in ("POST", "PATCH"):
        body = parse_json(op, raw_body)
        if isinstance(body, Outcome):
            return body
        try:
            validate_customer(route.version, body, creating=op.method == "POST")
        except SchemaError as exc:
            return bad_request(ex, str(exc))
    if route.kind == CUSTOMERS:
        if op.method == "POST":
            return _create(emu, op, business_id, body)
        return _list(emu, op, business_id)
    assert route.kind == CUSTOMER and route.customer_id is not None
    customer_id = route.customer_id
    if op.method == "DELETE":
        if not emu.delete_customer(business_id, customer_id):
            return _no_customer(ex)
        return Outcome(204, customer_id=customer_id)
    if op.method == "PATCH":
        customer = emu.update_customer(business_id, customer_id, store_fields(route.version, body))
    else:
        customer = emu.customer(business_id, customer_id)
    if customer is None:
        return _no_customer(ex)
    return Outcome(200, _entity(op, customer), customer_id=customer_id)


def parse_json(op: Operation, raw_body: bytes) -> Any:
    """The parsed JSON body, or the 400 Outcome Graph gives for a wrong type or bad JSON."""
    mime = (op.content_type or "").split(";", 1)[0].strip().lower()
    if mime != "application/json":
        return bad_request(
            op.exchange,
            f"Content-Type '{op.content_type or ''}' is not supported; "
            "send the body as application/json.",
        )
    try:
        return json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        return bad_request(op.exchange, BAD_JSON)


def _create(emu: Emulator, op: Operation, business_id: str, body: dict[str, Any]) -> Outcome:
    fields = store_fields(op.route.version, body)
    if fields.get("emailAddress") and emu.display_name_bug_strikes():
        fields["displayName"] = fields["emailAddress"]
    customer = emu.add_customer(business_id, fields)
    location = f"{_customers_url(op)}/{quote(customer['id'], safe='')}"
    return Outcome(201, _entity(op, customer), {"Location": location}, customer_id=customer["id"])


def _list(emu: Emulator, op: Operation, business_id: str) -> Outcome:
    skip = _skip(op.params)
    if skip is None:
        return bad_request(op.exchange, "Invalid value for the query option '$skip'.")
    size = emu.settings.page_size
    # A slice of the store, not a copy of all of it: listing a large business page by page
    # must not cost the square of its size.
    total, page = emu.customer_page(business_id, skip, size)
    body: dict[str, Any] = {
        "@odata.context": f"{_context(op)}/customers",
        "value": [render_customer(op.route.version, c) for c in page],
    }
    if skip + size < total:
        body["@odata.nextLink"] = f"{_customers_url(op)}?$skip={skip + size}"
    return Outcome(200, body)


def _list_businesses(emu: Emulator, op: Operation) -> Outcome:
    """GET /solutions/bookingBusinesses: every business, page by page (Graph gives id and
    displayName in the list)."""
    skip = _skip(op.params)
    if skip is None:
        return bad_request(op.exchange, "Invalid value for the query option '$skip'.")
    size = emu.settings.page_size
    known = emu.businesses()
    root = f"{op.exchange.base_url}/{op.route.version}"
    body: dict[str, Any] = {
        "@odata.context": f"{root}/$metadata#solutions/bookingBusinesses",
        "value": [{"id": b, "displayName": name} for b, name in known[skip : skip + size]],
    }
    if skip + size < len(known):
        body["@odata.nextLink"] = f"{root}/solutions/bookingBusinesses?$skip={skip + size}"
    return Outcome(200, body)


def _skip(params: dict[str, list[str]]) -> int | None:
    raw = (params.get("$skip") or params.get("$skiptoken") or ["0"])[0]
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def _entity(op: Operation, customer: dict[str, Any]) -> dict[str, Any]:
    return {
        "@odata.context": f"{_context(op)}/customers/$entity",
        **render_customer(op.route.version, customer),
    }


# A sandbox business's address by its mailbox domain's country code; anything else: Redmond.
_SANDBOX_ADDRESSES: dict[str, tuple[str, str, str, str]] = {
    "it": ("Via Roma 1", "Milano", "20121", "Italy"),
    "de": ("Hauptstraße 1", "Hamburg", "20095", "Germany"),
    "fr": ("1 rue de Rivoli", "Paris", "75001", "France"),
    "es": ("Calle Mayor 1", "Madrid", "28013", "Spain"),
    "mx": ("Avenida Reforma 1", "Ciudad de México", "06600", "Mexico"),
    "pl": ("ul. Piotrkowska 1", "Łódź", "90-001", "Poland"),
    "jp": ("1-1 Marunouchi", "Tokyo", "100-0005", "Japan"),
    "uk": ("1 High Street", "London", "SW1A 1AA", "United Kingdom"),
}
_US_ADDRESS = ("1 Microsoft Way", "Redmond", "98052", "United States")


def _business_address(settings: Any, business_id: str) -> dict[str, str]:
    given = {k.casefold(): v for k, v in settings.business_addresses.items()}
    if business_id.casefold() in given:
        return dict(given[business_id.casefold()])
    tld = business_id.rpartition(".")[2].casefold()
    street, city, postal, country = _SANDBOX_ADDRESSES.get(tld, _US_ADDRESS)
    return {"street": street, "city": city, "state": "WA" if country == "United States" else "",
            "countryOrRegion": country, "postalCode": postal}


def _business_body(op: Operation, business: tuple[str, str],
                   settings: Any = None) -> dict[str, Any]:
    business_id, name = business
    phones = {k.casefold(): v for k, v in settings.business_phones.items()} if settings else {}
    return {
        "@odata.context": f"{op.exchange.base_url}/{op.route.version}/$metadata#"
        "solutions/bookingBusinesses/$entity",
        "id": business_id,
        "displayName": name,
        "businessType": "",
        "address": _business_address(settings, business_id) if settings else None,
        "phone": phones.get(business_id.casefold(), ""),
        "email": business_id if "@" in business_id else "",
        "webSiteUrl": "",
        "defaultCurrencyIso": "USD",
        "isPublished": False,
        "publicUrl": None,
        "languageTag": "en-US",
    }


def _no_customer(ex: Exchange) -> Outcome:
    return graph_error(
        ex, 404, "ErrorItemNotFound", "The specified object was not found in the store."
    )


def _customers_url(op: Operation) -> str:
    business = quote(op.route.business_id or "", safe="")
    root = f"{op.exchange.base_url}/{op.route.version}"
    return f"{root}/solutions/bookingBusinesses/{business}/customers"


def _context(op: Operation) -> str:
    business = quote(op.route.business_id or "", safe="")
    return (
        f"{op.exchange.base_url}/{op.route.version}/$metadata#"
        f"solutions/bookingBusinesses('{business}')"
    )
