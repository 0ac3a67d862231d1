"""What a hand-written import script does: one create at a time, honouring Retry-After.

    python benchmarks/naive_client.py URL BUSINESS TOKEN INPUT.csv OUT.json

urllib, no pool, no concurrency; a 429/503/504 waits what Retry-After says (1 s without it)
and tries again, up to ten times. Writes {"created", "failed", "crids"} to OUT.json; each row
keeps one client-request-id across its retries so the benchmark can time it.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

from datagen import graph_body, read_rows


def main(url: str, business: str, token: str, input_csv: str, out: str) -> None:
    endpoint = f"{url}/v1.0/solutions/bookingBusinesses/{quote(business, safe='')}/customers"
    created = failed = 0
    crids = []
    for row in read_rows(Path(input_csv)):
        crid = str(uuid.uuid4())
        crids.append([crid])
        data = json.dumps(graph_body(row)).encode()
        for _ in range(10):
            request = urllib.request.Request(endpoint, data=data, method="POST", headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "client-request-id": crid,
            })
            try:
                with urllib.request.urlopen(request, timeout=30) as resp:
                    resp.read()
                created += 1
                break
            except urllib.error.HTTPError as exc:
                exc.read()
                if exc.code not in (429, 503, 504):
                    failed += 1
                    break
                time.sleep(float(exc.headers.get("Retry-After") or 1))
        else:
            failed += 1
    Path(out).write_text(json.dumps({"created": created, "failed": failed, "crids": crids}))


if __name__ == "__main__":
    main(*sys.argv[1:6])
