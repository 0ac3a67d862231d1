"""A fake Microsoft Entra ID sign-in authority, served over HTTPS on 127.0.0.1.

MSAL refuses plain http authorities, so the server presents a certificate from a test CA
(trustme); point ``graph.ca_bundle`` at ``fake.ca_path`` and ``auth.authority`` at
``fake.authority(tenant)``. It serves what MSAL asks for:

    GET  /{tenant}/v2.0/.well-known/openid-configuration
    POST /{tenant}/oauth2/v2.0/devicecode     starts a device code flow
    POST /{tenant}/oauth2/v2.0/token          client_credentials (secret, certificate
                                              assertion or federated token), device_code,
                                              refresh_token

Access tokens are ``tok-1``, ``tok-2``, ... in the order issued. With ``granted`` set they are
JWTs instead, shaped like Entra ID's tokens for Graph: the granted permissions in ``roles``
(app-only) or ``scp`` (delegated), and ``uti`` = ``tok-N``. They are signed with HS256 and a key
nobody checks: clients must never verify Graph's tokens, only Graph does. MSAL is synchronous, so
the server runs in a background thread with its own event loop; ``on_issue`` is called there.

Workload identity federation: ``trust_federated`` registers a federated credential (client id,
issuer, subject, the issuer's public key); an assertion without a certificate thumbprint is then
checked as Entra ID checks a federated token, and refused with its AADSTS codes: 700211 (no
credential for the issuer), 700213 (nor for the subject), 700212 (audience is not
api://AzureADTokenExchange), 700024 (expired), 50013 (signature).
"""

from __future__ import annotations

import base64
import json
import ssl
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
import trustme
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.app_thread import app_in_thread

DEFAULT_TENANT_ID = "4c7f0f3c-2a4e-4d8e-9b1a-6f2d5e3c1b00"
PERSONAL_ACCOUNTS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
DEVICE_CODE_MESSAGE = (
    "To sign in, use a web browser to open the page https://microsoft.com/devicelogin "
    "and enter the code {code} to authenticate."
)
_GRANTS = {
    "client_credentials": "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code": "device_code",
    "refresh_token": "refresh_token",
}
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ACCESS_TOKEN_KEY = "fake-authority-hs256-key-nobody-checks"  # 32+ bytes: PyJWT warns below
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
APP_OBJECT_ID = "7d0c4b4e-5c1f-4a43-9c7e-2b8f0e6a9d11"  # the app's service principal (oid)


