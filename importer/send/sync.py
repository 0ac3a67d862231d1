"""Never a duplicate, never a lost row: what to do with each valid row of a business.

For every row the decision uses three sources, in this order:

1. the journal (journal.py): this tool imported the same key before. An unchanged fingerprint
   sends nothing (``unchanged``); a changed one is treated like an existing customer.
   A row left ``sent`` by a crashed run is looked up on the service before it is sent again.
2. the business's existing customers (existing.py), read once at the start:
   ``on_existing = skip | update | create`` decides.
3. otherwise the customer is created; the answer is compared with what was sent, and a
   property the service changed (its known displayName bug) is repaired with one PATCH.

Each business has its own lock, journal, index and reconciler (``BusinessRun``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from ..config import Config
from ..models import RowResult, Status
from .batching import BatchSender, CreateBatcher
from .existing import ExistingIndex, Reconciler, changes
from .graph import GraphClient, GraphError, TransportError
from .journal import Journal, journal_path
from .lock import RunLock
from .session import preflight
from .submitter import Job, Submitter

log = logging.getLogger("importer.sync")


@dataclass
class BusinessRun:
    business_id: str
    lock: RunLock
    journal: Journal
    index: ExistingIndex
    reconciler: Reconciler
    info: dict[str, Any] = field(default_factory=dict)  # the business as Graph gave it

    def close(self, *, finished: bool) -> None:
        if finished:
            self.journal.finish_run()
        self.journal.close()
        self.lock.release()


class SeenKeys:
    """Customer keys already met in this input, and the row that had each first.

    The first ``in_memory`` keys live in a dict (fast); past that, all of them move to a
    private temporary SQLite file: a million-row file must not grow the process by a hundred
    megabytes just to remember which emails it has seen.
    """

    def __init__(self, in_memory: int = 100_000) -> None:
        self.limit = in_memory
        self.keys: dict[str, int] | None = {}
        self.db: sqlite3.Connection | None = None

    def first_in(self, business: str, key: str, row: int) -> int | None:
        """``first`` within one business: the same customer in two businesses is two."""
        return self.first(f"{business.lower()}\n{key}", row)

    def first(self, key: str, row: int) -> int | None:
        """None when ``key`` is new (and remembers ``row`` for it), else the row that had it."""
        if self.keys is not None:
            earlier = self.keys.setdefault(key, row)
            if earlier != row:
                return earlier
            if len(self.keys) > self.limit:
                self._spill()
            return None
        assert self.db is not None
        cur = self.db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (key, row))
        if cur.rowcount:
            return None
        found = self.db.execute("SELECT row FROM seen WHERE key = ?", (key,)).fetchone()
        return int(found[0])

    def _spill(self) -> None:
        self.db = sqlite3.connect("")  # "" = a temporary on-disk database, removed on close
        self.db.execute("PRAGMA cache_size = -8000")
        self.db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")
        assert self.keys is not None
        self.db.executemany("INSERT INTO seen VALUES (?, ?)", self.keys.items())
        self.keys = None

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


class Sync:
    def __init__(
        self,
        client: GraphClient,
        submitter: Submitter,
        config: Config,
        *,
        state_dir: Path,
        input_sha256: str,
        restart: bool,
    ) -> None:
        self.client = client
        self.submitter = submitter
        self.config = config
        self.state_dir = state_dir
        self.input_sha256 = input_sha256
        self.restart = restart
        self.runs: dict[str, BusinessRun] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self._first_in_flight: dict[str, asyncio.Event] = {}
        self._preparing: dict[str, asyncio.Future[BusinessRun]] = {}
        self.batcher: CreateBatcher | None = None
        if config.import_.batch_size > 1:
            sender = BatchSender(client, pacer=submitter.pacer, rate=submitter.rate,
                                 max_attempts=config.limits.max_attempts,
                                 max_backoff=config.limits.max_backoff, reconcile=self.reconcile)
            self.batcher = CreateBatcher(sender, config.import_.batch_size)

    async def business(self, business_id: str) -> BusinessRun:
        """The business's lock, journal and customer index; opened on first use."""
        lane = business_id.lower()
        if lane in self.runs:
            return self.runs[lane]
        async with self._opening.setdefault(lane, asyncio.Lock()):
            if lane in self.runs:
                return self.runs[lane]
            lock = RunLock(self.state_dir, business_id)
            lock.acquire()
            # The journal opens in a thread while the reads are in flight: a new one takes
            # 4-13 ms (a file, WAL, the schema), and ten of them in the event loop held back
            # the first creates of every business by as much as all of them together.
            opening = asyncio.ensure_future(asyncio.to_thread(self._open_journal, business_id))
            try:
                # Both reads at once: one round trip less before the first create. When both
                # fail (no such business, sign-in refused), the business's answer is the one
                # reported.
                info, index = await _both(preflight(self.client, business_id),
                                          ExistingIndex.load(self.client, business_id))
                journal = await opening
            except BaseException:
                opening.add_done_callback(_close_journal)
                lock.release()
                raise
            if journal.resumed:
                log.info("%s: continuing the interrupted run over this file", business_id)
            log.info("importing into %s (%s), which holds %d customer(s)",
                     info.get("displayName") or business_id, business_id, index.count)
            run = BusinessRun(business_id, lock, journal, index, Reconciler(self.client), info)
            self.runs[lane] = run
            return run

    def _open_journal(self, business_id: str) -> Journal:
        journal = Journal(journal_path(self.state_dir, business_id))
        try:
            journal.begin_run(self.input_sha256, restart=self.restart)
        except BaseException:
            journal.close()
            raise
        return journal

    def prepare(self, business_id: str) -> asyncio.Future[BusinessRun]:
        """Start opening the business in the background (the producer must not wait for it:
        ten businesses would otherwise be signed in, read and listed one after another)."""
        lane = business_id.lower()
        task = self._preparing.get(lane)
        if task is None:
            if lane in self.runs:
                done: asyncio.Future[BusinessRun] = asyncio.get_running_loop().create_future()
                done.set_result(self.runs[lane])
                return done
            task = self._preparing[lane] = asyncio.ensure_future(self.business(business_id))
        return task

    async def ready(self, business_id: str) -> BusinessRun:
        lane = business_id.lower()
        if lane in self.runs:
            return self.runs[lane]
        task = self._preparing.get(lane)
        return await asyncio.shield(task) if task else await self.business(business_id)

    def close(self, *, finished: bool) -> None:
        for task in self._preparing.values():
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: it was reported through the rows that awaited it
            else:
                task.cancel()
        for run in self.runs.values():
            run.close(finished=finished)
        self.runs.clear()

    async def reconcile(self, job: Job) -> str | None:
        return await self.runs[job.business_id.lower()].reconciler.find(job)

    def claim(self, result: RowResult) -> None:
        run = self.runs.get(result.business_id.lower())
        if run and result.customer_id:
            run.reconciler.claim(result.customer_id)

    def queued(self, job: Job) -> None:
        """The producer queued ``job``. Nothing is journaled before its ``sent`` mark: a
        crash before that leaves nothing to settle."""
        if self.config.import_.merge_duplicates:
            self._first_in_flight[_lane_key(job)] = asyncio.Event()

    async def process(self, job: Job) -> RowResult:
        try:
            await self.ready(job.business_id)
            if job.merge_into:
                return await self._merge(job)
            return await self._process(job)
        finally:
            if not job.merge_into and (event := self._first_in_flight.pop(_lane_key(job), None)):
                event.set()

    async def _process(self, job: Job) -> RowResult:
        run = self.runs[job.business_id.lower()]
        journal = run.journal
        entry = journal.get(job.key)
        existing = None if job.key.startswith("body:") else run.index.find(job.key)
        row = job.mapped.row
        if entry and entry.state == "done" and entry.customer_id not in run.index.ids:
            # The journal remembers a customer the business no longer holds (deleted since):
            # it is imported again like a new one.
            entry = None
        if entry and entry.state == "done":
            if entry.fingerprint == job.fp:
                if journal.resumed and entry.run_id == journal.run_id:
                    return self._result(job, Status(entry.status or "created"), entry.customer_id,
                                        "done before this run was interrupted")
                return self._result(job, Status.UNCHANGED, entry.customer_id,
                                    "unchanged since its last import")
            if existing is None or existing.get("id") != entry.customer_id:
                existing = existing or {"id": entry.customer_id}
        if entry and entry.state == "sent" and existing is not None:
            # In flight when an earlier run stopped, and the service has it: that run's create
            # arrived. (Its answer did not, so the journal could not say so.)
            cid = str(existing.get("id") or "")
            journal.mark(job.key, job.fp, "done", row=row.number, status="created",
                         customer_id=cid)
            return self._result(job, Status.CREATED, cid,
                                "created before the run was interrupted (found on the service)")
        on_existing = self.config.import_.on_existing
        if existing is not None and on_existing != "create":
            cid = str(existing.get("id") or "")
            if on_existing == "skip":
                journal.mark(job.key, job.fp, "done", row=row.number, status="skipped",
                             customer_id=cid)
                return self._result(job, Status.SKIPPED, cid,
                                    "the business already has a customer with this email")
            return await self._update(job, run, existing)
        if entry and entry.state == "sent":
            job.ambiguous = True  # in flight when an earlier run stopped: look it up first
        journal.mark(job.key, job.fp, "sent", row=row.number)
        result = await (self.batcher.create(job) if self.batcher else self.submitter.send(job))
        if result.status is not Status.CREATED:
            journal.mark(job.key, job.fp, "failed", row=row.number, status=result.status.value)
            return result
        returned = result.extra.get("response") or {}
        if result.extra.get("reconciled"):
            result = _with(result, message="found on the service after a lost answer")
        elif diff := changes(job.body, returned):
            result = await self._repair(job, result, diff)
        journal.mark(job.key, job.fp if result.status.is_success else "", "done",
                     row=row.number, status=result.status.value, customer_id=result.customer_id)
        return result

    async def _update(self, job: Job, run: BusinessRun, existing: dict[str, Any]) -> RowResult:
        cid = str(existing.get("id") or "")
        row = job.mapped.row
        current = existing if len(existing) > 1 else await self._get(job.business_id, cid)
        diff = changes(job.body, current) if current else dict(job.body)
        diff.pop("@odata.type", None)
        if not diff:
            run.journal.mark(job.key, job.fp, "done", row=row.number, status="unchanged",
                             customer_id=cid)
            return self._result(job, Status.UNCHANGED, cid, "the customer already has these values")
        patch = Job(job.seq, job.mapped, diff, job.business_id, method="PATCH", customer_id=cid)
        result = await self.submitter.send(patch)
        if result.status is Status.UPDATED:
            run.journal.mark(job.key, job.fp, "done", row=row.number, status="updated",
                             customer_id=cid)
            existing.update(diff)
            return _with(result, message="changed: " + ", ".join(sorted(diff)))
        run.journal.mark(job.key, job.fp, "failed", row=row.number, status="failed",
                         customer_id=cid)
        return result

    async def _repair(self, job: Job, created: RowResult, diff: dict[str, Any]) -> RowResult:
        """The service stored something else than was sent (e.g. the email as displayName)."""
        log.info("row %d: the service changed %s on create; repairing",
                 job.mapped.row.number, ", ".join(sorted(diff)))
        patch = Job(job.seq, job.mapped, diff, job.business_id, method="PATCH",
                    customer_id=created.customer_id)
        fixed = await self.submitter.send(patch)
        attempts = created.attempts + fixed.attempts
        if fixed.status is Status.UPDATED:
            return _with(created, status=Status.REPAIRED, attempts=attempts,
                         message="the service changed " + ", ".join(sorted(diff))
                         + " on create; repaired")
        return _with(fixed, status=Status.FAILED, customer_id=created.customer_id,
                     attempts=attempts,
                     message=f"created as {created.customer_id}, but the service changed "
                     f"{', '.join(sorted(diff))} and the repair failed: {fixed.message}")

    async def _merge(self, job: Job) -> RowResult:
        """A later row with the same email: add its phones and addresses to the first row's."""
        event = self._first_in_flight.get(_lane_key(job))
        if event is not None:
            await event.wait()
        run = self.runs[job.business_id.lower()]
        entry = run.journal.get(job.key)
        if entry is None or entry.state != "done" or not entry.customer_id:
            return self._result(job, Status.DUPLICATE, "",
                                f"repeats row {job.merge_into}, which was not imported")
        current = await self._get(job.business_id, entry.customer_id)
        merged = _merged(current or {}, job.body)
        if not merged:
            return self._result(job, Status.DUPLICATE, entry.customer_id,
                                f"repeats row {job.merge_into}; nothing new to merge")
        patch = Job(job.seq, job.mapped, merged, job.business_id, method="PATCH",
                    customer_id=entry.customer_id)
        result = await self.submitter.send(patch)
        if result.status is Status.UPDATED:
            return _with(result, status=Status.DUPLICATE,
                         message=f"merged into row {job.merge_into} ({', '.join(sorted(merged))})")
        return result

    async def _get(self, business_id: str, customer_id: str) -> dict[str, Any] | None:
        try:
            async with self.submitter.paced(business_id):
                resp = await self.client.request(
                    "GET", self.client.customers_url(business_id, customer_id))
        except (GraphError, TransportError) as exc:
            log.warning("cannot read customer %s: %s", customer_id, exc)
            return None
        return resp.body if isinstance(resp.body, dict) else None

    def _result(self, job: Job, status: Status, customer_id: str, message: str) -> RowResult:
        return RowResult.of(job.mapped, status, customer_id=customer_id, message=message,
                            business_id=job.business_id)


