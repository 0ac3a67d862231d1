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

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import msal
import requests
from requests.adapters import HTTPAdapter

from .clouds import get_cloud
from .config import Config
from .credentials import describe_refusal, load_certificate, token_claims
from .errors import AuthError, ConfigError
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


# MSAL treats an access token as expired this many seconds before it is.
MSAL_EXPIRY_MARGIN = 300


class AuthoritySession(requests.Session):
    """The HTTP client MSAL talks through: requests as MSAL sets it up, plus two fixes.

    Every request gets a timeout, and graph.ca_bundle wins over REQUESTS_CA_BUNDLE: plain
    requests lets that environment variable replace a session's ``verify`` (psf/requests#3829),
    which would silently ignore the configured CA file. Verification is never turned off.
    """

    def __init__(self, verify: str | bool, timeout: float) -> None:
        super().__init__()
        self.verify = verify
        self._timeout = timeout
        adapter = HTTPAdapter(max_retries=1)  # MSAL's own default: retry a dropped connection once
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> dict[str, Any]:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if isinstance(self.verify, str):
            settings["verify"] = self.verify
        return settings


# --- the MSAL sources ------------------------------------------------------------------------


class _MsalSource:
    """What the MSAL sources share: lazy setup, one lock, a worker thread, one-line errors."""

    def __init__(self, sign_in: SignIn, http_client: Any = None) -> None:
        self.sign_in = sign_in
        self._http_client = http_client or AuthoritySession(sign_in.verify, sign_in.timeout)
        self._lock = asyncio.Lock()
        self._renewals = 0
        self._held = ""  # the last token MSAL gave, while it is fresh (see _hold)
        self._held_until = 0.0
        self._app: Any = None
        self._secret = ""  # the one string no message may contain

    async def token(self, *, refresh: bool = False) -> str:
        # Served from memory while MSAL would serve it from its cache: asking MSAL means a
        # worker thread and this lock for every request, which serialised all of them.
        if not refresh and self._held and time.monotonic() < self._held_until:
            return self._held
        if refresh:
            self._held = ""  # refused by Graph: the others wait for the renewal, not reuse it
        renewals_seen = self._renewals
        async with self._lock:
            if refresh and self._renewals != renewals_seen:
                # Another worker renewed the token while this one waited for the lock: every
                # worker that saw the same 401 gets that one new token, not a sign-in each.
                refresh = False
            abandoned = threading.Event()
            try:
                token = await asyncio.to_thread(self._token_blocking, refresh, abandoned)
            except asyncio.CancelledError:
                # The thread cannot be stopped, but a device code sign-in polls for up to
                # 15 minutes and would hold up the end of the run: tell it to give up.
                abandoned.set()
                raise
            if refresh:
                self._renewals += 1
            return token

    def _hold(self, token: str, result: dict[str, Any]) -> None:
        """Keep ``token`` until MSAL itself would fetch a new one: five minutes before it
        expires, or at its ``refresh_in`` when the authority gave one."""
        try:
            lifetime = float(result.get("expires_in") or 0) - MSAL_EXPIRY_MARGIN
            if result.get("refresh_in"):
                lifetime = min(lifetime, float(result["refresh_in"]))
        except (TypeError, ValueError):
            lifetime = 0.0
        self._held = token if lifetime > 0 else ""
        self._held_until = time.monotonic() + lifetime

    def close(self) -> None:
        if isinstance(self._http_client, requests.Session):
            self._http_client.close()

    def identity(self) -> dict[str, str]:
        s = self.sign_in
        return {"mode": s.mode, "tenant": s.tenant, "app": s.client_id, "authority": s.authority}

    def _build(self) -> Any:
        raise NotImplementedError

    def _acquire(self, app: Any, refresh: bool, abandoned: threading.Event) -> dict[str, Any]:
        raise NotImplementedError

    def _msal_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"authority": self.sign_in.authority,
                                   "http_client": self._http_client}
        if self.sign_in.authority_overridden:
            options["instance_discovery"] = False  # a private authority is unknown to Microsoft
        return options

    def _token_blocking(self, refresh: bool, abandoned: threading.Event) -> str:
        host = self.sign_in.host
        try:
            if self._app is None:
                self._app = self._build()  # fetches the authority's OpenID configuration
            result = self._acquire(self._app, refresh, abandoned)
        except requests.exceptions.SSLError:
            raise AuthError(
                f"cannot verify the TLS certificate of the sign-in authority {host}: "
                "if a proxy inspects TLS, set graph.ca_bundle to its CA file"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise AuthError(
                f"cannot reach the sign-in authority {host} ({type(exc).__name__}): "
                "check the network, proxy settings and graph.cloud"
            ) from None
        except json.JSONDecodeError:
            raise AuthError(
                f"the sign-in authority {host} answered with something that is not JSON "
                "(a proxy's page?)"
            ) from None
        except ValueError as exc:
            if "authority configuration" in str(exc) or "OIDC Discovery" in str(exc):
                raise AuthError(
                    f"the sign-in authority {host} does not know tenant {self.sign_in.tenant!r}: "
                    "check auth.tenant_id and graph.cloud"
                ) from None
            line = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            raise AuthError(f"sign-in failed: {self._redact(line)}") from None
        token = result.get("access_token")
        if not token:
            self._held = ""
            line = describe_refusal(result, self.sign_in.mode, host)
            raise AuthError(self._redact(line))
        self._hold(str(token), result)
        return str(token)

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "<hidden>") if self._secret else text


