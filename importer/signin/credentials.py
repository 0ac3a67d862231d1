"""What a sign-in presents and what comes back: certificates, refusals, token claims.

``load_certificate`` turns ``auth.certificate_path`` into MSAL's ``client_credential`` and checks
it before any sign-in, so a wrong file or passphrase is a ConfigError (exit 2).
``describe_refusal`` turns an authority's error answer into one line with the fix.
``token_claims`` reads an access token's payload for display and for ``check``; it never
verifies a signature, so nothing it returns may decide access on its own.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

from ..config import AuthSection
from ..errors import ConfigError

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
    # cryptography is imported here, not above: only certificate sign-in needs it.
    from cryptography.hazmat.primitives.serialization import pkcs12

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
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

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
    from cryptography.hazmat.primitives.asymmetric import rsa

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
    # Workload identity federation: the platform's token against the app's federated credentials.
    "AADSTS700211": "no federated credential of the app trusts the token's issuer: add one "
                    "for this issuer (the cluster's OIDC issuer URL, or "
                    "https://token.actions.githubusercontent.com) under Certificates & secrets > "
                    "Federated credentials, or check auth.client_id",
    "AADSTS700212": "the federated token's audience is not the one the federated credential "
                    "expects (api://AzureADTokenExchange): fix the token's audience where the "
                    "platform issues it",
    "AADSTS700213": "no federated credential of the app matches the token's subject: the "
                    "credential's subject must be the token's sub (for AKS "
                    "system:serviceaccount:NAMESPACE:NAME, for GitHub repo:OWNER/REPO:...)",
    "AADSTS70021": "no federated credential of the app matches the token (issuer, subject and "
                   "audience must all match one) under Certificates & secrets > Federated "
                   "credentials",
    "AADSTS700024": "the federated token has expired or is not yet valid: the platform must "
                    "renew the token file (check the clock, and that the file is the projected "
                    "token the platform keeps fresh)",
    "AADSTS50013": "the federated token's signature cannot be verified with its issuer's keys: "
                   "the token file does not hold a token from the issuer the credential names",
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
    "workload_identity": "the federated token is not accepted: add a federated credential for "
                         f"its issuer and subject in {_CERTIFICATES_PAGE}",
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


# --- token claims -----------------------------------------------------------------------------


def token_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT access token, unverified; {} for an opaque token.

    Only for display and advice: Graph verifies the token, the client never needs to.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}
