"""Sign-in: the config's [auth] section in, a source of bearer tokens out.

One ``TokenSource`` per ``auth.mode``: a fixed token, app-only sign-in with a secret or a
certificate, or without a secret (a managed identity, or workload identity federation), or a
person's device code sign-in with a private token cache; and the national clouds' hosts.
Checks the config before anything is sent and words every refusal as one line.
It never logs, prints or raises a secret; it knows nothing of customers or of Graph's
Bookings calls. MSAL and its dependencies are imported only when an MSAL source is asked for.
"""

from typing import Any

from .auth import describe_identity, make_token_source
from .clouds import CLOUDS, DELEGATED_PERMISSION, Cloud, get_cloud
from .credentials import token_claims
from .grants import GRAPH_APP_ID, SECRETLESS_MODES, app_role_steps
from .settings import PERSONAL_ACCOUNTS_TENANT
from .tokens import StaticToken, TokenSource

__all__ = [
    "CLOUDS",
    "DELEGATED_PERMISSION",
    "GRAPH_APP_ID",
    "PERSONAL_ACCOUNTS_TENANT",
    "SECRETLESS_MODES",
    "AppSignIn",
    "Cloud",
    "PersonSignIn",
    "StaticToken",
    "TokenSource",
    "app_role_steps",
    "describe_identity",
    "get_cloud",
    "make_token_source",
    "token_claims",
]

_MSAL_NAMES = ("AppSignIn", "PersonSignIn")


def __getattr__(name: str) -> Any:
    """The MSAL sources, imported when first asked for (msal takes about 0.2 s to import)."""
    if name in _MSAL_NAMES:
        from . import msal_sources

        return getattr(msal_sources, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
