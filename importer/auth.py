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
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import msal
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from requests.adapters import HTTPAdapter

from .clouds import get_cloud
from .config import AuthSection, Config
from .errors import AuthError, ConfigError

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
        claims = _jwt_claims(self._value)
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
        self._app: Any = None
        self._secret = ""  # the one string no message may contain

    async def token(self, *, refresh: bool = False) -> str:
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
            line = describe_refusal(result, self.sign_in.mode, host)
            raise AuthError(self._redact(line))
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


class TokenCacheFile:
    """MSAL's token cache kept in a file that only its owner may read: it holds refresh tokens."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cache = msal.SerializableTokenCache()

    def load(self) -> None:
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ConfigError(f"cannot read token cache {self.path}: {exc.strerror}") from None
        if os.name == "posix" and mode & 0o077:
            raise ConfigError(
                f"token cache {self.path} can be read by other users and it holds sign-in "
                f"tokens: run chmod 600 {self.path}"
            )
        try:
            self.cache.deserialize(self.path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read token cache {self.path}: {exc.strerror}") from None
        except ValueError:
            raise ConfigError(
                f"token cache {self.path} is damaged: delete it and sign in again"
            ) from None

    def save(self) -> None:
        """Write the cache if it changed: a new 0600 file renamed over the old one, so a crash
        never leaves half a file and the tokens are never readable by others, not even briefly."""
        if not self.cache.has_state_changed:
            return
        data = self.cache.serialize()
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise

    def __repr__(self) -> str:
        return f"TokenCacheFile({str(self.path)!r})"


# --- certificates -----------------------------------------------------------------------------

_PEM_KEY = re.compile(
    rb"-----BEGIN ((?:[A-Z]+ )*PRIVATE KEY)-----.+?-----END \1-----", re.DOTALL
)


def load_certificate(auth: AuthSection) -> dict[str, Any]:
    """MSAL's client_credential for ``auth.certificate_path``, checked now so that a wrong file
    or passphrase is one clear line (exit 2) instead of an error deep inside a sign-in."""
    if not auth.certificate_path.strip():
        raise ConfigError(
            "auth.certificate_path is not set: point it at the app's certificate "
            "(a .pfx/.p12 file, or a PEM private key)"
        )
    path = Path(auth.certificate_path.strip()).expanduser()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"auth.certificate_path: {path} not found") from None
    except OSError as exc:
        raise ConfigError(f"auth.certificate_path: cannot read {path}: {exc.strerror}") from None
    env = auth.certificate_passphrase_env
    passphrase = os.environ.get(env) or None
    if b"-----BEGIN" in data:
        return _pem_credential(path, data, passphrase, auth.certificate_thumbprint, env)
    return _pfx_credential(path, data, passphrase, env)


def _pfx_credential(path: Path, data: bytes, passphrase: str | None, env: str) -> dict[str, Any]:
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(
            data, passphrase.encode() if passphrase else None
        )
    except ValueError:
        why = (f"the passphrase in {env} is wrong" if passphrase
               else f"it needs a passphrase: put it in environment variable {env}")
        raise ConfigError(
            f"auth.certificate_path: cannot open {path}: {why} (or it is not a .pfx/.p12 file)"
        ) from None
    if key is None or cert is None:
        raise ConfigError(
            f"auth.certificate_path: {path} must hold both the private key and the certificate"
        )
    _require_rsa(key, path)
    # public_certificate=True sends the certificate chain (x5c) too, which also allows
    # subject-name/issuer authentication; msal signs with the SHA-256 thumbprint (x5t#S256).
    credential: dict[str, Any] = {"private_key_pfx_path": str(path), "public_certificate": True}
    if passphrase:
        credential["passphrase"] = passphrase
    return credential


def _pem_credential(path: Path, data: bytes, passphrase: str | None, thumbprint: str,
                    env: str) -> dict[str, Any]:
    found = _PEM_KEY.search(data)
    if not found:
        raise ConfigError(
            f"auth.certificate_path: {path} holds no PEM private key "
            "(-----BEGIN PRIVATE KEY-----); give the key file or a .pfx"
        )
    key_pem = found.group()
    # A passphrase left in the environment must not break an unencrypted key.
    encrypted = b"ENCRYPTED" in key_pem
    try:
        key = serialization.load_pem_private_key(
            key_pem, passphrase.encode() if passphrase and encrypted else None
        )
    except (ValueError, TypeError):
        why = (f"the passphrase in {env} is wrong" if passphrase
               else f"the key is encrypted: put its passphrase in environment variable {env}")
        raise ConfigError(f"auth.certificate_path: cannot read the key in {path}: {why}") from None
    _require_rsa(key, path)
    thumbprint = re.sub(r"[\s:]", "", thumbprint).lower()
    if not thumbprint:
        try:
            cert = x509.load_pem_x509_certificate(data)
        except ValueError:
            raise ConfigError(
                "auth.certificate_thumbprint is not set: copy it from Entra ID > App "
                "registrations > Certificates & secrets, or add the certificate to "
                f"{path} (PEM)"
            ) from None
        thumbprint = cert.fingerprint(hashes.SHA1()).hex()  # what Entra ID shows and expects
    if not re.fullmatch(r"[0-9a-f]{40}", thumbprint):
        raise ConfigError(
            "auth.certificate_thumbprint must be the certificate's SHA-1 thumbprint: "
            "40 hexadecimal digits"
        )
    credential: dict[str, Any] = {"private_key": key_pem.decode("ascii"), "thumbprint": thumbprint}
    if passphrase and encrypted:
        credential["passphrase"] = passphrase
    return credential


def _require_rsa(key: object, path: Path) -> None:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(
            f"auth.certificate_path: the key in {path} is not RSA; Entra ID signs in "
            "applications with RSA certificates only"
        )


# --- refusals ---------------------------------------------------------------------------------

_CERTIFICATES_PAGE = "Entra ID > App registrations > Certificates & secrets"
# Entra ID's own codes (AADSTS...) say more than the OAuth error; checked first.
_AADSTS_HINTS = {
    "AADSTS7000215": "the client secret is wrong: use the secret's Value (not its ID) from "
                     f"{_CERTIFICATES_PAGE}",
    "AADSTS7000222": f"the client secret has expired: create a new one in {_CERTIFICATES_PAGE}",
    "AADSTS700027": f"the certificate is not registered for this app or has expired: upload it "
                    f"in {_CERTIFICATES_PAGE}",
    "AADSTS700016": "no app with this client id in the tenant: check auth.client_id and "
                    "auth.tenant_id",
    "AADSTS90002": "the tenant was not found: check auth.tenant_id and graph.cloud",
    "AADSTS7000218": "the app does not allow device code sign-in: turn on 'Allow public "
                     "client flows' in Entra ID > App registrations > Authentication",
    "AADSTS65001": "the permission has not been granted: an admin must consent to "
                   "BookingsAppointment.ReadWrite.All in Entra ID > App registrations > "
                   "API permissions",
}
_ERROR_HINTS = {
    "unauthorized_client": "the app registration does not allow this sign-in: check "
                           "auth.client_id and the app's supported account types",
    "invalid_scope": "the scope was refused: check that graph.cloud is your tenant's cloud",
    "invalid_grant": "the saved sign-in is no longer valid: run again to sign in",
    "authorization_declined": "the sign-in was declined in the browser",
    "expired_token": "the code expired before the sign-in was finished: run again and enter "
                     "the code sooner",
    "access_denied": "the sign-in was denied",
}
_INVALID_CLIENT_HINTS = {
    "client_secret": f"the client secret is wrong or expired: create a new one in "
                     f"{_CERTIFICATES_PAGE}",
    "certificate": f"the certificate is not accepted: upload it in {_CERTIFICATES_PAGE} "
                   "and check auth.certificate_thumbprint",
}


def describe_refusal(answer: dict[str, Any], mode: str, host: str) -> str:
    """One line for an MSAL error answer: the codes and how to fix it. Only the error fields
    are read, never the whole answer (which might hold a token)."""
    error = str(answer.get("error") or "no_token")
    description = str(answer.get("error_description") or "")
    code = re.search(r"AADSTS\d+", description)
    aadsts = code.group() if code else ""
    hint = _AADSTS_HINTS.get(aadsts) or _ERROR_HINTS.get(error)
    if error == "invalid_client" and not hint:
        hint = _INVALID_CLIENT_HINTS.get(mode)
    if not hint:  # the authority's own first sentence, without its trace and correlation ids
        first = description.splitlines()[0] if description else "no reason given"
        hint = re.sub(r"^AADSTS\d+:\s*", "", first)[:300]
    codes = f"{error}, {aadsts}" if aadsts else error
    return f"sign-in refused by {host} ({codes}): {hint}"


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
        cache_file = TokenCacheFile(_token_cache_path(config, state_dir))
        cache_file.load()
        return PersonSignIn(sign_in, cache_file, prompt=prompt, http_client=http_client)
    raise ConfigError(f"auth.mode {auth.mode!r} is not known")


def describe_identity(source: object) -> dict[str, str]:
    """Tenant, app and mode of a source, for the `check` verdict. Never a secret."""
    identity = getattr(source, "identity", None)
    return identity() if callable(identity) else {"mode": type(source).__name__}


def _token_cache_path(config: Config, state_dir: Path | None) -> Path:
    if config.auth.token_cache:
        return Path(config.auth.token_cache).expanduser()
    if state_dir is None:
        if config.state.dir:
            state_dir = Path(config.state.dir).expanduser()
        else:
            import platformdirs  # only device_code without a state dir needs it

            state_dir = platformdirs.user_state_path("bookings-import")
    return state_dir / "token-cache.json"


def _jwt_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}
