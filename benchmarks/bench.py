"""How fast is bookings-import against the service's own limit? Prints figures; not a test.

    .venv/bin/pip install -e ".[bench]" && .venv/bin/python benchmarks/bench.py

Starts the Graph emulator in its own process (four requests in flight per business, 50 ms
+- 10 ms per request: the service limit is 4 / 0.05 s = 80 creates/s per business), generates
realistic customers, and imports them with each client in turn, resetting the emulator between
runs. Every client runs in a child process, so its CPU time and peak RSS are its own (os.wait4).

    rows/s       rows / wall time of the child process, start-up included
    at service   rows / the service's busy window: first request's arrival to last answer
                 (the client's start-up, sign-in and file reading are a fixed cost outside it)
    of the limit the at-service rate over the service limit (80/s per business)
    429s         share of the requests the emulator answered 429 (its own counters)
    HTTP         HTTP exchanges the emulator served ($batch envelopes count once)
    p50/p95      per row, as the emulator saw it: first attempt's arrival to the last attempt's
                 answer (client-request-ids from results.csv or the client, matched to the
                 emulator's timings); a row's time in the client's own queue is not included
    CPU/1k       user+system CPU seconds of the client per 1,000 rows
    RSS          peak resident memory of the client

Then the dry run of a generated CSV (rows/s, peak RSS; 200,000 rows by default so that the
whole benchmark stays within about three and a half minutes, ``--dry-run-rows 1000000`` for a
million) and the load of a generated 100,000-row XLSX through importer.read.loader.open_input in a
fresh process (rows/s, median of ``--repeat`` loads), with its strings inline and in a
shared-strings table.
Nothing is written outside a temporary folder.

The emulator is ``python -m importer.emulator``'s app, served by benchmarks/timed_emulator.py,
which adds only the request timings the per-row figures need.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import datagen  # noqa: E402

PYTHON = sys.executable
LATENCY = 0.05
JITTER = 0.01
MAX_CONCURRENT = 4
TOKEN = "bench-token"
BUSINESS = "bench@contoso.onmicrosoft.com"
BUSINESSES = tuple(f"bench-{n}@contoso.onmicrosoft.com" for n in range(10))


@dataclass
class Child:
    """A finished child process: its exit code, wall time and its own resource usage."""

    code: int
    seconds: float
    cpu: float
    rss_mb: float
    stdout: str
    stderr: str


def run_child(argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Child:
    """Run ``argv``; its wall time, and CPU and peak memory of its whole process tree (a
    dry run of a big file maps in worker processes: their memory and CPU count too)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        tree = TreeSampler(proc.pid)
        while True:
            # wait4 gives the resource usage of this one child, not of every child so far.
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            tree.sample()
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        own_cpu = usage.ru_utime + usage.ru_stime
        return Child(proc.returncode, seconds, own_cpu + tree.descendants_cpu(),
                     max(usage.ru_maxrss / 1024, tree.peak_mb), out.read().decode(errors="replace"),
                     err.read().decode(errors="replace"))


class TreeSampler:
    """Polls /proc for a process and its descendants: the peak of their summed RSS, and the
    last CPU time seen of each descendant (the child's own comes exactly from wait4)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_mb = 0.0
        self._cpu: dict[int, float] = {}
        self._tick = os.sysconf("SC_CLK_TCK")
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _children(self, pid: int) -> list[int]:
        found = []
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    found += [int(c) for c in fh.read().split()]
        except OSError:
            pass
        return found

    def sample(self) -> None:
        if not os.path.exists("/proc/self/stat"):
            return
        total, todo = 0, [self.pid]
        while todo:
            pid = todo.pop()
            todo += self._children(pid)
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[21]) * self._page
            if pid != self.pid:
                self._cpu[pid] = (int(fields[11]) + int(fields[12])) / self._tick
        self.peak_mb = max(self.peak_mb, total / 2**20)

    def descendants_cpu(self) -> float:
        return sum(self._cpu.values())


class Emulator:
    """The emulator in its own process (benchmarks/timed_emulator.py)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, str(HERE / "timed_emulator.py"), "--port", "0", "--latency", str(LATENCY),
             "--jitter", str(JITTER), "--max-concurrent", str(MAX_CONCURRENT), "--seed", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.close()
            raise SystemExit(f"the emulator did not start: {line!r}")
        self.url = line.removeprefix("listening on ")

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=60) as resp:
            return json.load(resp)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/_emulator/reset", data=b"", method="POST")
        urllib.request.urlopen(request, timeout=10).read()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@dataclass
