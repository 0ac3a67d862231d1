"""A small SQLite journal per business: what this tool has sent, so no run ever repeats it.

For every customer key (normalised email, or the body's fingerprint when there is no email) it
keeps the fingerprint of the body last imported and a state:

    sent     the request may have gone out          -> after a crash: look it up first
    done     the service holds it (customer_id)     -> unchanged fingerprint: send nothing
    failed   the service refused it                 -> try again next time

A ``sent`` mark is committed before its request goes out; the other marks ride along with the
next commit, at most about a second later (see ``Journal.mark``). WAL mode with
synchronous=NORMAL survives a killed process (the case that matters); after a power loss the last
few commits may be lost, which the start-of-run listing of existing customers covers.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    key          TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    state        TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT '',
    customer_id  TEXT NOT NULL DEFAULT '',
    row          INTEGER,
    run_id       TEXT NOT NULL,
    updated_at   REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    run_id       TEXT PRIMARY KEY,
    input_sha256 TEXT NOT NULL,
    started_at   REAL NOT NULL,
    finished_at  REAL
);
"""


# Marks other than ``sent`` are committed in groups, at least this often.
COMMIT_EVERY_SECONDS = 1.0
COMMIT_EVERY_CHANGES = 1000


def journal_path(state_dir: Path, business_id: str) -> Path:
    readable = re.sub(r"[^A-Za-z0-9@._-]+", "_", business_id.lower())[:60]
    digest = hashlib.sha256(business_id.lower().encode("utf-8")).hexdigest()[:12]
    return state_dir / f"journal-{readable}-{digest}.sqlite3"


@dataclass(frozen=True)
class Entry:
    key: str
    fingerprint: str
    state: str
    status: str
    customer_id: str
    row: int | None
    run_id: str


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"{path}: cannot open the run journal ({exc}); check [state] dir"
            ) from None
        self.run_id = ""
        self.resumed = False
        self._changes = 0
        self._opened = 0.0

    def close(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")
        self.db.close()

    # --- runs -----------------------------------------------------------------------------

    def begin_run(self, input_sha256: str, *, restart: bool) -> str:
        """Continue the unfinished run over the same input, or start a new one."""
        row = self.db.execute(
            "SELECT run_id FROM runs WHERE finished_at IS NULL AND input_sha256 = ? "
            "ORDER BY started_at DESC LIMIT 1",
            (input_sha256,),
        ).fetchone()
        if row and not restart:
            self.run_id, self.resumed = row[0], True
            return self.run_id
        self.db.execute("UPDATE runs SET finished_at = ? WHERE finished_at IS NULL", (time.time(),))
        self.run_id, self.resumed = uuid.uuid4().hex, False
        self.db.execute(
            "INSERT INTO runs (run_id, input_sha256, started_at) VALUES (?, ?, ?)",
            (self.run_id, input_sha256, time.time()),
        )
        return self.run_id

    def finish_run(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")
        self.db.execute("UPDATE runs SET finished_at = ? WHERE run_id = ?", (time.time(), self.run_id))

    # --- rows -----------------------------------------------------------------------------

    def get(self, key: str) -> Entry | None:
        row = self.db.execute(
            "SELECT key, fingerprint, state, status, customer_id, row, run_id "
            "FROM customers WHERE key = ?",
            (key,),
        ).fetchone()
        return Entry(*row) if row else None

    def mark(
        self,
        key: str,
        fp: str,
        state: str,
        *,
        row: int | None = None,
        status: str = "",
        customer_id: str = "",
    ) -> None:
        """Record the key's new state; keeps a known customer id when none is given.

        Only ``sent`` is committed at once, before its request goes out: that is the mark a
        crash must not lose. The others ride along with the next commit (at most about a
        second later): a lost ``done`` or ``failed`` leaves ``sent``, which the next run
        settles by looking the customer up.
        """
        self._begin()
        self.db.execute(
            "INSERT INTO customers (key, fingerprint, state, status, customer_id, row, run_id, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET fingerprint = excluded.fingerprint, "
            "state = excluded.state, status = excluded.status, "
            "customer_id = CASE WHEN excluded.customer_id != '' THEN excluded.customer_id "
            "ELSE customers.customer_id END, "
            "row = excluded.row, run_id = excluded.run_id, updated_at = excluded.updated_at",
            (key, fp, state, status, customer_id, row, self.run_id, time.time()),
        )
        if state == "sent":
            self.commit()
        else:
            self._maybe_commit()

    def commit(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")
        self._changes = 0

    def _begin(self) -> None:
        if not self.db.in_transaction:
            self.db.execute("BEGIN")
            self._opened = time.monotonic()

    def _maybe_commit(self) -> None:
        self._changes += 1
        if self._changes >= COMMIT_EVERY_CHANGES or time.monotonic() - self._opened >= COMMIT_EVERY_SECONDS:
            self.commit()
