"""A big dry run maps in worker processes and reports exactly what one process would."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from importer import parallel
from importer.cli import main

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "customers.csv"


def sheet(path: Path, copies: int) -> Path:
    """The sample's rows (valid, invalid, duplicates) many times over, shuffled, with a
    business column, a row with no email and a cell that holds a control character."""
    with SAMPLE.open(encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    rng = random.Random(5)
    out = []
    for n in range(copies):
        for r in rows:
            r = list(r)
            if rng.random() < 0.7 and "@" in r[1]:
                r[1] = r[1].replace("@", f".{n}@")  # most copies are new customers
            out.append([*r, rng.choice(["north@contoso.com", "south@contoso.com", ""])])
    rng.shuffle(out)
    out.insert(3, ["No Email", "", "", "", "", "", "", "", "", "", "", "", "555-0100", "", "", "",
                   "north@contoso.com"])
    out.insert(9, ["Bad\x07Bell", "bell@contoso.com", *[""] * 14, ""])
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([[*header, "Business"], *out])
    return path


def dry_run(src: Path, out: Path, config: Path) -> int:
    return main(["run", str(src), "--dry-run", "--quiet", "--out", str(out), "--config", str(config)])


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_workers_report_line_for_line_what_one_process_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    src = sheet(tmp_path / "in.csv", 30)
    config = tmp_path / "c.toml"
    config.write_text('[graph]\nbusiness_id = "main@contoso.com"\n\n'
                      '[import]\nbusiness_column = "Business"\n', encoding="utf-8")
    assert dry_run(src, tmp_path / "one", config) == 1  # the sample has invalid rows
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "CHUNK_ROWS", chunk)
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    calls: list[int] = []
    real = parallel.map_in_workers
    monkeypatch.setattr(parallel, "map_in_workers",
                        lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    assert dry_run(src, tmp_path / "many", config) == 1
    assert calls == [2], "the dry run used two worker processes"
    for name in ("results.csv", "failures.csv", "bodies.jsonl"):
        one = (tmp_path / "one" / name).read_text(encoding="utf-8")
        many = (tmp_path / "many" / name).read_text(encoding="utf-8")
        assert many == one, name
    results = (tmp_path / "one" / "results.csv").read_text(encoding="utf-8")
    for status in (",valid,", ",invalid,", ",duplicate,"):
        assert status in results, f"the sheet has {status.strip(',')} rows"


def test_small_files_and_single_cpus_map_in_this_process(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    small = sheet(tmp_path / "in.csv", 1)
    assert parallel.processes_for(small) == 0
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    assert parallel.processes_for(small) == 0
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda _pid: set(range(16)), raising=False)
    assert parallel.processes_for(small) == parallel.MAX_PROCESSES


def test_workers_started_with_spawn_as_on_windows_report_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = sheet(tmp_path / "in.csv", 5)
    config = tmp_path / "c.toml"
    config.write_text('[graph]\nbusiness_id = "main@contoso.com"\n', encoding="utf-8")
    assert dry_run(src, tmp_path / "one", config) == 1
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "CHUNK_ROWS", 7)
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    # Windows has no fork and no forkserver: only spawn, a fresh interpreter per worker.
    monkeypatch.setattr(parallel.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    used: list[str] = []
    real = parallel.multiprocessing.get_context
    monkeypatch.setattr(parallel.multiprocessing, "get_context",
                        lambda method=None: used.append(str(method)) or real(method))
    assert dry_run(src, tmp_path / "spawned", config) == 1
    assert used == ["spawn"]
    for name in ("results.csv", "failures.csv", "bodies.jsonl"):
        assert ((tmp_path / "spawned" / name).read_text(encoding="utf-8")
                == (tmp_path / "one" / name).read_text(encoding="utf-8")), name