class Figures:
    rows: int
    seconds: float
    cpu: float
    rss_mb: float
    created: int
    duplicates: int
    share_429: float
    http: int
    p50: float | None
    p95: float | None
    businesses: int
    notes: list[str] = field(default_factory=list)
    window: float | None = None  # first arrival to last answer at the emulator
    held: float | None = None  # the emulator's mean time per request

    @property
    def service_rate(self) -> float:
        return self.rows / self.window if self.window else self.rate

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    @property
    def limit(self) -> float:
        return self.businesses * MAX_CONCURRENT / LATENCY


def row_times(crids: list[list[str]], timings: list[list[Any]]) -> list[float]:
    """Per row: the first attempt's arrival to the last attempt's answer, at the emulator."""
    spans: dict[str, tuple[float, float]] = {}
    for crid, start, end, _status in timings:
        first, last = spans.get(crid, (start, end))
        spans[crid] = (min(first, start), max(last, end))
    times = []
    for ids in crids:
        seen = [spans[c] for c in ids if c in spans]
        if seen:
            times.append(max(e for _, e in seen) - min(s for s, _ in seen))
    return times


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


Go = Callable[[], tuple[Child, list[list[str]]]]


def measure(emu: Emulator, rows: int, businesses: int, go: Go, *, expect_batches: bool) -> Figures:
    emu.reset()
    child, crids = go()
    state = emu.get("/_emulator/state?log=1")
    timings = emu.get("/_bench/timings")
    counters = state["counters"]
    customers = [c for b in state["businesses"].values() for c in b["customers"]]
    emails = {(c.get("emailAddress") or "").casefold() for c in customers}
    answered = sum(counters["by_status"].values())
    times = row_times(crids, timings)
    notes = []
    if child.code not in (0,):
        notes.append(f"exit {child.code}: {child.stderr.strip().splitlines()[-1:] or ''}")
    used = sum(1 for b in state["businesses"].values() if b["customers"])
    if used != businesses:
        notes.append(f"customers landed in {used} business(es), not {businesses}")
    if expect_batches and not any(e["raw_path"].endswith("/$batch") for e in state["requests"]):
        notes.append("no $batch request was sent: this command line does not batch yet")
    return Figures(
        rows=rows,
        seconds=child.seconds,
        cpu=child.cpu,
        rss_mb=child.rss_mb,
        created=len(customers),
        duplicates=len(customers) - len(emails),
        share_429=counters["by_status"].get("429", 0) / answered if answered else 0.0,
        http=sum(1 for e in state.get("requests", []) if not e.get("batch_item")),
        p50=percentile(times, 0.5),
        p95=percentile(times, 0.95),
        businesses=businesses,
        notes=notes,
        window=(max(t[2] for t in timings) - min(t[1] for t in timings)) if timings else None,
        held=statistics.fmean(held) if (held := [t[2] - t[1] for t in timings if t[3] != 429])
        else None,
    )


