"""Sign-in without a secret, with real MSAL: ManagedIdentityClient against an App Service-style
identity endpoint on 127.0.0.1, and ConfidentialClientApplication with a federated token against
the fake authority. Nothing in MSAL is patched; the environment is set as Azure and AKS set it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.config import Config
from importer.errors import AuthError, ConfigError
from importer.signin import describe_identity, make_token_source, token_claims
from tests.fake_authority import APP_OBJECT_ID, FakeAuthority, run_fake_authority
from tests.fake_identity import (
    IDENTITY_HEADER,
    SYSTEM,
    USER,
    FederatedIssuer,
    IdentityEndpoint,
    run_identity_endpoint,
)

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
Factory = Callable[..., Any]
_AZURE_ENV = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT",
              "MSI_SECRET", "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
              "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE")


def closed_port() -> int:
    """A port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _AZURE_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[IdentityEndpoint]:
    with run_identity_endpoint() as fake:
        monkeypatch.setenv("IDENTITY_ENDPOINT", fake.url)
        monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
        yield fake


@pytest.fixture
def authority(tmp_path: Path) -> Iterator[FakeAuthority]:
    with run_fake_authority(tmp_path) as fake:
        fake.granted = ["BookingsAppointment.ReadWrite.All"]
        yield fake


@pytest.fixture
def issuer(authority: FakeAuthority) -> FederatedIssuer:
    platform = FederatedIssuer()
    authority.trust_federated(CLIENT_ID, platform.issuer, platform.subject,
                              platform.key.public_key())
    return platform


@pytest.fixture
def source() -> Iterator[Factory]:
    made: list[Any] = []

    def make(config: Config) -> Any:
        made.append(make_token_source(config))
        return made[-1]

    yield make
    for tokens in made:
        tokens.close()


def mi_config(cloud: str = "global", **auth: str) -> Config:
    return Config().replace("graph", cloud=cloud).replace("auth", mode="managed_identity", **auth)


def wi_config(fake: FakeAuthority, token_file: Path | str | None, **auth: str) -> Config:
    keys: dict[str, str] = {"client_id": CLIENT_ID, "authority": fake.authority(), **auth}
    if token_file is not None:
        keys["token_file"] = str(token_file)
    return Config().replace("graph", ca_bundle=str(fake.ca_path)).replace(
        "auth", mode="workload_identity", **keys)


async def refusal(tokens: Any) -> str:
    with pytest.raises(AuthError) as caught:
        await tokens.token()
    message = str(caught.value)
    assert "\n" not in message and IDENTITY_HEADER not in message
    return message


# --- managed identity -------------------------------------------------------------------------


@pytest.mark.parametrize(("cloud", "resource"), [
    ("global", "https://graph.microsoft.com"),
    ("usgov", "https://graph.microsoft.us"),
    ("dod", "https://dod-graph.microsoft.us"),
    ("china", "https://microsoftgraph.chinacloudapi.cn"),
])
async def test_system_assigned_identity_gets_a_token_for_the_clouds_graph_and_reuses_it(
    endpoint: IdentityEndpoint, source: Factory, cloud: str, resource: str
) -> None:
    tokens = source(mi_config(cloud))
    first = await tokens.token()
    assert await tokens.token() == first
    assert endpoint.issued == [first]
    assert endpoint.queries == [{"api-version": "2019-08-01", "resource": resource}]
    assert endpoint.headers_seen == [IDENTITY_HEADER]
    identity = describe_identity(tokens)
    assert identity["object"] == SYSTEM.object_id and identity["app"] == SYSTEM.client_id
    assert identity["identity"] == "system-assigned"
    assert first not in repr(tokens) and first not in str(identity)


@pytest.mark.parametrize(("auth", "sent"), [
    ({"client_id": USER.client_id}, ("client_id", USER.client_id)),
    ({"client_id": USER.resource_id}, ("mi_res_id", USER.resource_id)),
    ({"identity_object_id": USER.object_id}, ("object_id", USER.object_id)),
])
async def test_a_user_assigned_identity_is_picked_by_client_resource_or_object_id(
    endpoint: IdentityEndpoint, source: Factory, auth: dict[str, str], sent: tuple[str, str]
) -> None:
    tokens = source(mi_config(**auth))
    token = await tokens.token()
    assert endpoint.queries[0][sent[0]] == sent[1]
    assert token_claims(token)["oid"] == USER.object_id
    assert describe_identity(tokens)["object"] == USER.object_id