@dataclass(frozen=True)
class FederatedCredential:
    client_id: str
    issuer: str
    subject: str
    key: Any  # the issuer's public key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class FakeAuthority:
    """The authority's state. Tests set the public attributes to shape its answers."""

    base_url: str = ""  # https://127.0.0.1:PORT, set when the server runs
    ca_path: Path = Path()
    client_secret: str = "fake-secret-value"  # the one secret accepted
    expires_in: int = 3600
    tid: str = DEFAULT_TENANT_ID  # tenant id in id tokens (PERSONAL_ACCOUNTS_TENANT: outlook.com)
    username: str = "adele@contoso.example"
    pending_polls: int = 1  # "authorization_pending" answers before a device code is signed in
    poll_interval: int = 0  # seconds MSAL waits between polls; 0 polls again at once
    missing_tenants: set[str] = field(default_factory=set)  # discovery answers 400 for these
    # Permissions in the access tokens; None issues opaque tokens (see the module docstring).
    granted: list[str] | None = None
    on_issue: Callable[[str], None] | None = None  # told each access token as it is issued
    # What was served.
    issued: list[str] = field(default_factory=list)
    token_requests: Counter[str] = field(default_factory=Counter)  # per grant, short name
    device_flows: int = 0
    scopes: list[str] = field(default_factory=list)  # the scope of each token request
    assertion_headers: list[dict[str, Any]] = field(default_factory=list)
    federated: list[FederatedCredential] = field(default_factory=list)
    assertions: list[str] = field(default_factory=list)  # federated tokens presented
    _certificates: list[x509.Certificate] = field(default_factory=list)
    _error: tuple[int, str, str] | None = None
    _polls: dict[str, int] = field(default_factory=dict)
    _flow_scopes: dict[str, str] = field(default_factory=dict)  # the token answer names them
    _refresh_tokens: set[str] = field(default_factory=set)

    # --- what tests call -----------------------------------------------------------------

    def authority(self, tenant: str = "contoso.example") -> str:
        return f"{self.base_url}/{tenant}"

    def set_expiry(self, seconds: int) -> None:
        self.expires_in = seconds

    def refuse(self, error: str, description: str = "", status: int = 400) -> None:
        """Answer every token request with this OAuth error until ``accept()``."""
        self._error = (status, error, description)

    def accept(self) -> None:
        self._error = None

    def trust_certificate(self, cert: x509.Certificate) -> None:
        """Register a certificate: assertions must then be signed by its key and name it."""
        self._certificates.append(cert)

    def trust_federated(self, client_id: str, issuer: str, subject: str, key: Any) -> None:
        """Add a federated credential to app ``client_id``: tokens from ``issuer`` (signed by
        ``key``, a public key) for ``subject`` are then accepted as its client assertion."""
        self.federated.append(FederatedCredential(client_id, issuer, subject, key))

    def revoke_refresh_tokens(self) -> None:
        self._refresh_tokens.clear()

    # --- the endpoints -------------------------------------------------------------------

    def routes(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery)
        app.router.add_post("/{tenant}/oauth2/v2.0/devicecode", self._device_code)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        return app

    async def _discovery(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        if tenant in self.missing_tenants:
            return _error(400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found.")
        root = f"{self.base_url}/{tenant}"
        return web.json_response({
            "issuer": f"{self.base_url}/{self.tid}/v2.0",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
        })

    async def _device_code(self, request: web.Request) -> web.Response:
        self.device_flows += 1
        code = f"dc-{self.device_flows}"
        user_code = f"FAKE{self.device_flows:04d}"
        form = await request.post()
        self._polls[code] = 0
        self._flow_scopes[code] = str(form.get("scope", ""))
        self.scopes.append(self._flow_scopes[code])
        return web.json_response({
            "device_code": code,
            "user_code": user_code,
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900,
            "interval": self.poll_interval,
            "message": DEVICE_CODE_MESSAGE.format(code=user_code),
        })

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        grant = _GRANTS.get(form.get("grant_type", ""), form.get("grant_type", "?"))
        self.token_requests[grant] += 1
        self.scopes.append(form.get("scope", ""))
        if self._error:
            return _error(*self._error)
        if grant == "client_credentials":
            refused = self._check_client(form, f"{self.base_url}{request.path}")
            return refused or self._grant(form, delegated=False)
        if grant == "device_code":
            code = form.get("device_code", "")
            if code not in self._polls:
                return _error(400, "invalid_grant", "AADSTS70000: The device code is not valid.")
            self._polls[code] += 1
            if self._polls[code] <= self.pending_polls:
                return _error(400, "authorization_pending", "AADSTS70016: Pending sign-in.")
            del self._polls[code]
            return self._grant({**form, "scope": self._flow_scopes.pop(code)}, delegated=True)
        if grant == "refresh_token":
            if form.get("refresh_token") not in self._refresh_tokens:
                return _error(400, "invalid_grant", "AADSTS700082: The refresh token has expired.")
            self._refresh_tokens.discard(form["refresh_token"])
            return self._grant(form, delegated=True)
        return _error(400, "unsupported_grant_type", f"AADSTS70003: {grant} is not supported.")

    def _check_client(self, form: dict[str, str], token_url: str) -> web.Response | None:
        if "client_secret" in form:
            if form["client_secret"] == self.client_secret:
                return None
            return _error(401, "invalid_client",
                          "AADSTS7000215: Invalid client secret provided. Ensure the secret "
                          "being sent in the request is the client secret value.")
        assertion = form.get("client_assertion", "")
        if form.get("client_assertion_type") != _ASSERTION_TYPE or assertion.count(".") != 2:
            return _error(401, "invalid_client", "AADSTS7000216: client_assertion is required.")
        header = jwt.get_unverified_header(assertion)
        self.assertion_headers.append(header)
        if self.federated and not ("x5t" in header or "x5t#S256" in header):
            return self._check_federated(assertion, form)
        if not ("x5t" in header or "x5t#S256" in header):
            return _error(401, "invalid_client", "AADSTS700027: The assertion names no key.")
        if self._certificates and not self._signed_by_trusted(assertion, header, form, token_url):
            return _error(401, "invalid_client",
                          "AADSTS700027: Client assertion contains an invalid signature.")
        return None

    def _check_federated(self, assertion: str, form: dict[str, str]) -> web.Response | None:
        self.assertions.append(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
        issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
        ours = [c for c in self.federated if c.client_id == form.get("client_id")]
        by_issuer = [c for c in ours if c.issuer == issuer]
        if not by_issuer:
            return _error(400, "invalid_request",
                          "AADSTS700211: No matching federated identity record found for "
                          f"presented assertion issuer '{issuer}'.")
        matching = [c for c in by_issuer if c.subject == subject]
        if not matching:
            return _error(400, "invalid_request",
                          "AADSTS700213: No matching federated identity record found for "
                          f"presented assertion subject '{subject}'.")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if FEDERATION_AUDIENCE not in audiences:
            return _error(400, "invalid_request",
                          "AADSTS700212: No matching federated identity record found for "
                          f"presented assertion audience '{audience}'.")
        try:
            jwt.decode(assertion, matching[0].key, algorithms=["RS256"],
                       audience=FEDERATION_AUDIENCE, issuer=issuer)
        except jwt.ExpiredSignatureError:
            return _error(400, "invalid_client",
                          "AADSTS700024: Client assertion is not within its valid time range.")
        except jwt.InvalidTokenError:
            return _error(401, "invalid_client",
                          "AADSTS50013: Assertion failed signature validation.")
        return None

    def _signed_by_trusted(self, assertion: str, header: dict[str, Any], form: dict[str, str],
                           token_url: str) -> bool:
        for cert in self._certificates:
            names = {_b64(cert.fingerprint(hashes.SHA1())),
                     _b64(cert.fingerprint(hashes.SHA256()))}
            named = {str(header.get(k, "")).rstrip("=") for k in ("x5t", "x5t#S256")}
            if not names & named:  # MSAL keeps the base64 padding, the JOSE specs drop it
                continue
            try:
                key: Any = cert.public_key()  # RSA: the only kind Entra ID accepts
                jwt.decode(assertion, key, algorithms=["RS256", "PS256"], audience=token_url,
                           issuer=form.get("client_id"))
            except jwt.InvalidTokenError:
                return False
            return True
        return False

    def _grant(self, form: dict[str, str], *, delegated: bool) -> web.Response:
        token = f"tok-{len(self.issued) + 1}"
        if self.granted is not None:
            token = self._access_token(token, form.get("client_id", ""), delegated=delegated)
        self.issued.append(token)
        if self.on_issue:
            self.on_issue(token)
        reserved = {"openid", "profile", "offline_access"}
        scope = " ".join(s for s in form.get("scope", "").split() if s not in reserved)
        body: dict[str, Any] = {"token_type": "Bearer", "expires_in": self.expires_in,
                                "ext_expires_in": self.expires_in, "access_token": token,
                                "scope": scope}
        if delegated:
            refresh = f"rt-{len(self.issued)}"
            self._refresh_tokens.add(refresh)
            oid = "00000000-0000-0000-66f3-3332eca7ea81"
            body.update(
                refresh_token=refresh,
                id_token=self._id_token(form.get("client_id", ""), oid),
                client_info=_b64(json.dumps({"uid": oid, "utid": self.tid}).encode()),
            )
        return web.json_response(body)

    def _access_token(self, uti: str, client_id: str, *, delegated: bool) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": "https://graph.microsoft.com", "iss": f"https://sts.windows.net/{self.tid}/",
            "iat": now, "nbf": now, "exp": now + self.expires_in, "tid": self.tid,
            "appid": client_id, "uti": uti, "ver": "1.0",
        }
        if delegated:
            claims.update(scp=" ".join(self.granted or ()), upn=self.username)
        else:
            claims.update(roles=list(self.granted or ()), idtyp="app", oid=APP_OBJECT_ID)
        return jwt.encode(claims, _ACCESS_TOKEN_KEY, algorithm="HS256")

    def _id_token(self, client_id: str, oid: str) -> str:
        now = int(time.time())
        claims = {"iss": f"{self.base_url}/{self.tid}/v2.0", "aud": client_id, "tid": self.tid,
                  "oid": oid, "sub": f"sub-{oid}", "preferred_username": self.username,
                  "name": "Adele Vance", "iat": now, "nbf": now, "exp": now + 3600, "ver": "2.0"}
        header = {"typ": "JWT", "alg": "RS256", "kid": "fake"}
        parts = [_b64(json.dumps(part).encode()) for part in (header, claims)]
        return ".".join([*parts, _b64(b"not-a-signature")])


def _error(status: int, error: str, description: str) -> web.Response:
    # Entra ID appends trace and correlation ids on separate lines; clients must cope.
    text = f"{description}\r\nTrace ID: 0000\r\nCorrelation ID: 0000\r\nTimestamp: 2024-01-01"
    return web.json_response({"error": error, "error_description": text}, status=status)


@contextmanager
def run_fake_authority(directory: Path) -> Iterator[FakeAuthority]:
    """Serve a FakeAuthority on 127.0.0.1 (a free port) until the block ends."""
    ca = trustme.CA()
    fake = FakeAuthority(ca_path=directory / "authority-ca.pem")
    ca.cert_pem.write_to_path(str(fake.ca_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)

    with app_in_thread(fake.routes(), name="fake-authority", ssl_context=context) as base_url:
        fake.base_url = base_url
        yield fake


@pytest.fixture
def fake_authority(tmp_path: Path) -> Iterator[FakeAuthority]:
    with run_fake_authority(tmp_path) as fake:
        yield fake