def write_config(path: Path, url: str, **imports: Any) -> Path:
    lines = ["[graph]", f'base_url = "{url}"', f'business_id = "{BUSINESS}"', "",
             "[auth]", 'mode = "token"', 'token_env = "BOOKINGS_TOKEN"']
    if imports:
        lines += ["", "[import]"] + [f"{k} = {json.dumps(v)}" for k, v in imports.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def cli_run(workdir: Path, input_csv: Path, config: Path, name: str) -> Go:
    def go() -> tuple[Child, list[list[str]]]:
        out = workdir / f"run-{name}"
        shutil.rmtree(out, ignore_errors=True)
        env = {**os.environ, "BOOKINGS_TOKEN": TOKEN}
        child = run_child([PYTHON, "-m", "importer", "run", str(input_csv), "--config", str(config),
                           "--quiet", "--out", str(out)], env=env, cwd=ROOT)
        crids = []
        results = out / "results.csv"
        if results.exists():
            with results.open(newline="", encoding="utf-8-sig") as fh:
                crids = [r["client_request_ids"].split() for r in csv.DictReader(fh)]
        return child, crids

    return go


def script_run(workdir: Path, script: str, url: str, input_csv: Path, *extra: str) -> Go:
    def go() -> tuple[Child, list[list[str]]]:
        out = workdir / f"{script}.json"
        out.unlink(missing_ok=True)
        child = run_child([PYTHON, str(HERE / script), url, BUSINESS, TOKEN, str(input_csv),
                           str(out), *extra], cwd=HERE)
        data = json.loads(out.read_text()) if out.exists() else {}
        if data.get("errors"):
            child.stderr += f"\nerrors by status: {data['errors']}"
        return child, data.get("crids", [])

    return go


def median_figures(runs: list[Figures]) -> Figures:
    if len(runs) == 1:
        return runs[0]

    def med(get: Callable[[Figures], Any], pick: Callable[[list[Any]], Any] = statistics.median) -> Any:
        values = [get(r) for r in runs if get(r) is not None]
        return pick(values) if values else None

    def count(get: Callable[[Figures], Any]) -> Any:
        return med(get, statistics.median_low)  # one run's count, never a fraction

    first = runs[0]
    return Figures(first.rows, med(lambda r: r.seconds), med(lambda r: r.cpu), med(lambda r: r.rss_mb),
                   count(lambda r: r.created), count(lambda r: r.duplicates), med(lambda r: r.share_429),
                   count(lambda r: r.http), med(lambda r: r.p50), med(lambda r: r.p95),
                   first.businesses, sorted({n for r in runs for n in r.notes}),
                   med(lambda r: r.window), med(lambda r: r.held))


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:,.0f} ms"


