"""bookings-import's pipeline with creates sent through JSON batching (importer.send.batching).

    python benchmarks/batch_client.py URL BUSINESS TOKEN INPUT.csv OUT.json BATCH_SIZE

For measuring batching before the command line sends batches itself: the input is loaded and
mapped as ``run`` does, grouped per business by ``group_jobs``, and sent by a ``BatchSender``
with four batches in flight per business (sharing the Submitter's pacers). Writes {"created",
"failed", "crids"} to OUT.json.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from importer.map.mapper import MapOptions, build_mapping, map_row, to_body
from importer.models import RowResult, Status
from importer.read.loader import open_input
from importer.send.batching import BatchSender, group_jobs
from importer.send.graph import GraphClient
from importer.send.submitter import Job, Submitter, run_pool
from importer.signin import StaticToken


async def run(url: str, business: str, token: str, input_csv: str, size: int) -> dict[str, Any]:
    results: list[RowResult] = []
    with open_input(input_csv) as loaded:
        mapping = build_mapping(loaded.info.headers, {}, auto_detect=True)

        async def jobs() -> AsyncIterator[Job]:
            for seq, row in enumerate(loaded.rows()):
                mapped = map_row(row, mapping, MapOptions())
                if mapped.ok and mapped.customer:
                    yield Job(seq, mapped, to_body(mapped.customer, "v1.0"), business)

        connector = aiohttp.TCPConnector(limit=16)
        async with aiohttp.ClientSession(connector=connector) as session:
            client = GraphClient(session, url, "v1.0", StaticToken(token))
            sender = BatchSender(client, pacer=Submitter(client).pacer)

            async def handle(batch: list[Job]) -> None:
                results.extend(await sender.send(batch))

            await run_pool(group_jobs(jobs(), size), handle, workers=4,  # type: ignore[arg-type]
                           skipped=lambda b: None, lane=lambda b: b[0].business_id.lower())  # type: ignore[index]
    created = sum(r.status is Status.CREATED for r in results)
    return {"created": created, "failed": len(results) - created,
            "crids": [[a.client_request_id for a in r.attempts] for r in results]}


def main(url: str, business: str, token: str, input_csv: str, out: str, size: str) -> None:
    result = asyncio.run(run(url, business, token, input_csv, int(size)))
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:7])
