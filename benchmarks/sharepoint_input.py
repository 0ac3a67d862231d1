"""What reading the input from SharePoint costs: a dry run of the same CSV, local and by URL.

    .venv/bin/python benchmarks/sharepoint_input.py [--rows 100000] [--repeat 3]

Generates a CSV, stores it in the Graph emulator's document library on 127.0.0.1, and times
``importer.run_async(..., dry_run=True)`` from the local path and from the file's URL (resolve,
size check, download through the redirect to the emulator's second host, read, map, reports).
Prints the median wall time of each and the difference. Nothing is written outside a
temporary folder. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from importer import api
from importer.emulator import EmulatorSettings, running_emulator

LIBRARY = "https://contoso.sharepoint.com/sites/Bench/Shared%20Documents"


async def measure(rows: int, repeat: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-sharepoint-"))
    csv = work / "customers.csv"
    with csv.open("w", encoding="utf-8") as f:
        f.write("Name,Email,Mobile\n")
        for i in range(rows):
            f.write(f"Person {i},p{i}@contoso.com,+1425555{i % 10000:04d}\n")
    size = csv.stat().st_size / 2**20
    async with running_emulator(EmulatorSettings()) as emu:
        drive = emu.emulator.files.add_drive(LIBRARY)
        emu.emulator.files.put(drive.id, "customers.csv", csv.read_bytes())
        os.environ.setdefault("BOOKINGS_TOKEN", "bench-token")  # any token: the emulator's
        config = {"graph": {"base_url": emu.url, "business_id": "bench@contoso.com"},
                  "state": {"dir": str(work / "state")}}
        times: dict[str, list[float]] = {"local": [], "url": []}
        for n in range(repeat):
            for label, source in (("local", str(csv)), ("url", f"{LIBRARY}/customers.csv")):
                started = time.perf_counter()
                outcome = await api.run_async(source, config, dry_run=True,
                                              out_dir=work / f"{label}-{n}")
                times[label].append(time.perf_counter() - started)
                assert outcome.counts.get("valid") == rows, outcome.counts
    local, url = (statistics.median(times[k]) for k in ("local", "url"))
    print(f"{rows:,} rows, {size:.1f} MiB CSV, median of {repeat}:")
    print(f"  local path      {local:6.2f} s")
    print(f"  SharePoint URL  {url:6.2f} s   ({url - local:+.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(measure(args.rows, args.repeat))


if __name__ == "__main__":
    main()
