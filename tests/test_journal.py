from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from importer.errors import RunLocked
from importer.map import fingerprint
from importer.send.journal import Journal, journal_path
from importer.send.lock import RunLock
from tests.deadlines import HANG


def test_fingerprint_is_stable_and_order_free() -> None:
    a = {"displayName": "A", "phones": [{"number": "+1", "type": "home"}]}
    b = {"phones": [{"type": "home", "number": "+1"}], "displayName": "A"}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint({**a, "displayName": "B"})


def test_journal_path_is_one_safe_file_per_business(tmp_path: Path) -> None:
    p1 = journal_path(tmp_path, "a/../../etc@x.com")
    assert p1.parent == tmp_path and "/" not in p1.name
    assert journal_path(tmp_path, "Shop@X.com") == journal_path(tmp_path, "shop@x.com")


def test_marks_survive_reopening_and_keep_known_ids(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    j.begin_run("sha", restart=False)
    j.mark("email:a", "fp1", "sent", row=2)
    j.mark("email:a", "fp1", "done", row=2, status="created", customer_id="c1")
    j.mark("email:a", "fp2", "failed", row=2)
    j.close()
    j = Journal(tmp_path / "j.sqlite3")
    entry = j.get("email:a")
    assert entry is not None
    assert (entry.state, entry.fingerprint, entry.customer_id) == ("failed", "fp2", "c1")
    assert j.get("email:b") is None


def test_an_unfinished_run_over_the_same_input_is_continued(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    first = j.begin_run("sha-1", restart=False)
    j.close()
    j = Journal(tmp_path / "j.sqlite3")
    assert j.begin_run("sha-1", restart=False) == first and j.resumed
    j.finish_run()
    assert j.begin_run("sha-1", restart=False) != first and not j.resumed
    third = j.run_id
    assert j.begin_run("sha-1", restart=True) != third, "--restart starts afresh"
    assert j.begin_run("sha-2", restart=False) != third


def test_unwritable_state_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(Exception, match="cannot open the run journal"):
        Journal(blocker / "j.sqlite3")


def test_lock_is_exclusive_and_freed_when_the_holder_dies(tmp_path: Path) -> None:
    lock = RunLock(tmp_path, "biz@x.com")
    lock.acquire()
    with pytest.raises(RunLocked, match=f"pid {os.getpid()}"):
        RunLock(tmp_path, "BIZ@x.com").acquire()
    lock.release()
    # A process that takes the lock and dies without releasing it.
    code = (
        "import os, sys; from pathlib import Path; from importer.send.lock import RunLock; "
        f"RunLock(Path({str(tmp_path)!r}), 'biz@x.com').acquire(); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=HANG)
    with RunLock(tmp_path, "biz@x.com"):
        pass  # taken over at once


def test_seen_keys_find_repeats_before_and_after_moving_to_disk() -> None:
    from importer.send.sync import SeenKeys

    seen = SeenKeys(in_memory=3)
    assert [seen.first(k, n) for n, k in enumerate(["a", "b", "a", "c"], start=2)] == [
        None, None, 2, None]
    assert seen.keys is not None
    assert seen.first("d", 6) is None  # the fourth key: all move to SQLite
    assert seen.keys is None
    assert [seen.first(k, n) for n, k in enumerate(["b", "e", "d", "e"], start=7)] == [
        3, None, 6, 8]
    seen.close()


KILLED = """
import os, sys
from pathlib import Path
from importer.send.journal import Journal
j = Journal(Path(sys.argv[1]))
j.begin_run("sha", restart=False)
j.mark("email:old", "fp0", "sent", row=1)
j.mark("email:old", "fp0", "done", row=1, status="created", customer_id="c0")
j.mark("email:a", "fp1", "sent", row=2)
j.mark("email:a", "fp1", "done", row=2, status="created", customer_id="c1")
j.mark("email:b", "fp2", "failed", row=3)
os._exit(9)  # killed: no close, no commit
"""


def test_a_killed_process_keeps_every_sent_mark_and_what_came_before(tmp_path: Path) -> None:
    """``sent`` is committed before its request goes out, with every mark before it; later
    marks may be lost, which leaves ``sent`` (looked up next run) or no entry (new)."""
    path = tmp_path / "j.sqlite3"
    subprocess.run([sys.executable, "-c", KILLED, str(path)], check=False,
                   cwd=Path(__file__).resolve().parent.parent, timeout=HANG)
    j = Journal(path)
    old, a = j.get("email:old"), j.get("email:a")
    assert old is not None and (old.state, old.customer_id) == ("done", "c0")
    assert a is not None and a.state == "sent"
    assert j.get("email:b") is None
    j.close()
