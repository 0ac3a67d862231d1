"""Nightly incremental sync, measured: how many requests a re-run over a grown export makes.

    python benchmarks/nightly.py [--rows 50000] [--changed 100] [--added 0]

Imports N rows into the emulator (in-process, no latency), then changes C of them (and appends
A new ones) and runs again with on_existing = "update", printing the requests of each run.
The second run should make about C writes (+ A creates) plus the reads of the customer list.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import tempfile
import time
from collections import Counter
from pathlib import Path

from importer.config import Config
from importer.emulator import EmulatorSettings, running_emulator
from importer.runner import RunOptions, run_import
from importer.signin import StaticToken

BIZ = "nightly@contoso.onmicrosoft.com"


def write(path: Path, rows: int, changed: set[int], added: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Email", "Phone", "City"])
        for i in range(rows + added):
            city = "Redmond (moved)" if i in changed else "Seattle"
            w.writerow([f"Customer {i}", f"c{i}@contoso.com", f"+1 206 555 {i % 10000:04d}", city])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--added", type=int, default=0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nightly-"))
    src = tmp / "export.csv"
    async with running_emulator(EmulatorSettings(tokens={"t"}, page_size=999)) as emu:
        config = (Config().replace("graph", base_url=emu.url, business_id=BIZ)
                  .replace("state", dir=str(tmp / "state"))
                  .replace("import_", on_existing="update"))
        for label, changed, added in (("first import", set(), 0),
                                      ("nightly re-run", set(range(0, args.rows,
                                                               max(1, args.rows // max(1, args.changed))))
                                       if args.changed else set(), args.added)):
            write(src, args.rows, changed, added)
            before = len(emu.emulator.request_log)
            t0 = time.perf_counter()
            outcome = await run_import(config, RunOptions(src, out_dir=tmp / label.replace(" ", "-")),
                                       tokens=StaticToken("t"))
            seconds = time.perf_counter() - t0
            methods = Counter(e.method for e in emu.emulator.request_log[before:])
            writes = methods["POST"] + methods["PATCH"]
            print(f"{label:15} {sum(outcome.counts.values()):>7,} rows in {seconds:6.1f} s "
                  f"({sum(outcome.counts.values()) / seconds:,.0f} rows/s)  "
                  f"writes {writes:,} (POST {methods['POST']:,}, PATCH {methods['PATCH']:,})  "
                  f"reads {methods['GET']:,}  statuses {dict(outcome.counts)}")


if __name__ == "__main__":
    asyncio.run(main())
