"""Where bearer tokens come from.

The HTTP edge asks a TokenSource for a token before each request, and with ``refresh=True``
once after a 401. Every mode of ``[auth] mode`` is one TokenSource:

    token          StaticToken    a bearer token from an environment variable
    client_secret  AppSignIn      app-only sign-in (MSAL confidential client) with a secret
    certificate    AppSignIn      the same with a certificate (.pfx/.p12, or PEM + thumbprint)
    device_code    PersonSignIn   a person signs in once in a browser; MSAL's token cache is kept
                                  in a file only its owner can read, so later runs sign in silently

MSAL is synchronous (it uses ``requests``), so its calls run in a worker thread, and an
asyncio.Lock makes four workers that need a token at the same moment cause one sign-in.
Error lines name the refusal and how to fix it; they never carry a secret or a token.

Certificates, refusal lines and token claims are in ``credentials.py``, the device code cache
file in ``token_cache.py``; their names stay importable from here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..config import Config
from ..errors import AuthError, ConfigError
from .clouds import get_cloud
from .credentials import describe_refusal, load_certificate, token_claims  # noqa: F401 - kept importable
from .token_cache import TokenCacheFile, token_cache_path

# The tenant of personal Microsoft accounts (outlook.com, hotmail.com ...): Bookings refuses them.
PERSONAL_ACCOUNTS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
# Names that are not one organisation; app-only sign-in needs the tenant that owns the business.
_SHARED_TENANTS = ("common", "organizations")


class TokenSource(Protocol):
    async def token(self, *, refresh: bool = False) -> str: ...


def print_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class StaticToken:
    """A bearer token taken as it is (``mode = "token"``). It cannot be renewed."""

    def __init__(self, value: str) -> None:
        self._value = value

    async def token(self, *, refresh: bool = False) -> str:
        if refresh:
            raise AuthError(
                "Graph refused the bearer token and a fixed token cannot be renewed; "
                "get a fresh token or use auth.mode = \"client_secret\""
            )
        return self._value

    def identity(self) -> dict[str, str]:
        """Who the token says it is, read from its claims (not verified; only for display)."""
        claims = token_claims(self._value)
        found = {
            "tenant": claims.get("tid"),
            "app": claims.get("appid") or claims.get("azp"),
            "account": claims.get("upn") or claims.get("preferred_username"),
        }
        return {"mode": "token", **{k: str(v) for k, v in found.items() if v}}

    def __repr__(self) -> str:  # never show the token
        return "StaticToken(<hidden>)"


def token_from_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is not set (it must hold the bearer token)")
    return value


# --- what a sign-in needs -------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """The sign-in settings resolved from the config. Holds no secret."""

    mode: str
    tenant: str
    client_id: str
    authority: str
    scopes: tuple[str, ...]
    verify: str | bool  # a CA file, or True for the system's trust store; never False
    authority_overridden: bool
    timeout: float

    @property
    def host(self) -> str:
        return self.authority.split("/")[2]


def resolve_sign_in(config: Config) -> SignIn:
    """Check the [auth] keys a sign-in needs and work out the authority and scopes."""
    auth, mode = config.auth, config.auth.mode
    cloud = get_cloud(config.graph.cloud)
    if auth.authority:
        authority = auth.authority.strip().rstrip("/")
        parts = authority.split("/")
        if not authority.startswith("https://") or len(parts) < 4 or not parts[3]:
            raise ConfigError(
                "auth.authority must be a full https:// URL that ends with the tenant, "
                f"like https://{cloud.authority_host}/contoso.onmicrosoft.com, not {authority!r}"
            )
        tenant = parts[3]
    else:
        tenant = auth.tenant_id.strip()
        if not tenant:
            raise ConfigError(
                "auth.tenant_id is not set: use the Directory (tenant) ID or primary domain "
                "shown in Entra ID > Overview"
            )
        authority = cloud.authority(tenant)
    if tenant.lower() == "consumers":
        raise ConfigError(
            "Microsoft Bookings does not support personal Microsoft accounts: set auth.tenant_id "
            "to your organisation's tenant, not 'consumers'"
        )
    if mode != "device_code" and tenant.lower() in _SHARED_TENANTS:
        raise ConfigError(
            f"auth.tenant_id {tenant!r} names no tenant; app-only sign-in needs the tenant "
            "that owns the business (its Directory ID or domain)"
        )
    if not auth.client_id.strip():
        raise ConfigError(
            "auth.client_id is not set: use the Application (client) ID of the app "
            "registration (Entra ID > App registrations > Overview)"
        )
    ca_bundle = config.graph.ca_bundle
    if ca_bundle and not Path(ca_bundle).expanduser().is_file():
        raise ConfigError(f"graph.ca_bundle: CA file {ca_bundle} not found")
    return SignIn(
        mode=mode,
        tenant=tenant,
        client_id=auth.client_id.strip(),
        authority=authority,
        scopes=(cloud.delegated_scope if mode == "device_code" else cloud.scope,),
        verify=str(Path(ca_bundle).expanduser()) if ca_bundle else True,
        authority_overridden=bool(auth.authority),
        timeout=config.limits.timeout,
    )


# --- choosing a source ------------------------------------------------------------------------


def make_token_source(
    config: Config,
    *,
    state_dir: Path | None = None,
    prompt: Callable[[str], None] = print_to_stderr,
    http_client: Any = None,
) -> TokenSource:
    """The TokenSource for ``config.auth.mode``. Checks the config now (ConfigError, exit 2);
    signing in waits for the first ``token()`` call (AuthError, exit 3)."""
    auth = config.auth
    if auth.mode == "token":
        return StaticToken(token_from_env(auth.token_env))
    sign_in = resolve_sign_in(config)
    from .msal_sources import AppSignIn, PersonSignIn
    if auth.mode == "client_secret":
        secret = os.environ.get(auth.client_secret_env, "").strip()
        if not secret:
            raise ConfigError(
                f"environment variable {auth.client_secret_env} is not set (it must hold the "
                "client secret of the app registration; auth.client_secret_env names it)"
            )
        return AppSignIn(sign_in, secret, http_client=http_client)
    if auth.mode == "certificate":
        return AppSignIn(sign_in, load_certificate(auth), http_client=http_client)
    if auth.mode == "device_code":
        cache_file = TokenCacheFile(token_cache_path(config, state_dir))
        cache_file.load()
        return PersonSignIn(sign_in, cache_file, prompt=prompt, http_client=http_client)
    raise ConfigError(f"auth.mode {auth.mode!r} is not known")


def describe_identity(source: object) -> dict[str, str]:
    """Tenant, app and mode of a source, for the `check` verdict. Never a secret."""
    identity = getattr(source, "identity", None)
    return identity() if callable(identity) else {"mode": type(source).__name__}


_MSAL_NAMES = ("AppSignIn", "AuthoritySession", "MSAL_EXPIRY_MARGIN", "PersonSignIn")


def __getattr__(name: str) -> Any:
    """The MSAL sources, still importable from here, imported when first asked for."""
    if name in _MSAL_NAMES:
        from . import msal_sources

        return getattr(msal_sources, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