async def test_a_managed_identity_token_is_renewed_before_it_expires(
    endpoint: IdentityEndpoint, source: Factory
) -> None:
    # MSAL treats a token as expired five minutes before it is: 299 s is already stale.
    endpoint.expires_in = 299
    tokens = source(mi_config())
    assert [await tokens.token(), await tokens.token()] == endpoint.issued
    assert len(endpoint.issued) == 2


async def test_refresh_forgets_the_cached_managed_identity_token(
    endpoint: IdentityEndpoint, source: Factory
) -> None:
    tokens = source(mi_config())
    first = await tokens.token()
    renewed = await asyncio.gather(*(tokens.token(refresh=True) for _ in range(4)))
    assert renewed == [endpoint.issued[1]] * 4 and renewed[0] != first
    assert len(endpoint.issued) == 2


async def test_no_identity_endpoint_means_not_in_azure(
    source: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No IDENTITY_ENDPOINT: MSAL asks the VM's metadata service, here at a closed port.
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", f"http://127.0.0.1:{closed_port()}")
    message = await refusal(source(mi_config()))
    assert "no managed identity endpoint answers" in message
    assert "not running in Azure, or the identity is not enabled" in message


async def test_an_identity_endpoint_that_does_not_answer_is_named(
    source: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"http://127.0.0.1:{closed_port()}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
    message = await refusal(source(mi_config()))
    assert "not running in Azure, or the identity is not enabled" in message
    assert "App Service, Functions or Container Apps" in message


@pytest.mark.parametrize("body", ['{"statusCode":401,"message":"Unauthorized"}', ""])
async def test_a_wrong_identity_header_is_refused_without_quoting_it(
    endpoint: IdentityEndpoint, source: Factory, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    endpoint.header_refusal_body = body
    monkeypatch.setenv("IDENTITY_HEADER", "stale-header-value-Zz9")
    message = await refusal(source(mi_config()))
    assert "refused the identity header (HTTP 401" in message
    assert "stale-header-value-Zz9" not in message


async def test_an_unknown_user_assigned_client_id_is_named(
    endpoint: IdentityEndpoint, source: Factory
) -> None:
    unknown = "99999999-8888-7777-6666-555555555555"
    message = await refusal(source(mi_config(client_id=unknown)))
    assert f"does not know the user-assigned identity with client id {unknown}" in message
    assert "HTTP 400: Unable to load the proper Managed Identity." in message
    assert "auth.client_id" in message


async def test_no_system_assigned_identity_says_how_to_turn_it_on(
    endpoint: IdentityEndpoint, source: Factory
) -> None:
    endpoint.system = None
    message = await refusal(source(mi_config()))
    assert "has no system-assigned identity" in message and "System assigned > On" in message


@pytest.mark.parametrize(("fail", "expected"), [
    ((400, "Bad Request: the resource parameter is not valid."),
     "gave no token for the system-assigned identity (HTTP 400: Bad Request: the resource "
     "parameter is not valid.)"),
    ((500, "AADSTS500011: The resource principal was not found in the tenant."),
     "gave no token for the system-assigned identity (HTTP 500: AADSTS500011: The resource "
     "principal was not found in the tenant.)"),
    ((404, "Identity not found"), "has no system-assigned identity"),
])
async def test_other_endpoint_refusals_are_quoted_not_guessed(
    endpoint: IdentityEndpoint, source: Factory, fail: tuple[int, str], expected: str
) -> None:
    endpoint.fail = fail
    assert expected in await refusal(source(mi_config()))


def test_two_user_assigned_selectors_are_a_config_error(source: Factory) -> None:
    with pytest.raises(ConfigError, match="keep one of them"):
        source(mi_config(client_id=USER.client_id, identity_object_id=USER.object_id))


# --- workload identity federation ---------------------------------------------------------


async def test_the_federated_token_is_exchanged_and_read_afresh_each_time(
    authority: FakeAuthority, issuer: FederatedIssuer, source: Factory, tmp_path: Path
) -> None:
    authority.set_expiry(299)  # every request is a new sign-in
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(issuer.mint(), encoding="ascii")
    tokens = source(wi_config(authority, token_file))
    first = await tokens.token()
    token_file.write_text(issuer.mint(), encoding="ascii")  # the platform rotates it
    second = await tokens.token()
    assert [first, second] == authority.issued
    assert authority.assertions == issuer.minted  # each read when it was asked for
    identity = describe_identity(tokens)
    assert identity["object"] == APP_OBJECT_ID and identity["app"] == CLIENT_ID
    assert identity["mode"] == "workload_identity"


async def test_aks_environment_names_the_app_the_tenant_and_the_token_file(
    authority: FakeAuthority, issuer: FederatedIssuer, source: Factory, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(issuer.mint() + "\n", encoding="ascii")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AZURE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("AZURE_TENANT_ID", "contoso.example")
    config = Config().replace("graph", ca_bundle=str(authority.ca_path)).replace(
        "auth", mode="workload_identity")
    # The tenant from AZURE_TENANT_ID reaches the authority; this one is served by the fake.
    config = config.replace("auth", authority=authority.authority("contoso.example"))
    tokens = source(config)
    assert await tokens.token() == authority.issued[0]
    assert authority.assertions == issuer.minted


def test_workload_identity_without_a_client_id_is_a_config_error(
    authority: FakeAuthority, source: Factory
) -> None:
    config = wi_config(authority, "/nowhere", client_id="")
    with pytest.raises(ConfigError, match=r"auth.client_id is not set and neither is the "
                                          r"environment variable AZURE_CLIENT_ID"):
        source(config)


def _write(path: Path, content: bytes | str | None) -> Path:
    if isinstance(content, str):
        path.write_text(content, encoding="ascii")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(("case", "expected"), [
    ("unset", "no federated token: auth.token_file is not set and neither is the environment "
              "variable AZURE_FEDERATED_TOKEN_FILE"),
    ("missing", "is missing: check auth.token_file"),
    ("directory", "cannot read the federated token file"),
    ("empty", "is empty"),
    ("not a jwt", "does not hold a token (a JWT)"),
    ("binary", "does not hold a token (a JWT)"),
    ("huge", "larger than 64 KiB"),
    ("expired", "expired at"),
])
async def test_a_federated_token_that_cannot_be_used_is_one_line_before_anything_is_sent(
    authority: FakeAuthority, issuer: FederatedIssuer, source: Factory, tmp_path: Path,
    case: str, expected: str
) -> None:
    path = tmp_path / "token"
    token_file: Path | None = path
    if case == "unset":
        token_file = None
    elif case == "directory":
        path.mkdir()
    elif case != "missing":
        _write(path, {"empty": "\n", "not a jwt": "hello", "binary": b"\xff\xfe\x00",
                      "huge": "a.b." + "c" * 70_000,
                      "expired": issuer.mint(lifetime=-60)}[case])
    message = await refusal(source(wi_config(authority, token_file)))
    assert expected in message
    assert authority.token_requests["client_credentials"] == 0, "nothing sent"
    for minted in issuer.minted:
        assert minted not in message


@pytest.mark.parametrize(("change", "code", "hint"), [
    ({"issuer": "https://token.actions.githubusercontent.com"}, "AADSTS700211",
     "trusts the token's issuer"),
    ({"subject": "system:serviceaccount:default:other"}, "AADSTS700213",
     "matches the token's subject"),
    ({"audience": "api://some-other-audience"}, "AADSTS700212", "audience"),
    ({"key": "other key"}, "AADSTS50013", "signature"),
])
async def test_a_federated_token_entra_id_refuses_quotes_the_aadsts_code(
    authority: FakeAuthority, issuer: FederatedIssuer, source: Factory, tmp_path: Path,
    change: dict[str, Any], code: str, hint: str
) -> None:
    if change.get("key"):
        from cryptography.hazmat.primitives.asymmetric import rsa

        change = {"key": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
    token_file = _write(tmp_path / "token", issuer.mint(**change))
    message = await refusal(source(wi_config(authority, token_file)))
    assert code in message and hint in message
    assert message.startswith("sign-in refused by 127.0.0.1")
    assert issuer.minted[-1] not in message


async def test_a_token_entra_id_finds_expired_says_the_platform_must_renew_it(
    authority: FakeAuthority, issuer: FederatedIssuer, source: Factory, tmp_path: Path
) -> None:
    # Clocks differ: the file's token looks fresh here, Entra ID finds it out of its window.
    authority.refuse("invalid_client",
                     "AADSTS700024: Client assertion is not within its valid time range.")
    token_file = _write(tmp_path / "token", issuer.mint())
    message = await refusal(source(wi_config(authority, token_file)))
    assert "AADSTS700024" in message and "the platform must renew the token file" in message
