"""The MSAL token sources: app-only sign-in (AppSignIn) and a person's (PersonSignIn).

auth.py imports this module only when a sign-in needs it, so msal, requests and cryptography
are imported only by a run that signs in with MSAL: together they take about 0.2 s to import,
paid by every dry run, preview, sandbox and static-token run before.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import msal
import requests
from requests.adapters import HTTPAdapter

from ..errors import AuthError
from .credentials import describe_refusal
from .settings import PERSONAL_ACCOUNTS_TENANT, SignIn
from .token_cache import TokenCacheFile
from .tokens import print_to_stderr

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
            if result.get("refresh_on"):  # a managed identity's token served from MSAL's cache
                lifetime = min(lifetime, float(result["refresh_on"]) - time.time())
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

    def _hidden_values(self) -> tuple[str, ...]:
        """The strings no message may contain (a secret, an assertion, an identity header)."""
        return (self._secret,) if self._secret else ()

    def _redact(self, text: str) -> str:
        for value in self._hidden_values():
            text = text.replace(value, "<hidden>")
        return text


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
