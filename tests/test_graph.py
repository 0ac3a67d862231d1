"""The HTTP edge, with aioresponses standing in for Graph."""

from __future__ import annotations

import email.utils
import re

import aiohttp
import pytest
from aioresponses import aioresponses

from importer.send.graph import (
    AuthRefused,
    GraphClient,
    GraphError,
    TransportError,
    error_parts,
    next_page,
    parse_retry_after,
    segment,
)
from importer.signin import StaticToken

BASE = "https://graph.example.test"
BIZ = "contoso@contoso.com"
CUSTOMERS = f"{BASE}/v1.0/solutions/bookingBusinesses/contoso%40contoso.com/customers"


class RenewingTokens:
    def __init__(self) -> None:
        self.calls: list[bool] = []

    async def token(self, *, refresh: bool = False) -> str:
        self.calls.append(refresh)
        return f"tok-{len(self.calls)}"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("5", 5.0, id="seconds"),
        pytest.param("2.128", 2.128, id="fractional"),
        pytest.param(" 0 ", 0.0, id="zero"),
        pytest.param("-3", 0.0, id="negative-clamped"),
        pytest.param("soon", None, id="garbage"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="absent"),
        pytest.param("nan", None, id="nan"),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30, abs=1)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"error": {"code": "BadRequest", "message": "nope",
                       "innerError": {"request-id": "r1"}}},
            ("BadRequest", "nope", "r1"), id="graph-shape"),
        pytest.param({"Error": {"Code": "X", "Message": "m", "innererror": {"Request-Id": "r2"}}},
                     ("X", "m", "r2"), id="case-insensitive"),
        pytest.param({"error": {"code": "", "message": ""}}, ("", "", ""), id="empty-500"),
        pytest.param("<html>", ("", "", ""), id="not-a-dict"),
        pytest.param({"error": "flat"}, ("", "", ""), id="error-not-object"),
    ],
)
def test_error_parts(body: object, expected: tuple[str, str, str]) -> None:
    assert error_parts(body) == expected


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [("a/../../users", "a%2F..%2F..%2Fusers"), ("x@y.com", "x%40y.com"), ("a?b#c%", "a%3Fb%23c%25")],
)
def test_ids_are_one_path_segment(raw: str, encoded: str) -> None:
    assert segment(raw) == encoded


async def test_create_sends_token_and_fresh_request_ids() -> None:
    async with aiohttp.ClientSession() as session:
        client = GraphClient(session, BASE, "v1.0", StaticToken("t0k"))
        with aioresponses() as m:
            m.post(CUSTOMERS, status=201, payload={"id": "c1"}, headers={"request-id": "rid-1"},
                   repeat=True)
            first = await client.create_customer(BIZ, {"displayName": "A"})
            second = await client.create_customer(BIZ, {"displayName": "B"})
            calls = [c for calls in m.requests.values() for c in calls]
    assert first.status == 201 and first.body == {"id": "c1"} and first.request_id == "rid-1"
    headers = [c.kwargs["headers"] for c in calls]
    assert all(h["Authorization"] == "Bearer t0k" for h in headers)
    ids = {h["client-request-id"] for h in headers}
    assert len(ids) == 2 and {first.client_request_id, second.client_request_id} == ids
    assert all(re.fullmatch(r"[0-9a-f-]{36}", i) for i in ids)


async def test_graph_error_carries_code_message_and_retry_after() -> None:
    async with aiohttp.ClientSession() as session:
        client = GraphClient(session, BASE, "v1.0", StaticToken("t"))
        with aioresponses() as m:
            m.post(CUSTOMERS, status=429, headers={"Retry-After": "1.5", "request-id": "r9"},
                   payload={"error": {"code": "TooManyRequests", "message": "slow down"}})
            with pytest.raises(GraphError) as info:
                await client.create_customer(BIZ, {"displayName": "A"})
    err = info.value
    assert (err.status, err.code, err.message, err.retry_after, err.request_id) == (
        429, "TooManyRequests", "slow down", 1.5, "r9")
    assert err.retryable


async def test_html_from_a_proxy_is_a_clear_graph_error() -> None:
    async with aiohttp.ClientSession() as session:
        client = GraphClient(session, BASE, "v1.0", StaticToken("t"))
        with aioresponses() as m:
            m.post(CUSTOMERS, status=502, body="<html>Bad gateway</html>",
                   content_type="text/html")
            with pytest.raises(GraphError) as info:
                await client.create_customer(BIZ, {"displayName": "A"})
    assert info.value.status == 502 and info.value.retryable
    assert "text/html" in info.value.message


async def test_success_with_garbage_body_is_ambiguous() -> None:
    async with aiohttp.ClientSession() as session:
        client = GraphClient(session, BASE, "v1.0", StaticToken("t"))
        with aioresponses() as m:
            m.post(CUSTOMERS, status=201, body='{"id": "c1', content_type="application/json")
            with pytest.raises(TransportError) as info:
                await client.create_customer(BIZ, {"displayName": "A"})
    assert info.value.maybe_received


