"""The national clouds: one table, values from Microsoft's national-cloud deployment pages."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError

# Bookings answers to this delegated permission (least privileged for create, list and update).
DELEGATED_PERMISSION = "BookingsAppointment.ReadWrite.All"


@dataclass(frozen=True)
class Cloud:
    name: str
    title: str
    graph_root: str
    authority_host: str

    @property
    def scope(self) -> str:
        """The app-only scope: the Graph root followed by /.default."""
        return f"{self.graph_root}/.default"

    @property
    def delegated_scope(self) -> str:
        """The scope a person signs in for (device code); MSAL adds offline_access itself."""
        return f"{self.graph_root}/{DELEGATED_PERMISSION}"

    def authority(self, tenant: str) -> str:
        """The sign-in authority URL for a tenant (GUID or domain name)."""
        return f"https://{self.authority_host}/{tenant}"


CLOUDS: dict[str, Cloud] = {
    c.name: c
    for c in (
        Cloud("global", "Global", "https://graph.microsoft.com", "login.microsoftonline.com"),
        Cloud("usgov", "US Government L4 (GCC High)", "https://graph.microsoft.us",
              "login.microsoftonline.us"),
        Cloud("dod", "US Government L5 (DoD)", "https://dod-graph.microsoft.us",
              "login.microsoftonline.us"),
        Cloud("china", "China (21Vianet)", "https://microsoftgraph.chinacloudapi.cn",
              "login.chinacloudapi.cn"),
    )
}


def get_cloud(name: str) -> Cloud:
    try:
        return CLOUDS[name]
    except KeyError:
        raise ConfigError(
            f"graph.cloud must be one of {', '.join(CLOUDS)}, not {name!r}"
        ) from None
