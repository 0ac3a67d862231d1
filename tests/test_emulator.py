"""The Graph emulator, driven over real sockets on 127.0.0.1 with a plain aiohttp client."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from importer.emulator import EmulatorSettings, FaultRule, RunningEmulator, running_emulator
from tests.deadlines import HANG

TOKEN = "token-1"
BIZ = "shop@contoso.com"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BASE64_ID = re.compile(r"^[A-Za-z0-9_-]+=*$")
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Api:
    """A server and a client session that sends TOKEN, with URL helpers."""

    server: RunningEmulator
    http: aiohttp.ClientSession

    def url(self, path: str, version: str = "v1.0") -> URL:
        # encoded=True: the path goes out exactly as written, percent-escapes and all.
        return URL(f"{self.server.url}/{version}{path}", encoded=True)

    def customers_url(self, version: str = "v1.0", business: str = "shop%40contoso.com") -> URL:
        return self.url(f"/solutions/bookingBusinesses/{business}/customers", version)

    async def create(self, body: dict[str, Any], version: str = "v1.0") -> aiohttp.ClientResponse:
        return await self.http.post(self.customers_url(version), json=body)

    @property
    def customers(self) -> list[dict[str, Any]]:
        return self.server.emulator.customers(BIZ)


@asynccontextmanager
async def serve(**settings: Any) -> AsyncIterator[Api]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        running_emulator(EmulatorSettings(**settings)) as server,
        aiohttp.ClientSession(headers=headers) as http,
    ):
        yield Api(server, http)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with serve() as api:
        yield api


def error_code(body: dict[str, Any]) -> str:
    return body["error"]["code"]


# --- the customers API --------------------------------------------------------------------


async def test_create_answers_201_with_the_stored_customer_and_graph_headers(api: Api) -> None:
    body = {
        "@odata.type": "#microsoft.graph.bookingCustomer",
        "displayName": "Ada Lovelace",
        "emailAddress": "ada@example.com",
        "phones": [{"number": "+44 20 7946 0000", "type": "mobile"}],
    }
    resp = await api.http.post(
        api.customers_url(), json=body, headers={"client-request-id": "my-id"}
    )
    created = await resp.json()

    assert resp.status == 201
    assert created["@odata.type"] == "#microsoft.graph.bookingCustomer"
    assert created["@odata.context"].endswith("/customers/$entity")
    assert BASE64_ID.match(created["id"]) and len(created["id"]) > 30
    assert (created["displayName"], created["emailAddress"]) == ("Ada Lovelace", "ada@example.com")
    assert created["phones"] == [
        {"number": "+44 20 7946 0000", "type": "mobile", "language": None, "region": None}
    ]
    assert created["addresses"] == []
    assert created["createdDateTime"] and created["lastUpdatedDateTime"]
    assert resp.headers["Location"].endswith("/customers/" + created["id"].replace("=", "%3D"))
    assert resp.headers["client-request-id"] == "my-id"
    assert GUID.match(resp.headers["request-id"])
    assert "Date" in resp.headers
    assert resp.content_type == "application/json"
    assert api.customers[0]["id"] == created["id"]


async def test_a_client_request_id_is_made_up_when_none_is_sent(api: Api) -> None:
    resp = await api.http.get(api.url("/solutions/bookingBusinesses/shop%40contoso.com"))
    assert resp.status == 200
    assert GUID.match(resp.headers["client-request-id"])
    assert (await resp.json())["id"] == BIZ


async def test_emails_need_not_be_unique(api: Api) -> None:
    for _ in range(2):
        resp = await api.create({"displayName": "Twin", "emailAddress": "twin@example.com"})
        assert resp.status == 201
    assert len(api.customers) == 2


async def test_list_pages_with_absolute_next_links() -> None:
    async with serve(page_size=2) as api:
        for i in range(5):
            await api.create({"displayName": f"Customer {i}"})
        pages: list[list[str]] = []
        url: str | URL | None = api.customers_url()
        while url:
            body = await (await api.http.get(url)).json()
            pages.append([c["displayName"] for c in body["value"]])
            next_link = body.get("@odata.nextLink")
            assert next_link is None or next_link.startswith(api.server.url + "/v1.0/")
            url = next_link

    assert pages == [["Customer 0", "Customer 1"], ["Customer 2", "Customer 3"], ["Customer 4"]]


async def test_get_patch_delete_round_trip(api: Api) -> None:
    created = await (await api.create({"displayName": "Old", "emailAddress": "o@x.com"})).json()
    one = api.url(f"/solutions/bookingBusinesses/shop%40contoso.com/customers/{created['id']}")

    patched = await api.http.patch(one, json={"displayName": "New"})
    assert patched.status == 200
    assert (await patched.json())["displayName"] == "New"
    got = await (await api.http.get(one)).json()
    assert (got["displayName"], got["emailAddress"]) == ("New", "o@x.com")

    assert (await api.http.delete(one)).status == 204
    missing = await api.http.get(one)
    assert missing.status == 404
    assert error_code(await missing.json()) == "ErrorItemNotFound"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_an_unknown_customer_is_404(api: Api, method: str) -> None:
    url = api.url("/solutions/bookingBusinesses/shop%40contoso.com/customers/AAAnope%3D")
    resp = await api.http.request(method, url, json={"displayName": "x"})
    assert resp.status == 404
    assert error_code(await resp.json()) == "ErrorItemNotFound"


async def test_each_version_renders_its_own_address_and_phone_shape(api: Api) -> None:
    beta_body = {
        "displayName": "Beta",
        "addresses": [{"street": "1 Main St", "postOfficeBox": "PO 9", "type": "business"}],
        "phones": [{"number": "555", "type": "home"}],
    }
    beta = await (await api.create(beta_body, "beta")).json()
    v1 = {
        "displayName": "V1",
        "addresses": [{"street": "2 High St"}],
        "phones": [{"number": "777", "type": "business", "language": "en"}],
    }
    await api.create(v1, "v1.0")

    as_v1 = (await (await api.http.get(api.customers_url("v1.0"))).json())["value"]
    as_beta = (await (await api.http.get(api.customers_url("beta"))).json())["value"]

    assert beta["addresses"][0]["type"] == "business"
    assert set(as_v1[0]["addresses"][0]) == {
        "street",
        "city",
        "state",
        "countryOrRegion",
        "postalCode",
    }
    v1_phone = {"number": "555", "type": "home", "language": None, "region": None}
    assert as_v1[0]["phones"][0] == v1_phone
    # v1.0 cannot say what an address is: the service files it as "other".
    assert as_beta[1]["addresses"][0]["type"] == "other"
    assert as_beta[1]["phones"][0] == {"number": "777", "type": "business"}


NOT_ON_ADDRESS = (
    "The property 'type' does not exist on type 'microsoft.graph.physicalAddress'. "
    "Make sure to only use property names that are defined by the type."
)
INVALID_BODIES = [
    # (version, body, message fragment)
    pytest.param("v1.0", {"displayName": "A", "addresses": [{"type": "home"}]}, NOT_ON_ADDRESS,
                 id="v1-address-type"),
    pytest.param("v1.0", {"displayName": "A", "addresses": [{"postOfficeBox": "1"}]},
                 "'postOfficeBox' does not exist", id="v1-post-office-box"),
    pytest.param("beta", {"displayName": "A", "phones": [{"number": "1", "language": "en"}]},
                 "'language' does not exist on type 'microsoft.graph.phone'", id="beta-phone-lang"),
    pytest.param("beta", {"displayName": "A", "addresses": [{"type": "work"}]},
                 "Requested value 'work' was not found.", id="beta-bad-address-type"),
    pytest.param("v1.0", {"displayName": "A", "phones": [{"number": "1", "type": "cell"}]},
                 "Requested value 'cell' was not found.", id="bad-phone-type"),
    pytest.param("v1.0", {"displayName": 42}, "expected type 'Edm.String'", id="name-not-string"),
    pytest.param("v1.0", {"emailAddress": "a@b.c"}, "'displayName' is required",
                 id="name-missing"),
    pytest.param("v1.0", {"displayName": "  "}, "cannot be empty", id="name-blank"),
    pytest.param("v1.0", {"displayName": None}, "A null value was found", id="name-null"),
    pytest.param("v1.0", {"displayName": "A", "id": "x"}, "'id' is read-only", id="id-sent"),
    pytest.param("v1.0", {"displayName": "A", "@odata.type": "#microsoft.graph.user"},
                 "could not be resolved", id="wrong-odata-type"),
    pytest.param("v1.0", {"displayName": "A", "notes": "x"},
                 "'notes' does not exist on type 'microsoft.graph.bookingCustomer'",
                 id="unknown-property"),
    pytest.param("v1.0", {"displayName": "A", "addresses": {"street": "x"}},
                 "'StartArray' node was expected", id="object-for-array"),
    pytest.param("v1.0", [{"displayName": "A"}], "'StartObject' node was expected",
                 id="array-body"),
]  # fmt: skip


@pytest.mark.parametrize(("version", "body", "message"), INVALID_BODIES)
async def test_invalid_bodies_are_400_bad_request(
    api: Api, version: str, body: Any, message: str
) -> None:
    resp = await api.http.post(api.customers_url(version), json=body)
    error = (await resp.json())["error"]
    assert (resp.status, error["code"]) == (400, "BadRequest")
    assert message in error["message"]
    assert api.customers == []


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        pytest.param(b'{"displayName": ', "application/json", "valid JSON", id="malformed-json"),
        pytest.param(b'{"displayName": "A"}', "text/plain", "not supported", id="text-plain"),
        pytest.param(b"", None, "not supported", id="no-body"),
    ],
)
async def test_unreadable_bodies_are_400(
    api: Api, data: bytes, content_type: str | None, message: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    resp = await api.http.post(api.customers_url(), data=data, headers=headers)
    error = (await resp.json())["error"]
    assert (resp.status, error["code"]) == (400, "BadRequest")
    assert message in error["message"]


VALID_BODIES = [
    pytest.param("v1.0", {"displayName": "A", "phones": [{"number": "1", "language": "en",
                                                         "region": "US", "type": None}]},
                 id="v1-phone-language"),
    pytest.param("beta", {"displayName": "A", "addresses": [{"type": "home",
                                                            "postOfficeBox": "7"}]},
                 id="beta-address-type"),
    pytest.param("v1.0", {"displayName": "A", "emailAddress": None, "createdDateTime": None},
                 id="nulls"),
    pytest.param("v1.0", {"displayName": "A", "addresses": [{
        "@odata.type": "#microsoft.graph.physicalAddress", "city": "Oslo"}]},
                 id="nested-odata-type"),
]  # fmt: skip


@pytest.mark.parametrize(("version", "body"), VALID_BODIES)
async def test_valid_bodies_are_created(api: Api, version: str, body: dict[str, Any]) -> None:
    assert (await api.create(body, version)).status == 201


# --- auth, businesses, routing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        pytest.param(None, "Access token is empty.", id="missing"),
        pytest.param("Bearer ", "Access token is empty.", id="empty-bearer"),
        pytest.param("Basic dXNlcjpwdw==", "Access token is empty.", id="not-bearer"),
        pytest.param("Bearer wrong", "Access token has expired or is not yet valid.", id="unknown"),
    ],
)
async def test_bad_tokens_are_401(authorization: str | None, message: str) -> None:
    async with serve(tokens={TOKEN}) as api:
        headers = {"Authorization": authorization} if authorization else {}
        async with aiohttp.ClientSession() as anonymous:
            body = {"displayName": "A"}
            resp = await anonymous.post(api.customers_url(), json=body, headers=headers)
            error = (await resp.json())["error"]
    assert resp.status == 401
    assert (error["code"], error["message"]) == ("InvalidAuthenticationToken", message)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert GUID.match(error["innerError"]["request-id"])
    assert api.server.emulator.request_log[-1].status == 401


async def test_revoked_tokens_are_refused_until_added_again() -> None:
    async with serve(tokens={TOKEN}) as api:
        business = api.url("/solutions/bookingBusinesses/shop%40contoso.com")
        api.server.emulator.revoke_token(TOKEN)
        assert (await api.http.get(business)).status == 401
        api.server.emulator.add_token(TOKEN)
        assert (await api.http.get(business)).status == 200


async def test_an_unknown_business_is_404_and_a_known_one_has_its_name() -> None:
    async with serve(businesses={BIZ: "Contoso Shop"}) as api:
        known = await api.http.get(api.url("/solutions/bookingBusinesses/Shop%40Contoso.com"))
        unknown = await api.http.post(
            api.customers_url(business="other%40contoso.com"), json={"displayName": "A"}
        )
        assert (await known.json())["displayName"] == "Contoso Shop"
        assert unknown.status == 404
        assert error_code(await unknown.json()) == "ErrorItemNotFound"


async def test_a_read_only_business_refuses_writes_but_answers_reads() -> None:
    async with serve(read_only_businesses={BIZ}) as api:
        write = await api.create({"displayName": "A"})
        read = await api.http.get(api.customers_url())
        assert (write.status, error_code(await write.json())) == (403, "ErrorAccessDenied")
        assert read.status == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        pytest.param("GET", "/v2.0/solutions/bookingBusinesses/x", 400, "Invalid version: v2.0",
                     id="unknown-version"),
        pytest.param("GET", "/v1.0/solutions/bookingBusinesses/x/appointments", 400,
                     "Resource not found for the segment 'appointments'.", id="unknown-segment"),
        pytest.param("PUT", "/v1.0/solutions/bookingBusinesses/x/customers", 405,
                     "not allowed", id="wrong-method"),
        pytest.param("GET", "/v1.0/$batch", 405, "not allowed", id="batch-get"),
    ],
)  # fmt: skip
async def test_routing_errors(api: Api, method: str, path: str, status: int, message: str) -> None:
    resp = await api.http.request(method, URL(api.server.url + path, encoded=True))
    assert resp.status == status
    assert message in (await resp.json())["error"]["message"]


async def test_a_percent_encoded_slash_stays_inside_the_business_id() -> None:
    async with serve() as api:
        url = api.customers_url(business="a%2F..%2F..%2Fusers")
        resp = await api.http.post(url, json={"displayName": "A"})
        assert resp.status == 201
        assert len(api.server.emulator.customers("a/../../users")) == 1
        logged = api.server.emulator.request_log[-1]
        assert logged.business_id == "a/../../users"
        assert logged.raw_path == "/v1.0/solutions/bookingBusinesses/a%2F..%2F..%2Fusers/customers"
    async with serve(businesses={"users": "Users"}) as api:
        resp = await api.http.get(api.url("/solutions/bookingBusinesses/a%2F..%2F..%2Fusers"))
        assert resp.status == 404


# --- throttling ---------------------------------------------------------------------------


async def test_the_fifth_concurrent_request_to_a_business_is_429() -> None:
    async with serve(latency=0.2, retry_after=0.2) as api:
        answers = await asyncio.gather(*(api.create({"displayName": f"C{i}"}) for i in range(8)))
        statuses = sorted(r.status for r in answers)
        throttled = [r for r in answers if r.status == 429]
        emulator = api.server.emulator

        assert statuses == [201] * 4 + [429] * 4
        assert {r.headers["Retry-After"] for r in throttled} == {"0.2"}
        assert {error_code(await r.json()) for r in throttled} == {"TooManyRequests"}
        assert emulator.max_in_flight(BIZ) == 4
        assert emulator.counters.throttled == 4


async def test_businesses_are_throttled_separately() -> None:
    async with serve(latency=0.2) as api:
        urls = [api.customers_url(business=b) for b in ("a%40x.com", "b%40x.com")]
        answers = await asyncio.gather(
            *(api.http.post(u, json={"displayName": "A"}) for u in urls for _ in range(4))
        )
        assert [r.status for r in answers] == [201] * 8
        assert api.server.emulator.counters.max_in_flight == {"a@x.com": 4, "b@x.com": 4}


async def test_latency_holds_the_slot_and_the_seed_fixes_the_ids() -> None:
    ids = []
    for _ in range(2):
        async with serve(seed=11, latency=0.05, jitter=0.01) as api:
            started = time.monotonic()
            ids.append((await (await api.create({"displayName": "A"})).json())["id"])
            assert time.monotonic() - started >= 0.04
    assert ids[0] == ids[1]


# --- faults -------------------------------------------------------------------------------

HTTP_DATE = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
FAULTS = [
    # (rule, status of the first POST or None when the connection drops, headers, code, stored)
    pytest.param(FaultRule("status_503", first=1, retry_after="1.5"), 503,
                 {"Retry-After": "1.5"}, "ServiceUnavailable", 1, id="503"),
    pytest.param(FaultRule("status_504", first=1), 504, {}, "GatewayTimeout", 1, id="504"),
    pytest.param(FaultRule("status_429", first=1, retry_after="0.25"), 429,
                 {"Retry-After": "0.25"}, "TooManyRequests", 1, id="429-seconds"),
    pytest.param(FaultRule("status_429", first=1, retry_after=HTTP_DATE), 429,
                 {"Retry-After": HTTP_DATE}, "TooManyRequests", 1, id="429-http-date"),
    pytest.param(FaultRule("status_500_empty", first=1), 500, {}, "", 1, id="500-empty"),
    pytest.param(FaultRule("html_502", first=1), 502, {"Content-Type": "text/html"}, None, 1,
                 id="html-502"),
    pytest.param(FaultRule("malformed_json", first=1), 201, {}, None, 2, id="malformed-json"),
    pytest.param(FaultRule("reset_before", first=1), None, {}, None, 1, id="reset-before"),
    pytest.param(FaultRule("drop_after_create", first=1), None, {}, None, 2,
                 id="drop-after-create"),
    pytest.param(FaultRule("slow", first=1, delay=0.1), 201, {}, None, 2, id="slow"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "status", "headers", "code", "stored"), FAULTS)
async def test_each_fault_hits_the_first_request_only(
    caplog: pytest.LogCaptureFixture,
    rule: FaultRule,
    status: int | None,
    headers: dict[str, str],
    code: str | None,
    stored: int,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with serve(faults=[rule]) as api:
        started = time.monotonic()
        if status is None:
            with pytest.raises(aiohttp.ClientConnectionError):
                await api.create({"displayName": "First"})
        else:
            first = await api.create({"displayName": "First"})
            text = await first.text()
            assert first.status == status
            assert {k: first.headers.get(k) for k in headers} == headers
            if code is not None:
                assert json.loads(text)["error"]["code"] == code
            if rule.kind == "malformed_json":
                with pytest.raises(ValueError):
                    json.loads(text)
            if rule.kind == "slow":
                assert time.monotonic() - started >= rule.delay
        second = await api.create({"displayName": "Second"})
        assert second.status == 201
        assert len(api.customers) == stored
        logged = api.server.emulator.request_log[0]
        assert (logged.fault, logged.status) == (rule.kind, status)
        assert api.server.emulator.counters.faults[rule.kind] == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_client_that_gives_up_does_not_stop_the_service(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with serve(faults=[FaultRule("slow", first=1, delay=0.2)]) as api:
        with pytest.raises(TimeoutError):
            await api.http.post(
                api.customers_url(),
                json={"displayName": "Late"},
                timeout=aiohttp.ClientTimeout(total=0.05),
            )
        async with asyncio.timeout(HANG):
            while not api.customers:  # the service finishes on its own schedule
                await asyncio.sleep(0.01)
        assert api.customers[0]["displayName"] == "Late"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize(
    ("rule", "hits"),
    [
        pytest.param(FaultRule("status_503", every=3), [3, 6], id="every-3rd"),
        pytest.param(FaultRule("status_503", first=2, every=5), [1, 2, 5], id="first-and-every"),
        pytest.param(FaultRule("status_503", methods=("GET",)), [], id="other-method"),
        pytest.param(FaultRule("status_503", path_contains="nowhere"), [], id="other-path"),
        pytest.param(FaultRule("status_503", path_contains="shop@contoso"), [1, 2, 3, 4, 5, 6],
                     id="decoded-path"),
    ],
)  # fmt: skip
async def test_fault_rules_choose_requests_deterministically(
    rule: FaultRule, hits: list[int]
) -> None:
    async with serve(faults=[rule]) as api:
        statuses = [(await api.create({"displayName": "A"})).status for _ in range(6)]
    assert [n for n, s in enumerate(statuses, 1) if s == 503] == hits


async def test_a_fault_rate_repeats_with_the_seed() -> None:
    patterns = []
    for _ in range(2):
        async with serve(seed=3, faults=[FaultRule("status_503", rate=0.5)]) as api:
            patterns.append([(await api.create({"displayName": "A"})).status for _ in range(12)])
    assert patterns[0] == patterns[1]
    assert {503, 201} == set(patterns[0])


def test_an_unknown_fault_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind 'status_418'"):
        FaultRule("status_418")


async def test_the_display_name_bug_stores_the_email_and_a_patch_repairs_it() -> None:
    async with serve(email_as_display_name_rate=1.0) as api:
        sent = {"displayName": "Grace Hopper", "emailAddress": "grace@example.com"}
        created = await (await api.create(sent)).json()
        assert created["displayName"] == "grace@example.com"
        no_email = await (await api.create({"displayName": "Nameless"})).json()
        assert no_email["displayName"] == "Nameless"

        one = f"{api.customers_url()}/{created['id'].replace('=', '%3D')}"
        await api.http.patch(URL(one, encoded=True), json={"displayName": "Grace Hopper"})
        assert api.customers[0]["displayName"] == "Grace Hopper"


# --- $batch -------------------------------------------------------------------------------

CUSTOMERS = "/solutions/bookingBusinesses/shop%40contoso.com/customers"
JSON = {"Content-Type": "application/json"}


def create_item(rid: str, name: str | None = "A", **extra: Any) -> dict[str, Any]:
    body = {"displayName": name} if name is not None else {"emailAddress": "x@y.z"}
    return {"id": rid, "method": "POST", "url": CUSTOMERS, "headers": JSON, "body": body, **extra}


async def post_batch(api: Api, requests: list[dict[str, Any]]) -> aiohttp.ClientResponse:
    return await api.http.post(api.url("/$batch"), json={"requests": requests})


async def test_a_batch_answers_each_item_and_fails_dependants(api: Api) -> None:
    resp = await post_batch(
        api,
        [
            create_item("1"),
            create_item("2", name=None),
            {"id": "3", "method": "GET", "url": f"{CUSTOMERS}/AAAnope%3D"},
            create_item("4", dependsOn=["2"]),
            {"id": "5", "method": "GET", "url": CUSTOMERS, "dependsOn": ["1"]},
        ],
    )
    assert resp.status == 200
    items = {r["id"]: r for r in (await resp.json())["responses"]}

    assert {i: r["status"] for i, r in items.items()} == {
        "1": 201,
        "2": 400,
        "3": 404,
        "4": 424,
        "5": 200,
    }
    assert items["1"]["headers"]["Location"].endswith(items["1"]["body"]["id"].replace("=", "%3D"))
    assert len(items["5"]["body"]["value"]) == 1
    assert [e.batch_item for e in api.server.emulator.request_log if e.batch_item] != []


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        pytest.param([create_item(str(i)) for i in range(21)], "Too many requests", id="21"),
        pytest.param([create_item("1"), create_item("1")], "must be unique", id="duplicate-ids"),
        pytest.param([], "non-empty", id="empty"),
        pytest.param([{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/me"}],
                     "relative", id="absolute-url"),
        pytest.param([create_item("1", dependsOn=["9"])], "dependsOn", id="unknown-dependency"),
    ],
)  # fmt: skip
async def test_a_malformed_batch_is_400_as_a_whole(
    api: Api, requests: list[dict[str, Any]], message: str
) -> None:
    resp = await post_batch(api, requests)
    error = (await resp.json())["error"]
    assert (resp.status, error["code"]) == (400, "BadRequest")
    assert message in error["message"]
    assert api.customers == []


async def test_batch_items_are_throttled_one_by_one() -> None:
    async with serve(latency=0.2, retry_after=0.2) as api:
        resp = await post_batch(api, [create_item(str(i)) for i in range(6)])
        items = (await resp.json())["responses"]
    assert sorted(r["status"] for r in items) == [201] * 4 + [429] * 2
    assert {r["headers"]["Retry-After"] for r in items if r["status"] == 429} == {"0.2"}


@pytest.mark.parametrize(("kind", "stored"), [("reset_before", 0), ("drop_after_create", 3)])
async def test_a_connection_fault_in_a_batch_drops_the_whole_answer(kind: str, stored: int) -> None:
    async with serve(faults=[FaultRule(kind, first=1)]) as api:
        with pytest.raises(aiohttp.ClientConnectionError):
            await post_batch(api, [create_item(str(i)) for i in range(3)])
        assert len(api.customers) == stored


async def test_item_faults_answer_in_the_item(api: Api) -> None:
    api.server.emulator.set_faults([FaultRule("status_503", first=1, retry_after=2)])
    resp = await post_batch(api, [create_item("1"), create_item("2")])
    items = {r["id"]: r for r in (await resp.json())["responses"]}
    assert (items["1"]["status"], items["1"]["headers"]["Retry-After"]) == (503, "2")
    assert items["2"]["status"] == 201


async def test_a_rule_that_names_batch_hits_the_envelope_not_the_items(api: Api) -> None:
    api.server.emulator.set_faults([FaultRule("status_503", first=1, path_contains="$batch")])
    refused = await post_batch(api, [create_item("1")])
    accepted = await post_batch(api, [create_item("1")])
    assert (refused.status, error_code(await refused.json())) == (503, "ServiceUnavailable")
    assert [r["status"] for r in (await accepted.json())["responses"]] == [201]
    assert len(api.customers) == 1


# --- admin endpoints and the standalone process -------------------------------------------


async def test_admin_endpoints_show_state_and_change_faults_tokens_and_reset() -> None:
    async with serve(tokens={TOKEN}) as api, aiohttp.ClientSession() as admin:
        base = api.server.url + "/_emulator"
        await api.create({"displayName": "A"})
        state = await (await admin.get(f"{base}/state?log=1")).json()
        assert [c["displayName"] for c in state["businesses"][BIZ]["customers"]] == ["A"]
        assert state["counters"]["by_status"] == {"201": 1}
        assert state["requests"][0]["status"] == 201

        rules = [{"kind": "status_503", "first": 1, "methods": ["POST"]}]
        assert (await admin.post(f"{base}/faults", json=rules)).status == 200
        assert (await api.create({"displayName": "B"})).status == 503
        bad = await admin.post(f"{base}/faults", json=[{"kind": "nope"}])
        assert bad.status == 400

        await admin.post(f"{base}/tokens", json={"revoke": [TOKEN], "add": ["t2"]})
        assert (await api.create({"displayName": "C"})).status == 401

        assert (await admin.post(f"{base}/reset")).status == 200
        state = await (await admin.get(f"{base}/state")).json()
        assert state["businesses"] == {}
        assert state["counters"]["requests"] == 0
        assert (await api.create({"displayName": "D"})).status == 201


async def test_the_standalone_process_announces_its_url_and_serves() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "importer.emulator", "--port", "0", "--token", "t-1",
        cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=HANG)).decode()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer t-1"}) as http:
            resp = await http.get(f"{match[1]}/v1.0/solutions/bookingBusinesses/x%40y.com")
            assert resp.status == 200
    finally:
        proc.terminate()
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=HANG)
    assert proc.returncode == 0
    assert stderr == b""
