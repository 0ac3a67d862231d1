"""The official Microsoft Graph Python SDK (msgraph-sdk) creating the customers, 16 at a time.

    python benchmarks/sdk_client.py URL BUSINESS TOKEN INPUT.csv OUT.json

A GraphServiceClient on the SDK's default middleware (its retry handler included: 429, 503
and 504, Retry-After honoured, three retries) whose request adapter points at the emulator's
``/v1.0``, signed in with a fixed bearer token. Kiota refuses no plain-http host here: the
https-only check lives in the Azure Identity token provider, which a fixed token does not use;
the allowed-hosts validator is given 127.0.0.1. Rows run through ``asyncio.gather`` under a
semaphore of 16, as SDK samples do. Writes {"created", "failed", "errors", "crids"} to OUT.json.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from datagen import read_rows
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.booking_customer import BookingCustomer
from msgraph.generated.models.phone import Phone
from msgraph.generated.models.phone_type import PhoneType
from msgraph.generated.models.physical_address import PhysicalAddress

CONCURRENCY = 16


class FixedToken(AccessTokenProvider):
    def __init__(self, token: str, host: str) -> None:
        self.token = token
        self.hosts = AllowedHostsValidator([host])

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] | None = None
    ) -> str:
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self.hosts


def customer(row: dict[str, str]) -> BookingCustomer:
    return BookingCustomer(
        odata_type="#microsoft.graph.bookingCustomer",
        display_name=row["Name"],
        email_address=row["Email"],
        phones=[Phone(number=row["Phone"], type=PhoneType.Mobile)],
        addresses=[PhysicalAddress(street=row["Street"], city=row["City"], state=row["State"],
                                   postal_code=row["Postal code"],
                                   country_or_region=row["Country"])],
    )


async def run(url: str, business: str, token: str, input_csv: str) -> dict[str, Any]:
    host = urlparse(url).netloc
    auth = BaseBearerTokenAuthenticationProvider(FixedToken(token, host.split(":")[0]))
    adapter = GraphRequestAdapter(auth)
    adapter.base_url = f"{url}/v1.0"
    client = GraphServiceClient(request_adapter=adapter)
    customers = client.solutions.booking_businesses.by_booking_business_id(business).customers
    gate = asyncio.Semaphore(CONCURRENCY)
    errors: Counter[str] = Counter()
    crids: list[list[str]] = []

    async def create(row: dict[str, str]) -> bool:
        crid = str(uuid.uuid4())
        crids.append([crid])
        config: RequestConfiguration[Any] = RequestConfiguration()
        config.headers.add("client-request-id", crid)
        async with gate:
            try:
                await customers.post(customer(row), request_configuration=config)
            except APIError as exc:
                errors[str(exc.response_status_code)] += 1
                return False
        return True

    done = await asyncio.gather(*(create(r) for r in read_rows(Path(input_csv))))
    return {"created": sum(done), "failed": len(done) - sum(done), "errors": dict(errors),
            "crids": crids}


def main(url: str, business: str, token: str, input_csv: str, out: str) -> None:
    result = asyncio.run(run(url, business, token, input_csv))
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:6])
