"""--keep-runs N: only the newest N run folders stay; nothing else in the folder is touched."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from importer.cli import main
from importer.report.retention import prune_runs, run_folders
from tests.test_cli import SAMPLES


def make_run(base: Path, name: str, age: int, state: str = "finished") -> Path:
    folder = base / name
    folder.mkdir(parents=True)
    summary = folder / "summary.json"
    summary.write_text(json.dumps({"state": state}), encoding="utf-8")
    stamp = 1_700_000_000 + 1000 - age
    os.utime(summary, (stamp, stamp))
    return folder


@pytest.mark.parametrize(("keep", "left"), [(1, ["new"]), (2, ["mid", "new"]), (5, ["old", "mid", "new"])])
def test_keeps_the_newest_and_leaves_other_things_alone(tmp_path: Path, keep: int,
                                                        left: list[str]) -> None:
    for name, age in (("new", 1), ("old", 300), ("mid", 20)):
        make_run(tmp_path, name, age)
    make_run(tmp_path, "busy", 900, state="running")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "x.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "results.csv").write_text("", encoding="utf-8")
    prune_runs(tmp_path, keep)
    assert [p.name for p in run_folders(tmp_path)] == left
    assert {"busy", "notes", "results.csv"} <= {p.name for p in tmp_path.iterdir()}


def test_an_inbox_report_takes_its_spreadsheet_along(tmp_path: Path) -> None:
    make_run(tmp_path, "a.csv.report", 100)
    make_run(tmp_path, "b.csv.report", 1)
    (tmp_path / "a.csv").write_text("x", encoding="utf-8")
    (tmp_path / "b.csv").write_text("x", encoding="utf-8")
    removed = prune_runs(tmp_path, 1)
    assert sorted(p.name for p in removed) == ["a.csv", "a.csv.report"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv", "b.csv.report"]


def test_keep_must_be_at_least_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        prune_runs(tmp_path, 0)
    assert main(["run", str(SAMPLES / "customers.csv"), "--dry-run", "--keep-runs", "0"]) == 2


def test_run_flag_prunes_the_report_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    for i in range(4):
        make_run(runs, f"2020010{i}-000000", 100 - i)
    for _ in range(2):
        assert main(["run", str(SAMPLES / "customers.csv"), "--dry-run", "--quiet",
                     "--keep-runs", "2"]) == 1
    left = run_folders(runs)
    assert len(left) == 2
    assert all(json.loads((p / "summary.json").read_text(encoding="utf-8"))["dry_run"] for p in left)