@pytest.mark.parametrize(
    ("exception", "maybe_received"),
    [
        pytest.param(aiohttp.ServerDisconnectedError(), True, id="dropped"),
        pytest.param(TimeoutError(), True, id="timeout"),
        pytest.param(aiohttp.ClientConnectorError(
            aiohttp.client_reqrep.ConnectionKey("h", 1, False, None, None, None, None),
            OSError(111, "refused")), False, id="refused"),
    ],
)
async def test_transport_failures(exception: Exception, maybe_received: bool) -> None:
    async with aiohttp.ClientSession() as session:
        client = GraphClient(session, BASE, "v1.0", StaticToken("t"))
        with aioresponses() as m:
            m.post(CUSTOMERS, exception=exception)
            with pytest.raises(TransportError) as info:
                await client.create_customer(BIZ, {"displayName": "A"})
    assert info.value.maybe_received is maybe_received
    assert info.value.client_request_id


async def test_401_renews_the_token_once_then_succeeds() -> None:
    tokens = RenewingTokens()
    async with aiohttp.ClientSession() as session:
        client = GraphClient(session, BASE, "v1.0", tokens)
        with aioresponses() as m:
            m.post(CUSTOMERS, status=401, payload={"error": {"code": "InvalidAuthenticationToken"}})
            m.post(CUSTOMERS, status=201, payload={"id": "c1"})
            resp = await client.create_customer(BIZ, {"displayName": "A"})
    assert resp.status == 201
    assert tokens.calls == [False, True]


async def test_a_second_401_is_auth_refused() -> None:
    tokens = RenewingTokens()
    async with aiohttp.ClientSession() as session:
        client = GraphClient(session, BASE, "v1.0", tokens)
        with aioresponses() as m:
            m.post(CUSTOMERS, status=401, payload={"error": {"code": "InvalidAuthenticationToken"}},
                   repeat=True)
            with pytest.raises(AuthRefused):
                await client.create_customer(BIZ, {"displayName": "A"})
    assert tokens.calls == [False, True]


@pytest.mark.parametrize(
    "elsewhere",
    [
        pytest.param("https://evil.example.test/v1.0/steal", id="another host"),
        pytest.param("https://graph.example.test:8443/v1.0/x", id="another port"),
        pytest.param("http://graph.example.test/v1.0/x", id="plain http"),
        pytest.param("https://graph.example.test.evil.test/v1.0/x", id="a longer host"),
        pytest.param("https://me@graph.example.test/v1.0/x", id="a user name"),
        pytest.param("//evil.example.test/v1.0/x", id="scheme-relative"),
        pytest.param(["not", "a", "url"], id="not a string"),
        pytest.param("https://[::1/v1.0/x", id="not a URL"),
    ],
)
async def test_a_next_page_off_the_graph_root_is_not_followed(elsewhere: object) -> None:
    from importer.errors import ServiceRefused

    async with aiohttp.ClientSession() as session:
        client = GraphClient(session, BASE, "v1.0", StaticToken("secret-token"))
        with aioresponses() as m:
            m.get(CUSTOMERS, payload={"value": [{"id": "1"}], "@odata.nextLink": elsewhere})
            m.get(re.compile(r".*"), payload={"value": [{"id": "stolen"}]}, repeat=True)
            seen = []
            with pytest.raises(ServiceRefused, match="another host") as refused:
                async for customer in client.list_customers(BIZ):
                    seen.append(customer["id"])
            sent = [(url.scheme, url.host, url.port, url.path) for (_method, url) in m.requests]
    assert seen == ["1"]
    # Nothing, and so no token, went to the other origin.
    assert sent == [("https", "graph.example.test", 443,
                     "/v1.0/solutions/bookingBusinesses/contoso@contoso.com/customers")]
    assert "\n" not in str(refused.value) and "secret-token" not in str(refused.value)
    assert ServiceRefused.exit_code == 3


@pytest.mark.parametrize(
    "url",
    [f"{CUSTOMERS}?$skip=2", "HTTPS://GRAPH.example.test/v1.0/x", "https://graph.example.test:443/x"],
)
def test_a_next_page_on_the_graph_root_origin_is_followed(url: str) -> None:
    assert next_page(url, f"{BASE}/v1.0", "business") == url


async def test_list_follows_next_links() -> None:
    page2 = f"{CUSTOMERS}?$skip=2"
    async with aiohttp.ClientSession() as session:
        client = GraphClient(session, BASE, "v1.0", StaticToken("t"))
        with aioresponses() as m:
            m.get(CUSTOMERS, payload={"value": [{"id": "1"}, {"id": "2"}],
                                      "@odata.nextLink": page2})
            m.get(page2, payload={"value": [{"id": "3"}]})
            ids = [c["id"] async for c in client.list_customers(BIZ)]
    assert ids == ["1", "2", "3"]
