"""Where bearer tokens come from.

The HTTP edge asks a TokenSource for a token before each request, and with ``refresh=True``
once after a 401. Every mode of ``[auth] mode`` is one TokenSource:

    token          StaticToken    a bearer token from an environment variable
    client_secret  AppSignIn      app-only sign-in (MSAL confidential client) with a secret
    certificate    AppSignIn      the same with a certificate (.pfx/.p12, or PEM + thumbprint)
    device_code    PersonSignIn   a person signs in once in a browser; MSAL's token cache is kept
                                  in a file only its owner can read, so later runs sign in silently
    managed_identity   ManagedIdentitySignIn    the Azure host's managed identity, no secret
    workload_identity  WorkloadIdentitySignIn   a platform's federated token (AKS, GitHub
                                                Actions) exchanged for an app-only token

MSAL is synchronous (it uses ``requests``), so its calls run in a worker thread, and an
asyncio.Lock makes four workers that need a token at the same moment cause one sign-in.
Error lines name the refusal and how to fix it; they never carry a secret or a token.

This module chooses the source; the protocol and the fixed token are in ``tokens.py``, the
resolved settings in ``settings.py``, the MSAL sources in ``msal_sources.py`` (imported only
when one is asked for), certificates and refusal lines in ``credentials.py``, the device code
cache file in ``token_cache.py``, the two modes without a secret in ``platform_identity.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import ConfigError
from .credentials import load_certificate
from .settings import resolve_managed_identity, resolve_sign_in, resolve_workload_identity
from .token_cache import TokenCacheFile, token_cache_path
from .tokens import StaticToken, TokenSource, print_to_stderr, token_from_env


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
    if auth.mode == "managed_identity":
        settings = resolve_managed_identity(config)
        from .platform_identity import ManagedIdentitySignIn
        return ManagedIdentitySignIn(settings, http_client=http_client)
    if auth.mode == "workload_identity":
        sign_in, token_file = resolve_workload_identity(config)
        from .platform_identity import WorkloadIdentitySignIn
        return WorkloadIdentitySignIn(sign_in, token_file, http_client=http_client)
    sign_in = resolve_sign_in(config)
    from .msal_sources import AppSignIn, PersonSignIn
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
        cache_file = TokenCacheFile(token_cache_path(config, state_dir))
        cache_file.load()
        return PersonSignIn(sign_in, cache_file, prompt=prompt, http_client=http_client)
    raise ConfigError(f"auth.mode {auth.mode!r} is not known")


def describe_identity(source: object) -> dict[str, str]:
    """Tenant, app and mode of a source, for the `check` verdict. Never a secret."""
    identity = getattr(source, "identity", None)
    return identity() if callable(identity) else {"mode": type(source).__name__}
