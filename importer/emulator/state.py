"""The emulator's memory: businesses and their customers, tokens, counters and the request log."""

from __future__ import annotations

import base64
import copy
import dataclasses
import itertools
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .faults import FaultPlan, FaultRule
from .files import Files
from .responses import now_iso
from .settings import SANDBOX_BUSINESS_NAME, EmulatorSettings


@dataclass(frozen=True)
class LoggedRequest:
    """One answered (or dropped) request. ``status`` is None when no answer was sent."""

    method: str
    raw_path: str  # as sent, percent-encoding kept, without the query
    business_id: str | None
    status: int | None
    client_request_id: str
    request_id: str
    version: str | None = None
    customer_id: str | None = None
    fault: str | None = None
    batch_item: str | None = None  # the item id when this was one request of a $batch


@dataclass
class Counters:
    """Totals since start or reset. Per-business dicts are keyed by the casefolded business id;
    ``Emulator.max_in_flight(business_id)`` looks one up."""

    requests: int = 0
    throttled: int = 0  # the emulator's own 429s (faults are counted under ``faults``)
    by_status: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    in_flight: dict[str, int] = field(default_factory=dict)  # per business id
    max_in_flight: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "throttled": self.throttled,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "faults": dict(self.faults),
            "in_flight": dict(self.in_flight),
            "max_in_flight": dict(self.max_in_flight),
        }


