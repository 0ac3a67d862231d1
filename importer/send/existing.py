"""The business's existing customers, looked up by normalised email (or name plus phone).

Bookings does not enforce unique emails, so the tool must: before sending, the run reads the
business's customers (every page) into an ``ExistingIndex``. After a create whose answer never
arrived, ``Reconciler.find`` reads them again and looks for the customer that request may have
made, not already claimed by another row of this run; only when none is found is the create
sent again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..errors import ServiceRefused
from ..map import customer_key, email_key, name_key, name_phone_key
from .graph import GraphClient, GraphError, TransportError
from .retrying import retry_policy
from .session import READ_ATTEMPTS, READ_BACKOFF, refusal_message
from .submitter import Job

__all__ = ["ExistingIndex", "Reconciler", "changes", "customer_key", "email_key", "name_key",
           "name_phone_key"]

log = logging.getLogger("importer.existing")


def _project(value: Any, like: Any) -> Any:
    """``value`` reduced to the shape of ``like`` (what we send), for comparison."""
    if isinstance(like, list):
        if not isinstance(value, list):
            return None
        keys = sorted({k for item in like if isinstance(item, dict) for k in item})
        # Order-free: the service may hand the items back in another order.
        return sorted(tuple(str(v.get(k) or "") for k in keys) for v in value if isinstance(v, dict))
    return value or ""


def changes(body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The properties of ``body`` whose value differs from the customer ``current``."""
    if all(current.get(k) == v for k, v in body.items() if not k.startswith("@odata")):
        return {}  # the usual answer to a create: what was sent, plus the service's own keys
    diff = {}
    for key, value in body.items():
        if key.startswith("@odata"):
            continue
        ours = _project(value, value)
        theirs = _project(current.get(key), value)
        if ours != theirs:
            diff[key] = value
    return diff


class ExistingIndex:
    """Customers the business holds, by email key (and name|phone key)."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, Any]] = {}
        self.ids: set[str] = set()
        self.count = 0

    def add(self, customer: dict[str, Any]) -> None:
        self.count += 1
        self.ids.add(str(customer.get("id") or ""))
        email = email_key(customer.get("emailAddress"))
        keys = [f"email:{email}"] if email else []
        if not email and (np := name_phone_key(customer)):
            keys.append(f"namephone:{np}")
        for key in keys:
            # The oldest customer with that email stays the one rows are matched with.
            self.by_key.setdefault(key, customer)

    def find(self, key: str) -> dict[str, Any] | None:
        return self.by_key.get(key)

    @classmethod
    async def load(cls, client: GraphClient, business_id: str) -> ExistingIndex:
        """Every page; a page that fails after its retries starts the listing over."""

        async def read() -> ExistingIndex:
            index = cls()
            async for customer in client.list_customers(business_id):
                index.add(_slim(customer))
            return index

        try:
            return await retry_policy(max_attempts=READ_ATTEMPTS, max_backoff=READ_BACKOFF)(read)
        except (GraphError, TransportError) as exc:
            raise ServiceRefused(refusal_message(exc, business_id, client.root)) from None


def _slim(customer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in customer.items() if not k.startswith("@odata")}


class Reconciler:
    def __init__(self, client: GraphClient) -> None:
        self.client = client
        self.claimed: set[str] = set()  # customer ids already recorded for rows of this run
        self._lock = asyncio.Lock()

    def claim(self, customer_id: str) -> None:
        if customer_id:
            self.claimed.add(customer_id)

    async def find(self, job: Job) -> str | None:
        """The id of the customer an unanswered create made, or None when it is absent."""
        email = email_key(job.body.get("emailAddress"))
        name = name_key(job.body.get("displayName"))
        async with self._lock:  # one listing at a time; concurrent lost answers wait their turn
            async for customer in self.client.list_customers(job.business_id):
                cid = str(customer.get("id") or "")
                if not cid or cid in self.claimed:
                    continue
                if _matches(customer, email, name):
                    self.claimed.add(cid)
                    log.info("row %d: the lost create had reached the service (customer %s)",
                             job.mapped.row.number, cid)
                    return cid
        return None


def _matches(customer: dict[str, Any], email: str, name: str) -> bool:
    if email:
        return email_key(customer.get("emailAddress")) == email
    # No email to go by: the same display name and no email either.
    return not customer.get("emailAddress") and name_key(customer.get("displayName")) == name