class AppSignIn(_MsalSource):
    """App-only sign-in (client credentials) with a client secret or a certificate.

    MSAL serves the token from its memory cache until five minutes before it expires and then
    fetches a new one, so a long run renews on its own.
    """

    def __init__(self, sign_in: SignIn, credential: str | dict[str, Any], *,
                 http_client: Any = None) -> None:
        super().__init__(sign_in, http_client)
        self._credential = credential
        if isinstance(credential, str):
            self._secret = credential

    def _build(self) -> Any:
        return msal.ConfidentialClientApplication(
            self.sign_in.client_id, client_credential=self._credential, **self._msal_options()
        )

    def _acquire(self, app: Any, refresh: bool, abandoned: threading.Event) -> dict[str, Any]:
        if refresh:
            # msal 1.39 refuses force_refresh for client credentials, so forget the cached
            # token: Graph has just refused it (revoked, or consent changed).
            cache = app.token_cache
            kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
            for entry in list(cache.search(kind, query={"client_id": self.sign_in.client_id})):
                cache.remove_at(entry)
        return app.acquire_token_for_client(scopes=list(self.sign_in.scopes))

    def __repr__(self) -> str:
        kind = "secret" if isinstance(self._credential, str) else "certificate"
        return (f"AppSignIn(tenant={self.sign_in.tenant!r}, app={self.sign_in.client_id!r}, "
                f"credential=<{kind} hidden>)")


class PersonSignIn(_MsalSource):
    """Delegated sign-in with a device code: a person signs in at a browser, once.

    The token cache (with the refresh token) lives in a file; later runs sign in silently
    from it and only ask the person again when the refresh token is gone or refused.
    """

    def __init__(self, sign_in: SignIn, cache_file: TokenCacheFile, *,
                 prompt: Callable[[str], None] = print_to_stderr, http_client: Any = None) -> None:
        super().__init__(sign_in, http_client)
        self.cache_file = cache_file
        self._prompt = prompt
        self._account = ""

    def _build(self) -> Any:
        return msal.PublicClientApplication(
            self.sign_in.client_id, token_cache=self.cache_file.cache, **self._msal_options()
        )

    def _acquire(self, app: Any, refresh: bool, abandoned: threading.Event) -> dict[str, Any]:
        scopes = list(self.sign_in.scopes)
        accounts = [a for a in app.get_accounts() if a.get("realm") != PERSONAL_ACCOUNTS_TENANT]
        result = None
        if accounts:
            result = app.acquire_token_silent(scopes, account=accounts[0], force_refresh=refresh)
            self._account = accounts[0].get("username", "")
        if not result:
            flow = app.initiate_device_flow(scopes=scopes)
            if "user_code" not in flow or abandoned.is_set():
                return flow  # an error answer, or nobody waits for the sign-in any more
            self._prompt(flow["message"])  # runs in the worker thread; print is fine there
            result = app.acquire_token_by_device_flow(
                flow, exit_condition=lambda f: abandoned.is_set() or f["expires_at"] < time.time()
            )
        claims = result.get("id_token_claims") or {}
        if claims.get("tid") == PERSONAL_ACCOUNTS_TENANT:
            # Not saved: the next run must ask again, for a work or school account.
            raise AuthError(
                "the account signed in is a personal Microsoft account (tenant "
                f"{PERSONAL_ACCOUNTS_TENANT}); Microsoft Bookings needs a work or school account"
            )
        if "access_token" in result:
            self._account = claims.get("preferred_username") or self._account
            self.cache_file.save()
        return result

    def identity(self) -> dict[str, str]:
        found = super().identity()
        return {**found, "account": self._account} if self._account else found

    def __repr__(self) -> str:
        return (f"PersonSignIn(tenant={self.sign_in.tenant!r}, app={self.sign_in.client_id!r}, "
                f"cache={str(self.cache_file.path)!r})")


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
