"""The business's existing customers, looked up by normalised email.

Bookings does not enforce unique emails, so the tool must. After a create whose answer never
arrived, ``Reconciler.find`` reads the business's customers again and looks for the one that
request may have created: same email (or, without email, same display name), not already
claimed by another row of this run. Only when none is found is the create sent again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .graph import GraphClient
from .submitter import Job

log = logging.getLogger("importer.existing")


def email_key(value: str | None) -> str:
    """Trimmed and case-folded: how two emails are compared for 'the same customer'."""
    return (value or "").strip().casefold()


def name_key(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


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
    # No email to go by: the same display name and no email either. (The service's known bug
    # stores the email as displayName, but a customer without email cannot suffer it.)
    return not customer.get("emailAddress") and name_key(customer.get("displayName")) == name
