"""Stand-ins for sign-in without a secret, served on 127.0.0.1.

``IdentityEndpoint`` answers as the managed identity endpoint of App Service, Functions and
Container Apps does (api-version 2019-08-01): ``GET /msi/token?resource=...`` with the header
``X-IDENTITY-HEADER`` (the value the platform puts in IDENTITY_HEADER) gives
``{"access_token", "expires_on" (epoch seconds, a string), "resource", "token_type",
"client_id"}``; a user-assigned identity is picked by ``client_id``, ``mi_res_id`` or
``object_id``. A wrong header is refused with 401, an identity the resource does not have with
400 "Unable to load the proper Managed Identity.", as Azure answers. The endpoint is plain http,
as Azure's is (it listens on the host itself).

``FederatedIssuer`` plays a platform that hands out federated tokens (AKS's service account
issuer, GitHub's OIDC issuer): RS256 JWTs with ``aud`` ``api://AzureADTokenExchange``; the fake
authority (tests/fake_authority.py) is told to trust it with ``trust_federated``.

Access tokens are JWTs shaped like Entra ID's app-only tokens for Graph (``tid``, ``oid``,
``appid``, ``roles``, ``exp``), signed with a key nobody checks.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.app_thread import app_in_thread
from tests.fake_authority import DEFAULT_TENANT_ID

FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
IDENTITY_HEADER = "fake-identity-header-Xq7-do-not-print"
_KEY = "fake-identity-hs256-key-nobody-checks"
UNKNOWN_IDENTITY = "Unable to load the proper Managed Identity."


@dataclass(frozen=True)
class Identity:
    """A managed identity: its client (application) id, object (principal) id and resource id."""

    client_id: str
    object_id: str
    resource_id: str

    @staticmethod
    def make(name: str) -> Identity:
        return Identity(
            client_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"client/{name}")),
            object_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"object/{name}")),
            resource_id=("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
                         f"rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"),
        )


SYSTEM = Identity.make("system-assigned")
USER = Identity.make("nightly-import")


@dataclass
class IdentityEndpoint:
    """The endpoint's state. Tests set the public attributes to shape its answers."""

    base_url: str = ""  # http://127.0.0.1:PORT, set when it runs
    header: str = IDENTITY_HEADER  # the IDENTITY_HEADER value the endpoint expects
    system: Identity | None = SYSTEM  # None: no system-assigned identity is enabled
    user_assigned: list[Identity] = field(default_factory=lambda: [USER])
    expires_in: int = 3600  # lifetime of each token issued (Azure's are about 24 hours)
    granted: list[str] = field(default_factory=lambda: ["Bookings.ReadWrite.All"])
    header_refusal_body: str = '{"statusCode":401,"message":"Unauthorized"}'
    on_issue: Callable[[str], None] | None = None
    fail: tuple[int, str] | None = None  # answer every request with this status and message
    # What was served.
    issued: list[str] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)
    headers_seen: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.base_url}/msi/token"

    def routes(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/msi/token", self._token)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.queries.append(query)
        self.headers_seen.append(request.headers.get("X-IDENTITY-HEADER", ""))
        if request.headers.get("X-IDENTITY-HEADER") != self.header:
            return web.Response(status=401, text=self.header_refusal_body,
                                content_type="application/json")
        if self.fail:
            return _refuse(*self.fail)
        if query.get("api-version") != "2019-08-01" or not query.get("resource"):
            return _refuse(400, "The request is missing or has an invalid api-version or resource.")
        identity = self._pick(query)
        if identity is None:
            return _refuse(400, UNKNOWN_IDENTITY)
        now = int(time.time())
        token = jwt.encode({
            "aud": query["resource"], "iss": f"https://sts.windows.net/{DEFAULT_TENANT_ID}/",
            "iat": now, "nbf": now, "exp": now + self.expires_in, "tid": DEFAULT_TENANT_ID,
            "oid": identity.object_id, "sub": identity.object_id, "appid": identity.client_id,
            "idtyp": "app", "roles": list(self.granted), "xms_mirid": identity.resource_id,
            "uti": f"mi-{len(self.issued) + 1}", "ver": "1.0",
        }, _KEY, algorithm="HS256")
        self.issued.append(token)
        if self.on_issue:
            self.on_issue(token)
        return web.json_response({
            "access_token": token, "expires_on": str(now + self.expires_in),
            "resource": query["resource"], "token_type": "Bearer",
            "client_id": identity.client_id,
        })

    def _pick(self, query: dict[str, str]) -> Identity | None:
        for key, attr in (("client_id", "client_id"), ("mi_res_id", "resource_id"),
                          ("object_id", "object_id")):
            if key in query:
                wanted = query[key].lower()
                return next((i for i in self.user_assigned
                             if getattr(i, attr).lower() == wanted), None)
        return self.system


def _refuse(status: int, message: str) -> web.Response:
    return web.json_response({"statusCode": status, "message": message,
                              "correlationId": str(uuid.uuid4())}, status=status)


@contextmanager
def run_identity_endpoint() -> Iterator[IdentityEndpoint]:
    """Serve an IdentityEndpoint on 127.0.0.1 (a free port) until the block ends."""
    endpoint = IdentityEndpoint()
    with app_in_thread(endpoint.routes(), name="fake-identity-endpoint") as base_url:
        endpoint.base_url = base_url
        yield endpoint


class FederatedIssuer:
    """A platform's token issuer: signs federated tokens with its own RSA key."""

    def __init__(self, issuer: str = "https://oidc.aks.example/4c7f0f3c/",
                 subject: str = "system:serviceaccount:bookings:importer") -> None:
        self.issuer = issuer
        self.subject = subject
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.minted: list[str] = []

    def mint(self, *, lifetime: int = 3600, subject: str | None = None,
             audience: str = FEDERATION_AUDIENCE, issuer: str | None = None,
             key: Any = None) -> str:
        now = int(time.time())
        token = jwt.encode({
            "iss": issuer or self.issuer, "sub": subject or self.subject, "aud": [audience],
            "iat": now - 5, "nbf": now - 5, "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
        }, key or self.key, algorithm="RS256", headers={"kid": "issuer-key-1"})
        self.minted.append(token)
        return token
