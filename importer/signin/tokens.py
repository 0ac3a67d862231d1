"""What the HTTP edge asks for a bearer token: the TokenSource protocol, and a fixed token.

Every sign-in mode is a TokenSource (see ``auth.py``); the one without MSAL, ``mode = "token"``,
is here, so that a run with a fixed token imports nothing of MSAL.
"""

from __future__ import annotations

import os
import sys
from typing import Protocol

from ..errors import AuthError, ConfigError
from .credentials import token_claims


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
        claims = token_claims(self._value)
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
