"""How two customers are told to be the same one: by email, or (when asked) name and phone;
and the fingerprint of a body, which tells whether what is sent has changed.

Kept free of the HTTP stack so worker processes that only map rows stay small.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def email_key(value: str | None) -> str:
    """Trimmed and case-folded: how two emails are compared for 'the same customer'."""
    return (value or "").strip().casefold()


def name_key(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def name_phone_key(body: dict[str, Any]) -> str:
    """``name|+phone`` for customers without email (only used when the config asks for it)."""
    phones = body.get("phones") or []
    number = next((str(p.get("number") or "") for p in phones if p.get("number")), "")
    digits = "".join(ch for ch in number if ch.isdigit())
    name = name_key(body.get("displayName"))
    return f"{name}|{digits}" if name and digits else ""


def customer_key(body: dict[str, Any], *, match_name_phone: bool) -> str:
    """The key the journal and the duplicate check know a customer by; "" when only the body
    itself can identify it (then the key is ``body:<fingerprint>``)."""
    email = email_key(body.get("emailAddress"))
    if email:
        return f"email:{email}"
    if match_name_phone and (np := name_phone_key(body)):
        return f"namephone:{np}"
    return ""


_canonical = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def fingerprint(body: dict[str, Any]) -> str:
    """A stable digest of what would be sent: same body, same fingerprint, on any machine."""
    canonical = _canonical(body)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
