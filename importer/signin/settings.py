"""What a sign-in needs, resolved and checked from the config before anything is sent."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..errors import ConfigError
from .clouds import get_cloud

# The tenant of personal Microsoft accounts (outlook.com, hotmail.com ...): Bookings refuses them.
PERSONAL_ACCOUNTS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
# What AKS workload identity (and other federated platforms) put in a pod's environment; used
# when the [auth] keys are absent.
CLIENT_ID_ENV = "AZURE_CLIENT_ID"
TENANT_ID_ENV = "AZURE_TENANT_ID"
TOKEN_FILE_ENV = "AZURE_FEDERATED_TOKEN_FILE"
# Names that are not one organisation; app-only sign-in needs the tenant that owns the business.
_SHARED_TENANTS = ("common", "organizations")


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


def resolve_workload_identity(config: Config) -> tuple[SignIn, str]:
    """The sign-in settings of ``workload_identity``, and where the federated token file is
    named: ``auth.token_file``, else the environment. Tenant and client id fall back on
    AZURE_TENANT_ID and AZURE_CLIENT_ID, as AKS sets them."""
    auth = config.auth
    fallbacks = {}
    if not auth.tenant_id.strip() and not auth.authority:
        fallbacks["tenant_id"] = os.environ.get(TENANT_ID_ENV, "").strip()
    if not auth.client_id.strip():
        fallbacks["client_id"] = os.environ.get(CLIENT_ID_ENV, "").strip()
    try:
        sign_in = resolve_sign_in(config.replace("auth", **fallbacks) if fallbacks else config)
    except ConfigError as exc:
        for key, env in (("tenant_id", TENANT_ID_ENV), ("client_id", CLIENT_ID_ENV)):
            if f"auth.{key} is not set" in str(exc):
                raise ConfigError(f"auth.{key} is not set and neither is the environment "
                                  f"variable {env}: {str(exc).split(': ', 1)[1]}") from None
        raise
    return sign_in, auth.token_file.strip()


@dataclass(frozen=True)
class ManagedIdentitySettings:
    """Which managed identity signs in, and for which Graph. Holds no secret."""

    kind: str  # "system-assigned", or the selector of a user-assigned one: "client id" ...
    id: str  # "" for the system-assigned identity
    sign_in: SignIn  # resource as the one scope; verify and timeout; no tenant or authority


def resolve_managed_identity(config: Config) -> ManagedIdentitySettings:
    """``managed_identity``: system-assigned unless auth.client_id (a client id, or an Azure
    resource id ``/subscriptions/...``) or auth.identity_object_id names a user-assigned one."""
    auth = config.auth
    cloud = get_cloud(config.graph.cloud)
    client_id, object_id = auth.client_id.strip(), auth.identity_object_id.strip()
    if client_id and object_id:
        raise ConfigError(
            "auth.client_id and auth.identity_object_id both name a user-assigned managed "
            "identity: keep one of them (or neither, for the system-assigned identity)"
        )
    if object_id:
        kind, ident = "object id", object_id
    elif client_id.lower().startswith("/subscriptions/"):
        kind, ident = "resource id", client_id
    elif client_id:
        kind, ident = "client id", client_id
    else:
        kind, ident = "system-assigned", ""
    ca_bundle = config.graph.ca_bundle
    if ca_bundle and not Path(ca_bundle).expanduser().is_file():
        raise ConfigError(f"graph.ca_bundle: CA file {ca_bundle} not found")
    sign_in = SignIn(
        mode="managed_identity", tenant="", client_id=ident, authority="",
        scopes=(cloud.graph_root,),  # a managed identity asks for a resource, not a scope
        verify=str(Path(ca_bundle).expanduser()) if ca_bundle else True,
        authority_overridden=False, timeout=config.limits.timeout,
    )
    return ManagedIdentitySettings(kind, ident, sign_in)
