"""`check` end to end: real MSAL against the fake authority, the real client against the
emulator; nothing is patched."""

from __future__ import annotations

import base64
import io
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from importer.check import check, consent_steps, read_permission
from importer.config import Config
from importer.emulator import EmulatorSettings, running_emulator
from importer.errors import ConfigError
from importer.signin import StaticToken
from tests.fake_authority import PERSONAL_ACCOUNTS_TENANT, FakeAuthority, run_fake_authority

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "contoso.onmicrosoft.com"
BUSINESS = "contosolunchdelivery@contoso.com"
SECRET_ENV = "TEST_CHECK_CLIENT_SECRET"
TOKEN_ENV = "TEST_CHECK_TOKEN"
WRITE = "BookingsAppointment.ReadWrite.All"
APP_STEPS = consent_steps("application", CLIENT_ID, TENANT)


@pytest.fixture
def authority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAuthority]:
    with run_fake_authority(tmp_path) as fake:
        monkeypatch.setenv(SECRET_ENV, fake.client_secret)
        yield fake


def config_for(fake: FakeAuthority, base_url: str, tmp_path: Path, mode: str = "client_secret",
               **graph: str) -> Config:
    graph = {"base_url": base_url, "business_id": BUSINESS, "ca_bundle": str(fake.ca_path),
             **graph}
    config = Config().replace("graph", **graph).replace("state", dir=str(tmp_path / "state"))
    return config.replace("auth", mode=mode, client_id=CLIENT_ID, token_env=TOKEN_ENV,
                          authority=fake.authority(TENANT), client_secret_env=SECRET_ENV)


@dataclass(frozen=True)
class Case:
    id: str
    exit_code: int
    lines: dict[str, str]  # label -> text its line must contain
    granted: tuple[str, ...] | None = (WRITE,)  # None: opaque tokens
    mode: str = "client_secret"
    secret: str = ""  # "" = the right one
    business: str = BUSINESS
    read_only: bool = False
    accept_tokens: bool = True  # the emulator accepts what the authority issues
    personal: bool = False  # the person signs in with an outlook.com account
    customers: int = 3
    settings: dict[str, object] = field(default_factory=dict)


