"""Sign-in with real MSAL against the fake authority on 127.0.0.1; nothing in MSAL is patched."""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import os
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from importer.config import Config
from importer.errors import AuthError, ConfigError
from importer.signin import (
    PERSONAL_ACCOUNTS_TENANT,
    StaticToken,
    describe_identity,
    make_token_source,
)
from importer.signin.settings import resolve_sign_in
from tests.deadlines import HANG
from tests.fake_authority import FakeAuthority, run_fake_authority

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET_ENV = "TEST_AUTH_CLIENT_SECRET"
PASSPHRASE_ENV = "TEST_AUTH_CERT_PASSPHRASE"
Factory = Callable[..., Any]


def config_for(fake: FakeAuthority, mode: str, **auth: str) -> Config:
    config = Config().replace("graph", ca_bundle=str(fake.ca_path))
    auth = {"client_id": CLIENT_ID, "authority": fake.authority(), **auth}
    return config.replace("auth", mode=mode, client_secret_env=SECRET_ENV,
                          certificate_passphrase_env=PASSPHRASE_ENV, **auth)


@pytest.fixture
def authority(tmp_path: Path) -> Iterator[FakeAuthority]:
    with run_fake_authority(tmp_path) as fake:
        yield fake


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Factory]:
    """make_token_source, closing the HTTP sessions of every source it made."""
    made: list[Any] = []

    def make(config: Config, **kwargs: Any) -> Any:
        made.append(make_token_source(config, state_dir=tmp_path / "state", **kwargs))
        return made[-1]

    yield make
    for one in made:
        if hasattr(one, "close"):
            one.close()


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch, authority: FakeAuthority) -> str:
    monkeypatch.setenv(SECRET_ENV, authority.client_secret)
    return authority.client_secret


# --- client secret -------------------------------------------------------------------------


async def test_client_secret_signs_in_once_for_many_callers(
    authority: FakeAuthority, secret: str, source: Factory
) -> None:
    tokens = source(config_for(authority, "client_secret"))
    first = await asyncio.gather(*(tokens.token() for _ in range(4)))
    later = await tokens.token()
    assert [*first, later] == ["tok-1"] * 5
    assert authority.token_requests == {"client_credentials": 1}
    assert authority.scopes == ["https://graph.microsoft.com/.default"]


async def test_refresh_bypasses_the_cache_once_for_waiting_callers(
    authority: FakeAuthority, secret: str, source: Factory
) -> None:
    tokens = source(config_for(authority, "client_secret"))
    assert await tokens.token() == "tok-1"
    # Four workers that saw the same 401 share one renewal.
    renewed = await asyncio.gather(*(tokens.token(refresh=True) for _ in range(4)))
    assert renewed == ["tok-2"] * 4
    assert await tokens.token() == "tok-2"
    assert await tokens.token(refresh=True) == "tok-3"
    assert authority.token_requests["client_credentials"] == 3


async def test_short_lived_token_is_renewed_on_its_own(
    authority: FakeAuthority, secret: str, source: Factory
) -> None:
    # MSAL treats a token as expired five minutes before it is: 299 s is already stale.
    authority.set_expiry(299)
    tokens = source(config_for(authority, "client_secret"))
    assert [await tokens.token(), await tokens.token()] == ["tok-1", "tok-2"]
    assert authority.token_requests["client_credentials"] == 2


