"""``bookings-import run --inbox DIR``: import every new spreadsheet dropped into a folder.

Each ``.csv``, ``.xlsx`` or ``.xlsm`` file in DIR (not its subfolders) is imported, oldest first,
then moved with its report folder beside it:

    DIR/done/<file>            the run finished (exit 0, or 1: row-level failures are in
    DIR/done/<file>.report/    the report's failures.csv / failures.xlsx)
    DIR/failed/<file>          the file could not be imported as a whole (exit 2: unreadable,
    DIR/failed/<file>.report/  no name column; its error.txt says why), or the run stopped
                               part-way (exit 3 mid-run, 130): re-run the report's failures file

A name already taken in done/ or failed/ gets a timestamp. When the service refuses the whole job
before anything is sent (sign-in refused, business not found: exit 3) or another run holds the
lock (75), the file stays in DIR for the next run and no further file is tried: the cause is not
the file, and moving every file to failed/ would only make work.

Files still being written are left for the next run: temporary names (``~$*``, ``.~lock*``,
``*.tmp``, ``*.part``, ``.*``), and files modified within the settle interval or whose size or
time changes while it passes. Reports are written in DIR/.importing/ until the file is moved.

A file that cannot be moved once imported (Windows refuses while another program, Excel or a
sync client, has it open) stays in DIR, its report goes to done/ or failed/ all the same, and the
next run imports it again: the journal knows the customers it created, so none is created twice.

``--inbox URL`` does the same with a SharePoint or OneDrive folder (``run_remote_inbox``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import fnmatch
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .config import Config
from .drive import DriveClient, DriveItem, check_url, fetch_input, probe
from .errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    ImporterError,
    ServiceRefused,
    UsageError,
)
from .report import REPORT_SUFFIX, SUMMARY, default_run_dir, logs, summary_line
from .runner import RunOptions, RunOutcome, state_dir
from .send import GraphClient, GraphError, TransportError, graph_root, new_session
from .signin import TokenSource

SUFFIXES = frozenset({".csv", ".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
TEMPORARY = ("~$*", ".~lock*", "*.tmp", "*.part", ".*")
DONE, FAILED, WORK = "done", "failed", ".importing"
DEFAULT_SETTLE = 2.0

RunOne = Callable[[RunOptions], Awaitable[RunOutcome]]


@dataclass(frozen=True)
class FileOutcome:
    input: Path  # where the file was found
    exit_code: int
    moved_to: Path | None = None  # None: left in the inbox for the next run
    report: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""
    url: str = ""  # a file of a SharePoint/OneDrive inbox: its URL


@dataclass
class InboxOutcome:
    files: list[FileOutcome]
    waiting: list[Path]  # still being written: left for the next run
    seconds: float

    @property
    def exit_code(self) -> int:
        """The worst of the files: 130 > 75 > 3 > 2 > 1 > 0, which is numeric order."""
        return max((f.exit_code for f in self.files), default=EXIT_OK)

    @property
    def counts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.counts)
        return total


def is_temporary(name: str) -> bool:
    """Office lock files, partial downloads and hidden files are never inputs."""
    return any(fnmatch.fnmatch(name.casefold(), pattern) for pattern in TEMPORARY)


def candidates(inbox: Path) -> list[Path]:
    """The spreadsheets waiting in ``inbox``, oldest first."""
    found = []
    for entry in inbox.iterdir():
        if entry.suffix.lower() in SUFFIXES and not is_temporary(entry.name) and entry.is_file():
            stat = entry.stat()
            found.append((stat.st_mtime_ns, entry.name, entry))
    return [entry for _, _, entry in sorted(found)]


async def settled(
    paths: list[Path],
    settle: float,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> tuple[list[Path], list[Path]]:
    """Split ``paths`` into (ready, still being written) by watching them for ``settle`` s."""

    def snapshot(p: Path) -> tuple[int, int] | None:
        try:
            stat = p.stat()
        except FileNotFoundError:
            return None
        return stat.st_size, stat.st_mtime_ns

    before = {p: snapshot(p) for p in paths}
    if paths and settle > 0:
        await sleep(settle)
    ready: list[Path] = []
    waiting: list[Path] = []
    now = clock()
    for p in paths:
        after = snapshot(p)
        if after is None:
            continue  # taken away meanwhile
        fresh = now - after[1] / 1e9 < settle
        (waiting if fresh or after != before[p] else ready).append(p)
    return ready, waiting


def _free_name(inbox: Path, name: str) -> str:
    """``name``, or name with a timestamp when done/, failed/ or the work folder has it."""

    def taken(n: str) -> bool:
        return any((inbox / d / x).exists() for d in (DONE, FAILED, WORK)
                   for x in (n, n + REPORT_SUFFIX))

    if not taken(name):
        return name
    path = Path(name)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    n, candidate = 1, f"{path.stem}.{stamp}{path.suffix}"
    while taken(candidate):
        n += 1
        candidate = f"{path.stem}.{stamp}-{n}{path.suffix}"
    return candidate


def _record_refusal(work: Path, source: Path, exc: ImporterError) -> None:
    """A report folder for a file that could not be imported: why, in words and as a summary."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "error.txt").write_text(f"{exc}\n", encoding="utf-8")
    summary = {"state": "refused", "exit_code": exc.exit_code, "error": str(exc),
               "input": {"path": str(source)}, "counts": {}}
    (work / SUMMARY).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
                                encoding="utf-8")