CASES = [
    Case("delegated-ok", 0, {
        "sign-in": "device_code, tenant contoso.onmicrosoft.com, app 1111",
        "create": f"permitted ({WRITE}, delegated)",
        "read": "ok (first page: 3 customers)",
        "verdict": "ready: a run would work"}, mode="device_code"),
    Case("higher-permission", 0, {"create": "permitted (Bookings.Manage.All, application)"},
         granted=("User.Read.All", "Bookings.Manage.All")),
    Case("opaque-token", 0, {
        "create": "unknown (token is not a JWT; the first run will tell)",
        "verdict": "ready: reading works; the first run shows whether creating does"},
         granted=None),
    Case("no-customers", 0, {"read": "ok (no customers yet)"}, customers=0),
    Case("read-only-roles", 3, {
        "read": "ok",
        "create": "not permitted: the app has only read permission (Bookings.Read.All): add "
                  f"{WRITE} (application) and grant admin consent: {APP_STEPS}",
        "verdict": "not ready: the app may read customers but not create them"},
         granted=("Bookings.Read.All",)),
    Case("no-bookings-permission", 3, {
        "create": f"not permitted: the token carries no Bookings permission: add {WRITE}",
        "verdict": f"not ready: {WRITE} is missing"}, granted=("User.Read.All",)),
    Case("read-only-business", 3, {
        "create": "not permitted: Graph denied a test write that changes nothing (HTTP 403 "
                  f"ErrorAccessDenied): the app needs {WRITE} (application) with admin "
                  f"consent: {APP_STEPS}",
        "verdict": "not ready: Graph denies writing to this business"},
         granted=None, read_only=True),
    Case("read-only-business-despite-roles", 3, {
        "create": f"although the token carries {WRITE}: the business refuses this app"},
         read_only=True),
    Case("unknown-business", 3, {
        "business": "business 'nobody@contoso.com' not found (HTTP 404 ErrorItemNotFound): "
                    "check graph.business_id; it is the booking mailbox address",
        "verdict": "not ready: business not found"}, business="nobody@contoso.com"),
    Case("wrong-secret", 3, {
        "sign-in": f"failed (client_secret, tenant {TENANT}, app {CLIENT_ID}): sign-in refused "
                   "by 127.0.0.1:",
        "verdict": "not ready: sign-in failed"}, secret="wrong-secret-0123"),
    Case("token-refused-by-graph", 3, {
        "business": "Graph refused the token (HTTP 401 InvalidAuthenticationToken): it has "
                    f"expired, is for another cloud or tenant, or lacks {WRITE} (application); "
                    f"to add it: {APP_STEPS}",
        "verdict": "not ready: Graph refused the token"}, accept_tokens=False),
    Case("personal-account", 3, {
        "sign-in": "failed (device_code, tenant contoso.onmicrosoft.com, app 1111",
        "verdict": "not ready: sign-in failed"}, mode="device_code", personal=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_check_verdicts(
    authority: FakeAuthority, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    authority.granted = list(case.granted) if case.granted is not None else None
    if case.secret:
        monkeypatch.setenv(SECRET_ENV, case.secret)
    if case.personal:
        authority.tid = PERSONAL_ACCOUNTS_TENANT
    settings = EmulatorSettings(
        tokens=set(), businesses={BUSINESS: "Contoso Lunch Delivery"},
        read_only_businesses={BUSINESS} if case.read_only else set(),
    )
    async with running_emulator(settings) as emu:
        for n in range(case.customers):
            emu.emulator.add_customer(BUSINESS, {"displayName": f"Customer {n}"})
        if case.accept_tokens:
            authority.on_issue = emu.emulator.add_token
        config = config_for(authority, emu.url, tmp_path, mode=case.mode,
                            business_id=case.business)
        out = io.StringIO()
        code = await check(config, out=out)
    text = out.getvalue()
    labels = [line[:10].strip() for line in text.splitlines()]
    by_label = {line[:10].strip(): line[11:] for line in text.splitlines()}
    assert code == case.exit_code, text
    for label, expected in case.lines.items():
        assert expected in by_label.get(label, ""), text
    assert (labels[0], labels[-1]) == ("cloud", "verdict")
    assert_nothing_secret(text, authority, case.secret)
    if case.id == "token-refused-by-graph":
        assert len(authority.issued) == 2  # renewed once, then refused again


def assert_nothing_secret(text: str, authority: FakeAuthority, secret: str = "") -> None:
    assert authority.client_secret not in text
    assert not secret or secret not in text
    for token in authority.issued:
        assert token not in text


async def test_all_good_prints_each_verdict_line(
    authority: FakeAuthority, tmp_path: Path
) -> None:
    authority.granted = [WRITE]
    settings = EmulatorSettings(tokens=set(), businesses={BUSINESS: "Contoso Lunch Delivery"},
                                business_addresses={BUSINESS: {"city": "Milano",
                                                               "countryOrRegion": "Italia"}})
    async with running_emulator(settings) as emu:
        authority.on_issue = emu.emulator.add_token
        for n in range(120):  # more than one page of 100
            emu.emulator.add_customer(BUSINESS, {"displayName": f"Customer {n}"})
        out = io.StringIO()
        code = await check(config_for(authority, emu.url, tmp_path), out=out)
        created = len(emu.emulator.customers(BUSINESS))
    assert out.getvalue().splitlines() == [
        f"cloud      Global ({emu.url}, v1.0)",
        f"sign-in    client_secret, tenant {TENANT}, app {CLIENT_ID}",
        f"business   Contoso Lunch Delivery ({BUSINESS})",
        "phones     numbers without a country code are read as Italy (+39): from the address "
        "of Contoso Lunch Delivery",
        "read       ok (first page: 100 customers, more on later pages)",
        f"create     permitted ({WRITE}, application)",
        "verdict    ready: a run would work",
    ]
    assert code == 0
    assert created == 120  # check changed nothing
    assert_nothing_secret(out.getvalue(), authority)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_unreachable_graph(authority: FakeAuthority, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    out = io.StringIO()
    code = await check(config_for(authority, url, tmp_path), out=out)
    lines = out.getvalue().splitlines()
    assert code == 3
    assert lines[-2].startswith(f"business   cannot reach Microsoft Graph at {url}: cannot connect")
    assert lines[-1] == "verdict    not ready: cannot reach Microsoft Graph"


@asynccontextmanager
async def graph_without_bookings() -> AsyncIterator[str]:
    """A Graph that knows no bookingBusinesses, as the China cloud's does."""

    async def unknown_segment(_: web.Request) -> web.Response:
        message = "Resource not found for the segment 'bookingBusinesses'."
        return web.json_response({"error": {"code": "BadRequest", "message": message}},
                                 status=400)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", unknown_segment)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_china_cloud_without_bookings(authority: FakeAuthority, tmp_path: Path) -> None:
    async with graph_without_bookings() as url:
        out = io.StringIO()
        code = await check(config_for(authority, url, tmp_path, cloud="china"), out=out)
    lines = out.getvalue().splitlines()
    assert code == 3
    assert lines[0] == f"cloud      China (21Vianet) ({url}, v1.0)"
    assert lines[-2] == (
        "business   the China (21Vianet) cloud does not offer Microsoft Bookings (HTTP 400 "
        "BadRequest: Resource not found for the segment 'bookingBusinesses'.)")
    assert lines[-1] == ("verdict    not ready: Microsoft Bookings is not available in the "
                         "China (21Vianet) cloud")


def jwt_of(claims: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"e30.{body}.c2ln"


async def test_fixed_token_of_a_personal_account(
    authority: FakeAuthority, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = jwt_of({"tid": PERSONAL_ACCOUNTS_TENANT, "scp": WRITE})
    monkeypatch.setenv(TOKEN_ENV, token)
    out = io.StringIO()
    config = config_for(authority, "http://127.0.0.1:1", tmp_path, mode="token")
    code = await check(config, out=out)
    assert code == 3
    assert out.getvalue().splitlines()[-2:] == [
        "account    a personal Microsoft account: Microsoft Bookings needs a work or school "
        "account",
        "verdict    not ready: personal Microsoft accounts cannot use Bookings",
    ]
    assert token not in out.getvalue()


async def test_given_token_source_is_used(authority: FakeAuthority, tmp_path: Path) -> None:
    token = jwt_of({"tid": "t-1", "appid": "a-1", "roles": [WRITE]})
    async with running_emulator(EmulatorSettings(tokens={token})) as emu:
        out = io.StringIO()
        code = await check(config_for(authority, emu.url, tmp_path), tokens=StaticToken(token),
                           out=out)
    assert code == 0, out.getvalue()
    assert "sign-in    token, tenant t-1, app a-1" in out.getvalue().splitlines()
    assert authority.issued == []


@pytest.mark.parametrize(
    ("change", "message"),
    [({"env": SECRET_ENV}, f"environment variable {SECRET_ENV} is not set"),
     ({"business_id": ""}, "graph.business_id is not set")],
    ids=["missing-secret-variable", "no-business"],
)
async def test_config_problems_raise(
    authority: FakeAuthority, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    change: dict[str, str], message: str,
) -> None:
    if "env" in change:
        monkeypatch.delenv(change["env"])
    config = config_for(authority, "http://127.0.0.1:1", tmp_path,
                        business_id=change.get("business_id", BUSINESS))
    out = io.StringIO()
    with pytest.raises(ConfigError, match=message):
        await check(config, out=out)
    assert out.getvalue() == ""


@pytest.mark.parametrize(
    ("claims", "expected"),
    [({"roles": [WRITE]}, ("permitted", WRITE, "application")),
     ({"scp": "User.Read Bookings.ReadWrite.All"}, ("permitted", "Bookings.ReadWrite.All",
                                                    "delegated")),
     ({"roles": ["Bookings.Read.All"]}, ("read_only", "Bookings.Read.All", "application")),
     ({"scp": "BookingsAppointment.Read.All"}, ("read_only", "BookingsAppointment.Read.All",
                                                "delegated")),
     ({"roles": ["User.Read.All"]}, ("none", "", "application")),
     ({"tid": "t-1"}, ("none", "", "")),
     (None, ("unknown", "", ""))],
    ids=["app-write", "delegated-higher", "app-read", "delegated-read", "other", "no-claims",
         "opaque"],
)
def test_read_permission(claims: dict[str, object] | None, expected: tuple[str, str, str]) -> None:
    found = read_permission(jwt_of(claims) if claims is not None else "EwBwA8l6BAAU.opaque")
    assert (found.state, found.name, found.kind) == expected


PHONES_OF_SEVERAL = [
    pytest.param({"city": "Milano", "countryOrRegion": "Italia"}, "", (
        "in the rows for graph.business_id's business, numbers without a country code are "
        "read as Italy (+39): from the address of Contoso Lunch Delivery; the rows of other "
        "businesses named in the 'Office' column are read in each one's own country, which a "
        "run reads (check reads no sheet); set [mapping] default_region to choose one for all"),
        id="business-country"),
    pytest.param({"city": "Nowhere", "countryOrRegion": ""}, "", (
        "graph.business_id's business gives no country: numbers without a country code in its "
        "rows are read in the country the sheet points to, else refused; the rows of other "
        "businesses named in the 'Office' column are read in each one's own country"),
        id="business-without-country"),
    pytest.param({"city": "Milano", "countryOrRegion": "Italia"}, "DE", (
        "numbers without a country code are read as Germany (+49): set in [mapping] "
        "default_region (for the rows of every business)"), id="default-region"),
]


@pytest.mark.parametrize(("address", "default_region", "expected"), PHONES_OF_SEVERAL)
async def test_phones_line_of_a_run_into_several_businesses(
    authority: FakeAuthority, tmp_path: Path, address: dict[str, str], default_region: str,
    expected: str,
) -> None:
    """With [import] business_column, check knows graph.business_id's business alone (it reads
    no sheet): its phones line says whose country it names and that a run reads each
    business's own country for its rows."""
    authority.granted = [WRITE]
    settings = EmulatorSettings(tokens=set(), businesses={BUSINESS: "Contoso Lunch Delivery"},
                                business_addresses={BUSINESS: address})
    async with running_emulator(settings) as emu:
        authority.on_issue = emu.emulator.add_token
        config = config_for(authority, emu.url, tmp_path).replace("import_",
                                                                  business_column="Office")
        config = config.replace("mapping", default_region=default_region)
        out = io.StringIO()
        code = await check(config, out=out)
    by_label = {line[:10].strip(): line[11:] for line in out.getvalue().splitlines()}
    assert code == 0, out.getvalue()
    assert by_label["phones"].startswith(expected), out.getvalue()
