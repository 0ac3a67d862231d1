"""Sign-in without a secret: a managed identity, or workload identity federation.

``ManagedIdentitySignIn`` asks the host's identity endpoint for a Graph token through MSAL's
``ManagedIdentityClient``, which finds the endpoint in the environment as Azure sets it (App
Service, Functions and Container Apps: IDENTITY_ENDPOINT and IDENTITY_HEADER; a virtual machine:
the instance metadata service; Azure Arc, Service Fabric, Machine Learning) and keeps its tokens
in a token cache of its own, in memory, renewing them five minutes before they expire.

``WorkloadIdentitySignIn`` is app-only sign-in whose credential is the platform's own token (AKS
projects one into a file and rotates it; GitHub Actions hands one out): MSAL calls
``FederatedToken`` at each token request, which reads the file afresh and checks it is there,
readable, a token and unexpired before it is sent as the ``client_assertion``.

Neither the identity header, nor the federated token, nor an access token is ever part of a
message: the endpoint's answer is read for its status and message only, and the values are
replaced in any line that might quote them.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import msal
import requests

from ..errors import AuthError
from .credentials import token_claims
from .msal_sources import AppSignIn, AuthoritySession, _MsalSource
from .settings import TOKEN_FILE_ENV, ManagedIdentitySettings, SignIn

# The platform's federated token is a JWT of a few kilobytes; a larger file is not one.
MAX_FEDERATED_TOKEN_BYTES = 64 * 1024
# An identity endpoint is on the host itself: it answers at once or is not there.
IDENTITY_CONNECT_TIMEOUT = 5.0
IMDS = "http://169.254.169.254"
# Environment variables whose values no message may quote.
_HIDDEN_ENV = ("IDENTITY_HEADER", "MSI_SECRET")


def _claims_shown(token: str) -> dict[str, str]:
    """Who a token is for, from its claims (unverified, for display only): never the token."""
    claims = token_claims(token)
    found = {"tenant": claims.get("tid"), "app": claims.get("appid") or claims.get("azp"),
             "object": claims.get("oid")}
    return {k: str(v) for k, v in found.items() if v}


# --- managed identity -----------------------------------------------------------------------


class IdentityEndpointSession(AuthoritySession):
    """How MSAL talks to the identity endpoint: a short connect timeout, the last status kept
    (MSAL folds every refusal into one error name), no redirects and no proxies, so that the
    identity header goes to the endpoint and nowhere else."""

    def __init__(self, verify: str | bool, timeout: float) -> None:
        super().__init__(verify, timeout)
        self.trust_env = False  # no HTTP(S)_PROXY: the endpoint is this host's own
        self.last_status: int | None = None

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", (min(IDENTITY_CONNECT_TIMEOUT, self._timeout), self._timeout))
        kwargs["allow_redirects"] = False
        response = super().request(method, url, *args, **kwargs)
        self.last_status = response.status_code
        return response


def identity_endpoint() -> tuple[str, str]:
    """(what kind of host, the endpoint's URL) as MSAL will find them in the environment."""
    from msal import managed_identity as mi

    source = mi.get_managed_identity_source()
    env = os.environ
    if source is mi.SERVICE_FABRIC:
        return "Service Fabric", env["IDENTITY_ENDPOINT"]
    if source is mi.APP_SERVICE:
        return "App Service, Functions or Container Apps", env["IDENTITY_ENDPOINT"]
    if source is mi.MACHINE_LEARNING:
        return "Azure Machine Learning", env["MSI_ENDPOINT"]
    if source is mi.AZURE_ARC:
        return "Azure Arc", mi._get_arc_endpoint() or "the Arc agent"
    host = env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST", IMDS).strip("/")
    return "virtual machine (instance metadata service)", f"{host}/metadata/identity/oauth2/token"


def _endpoint_message(result: dict[str, Any]) -> str:
    """The endpoint's own words from an MSAL error answer, without MSAL's "400, " prefix."""
    text = str(result.get("error_description") or "")
    first = text.splitlines()[0] if text else ""
    first = re.sub(r"^(\d{3}|None),\s*", "", first).strip()
    return "" if first in ("", "None") else first[:200]


class ManagedIdentitySignIn(_MsalSource):
    """App-only sign-in as the host's managed identity (``auth.mode = "managed_identity"``)."""

    def __init__(self, settings: ManagedIdentitySettings, *, http_client: Any = None) -> None:
        sign_in = settings.sign_in
        super().__init__(sign_in, http_client or IdentityEndpointSession(sign_in.verify,
                                                                           sign_in.timeout))
        self.settings = settings
        self._cache = msal.TokenCache()  # its own, in memory: tokens reused and renewed
        self._claims: dict[str, str] = {}
        self._kind, self._endpoint = identity_endpoint()

    @property
    def _managed_identity(self) -> Any:
        s = self.settings
        if s.kind == "client id":
            return msal.UserAssignedManagedIdentity(client_id=s.id)
        if s.kind == "resource id":
            return msal.UserAssignedManagedIdentity(resource_id=s.id)
        if s.kind == "object id":
            return msal.UserAssignedManagedIdentity(object_id=s.id)
        return msal.SystemAssignedManagedIdentity()

    def _build(self) -> Any:
        return msal.ManagedIdentityClient(self._managed_identity, http_client=self._http_client,
                                          token_cache=self._cache)

    def _acquire(self, app: Any, refresh: bool, abandoned: threading.Event) -> dict[str, Any]:
        if refresh:  # Graph has just refused the cached token: forget it
            kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
            for entry in list(self._cache.search(kind)):
                self._cache.remove_at(entry)
        resource = self.sign_in.scopes[0]
        return dict(app.acquire_token_for_client(resource=resource))

    def _hidden_values(self) -> tuple[str, ...]:
        return tuple(v for v in (os.environ.get(name, "") for name in _HIDDEN_ENV) if v)

    @property
    def _who(self) -> str:
        s = self.settings
        return "the system-assigned identity" if s.kind == "system-assigned" else (
            f"the user-assigned identity with {s.kind} {s.id}")

    def _token_blocking(self, refresh: bool, abandoned: threading.Event) -> str:
        session = self._http_client
        if isinstance(session, IdentityEndpointSession):
            session.last_status = None
        try:
            if self._app is None:
                self._app = self._build()
            result = self._acquire(self._app, refresh, abandoned)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout):
            raise AuthError(
                f"no managed identity endpoint answers at {self._endpoint} ({self._kind}): not "
                "running in Azure, or the identity is not enabled: turn it on under the "
                "resource's Identity page, or use another auth.mode outside Azure"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise AuthError(
                f"cannot reach the managed identity endpoint {self._endpoint} "
                f"({type(exc).__name__})"
            ) from None
        except ValueError as exc:  # not JSON, or MSAL's ManagedIdentityError
            status = getattr(session, "last_status", None)
            if status is not None and status >= 400:
                result = {}  # an answer that is not JSON: its status says what it is
            else:
                line = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
                raise AuthError(self._redact(f"managed identity sign-in failed: {line}")) from None
        token = result.get("access_token")
        if not token:
            self._held = ""
            line = self._refusal(result, getattr(session, "last_status", None))
            raise AuthError(self._redact(line))
        self._claims = _claims_shown(str(token))
        self._hold(str(token), result)
        return str(token)

    def _refusal(self, result: dict[str, Any], status: int | None) -> str:
        said = _endpoint_message(result)
        code = f"HTTP {status}" if status else str(result.get("error") or "no token")
        quoted = f"{code}: {said}" if said else code
        where = f"the managed identity endpoint {self._endpoint} ({self._kind})"
        user_assigned = self.settings.kind != "system-assigned"
        # "Unable to load the proper Managed Identity.", "Identity not found", "No MSI found
        # for specified ClientId/ResourceId.": the identity, not the request, is the problem.
        about_identity = not said or re.search(r"identity|\bMSI\b", said, re.IGNORECASE)
        if status in (401, 403) and "IDENTITY_HEADER" in os.environ:
            return (f"{where} refused the identity header ({quoted}): IDENTITY_HEADER is not the "
                    "value the platform gave this process; do not set IDENTITY_HEADER or "
                    "IDENTITY_ENDPOINT yourself, and restart the app or job to get fresh ones")
        if status in (400, 404) and about_identity and user_assigned:
            key = ("auth.identity_object_id" if self.settings.kind == "object id"
                   else "auth.client_id")
            return (f"{where} does not know {self._who} ({quoted}): assign that identity to "
                    f"this resource (its Identity page > User assigned), or check {key} (the "
                    "identity's Client ID; an Object (principal) ID goes in "
                    "auth.identity_object_id)")
        if status in (400, 404) and about_identity:
            return (f"{where} has no system-assigned identity for this resource ({quoted}): "
                    "turn it on (Identity > System assigned > On), or set auth.client_id to the "
                    "client id of a user-assigned identity the resource has")
        return f"{where} gave no token for {self._who} ({quoted})"

    def identity(self) -> dict[str, str]:
        s = self.settings
        shown = "system-assigned" if s.kind == "system-assigned" else f"user-assigned, {s.kind} {s.id}"
        return {"mode": "managed_identity", "identity": shown, "endpoint": self._endpoint,
                **self._claims}

    def __repr__(self) -> str:
        return f"ManagedIdentitySignIn({self.identity()['identity']!r}, endpoint={self._endpoint!r})"


# --- workload identity federation -----------------------------------------------------------


class FederatedToken:
    """The platform's federated token, read from its file each time MSAL needs an assertion.

    Every problem is an AuthError (exit 3) naming the file and what to fix; the token itself is
    never part of a message. ``last`` is the token most recently read, for redaction only.
    """

    def __init__(self, token_file: str) -> None:
        self._configured = token_file
        self.last = ""

    def path(self) -> Path:
        named = self._configured or os.environ.get(TOKEN_FILE_ENV, "").strip()
        if not named:
            raise AuthError(
                f"no federated token: auth.token_file is not set and neither is the environment "
                f"variable {TOKEN_FILE_ENV} (in AKS, label the pod "
                "azure.workload.identity/use: \"true\" and give it a service account annotated "
                "with azure.workload.identity/client-id)"
            )
        return Path(named).expanduser()

    def __call__(self) -> str:
        path = self.path()
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FEDERATED_TOKEN_BYTES + 1)
        except FileNotFoundError:
            raise AuthError(
                f"the federated token file {path} is missing: check auth.token_file (or "
                f"{TOKEN_FILE_ENV}) and that the platform mounts the token there"
            ) from None
        except OSError as exc:
            raise AuthError(
                f"cannot read the federated token file {path}: {exc.strerror or exc}: the "
                "account that runs the import must be able to read it"
            ) from None
        if len(data) > MAX_FEDERATED_TOKEN_BYTES:
            raise AuthError(f"the federated token file {path} is larger than "
                            f"{MAX_FEDERATED_TOKEN_BYTES // 1024} KiB: it holds no token")
        try:
            token = data.decode("ascii").strip()
        except UnicodeDecodeError:
            raise AuthError(f"the federated token file {path} does not hold a token "
                            "(a JWT)") from None
        if not token:
            raise AuthError(f"the federated token file {path} is empty: the platform has not "
                            "written the token (yet)")
        self.last = token
        claims = token_claims(token)
        if not claims:
            raise AuthError(f"the federated token file {path} does not hold a token (a JWT)")
        expires = claims.get("exp")
        if isinstance(expires, (int, float)) and expires <= time.time():
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(expires))
            raise AuthError(
                f"the federated token in {path} expired at {when}: the platform has stopped "
                "renewing it (in AKS the projected service account token is renewed while the "
                "pod runs; a copied token file expires)"
            )
        return token

    def __repr__(self) -> str:
        return f"FederatedToken({self._configured or '$' + TOKEN_FILE_ENV!r})"


class WorkloadIdentitySignIn(AppSignIn):
    """App-only sign-in whose client assertion is the platform's federated token."""

    def __init__(self, sign_in: SignIn, token_file: str, *, http_client: Any = None) -> None:
        self.federated = FederatedToken(token_file)
        super().__init__(sign_in, {"client_assertion": self.federated}, http_client=http_client)
        self._claims: dict[str, str] = {}

    def _hidden_values(self) -> tuple[str, ...]:
        return (self.federated.last,) if self.federated.last else ()

    def _token_blocking(self, refresh: bool, abandoned: threading.Event) -> str:
        token = super()._token_blocking(refresh, abandoned)
        self._claims = _claims_shown(token)
        return token

    def identity(self) -> dict[str, str]:
        return {**super().identity(), **self._claims}

    def __repr__(self) -> str:
        return (f"WorkloadIdentitySignIn(tenant={self.sign_in.tenant!r}, "
                f"app={self.sign_in.client_id!r}, {self.federated!r})")