async def import_one(inbox: Path, source: Path, run_one: RunOne, options: RunOptions) -> FileOutcome:
    """Import one file and move it with its report to done/ or failed/ (or leave it)."""
    name = _free_name(inbox, source.name)
    work = inbox / WORK / (name + REPORT_SUFFIX)
    started = time.monotonic()
    try:
        outcome = await run_one(dataclasses.replace(options, input=source, out_dir=work))
    except ImporterError as exc:
        if exc.exit_code != EXIT_USAGE:
            # Refused before anything was sent, for a reason that is not this file's.
            shutil.rmtree(work, ignore_errors=True)
            return FileOutcome(source, exc.exit_code, error=str(exc),
                               seconds=time.monotonic() - started)
        _record_refusal(work, source, exc)
        code, counts, error, seconds = exc.exit_code, {}, str(exc), time.monotonic() - started
    else:
        code, counts, error, seconds = (outcome.exit_code, outcome.counts, outcome.fatal,
                                        outcome.seconds)
    target = inbox / (DONE if code <= 1 else FAILED)
    target.mkdir(exist_ok=True)
    moved: Path | None = target / name
    report = target / (name + REPORT_SUFFIX)
    if refused := _move(work, report):
        report = work
        error = _join(error, f"the report stays in {work} ({refused.strerror or refused})")
    if refused := _move(source, target / name):
        # Windows refuses while another program (Excel, a sync client) has the file open.
        moved = None
        error = _join(error, f"could not be moved to {target.name} (open in another program? "
                             f"{refused.strerror or refused}); left in {inbox} for the next run, "
                             f"which creates none of its customers twice")
    return FileOutcome(source, code, moved, report, dict(counts), seconds, error)


def _move(source: Path, target: Path) -> OSError | None:
    """Move a file or folder; None when it moved. Never leaves it in both places or in neither."""
    try:
        source.rename(target)  # done/ and failed/ are in the inbox: one volume, one step
        return None
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            return exc
    try:
        shutil.move(source, target)  # a link to another volume: copy, then delete
    except OSError as exc:
        if source.exists() and target.exists():  # copied, but the original could not go
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        return exc
    return None


def _join(*messages: str) -> str:
    return "; ".join(m for m in messages if m)