def print_table(results: list[tuple[str, Figures]]) -> None:
    print("| client | rows | rows/s | at service | of the limit | 429s | HTTP requests "
          "| p50 / p95 per row | CPU s per 1k rows | peak RSS | customers created |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, f in results:
        created = f"{f.created:,}" + (f" ({f.duplicates} duplicates)" if f.duplicates else "")
        print(f"| {name} | {f.rows:,} | {f.rate:,.1f} | {f.service_rate:,.1f} "
              f"| {f.service_rate / f.limit:.2f} of {f.limit:,.0f}/s "
              f"| {f.share_429:.1%} | {f.http:,} | {ms(f.p50)} / {ms(f.p95)} "
              f"| {f.cpu / f.rows * 1000:.2f} | {f.rss_mb:,.0f} MB | {created} |")
    for name, f in results:
        for note in f.notes:
            print(f"  {name}: {note}")
    held = [f.held for _, f in results if f.held]
    if held:
        print(f"\nThe emulator held requests {min(held) * 1000:.1f}-{max(held) * 1000:.1f} ms on "
              f"average (set: {LATENCY * 1000:.0f} ms), its own work included (429s, answered "
              "at once, left out).")


def print_targets(by_name: dict[str, Figures]) -> None:
    """The issue's targets, from the medians above (at-service rates: the window the service
    limit is about; the wall rate adds the client's fixed start-up of about a second)."""
    one = by_name.get("bookings-import, 1 business")
    lines = []
    if one:
        ratio = one.service_rate / one.limit
        lines.append(f"one business: {ratio:.3f} of the limit with {one.share_429:.1%} 429s "
                     f"(target >= 0.95, <= 1%): {_verdict(ratio >= 0.95 and one.share_429 <= 0.01)}")
        for name, target, label in (("bookings-import, 10 businesses", 9.0, "ten businesses"),
                                    ("naive sequential script", 3.0, "vs the naive script"),
                                    ("msgraph-sdk, 16 at once", 1.5, "vs the SDK client")):
            other = by_name.get(name)
            if other:
                times = (other.service_rate / one.service_rate if label == "ten businesses"
                         else one.service_rate / other.service_rate)
                lines.append(f"{label}: {times:.2f}x (target >= {target:g}x): "
                             f"{_verdict(times >= target)}")
    if lines:
        print("\nTargets, from the medians above:")
        for line in lines:
            print(f"  {line}")


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def dry_run_figure(workdir: Path, rows: int) -> str:
    path = datagen.write_csv(workdir / "dry-run.csv", rows)
    child = run_child([PYTHON, "-m", "importer", "run", str(path), "--dry-run", "--quiet",
                       "--out", str(workdir / "dry-run")], cwd=ROOT)
    path.unlink()
    shutil.rmtree(workdir / "dry-run", ignore_errors=True)
    if child.code != 0:
        return f"dry run of {rows:,} rows: exit {child.code}: {child.stderr.strip()[-300:]}"
    rate = rows / child.seconds
    return (f"dry run, {rows:,}-row CSV: {rate:,.0f} rows/s "
            f"({child.seconds:.1f} s, {child.cpu:.1f} s CPU), peak RSS {child.rss_mb:,.0f} MB "
            f"(target >= 10,000 rows/s, < 250 MB: {_verdict(rate >= 10_000 and child.rss_mb < 250)})")


# Loads the sheet in a fresh process, as a run does, and prints the seconds open_input and
# reading every row took, and how the sheet was read (in parts on several CPUs, or whole).
XLSX_LOAD = """
import sys, time
from importer.read.loader import open_input
started = time.perf_counter()
with open_input(sys.argv[1]) as loaded:
    count = sum(1 for _ in loaded.rows())
    how = "parts" if type(loaded._source._calamine_sheet).__name__ == "SplitSheet" else "whole"
print(count, time.perf_counter() - started, how)
"""


def xlsx_figures(workdir: Path, rows: int, repeat: int) -> list[str]:
    """The load rate of the same sheet in both layouts: strings inline in the cells (as
    openpyxl writes) and in a shared-strings table (as Excel saves)."""
    return [
        _xlsx_figure(datagen.write_xlsx(workdir / "load.xlsx", rows), "inline strings", repeat),
        _xlsx_figure(datagen.write_xlsx(workdir / "load-shared.xlsx", rows, shared_strings=True),
                     "shared strings", repeat),
    ]


def _xlsx_figure(path: Path, layout: str, repeat: int) -> str:
    loads: list[float] = []
    count, how = 0, ""
    for _ in range(max(repeat, 1)):
        child = run_child([PYTHON, "-c", XLSX_LOAD, str(path)], cwd=ROOT)
        if child.code != 0:
            return f"XLSX load ({layout}): exit {child.code}: {child.stderr.strip()[-300:]}"
        counted, seconds, how = child.stdout.split()
        count = int(counted)
        loads.append(float(seconds))
    path.unlink()
    seconds = statistics.median(loads)
    each = ", ".join(f"{s:.2f}" for s in loads)
    return (f"XLSX load, {count:,}-row sheet ({layout}) through open_input in a fresh process: "
            f"{count / seconds:,.0f} rows/s (median of {len(loads)}: {each} s; read in {how}; "
            f"target >= 50,000 rows/s: {_verdict(count / seconds >= 50_000)})")


# Finds the code page of a CSV that is not UTF-8, in a fresh process, as a run does first:
# prints the seconds it took and the encoding found.
DETECT = """
import sys, time
from pathlib import Path
from importer.read.csvsource import _detect_encoding
started = time.perf_counter()
codec, name, how = _detect_encoding(Path(sys.argv[1]), sys.argv[1])
print(time.perf_counter() - started, name)
"""


def encoding_figure(workdir: Path, megabytes: int) -> str:
    """What telling the code page of a big cp1250 file costs: it must stream, not load."""
    path = workdir / "cp1250.csv"
    rows = [f"{first} {last};{first.lower()}.{n}@example.pl;{city}\r\n".encode("cp1250")
            for n, (first, last, city) in enumerate(datagen.POLISH)]
    written, i = 0, 0
    with path.open("wb") as out:
        out.write(b"Name;Email;City\r\n")
        while written < megabytes << 20:
            chunk = b"".join(rows) * 200
            out.write(chunk.replace(b"@example", f"@e{i}".encode()))
            written += len(chunk)
            i += 1
    child = run_child([PYTHON, "-c", DETECT, str(path)], cwd=ROOT)
    size = path.stat().st_size
    path.unlink()
    if child.code != 0:
        return f"encoding detection: exit {child.code}: {child.stderr.strip()[-300:]}"
    seconds, name = child.stdout.split()
    return (f"encoding detection, {size / 2**20:,.0f} MB cp1250 CSV: {float(seconds):.1f} s "
            f"({size / 2**20 / float(seconds):,.0f} MB/s, found {name}), peak RSS "
            f"{child.rss_mb:,.0f} MB")


# How often the detector reads short sheets right, refuses them, or reads them wrong: names
# and cities of tests/codepage_corpus.py, one language per sheet, then two or three languages
# of one code page's region mixed in one sheet.
ACCURACY = """
import random, sys, unicodedata
from importer.read.encodings import Detected, detect, scan_words
from tests.codepage_corpus import CODEPAGES, PEOPLE, encode
rng = random.Random(20)
for mixed in (False, True):
    right = refused = wrong = 0
    for _ in range(int(sys.argv[1])):
        cp = rng.choice(sorted(CODEPAGES))
        codec, langs = CODEPAGES[cp]
        pool = [w for lang in (langs if mixed else [rng.choice(langs)])
                for person in PEOPLE[lang] for w in person]
        cells = rng.sample(pool, rng.randint(1, min(12, len(pool))))
        text = "Name\\r\\n" + "\\r\\n".join(cells) + "\\r\\n"
        data = encode(text, codec)
        try:
            data.decode("utf-8")
            continue  # read as UTF-8, as it is
        except UnicodeDecodeError:
            pass
        found = detect(scan_words([data]))
        if not isinstance(found, Detected):
            refused += 1
        elif unicodedata.normalize("NFC", data.decode(found.codec)) == text:
            right += 1
        else:
            wrong += 1
    print("mixed" if mixed else "single", right, refused, wrong)
"""


def accuracy_figures(sheets: int) -> list[str]:
    child = run_child([PYTHON, "-c", ACCURACY, str(sheets)], cwd=ROOT)
    if child.code != 0:
        return [f"encoding accuracy: exit {child.code}: {child.stderr.strip()[-300:]}"]
    lines = []
    for line in child.stdout.splitlines():
        kind, right, refused, wrong = line.split()
        what = ("one language each" if kind == "single"
                else "two or three languages of one region mixed")
        lines.append(f"encoding detection, {sheets:,} short sheets, {what}: {right} read right, "
                     f"{refused} refused, {wrong} read wrong")
    return lines


SCENARIOS = ("one", "ten", "naive", "sdk", "batch", "dry-run", "xlsx", "encoding")


def runs_of(key: str, args: argparse.Namespace) -> tuple[int, int]:
    """(rounds, runs per round) of a case. The ten-business import takes 3 s, so a moment's
    noise on a shared machine moves one run of it by 10%: it runs twice in each round, for a
    median as steady as that of the 27 s one-business runs."""
    if key in ("naive", "sdk"):
        return args.compare_repeat, 1
    return args.repeat, 2 if key == "ten" else 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Benchmark bookings-import against the Graph emulator.")
    p.add_argument("--rows", type=int, default=2000, help="rows per import run (default 2,000)")
    p.add_argument("--naive-rows", type=int, default=300,
                   help="rows for the sequential client, which needs a latency per row (default 300)")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs of each bookings-import case; the table shows medians (default 3)")
    p.add_argument("--compare-repeat", type=int, default=1, metavar="K",
                   help="runs of the naive script and the SDK client (default 1: they take "
                        "minutes, and the targets against them hold by a wide margin)")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.add_argument("--skip-sdk", action="store_true", help="leave out the msgraph-sdk client")
    p.add_argument("--batch-size", type=int, default=0, metavar="N",
                   help="also measure [import] batch_size = N (JSON batching)")
    p.add_argument("--dry-run-rows", type=int, default=200_000,
                   help="rows of the dry-run CSV (default 200,000; 1,000,000 takes about a minute)")
    p.add_argument("--xlsx-rows", type=int, default=100_000)
    p.add_argument("--encoding-mb", type=int, default=300,
                   help="size of the cp1250 CSV whose code page is detected (default 300 MB; "
                        "run with --only encoding)")
    p.add_argument("--only", default="", metavar="NAMES",
                   help="comma-separated subset of: one, ten, naive, sdk, batch, dry-run, xlsx, "
                        "encoding (the last only when named)")
    args = p.parse_args(argv)
    args.only = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = args.only - set(SCENARIOS)
    if unknown:
        p.error(f"--only: unknown {', '.join(sorted(unknown))} (known: {', '.join(SCENARIOS)})")
    if args.quick:
        args.rows, args.naive_rows = min(args.rows, 200), min(args.naive_rows, 40)
        args.repeat = 1
        args.dry_run_rows, args.xlsx_rows = min(args.dry_run_rows, 20_000), min(args.xlsx_rows, 5_000)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bookings-bench-") as tmp:
        work = Path(tmp)
        one = datagen.write_csv(work / "customers.csv", args.rows)
        ten = datagen.write_csv(work / "customers-10.csv", args.rows, businesses=BUSINESSES)
        naive = datagen.write_csv(work / "customers-naive.csv", args.naive_rows)
        emu = Emulator()
        try:
            url = emu.url
            plan: list[tuple[str, str, int, int, Go]] = [
                ("one", "bookings-import, 1 business", args.rows, 1,
                 cli_run(work, one, write_config(work / "one.toml", url), "one")),
                ("ten", "bookings-import, 10 businesses", args.rows, 10,
                 cli_run(work, ten, write_config(work / "ten.toml", url, business_column="Business"),
                         "ten")),
                ("naive", "naive sequential script", args.naive_rows, 1,
                 script_run(work, "naive_client.py", url, naive)),
            ]
            if not args.skip_sdk:
                plan.append(("sdk", "msgraph-sdk, 16 at once", args.rows, 1,
                             script_run(work, "sdk_client.py", url, one)))
            if args.batch_size:
                n = args.batch_size
                plan.append(("batch", f"bookings-import, batch_size = {n}", args.rows, 1,
                             cli_run(work, one, write_config(work / "batch.toml", url, batch_size=n),
                                     "batch")))
                plan.append(("batch", f"BatchSender direct, batches of {n}", args.rows, 1,
                             script_run(work, "batch_client.py", url, one, str(n))))
            chosen = [c for c in plan if not args.only or c[0] in args.only]
            runs: dict[str, list[Figures]] = {name: [] for _, name, *_ in chosen}
            # Round robin, not each case K times in a row: a busy spell of a shared machine
            # then slows one run of several cases, not every run of one case.
            for round_ in range(max(args.repeat, args.compare_repeat)):
                for key, name, rows, businesses, go in chosen:
                    rounds, each = runs_of(key, args)
                    for _ in range(each if round_ < rounds else 0):
                        runs[name].append(measure(emu, rows, businesses, go,
                                                  expect_batches="batch" in name.lower()))
                        print(f"  measured: {name} ({len(runs[name])}/{rounds * each})",
                              file=sys.stderr, flush=True)
            results = [(name, median_figures(figures)) for name, figures in runs.items()]
        finally:
            emu.close()
        print(f"\nEmulator: {MAX_CONCURRENT} in flight per business, {LATENCY * 1000:.0f} ms "
              f"+- {JITTER * 1000:.0f} ms per request; service limit {MAX_CONCURRENT / LATENCY:.0f} "
              f"rows/s per business. Medians of {args.repeat} run(s) of bookings-import "
              f"({2 * args.repeat} with ten businesses, a 3 s run), {args.compare_repeat} of the "
              "naive and SDK clients.\n")
        print_table(results)
        print_targets(dict(results))
        print()
        if not args.only or "dry-run" in args.only:
            print(dry_run_figure(work, args.dry_run_rows))
        if not args.only or "xlsx" in args.only:
            for line in xlsx_figures(work, args.xlsx_rows, args.repeat):
                print(line)
        if "encoding" in args.only:
            print(encoding_figure(work, args.encoding_mb))
            for line in accuracy_figures(5000):
                print(line)
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