A = TypeVar("A")
B = TypeVar("B")


def _close_journal(opening: asyncio.Future[Journal]) -> None:
    """A journal opened for a business whose reads failed: closed, whenever it is ready."""
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Await both concurrently; the first one's error wins, and neither is left running."""
    a, b = await asyncio.gather(first, second, return_exceptions=True)
    for outcome in (a, b):
        if isinstance(outcome, BaseException):
            raise outcome
    return a, b  # type: ignore[return-value]


def _lane_key(job: Job) -> str:
    return f"{job.business_id.lower()}\n{job.key}"


def _with(result: RowResult, **fields: Any) -> RowResult:
    return replace(result, **fields)


def _merged(current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The phones/addresses lists with ``body``'s items that ``current`` lacks, if any."""
    out = {}
    for prop in ("phones", "addresses"):
        have = list(current.get(prop) or [])
        new = [item for item in body.get(prop) or [] if not _contains(have, item)]
        if new:
            out[prop] = [_trim(h, new[0]) for h in have] + new
    return out


def _contains(items: list[dict[str, Any]], item: dict[str, Any]) -> bool:
    return any(all((h.get(k) or "") == (v or "") for k, v in item.items()) for h in items)


def _trim(held: dict[str, Any], like: dict[str, Any]) -> dict[str, Any]:
    """A held item reduced to the keys we send (the service may add read-only ones)."""
    return {k: held.get(k) for k in like}