async def test_a_fresh_token_comes_from_memory_without_a_thread_or_the_lock(
    authority: FakeAuthority, secret: str, source: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request asks for a token: MSAL is asked (in a worker thread, one caller at a
    time) only when its own cache would not serve the token any more."""
    import importer.signin.msal_sources as auth_module

    threads = 0
    real_to_thread = asyncio.to_thread

    async def counting_to_thread(*args: Any, **kwargs: Any) -> Any:
        nonlocal threads
        threads += 1
        return await real_to_thread(*args, **kwargs)

    now = [1000.0]
    monkeypatch.setattr(auth_module.asyncio, "to_thread", counting_to_thread)
    monkeypatch.setattr(auth_module.time, "monotonic", lambda: now[0])
    tokens = source(config_for(authority, "client_secret"))  # tokens live 3600 s
    assert {await tokens.token() for _ in range(1000)} == {"tok-1"}
    assert threads == 1
    now[0] += 3600 - 300 - 1  # MSAL would still serve it from its cache
    assert await tokens.token() == "tok-1" and threads == 1
    now[0] += 2  # now MSAL decides (it fetches a new one five minutes before expiry)
    await tokens.token()
    assert threads == 2
    assert await tokens.token(refresh=True) == "tok-2", "a refresh never uses the held token"
    assert await tokens.token() == "tok-2" and threads == 3
    assert authority.token_requests["client_credentials"] == 2


async def test_wrong_secret_is_one_line_without_the_secret(
    authority: FakeAuthority, monkeypatch: pytest.MonkeyPatch, source: Factory
) -> None:
    monkeypatch.setenv(SECRET_ENV, "wrong-secret-0123")
    tokens = source(config_for(authority, "client_secret"))
    with pytest.raises(AuthError) as caught:
        await tokens.token()
    message = str(caught.value)
    assert "invalid_client, AADSTS7000215" in message
    assert "Certificates & secrets" in message
    assert "wrong-secret-0123" not in message and "\n" not in message
    assert caught.value.exit_code == 3


@pytest.mark.parametrize(
    ("error", "description", "expected"),
    [
        ("unauthorized_client", "AADSTS700016: Application not found in the directory.",
         "unauthorized_client, AADSTS700016): no app with this client id"),
        ("unauthorized_client", "", "unauthorized_client): the app registration does not allow"),
        ("invalid_client", "AADSTS7000222: The client secret has expired.",
         "has expired: create a new one"),
        ("temporarily_unavailable", "AADSTS50000: Try again later.", "): Try again later."),
    ],
    ids=["unknown-app", "unauthorized", "expired-secret", "unknown-error"],
)
async def test_refusals_name_the_code_and_a_fix(
    authority: FakeAuthority, secret: str, source: Factory,
    error: str, description: str, expected: str,
) -> None:
    authority.refuse(error, description)
    tokens = source(config_for(authority, "client_secret"))
    with pytest.raises(AuthError, match=r"^sign-in refused by 127\.0\.0\.1:") as caught:
        await tokens.token()
    assert expected in str(caught.value)
    assert "Trace ID" not in str(caught.value)


async def test_ca_bundle_wins_over_requests_ca_bundle(
    authority: FakeAuthority, secret: str, source: Factory,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    # requests alone would let this variable replace the configured CA file.
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    assert await source(config_for(authority, "client_secret")).token() == "tok-1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ca_bundle": ""}, "cannot verify the TLS certificate"),
        ({"authority_tenant": "missing-tenant"}, "does not know tenant 'missing-tenant'"),
        ({"closed_port": True}, "cannot reach the sign-in authority 127.0.0.1"),
    ],
    ids=["untrusted-certificate", "unknown-tenant", "unreachable"],
)
async def test_authority_trouble_is_an_auth_error(
    authority: FakeAuthority, secret: str, source: Factory, change: dict[str, Any],
    message: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    config = config_for(authority, "client_secret")
    if "ca_bundle" in change:
        config = config.replace("graph", ca_bundle="")
    if "authority_tenant" in change:
        authority.missing_tenants.add(change["authority_tenant"])
        config = config.replace("auth", authority=authority.authority("missing-tenant"))
    if "closed_port" in change:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = config.replace("auth", authority=f"https://127.0.0.1:{port}/contoso")
    with pytest.raises(AuthError, match=message):
        await source(config).token()


# --- config problems -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "auth", "message"),
    [
        ("client_secret", {}, f"environment variable {SECRET_ENV} is not set"),
        ("client_secret", {"client_id": ""}, "auth.client_id is not set"),
        ("client_secret", {"authority": ""}, "auth.tenant_id is not set"),
        ("client_secret", {"authority": "http://127.0.0.1:1/t"}, "auth.authority must be"),
        ("client_secret", {"authority": "", "tenant_id": "common"}, "names no tenant"),
        ("device_code", {"authority": "", "tenant_id": "consumers"}, "personal Microsoft"),
        ("certificate", {}, "auth.certificate_path is not set"),
        ("token", {"token_env": "TEST_AUTH_NO_SUCH_TOKEN"}, "TEST_AUTH_NO_SUCH_TOKEN is not set"),
    ],
    ids=["no-secret", "no-client-id", "no-tenant", "plain-http", "common-tenant", "consumers",
         "no-certificate", "no-token"],
)
def test_config_problems_are_config_errors(
    authority: FakeAuthority, source: Factory, monkeypatch: pytest.MonkeyPatch,
    mode: str, auth: dict[str, str], message: str,
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(ConfigError, match=message) as caught:
        source(config_for(authority, mode, **auth))
    assert caught.value.exit_code == 2


def test_missing_ca_bundle_is_a_config_error(authority: FakeAuthority, secret: str) -> None:
    config = config_for(authority, "client_secret").replace("graph", ca_bundle="/nowhere.pem")
    with pytest.raises(ConfigError, match=r"graph\.ca_bundle"):
        make_token_source(config)


@pytest.mark.parametrize(
    ("cloud", "authority", "app_scope", "delegated_scope"),
    [
        ("global", "https://login.microsoftonline.com/contoso.example",
         "https://graph.microsoft.com/.default",
         "https://graph.microsoft.com/BookingsAppointment.ReadWrite.All"),
        ("usgov", "https://login.microsoftonline.us/contoso.example",
         "https://graph.microsoft.us/.default",
         "https://graph.microsoft.us/BookingsAppointment.ReadWrite.All"),
        ("dod", "https://login.microsoftonline.us/contoso.example",
         "https://dod-graph.microsoft.us/.default",
         "https://dod-graph.microsoft.us/BookingsAppointment.ReadWrite.All"),
        ("china", "https://login.chinacloudapi.cn/contoso.example",
         "https://microsoftgraph.chinacloudapi.cn/.default",
         "https://microsoftgraph.chinacloudapi.cn/BookingsAppointment.ReadWrite.All"),
    ],
    ids=["global", "usgov", "dod", "china"],
)
def test_each_cloud_has_its_authority_and_scopes(
    cloud: str, authority: str, app_scope: str, delegated_scope: str
) -> None:
    config = Config().replace("graph", cloud=cloud)
    config = config.replace("auth", tenant_id="contoso.example", client_id=CLIENT_ID)
    app = resolve_sign_in(config.replace("auth", mode="client_secret"))
    person = resolve_sign_in(config.replace("auth", mode="device_code"))
    assert (app.authority, app.scopes, app.authority_overridden) == (authority, (app_scope,), False)
    assert (person.authority, person.scopes) == (authority, (delegated_scope,))
    assert app.verify is True


# --- certificates --------------------------------------------------------------------------


def make_certificate(key: Any = None) -> tuple[Any, x509.Certificate]:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bookings-import test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return key, cert


def key_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def certificate() -> tuple[Any, x509.Certificate]:
    return make_certificate()  # RSA key generation is the slow part: once per module


@pytest.mark.parametrize("form", ["pfx", "pem-thumbprint", "pem-with-certificate"])
async def test_certificate_signs_in(
    authority: FakeAuthority, source: Factory, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, certificate: tuple[Any, x509.Certificate], form: str,
) -> None:
    key, cert = certificate
    authority.trust_certificate(cert)
    auth: dict[str, str] = {}
    if form == "pfx":
        path = tmp_path / "app.pfx"
        path.write_bytes(pkcs12.serialize_key_and_certificates(
            b"app", key, cert, None, serialization.BestAvailableEncryption(b"pass-1234")))
        monkeypatch.setenv(PASSPHRASE_ENV, "pass-1234")
    elif form == "pem-thumbprint":
        path = tmp_path / "app.key"
        path.write_bytes(key_pem(key))
        auth["certificate_thumbprint"] = cert.fingerprint(hashes.SHA1()).hex().upper()
    else:
        path = tmp_path / "app.pem"
        path.write_bytes(key_pem(key) + cert.public_bytes(serialization.Encoding.PEM))
    tokens = source(config_for(authority, "certificate", certificate_path=str(path), **auth))
    assert [await tokens.token(), await tokens.token()] == ["tok-1", "tok-1"]
    header = authority.assertion_headers[0]
    assert ("x5t#S256" if form == "pfx" else "x5t") in header
    assert ("x5c" in header) == (form == "pfx")
    assert "pass-1234" not in repr(tokens) and "PRIVATE" not in repr(tokens)


async def test_unregistered_certificate_is_refused(
    authority: FakeAuthority, source: Factory, tmp_path: Path,
    certificate: tuple[Any, x509.Certificate],
) -> None:
    key, cert = certificate
    authority.trust_certificate(make_certificate(ec.generate_private_key(ec.SECP256R1()))[1])
    path = tmp_path / "app.pem"
    path.write_bytes(key_pem(key) + cert.public_bytes(serialization.Encoding.PEM))
    tokens = source(config_for(authority, "certificate", certificate_path=str(path)))
    with pytest.raises(AuthError, match=r"invalid_client, AADSTS700027\): the certificate is not"):
        await tokens.token()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "app.pfx not found"),
        ("directory", "cannot read .*: Is a directory"),
        ("wrong-passphrase", "the passphrase in TEST_AUTH_CERT_PASSPHRASE is wrong"),
        ("no-passphrase", "it needs a passphrase"),
        ("pem-without-thumbprint", "auth.certificate_thumbprint is not set"),
        ("bad-thumbprint", "40 hexadecimal digits"),
        ("certificate-only", "holds no PEM private key"),
        ("ec-key", "Entra ID signs in applications with RSA certificates only"),
    ],
)
def test_certificate_problems_are_config_errors(
    authority: FakeAuthority, source: Factory, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, certificate: tuple[Any, x509.Certificate],
    case: str, message: str,
) -> None:
    key, cert = certificate
    path, auth = tmp_path / "app.pfx", {}
    locked = serialization.BestAvailableEncryption(b"right")
    if case == "directory":
        path.mkdir()
    if case in ("wrong-passphrase", "no-passphrase"):
        path.write_bytes(pkcs12.serialize_key_and_certificates(b"app", key, cert, None, locked))
        if case == "wrong-passphrase":
            monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    if case in ("pem-without-thumbprint", "bad-thumbprint"):
        path = tmp_path / "app.key"
        path.write_bytes(key_pem(key))
        auth["certificate_thumbprint"] = "12:34" if case == "bad-thumbprint" else ""
    if case == "certificate-only":
        path = tmp_path / "app.crt"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if case == "ec-key":
        path = tmp_path / "app.key"
        path.write_bytes(key_pem(ec.generate_private_key(ec.SECP256R1())))
    config = config_for(authority, "certificate", certificate_path=str(path), **auth)
    with pytest.raises(ConfigError, match=message):
        source(config)


# --- device code ---------------------------------------------------------------------------


async def test_device_code_signs_in_once_and_then_silently(
    authority: FakeAuthority, source: Factory, tmp_path: Path
) -> None:
    cache = tmp_path / "cache" / "tokens.json"
    config = config_for(authority, "device_code", token_cache=str(cache))
    prompts: list[str] = []
    first = source(config, prompt=prompts.append)
    assert await asyncio.gather(first.token(), first.token()) == ["tok-1", "tok-1"]
    assert prompts == ["To sign in, use a web browser to open the page "
                       "https://microsoft.com/devicelogin and enter the code FAKE0001 to "
                       "authenticate."]
    assert authority.device_flows == 1
    assert authority.token_requests == {"device_code": 2}  # one "pending", then the token
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert "tok-1" in cache.read_text()
    assert set(authority.scopes[0].split()) == {
        "https://graph.microsoft.com/BookingsAppointment.ReadWrite.All", "offline_access",
        "openid", "profile"}

    # The next run reads the cache: no code to enter, and refresh uses the refresh token.
    second = source(config, prompt=prompts.append)
    assert await second.token() == "tok-1"
    assert await second.token(refresh=True) == "tok-2"
    assert authority.device_flows == 1 and len(prompts) == 1
    assert authority.token_requests["refresh_token"] == 1
    assert describe_identity(second) == {
        "mode": "device_code", "tenant": "contoso.example", "app": CLIENT_ID,
        "authority": authority.authority(), "account": "adele@contoso.example"}


async def test_device_code_cache_lives_in_the_state_dir_by_default(
    authority: FakeAuthority, source: Factory, tmp_path: Path
) -> None:
    tokens = source(config_for(authority, "device_code"), prompt=lambda _: None)
    assert await tokens.token() == "tok-1"
    assert stat.S_IMODE((tmp_path / "state" / "token-cache.json").stat().st_mode) == 0o600


async def test_revoked_refresh_token_asks_the_person_again(
    authority: FakeAuthority, source: Factory
) -> None:
    authority.set_expiry(299)  # every call needs the refresh token
    prompts: list[str] = []
    tokens = source(config_for(authority, "device_code"), prompt=prompts.append)
    assert await tokens.token() == "tok-1"
    authority.revoke_refresh_tokens()
    assert await tokens.token() == "tok-2"
    assert authority.device_flows == 2 and len(prompts) == 2


async def test_cancelled_device_sign_in_stops_polling(
    authority: FakeAuthority, source: Factory
) -> None:
    # The person never signs in; the run is interrupted while MSAL polls in its thread.
    authority.pending_polls = 10**6
    authority.poll_interval = 1
    loop = asyncio.get_running_loop()
    cancelled = threading.Event()

    def interrupt(_: str) -> None:  # runs in MSAL's thread, just before polling starts
        loop.call_soon_threadsafe(task.cancel)
        cancelled.wait(HANG)

    tokens = source(config_for(authority, "device_code"), prompt=interrupt)
    task = asyncio.ensure_future(tokens.token())
    task.add_done_callback(lambda _: cancelled.set())
    with pytest.raises(asyncio.CancelledError):
        await task
    # The worker thread gives up after its next poll instead of polling for 15 minutes.
    await asyncio.wait_for(loop.shutdown_default_executor(), HANG)
    assert authority.token_requests == {"device_code": 1}


@pytest.mark.parametrize(
    ("mode", "content", "message"),
    [(0o644, "{}", "can be read by other users .*: run chmod 600 "),
     (0o640, "{}", "chmod 600"),
     (0o600, "{not json", "is damaged: delete it and sign in again")],
    ids=["world-readable", "group-readable", "damaged"],
)
def test_unsafe_or_damaged_cache_is_refused(
    authority: FakeAuthority, source: Factory, tmp_path: Path,
    mode: int, content: str, message: str,
) -> None:
    cache = tmp_path / "tokens.json"
    cache.write_text(content)
    os.chmod(cache, mode)
    with pytest.raises(ConfigError, match=message):
        source(config_for(authority, "device_code", token_cache=str(cache)))


async def test_personal_account_is_refused_and_not_saved(
    authority: FakeAuthority, source: Factory, tmp_path: Path
) -> None:
    authority.tid = PERSONAL_ACCOUNTS_TENANT
    cache = tmp_path / "tokens.json"
    tokens = source(config_for(authority, "device_code", token_cache=str(cache)),
                    prompt=lambda _: None)
    with pytest.raises(AuthError, match=f"personal Microsoft account .*{PERSONAL_ACCOUNTS_TENANT}"):
        await tokens.token()
    assert not cache.exists()


async def test_declined_device_sign_in_is_an_auth_error(
    authority: FakeAuthority, source: Factory
) -> None:
    authority.refuse("authorization_declined", "AADSTS70000: The user declined.")
    tokens = source(config_for(authority, "device_code"), prompt=lambda _: None)
    with pytest.raises(AuthError, match="declined in the browser"):
        await tokens.token()


# --- what a source shows -------------------------------------------------------------------


async def test_repr_and_identity_hide_secrets(
    authority: FakeAuthority, secret: str, source: Factory
) -> None:
    tokens = source(config_for(authority, "client_secret"))
    await tokens.token()
    shown = repr(tokens) + json.dumps(describe_identity(tokens))
    assert secret not in shown and "tok-1" not in shown
    assert describe_identity(tokens) == {"mode": "client_secret", "tenant": "contoso.example",
                                         "app": CLIENT_ID, "authority": authority.authority()}


def test_static_token_identity_reads_its_claims() -> None:
    claims = {"tid": "t-1", "appid": "a-1", "upn": "adele@contoso.example"}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    token = f"e30.{body}.sig"
    assert describe_identity(StaticToken(token)) == {
        "mode": "token", "tenant": "t-1", "app": "a-1", "account": "adele@contoso.example"}
    assert describe_identity(StaticToken("opaque")) == {"mode": "token"}
    assert token not in repr(StaticToken(token))


def test_msal_requests_and_cryptography_load_only_for_an_msal_sign_in() -> None:
    # Together they take about 0.2 s to import: a dry run, a preview or a static token pays
    # none of it; asking for an MSAL source loads them.
    import subprocess
    import sys

    code = (
        "import sys, importer.cli, importer.runner, importer.check, importer.previewer\n"
        "heavy = ('msal', 'requests', 'cryptography')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(heavy)}))\n"
        "from importer.signin import AppSignIn\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(heavy)}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["[]", "['msal', 'requests']"]