async def run_inbox(
    inbox: Path,
    run_one: RunOne,
    options: RunOptions,
    *,
    settle: float = DEFAULT_SETTLE,
    stop: asyncio.Event | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> InboxOutcome:
    """Import every settled spreadsheet in ``inbox`` with ``run_one``, oldest first.

    ``options`` is the template for each file's run (sheet, restart); its input and report folder
    are set per file.
    """
    if not inbox.is_dir():
        raise UsageError(f"--inbox {inbox} is not a folder; create it or check the path")
    started = time.monotonic()
    ready, waiting = await settled(candidates(inbox), settle, clock=clock, sleep=sleep)
    for path in waiting:
        logs.emit("waiting", f"{path.name}: still being written; left for the next run",
             input=str(path))
    files: list[FileOutcome] = []
    for source in ready:
        if stop is not None and stop.is_set():
            break
        result = await import_one(inbox, source, run_one, options)
        files.append(result)
        _announce(inbox, result)
        if result.report is None or result.exit_code == EXIT_INTERRUPTED:
            break  # the next file would meet the same refusal (or the person pressed Ctrl-C)
    work = inbox / WORK
    if work.is_dir() and not any(work.iterdir()):
        work.rmdir()
    return InboxOutcome(files, waiting, time.monotonic() - started)


def _announce(inbox: Path | str, f: FileOutcome) -> None:
    fields = {"input": f.url or str(f.input), "moved_to": str(f.moved_to) if f.moved_to else None,
              "report": str(f.report) if f.report else None, "exit_code": f.exit_code,
              "counts": f.counts, "seconds": round(f.seconds, 3)}
    if f.error:
        fields["error"] = f.error
    if f.report is None:
        logs.emit("file", f"{f.input.name}: not imported, left in {inbox}: {f.error}",
             level=logging.ERROR, **fields)
        return
    where = f"{f.input.name} → {f.moved_to.parent.name}{os.sep}" if f.moved_to else f.input.name
    if f.counts:
        message = f"{where}: {_join(summary_line(f.counts, f.seconds, f.report), f.error)}"
    else:
        message = f"{where}: {f.error}"
    level = logging.INFO if f.exit_code < EXIT_USAGE and f.moved_to else logging.WARNING
    logs.emit("file", message, level=level, **fields)


# --- a SharePoint or OneDrive folder as the inbox ---------------------------------------------

IMPORTED_STATE = "inbox-imported.json"


class _Imported:
    """Files of a folder inbox that were imported but could not be moved (open in Excel, no
    permission): by drive item id and eTag, with where they belong. The next run moves such a
    file without reading it again; a file changed since (another eTag) is a new input."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}

    def get(self, item: DriveItem) -> dict[str, str] | None:
        entry = self.data.get(f"{item.drive_id}/{item.id}")
        return entry if entry and entry.get("etag") == item.etag else None

    def put(self, item: DriveItem, **fields: str) -> None:
        self.data[f"{item.drive_id}/{item.id}"] = {"etag": item.etag, **fields}
        self._save()

    def drop(self, item: DriveItem) -> None:
        if self.data.pop(f"{item.drive_id}/{item.id}", None) is not None:
            self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2), encoding="utf-8")
        os.replace(tmp, self.path)


def _remote_candidates(items: list[DriveItem]) -> list[DriveItem]:
    found = [i for i in items if not i.is_folder and Path(i.name).suffix.lower() in SUFFIXES
             and not is_temporary(i.name)]
    return sorted(found, key=lambda i: (i.last_modified, i.name))


def _age(item: DriveItem, now: float) -> float:
    try:
        changed = datetime.fromisoformat(item.last_modified.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float("inf")
    return now - changed


def _free_remote_name(names: set[str], name: str) -> str:
    if name.casefold() not in names and (name + REPORT_SUFFIX).casefold() not in names:
        return name
    path = Path(name)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    n, candidate = 1, f"{path.stem}.{stamp}{path.suffix}"
    while candidate.casefold() in names:
        n += 1
        candidate = f"{path.stem}.{stamp}-{n}{path.suffix}"
    return candidate


async def run_remote_inbox(
    config: Config,
    tokens: TokenSource,
    url: str,
    run_one: RunOne,
    options: RunOptions,
    *,
    settle: float = DEFAULT_SETTLE,
    stop: asyncio.Event | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> InboxOutcome:
    """``--inbox URL``: every spreadsheet of a SharePoint or OneDrive folder (all pages of its
    children), oldest first, each read as ``run URL`` reads a file and moved with its report
    folder into done/ or failed/ there (made when missing; a taken name gets a timestamp).

    Files changed in the last ``settle`` seconds, or whose eTag changes while it passes, wait
    for the next run, as do Office's lock files. The reports are also kept locally (under
    report.dir, as for any run). A file that cannot be moved (locked, open in Excel, no write
    permission) stays; its item id and eTag are remembered in the state folder, so the next
    run moves it without reading it again, and the journal would keep a re-read from creating
    anyone twice in any case."""
    check_url(url)
    started = time.monotonic()
    imported = _Imported(state_dir(config) / IMPORTED_STATE)
    files: list[FileOutcome] = []
    async with new_session(config) as session:
        client = GraphClient(session, graph_root(config), config.graph.version, tokens,
                             timeout=config.limits.timeout)
        drive = DriveClient(client, config)
        folder = await drive.resolve(url)
        if not folder.is_folder:
            raise UsageError(f"--inbox {url}: not a folder; name the SharePoint or OneDrive "
                             "folder the spreadsheets are dropped into")
        # Files are moved out of it: a folder that cannot be written is refused before any
        # file is imported (else each would be imported, then stay, run after run).
        usable, problem = await probe(client, config, "inbox", url)
        if not usable:
            raise ServiceRefused(problem)
        listed = _remote_candidates(await drive.children(folder, url))
        now = clock()
        fresh = [i for i in listed if _age(i, now) < settle]
        ready = [i for i in listed if i not in fresh]
        if ready and settle > 0:
            await sleep(settle)
            again = {i.id: i for i in await drive.children(folder, url)}
            changed = [i for i in ready if again.get(i.id) is None or again[i.id].etag != i.etag]
            fresh += [i for i in changed if i.id in again]
            ready = [i for i in ready if i not in changed]
        waiting = [Path(i.name) for i in fresh]
        for item in fresh:
            logs.emit("waiting", f"{item.name}: still being written; left for the next run",
                      input=f"{url.rstrip('/')}/{item.name}")
        targets: dict[str, DriveItem] = {}

        async def target(kind: str) -> DriveItem:
            if kind not in targets:
                targets[kind] = await drive.ensure_folder(folder, kind, f"{url} ({kind}/)")
            return targets[kind]

        for item in ready:
            if stop is not None and stop.is_set():
                break
            result = await _import_remote(config, tokens, url, drive, item, target, run_one,
                                          options, imported)
            files.append(result)
            _announce(url, result)
            if result.report is None or result.exit_code == EXIT_INTERRUPTED:
                break
    return InboxOutcome(files, waiting, time.monotonic() - started)


async def _import_remote(config: Config, tokens: TokenSource, url: str, drive: DriveClient,
                         item: DriveItem, target: Callable[[str], Awaitable[DriveItem]],
                         run_one: RunOne, options: RunOptions,
                         imported: _Imported) -> FileOutcome:
    file_url = f"{url.rstrip('/')}/{item.name}"
    shown = Path(item.name)
    started = time.monotonic()
    known = imported.get(item)
    if known is not None:
        # Imported by an earlier run that could not move it: move it now, read nothing.
        code, counts, error = int(known["exit_code"]), {}, ""
        kind, name, report = known["kind"], known["name"], Path(known["report"])
    else:
        local = default_run_dir(config.report.dir)
        try:
            async with fetch_input(config, tokens, file_url, item) as fetched:
                outcome = await run_one(dataclasses.replace(
                    options, input=fetched.path, source=fetched.source, input_name=item.name,
                    out_dir=local))
        except ImporterError as exc:
            if exc.exit_code != EXIT_USAGE:
                shutil.rmtree(local, ignore_errors=True)
                return FileOutcome(shown, exc.exit_code, error=str(exc),
                                   seconds=time.monotonic() - started, url=file_url)
            _record_refusal(local, shown, exc)
            code, counts, error = exc.exit_code, {}, str(exc)
        else:
            code, counts, error = outcome.exit_code, dict(outcome.counts), outcome.fatal
        kind = DONE if code <= 1 else FAILED
        folder = await target(kind)
        names = {c.name.casefold() for c in await drive.children(folder, f"{url} ({kind}/)")}
        name = _free_remote_name(names, item.name)
        report = local
        try:
            await drive.upload_tree(folder, local, name + REPORT_SUFFIX)
        except ImporterError as exc:
            error = _join(error, f"report not uploaded ({exc}); it is in {local}")
    folder = await target(kind)
    moved: Path | None = Path(kind) / name
    try:
        await drive.move(item, folder, name)
        imported.drop(item)
    except (GraphError, TransportError) as exc:
        moved = None
        imported.put(item, kind=kind, name=name, report=str(report), exit_code=str(code))
        error = _join(error, f"could not be moved to {kind}/ (HTTP {exc.status or ''} "
                             f"{exc.code or exc}: open in Excel, checked out, or no write "
                             "permission?); left for the next run, which moves it without "
                             "reading it again")
    return FileOutcome(shown, code, moved, report, counts, time.monotonic() - started, error,
                       url=file_url)
