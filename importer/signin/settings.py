"""What a sign-in needs, resolved and checked from the config before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..errors import ConfigError
from .clouds import get_cloud

# The tenant of personal Microsoft accounts (outlook.com, hotmail.com ...): Bookings refuses them.
PERSONAL_ACCOUNTS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
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