class Emulator:
    """The state of one emulated tenant. Business ids compare case-insensitively, like mailboxes."""

    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        self.settings = settings or EmulatorSettings()
        # Where /content redirects: the second host of ``running_emulator`` (else this one).
        self.download_base = ""
        self.reset()

    def reset(self) -> None:
        """Back to the state just after start: no customers, log or counts; tokens and faults
        as the settings give them."""
        s = self.settings
        self._businesses: dict[str, tuple[str, str]] = {
            b.casefold(): (b, name) for b, name in (s.businesses or {}).items()
        }
        self._customers: dict[str, dict[str, dict[str, Any]]] = {}
        self.files = Files()  # drives, folders and files (SharePoint, OneDrive)
        for library in s.libraries:
            drive = self.files.add_drive(library)
            for folder in ("Inbox", "Reports", "Backups"):
                self.files.folder(drive.id, folder)
        self._tokens = set(s.tokens) if s.tokens is not None else None
        self._revoked: set[str] = set()
        self.request_log: list[LoggedRequest] = []
        self.counters = Counters()
        self.faults = FaultPlan(s.faults, s.seed)
        self.rng = self._rng("misc")  # latency jitter, $batch answer order
        self._id_rng = self._rng("ids")
        self._bug_rng = self._rng("bug")
        # How late asyncio's timers fire here, on average (epoll counts in whole milliseconds):
        # the latency sleep ends this much early so requests take ``latency`` on average.
        self.timer_lateness = 0.0

    def _rng(self, stream: str) -> random.Random:
        # One stream per purpose: tuning latency must not change which ids or faults come out.
        seed = self.settings.seed
        return random.Random(f"{seed}:{stream}") if seed is not None else random.Random()

    # --- tokens and faults --------------------------------------------------------------------

    def add_token(self, token: str) -> None:
        self._revoked.discard(token)
        if self._tokens is not None:
            self._tokens.add(token)

    def revoke_token(self, token: str) -> None:
        self._revoked.add(token)
        if self._tokens is not None:
            self._tokens.discard(token)

    def token_valid(self, token: str) -> bool:
        if token in self._revoked:
            return False
        return self._tokens is None or token in self._tokens

    def set_faults(self, rules: list[FaultRule]) -> None:
        self.faults = FaultPlan(rules, self.settings.seed)

    # --- businesses and customers ------------------------------------------------------------

    def business(self, business_id: str) -> tuple[str, str] | None:
        """(id, display name) of a business, or None when it does not exist."""
        key = business_id.casefold()
        if key not in self._businesses and self.settings.businesses is None:
            self._businesses[key] = (business_id, SANDBOX_BUSINESS_NAME)
        return self._businesses.get(key)

    def business_ids(self) -> list[str]:
        return [b for b, _ in self._businesses.values()]

    def businesses(self) -> list[tuple[str, str]]:
        """(id, display name) of every business, in the order they were made (with
        ``businesses=None``: those used so far)."""
        return list(self._businesses.values())

    def is_read_only(self, business_id: str) -> bool:
        return business_id.casefold() in {b.casefold() for b in self.settings.read_only_businesses}

    def customers(self, business_id: str) -> list[dict[str, Any]]:
        """Copies of the stored customers, oldest first, in the superset (beta + v1.0) form."""
        return copy.deepcopy(list(self._store(business_id).values()))

    def customer_page(
        self, business_id: str, skip: int, size: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """(how many customers in all, copies of ``size`` of them from ``skip``), oldest first."""
        store = self._store(business_id)
        page = list(itertools.islice(store.values(), skip, skip + size))
        return len(store), copy.deepcopy(page)

    def customer(self, business_id: str, customer_id: str) -> dict[str, Any] | None:
        return self._store(business_id).get(customer_id)

    def add_customer(self, business_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Store a customer (superset form, e.g. from ``schema.store_fields``); returns it."""
        stamp = now_iso()
        customer = {
            "id": self._new_id(),
            "displayName": "",
            "emailAddress": None,
            "addresses": [],
            "phones": [],
            **copy.deepcopy(fields),
            "createdDateTime": stamp,
            "lastUpdatedDateTime": stamp,
        }
        self.business(business_id)
        self._store(business_id)[customer["id"]] = customer
        return customer

    def update_customer(
        self, business_id: str, customer_id: str, fields: dict[str, Any]
    ) -> dict[str, Any] | None:
        customer = self.customer(business_id, customer_id)
        if customer is not None:
            customer.update(copy.deepcopy(fields))
            customer["lastUpdatedDateTime"] = now_iso()
        return customer

    def delete_customer(self, business_id: str, customer_id: str) -> bool:
        return self._store(business_id).pop(customer_id, None) is not None

    def display_name_bug_strikes(self) -> bool:
        rate = self.settings.email_as_display_name_rate
        return rate > 0 and self._bug_rng.random() < rate

    def _store(self, business_id: str) -> dict[str, dict[str, Any]]:
        return self._customers.setdefault(business_id.casefold(), {})

    def _new_id(self) -> str:
        # Like today's Bookings ids: URL-safe Base64 with padding, so clients must encode "=".
        return base64.urlsafe_b64encode(b"\x00\x00" + self._id_rng.randbytes(29)).decode()

    # --- throttling and the log --------------------------------------------------------------

    def try_enter(self, business_id: str) -> bool:
        """Take an in-flight slot of the business, or say no (the caller answers 429)."""
        key = business_id.casefold()
        now = self.counters.in_flight.get(key, 0)
        if now >= self.settings.max_concurrent:
            self.counters.throttled += 1
            return False
        self.counters.in_flight[key] = now + 1
        peak = self.counters.max_in_flight
        peak[key] = max(peak.get(key, 0), now + 1)
        return True

    def leave(self, business_id: str) -> None:
        key = business_id.casefold()
        self.counters.in_flight[key] -= 1

    def max_in_flight(self, business_id: str) -> int:
        return self.counters.max_in_flight.get(business_id.casefold(), 0)

    def record(self, entry: LoggedRequest) -> None:
        self.request_log.append(entry)
        self.counters.requests += 1
        if entry.status is not None:
            self.counters.by_status[entry.status] += 1
        if entry.fault:
            self.counters.faults[entry.fault] += 1

    def snapshot(self, *, with_log: bool = False) -> dict[str, Any]:
        """The JSON of GET /_emulator/state."""
        state: dict[str, Any] = {
            "businesses": {
                b: {"displayName": name, "customers": self.customers(b)}
                for b, name in self._businesses.values()
            },
            "counters": self.counters.as_json(),
        }
        if with_log:
            state["requests"] = [dataclasses.asdict(e) for e in self.request_log]
        return state
