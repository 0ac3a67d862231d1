"""Several businesses in one run: each gets its own lock, journal, pacer and four workers."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings
from tests.emulator_thread import emulator_in_thread

BUSINESSES = [f"shop{i}@contoso.onmicrosoft.com" for i in range(5)]


def test_rows_are_routed_by_column_and_each_business_runs_at_its_own_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Email", "Business"])
        for i in range(200):
            w.writerow([f"P {i}", f"p{i}@x.com", BUSINESSES[i % 5]])
    cfg = tmp_path / "c.toml"
    settings = EmulatorSettings(tokens={"t"}, businesses={b: b for b in BUSINESSES},
                                latency=0.02, retry_after=0.05)
    with emulator_in_thread(settings) as emu:
        cfg.write_text(
            f'[graph]\nbase_url = "{emu.url}"\n[auth]\ntoken_env = "MB_TOKEN"\n'
            f'[state]\ndir = "{tmp_path / "state"}"\n[import]\nbusiness_column = "Business"\n',
            encoding="utf-8")
        monkeypatch.setenv("MB_TOKEN", "t")
        code = main(["run", str(src), "--config", str(cfg), "--out", str(tmp_path / "o"), "-q"])
        held = {b: len(emu.emulator.customers(b)) for b in BUSINESSES}
        peaks = {b: emu.emulator.max_in_flight(b) for b in BUSINESSES}
        throttled = emu.emulator.counters.throttled
    assert code == 0
    assert held == {b: 40 for b in BUSINESSES}
    # Four in flight in every business at once (not four shared by all), and no 429.
    assert peaks == {b: 4 for b in BUSINESSES}
    assert throttled == 0
    with (tmp_path / "o" / "results.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert Counter(r["business_id"] for r in rows) == {b: 40 for b in BUSINESSES}
    assert [int(r["row"]) for r in rows] == list(range(2, 202)), "input order kept"


def test_an_unknown_business_in_the_column_stops_the_run_with_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("Name,Email,Business\nA,a@x.com,shop0@contoso.onmicrosoft.com\n"
                   "B,b@x.com,nobody@contoso.com\nC,c@x.com,shop0@contoso.onmicrosoft.com\n",
                   encoding="utf-8")
    cfg = tmp_path / "c.toml"
    with emulator_in_thread(EmulatorSettings(tokens={"t"}, businesses={BUSINESSES[0]: "x"})) as emu:
        cfg.write_text(
            f'[graph]\nbase_url = "{emu.url}"\n[auth]\ntoken_env = "MB_TOKEN"\n'
            f'[state]\ndir = "{tmp_path / "state"}"\n[import]\nbusiness_column = "Business"\n',
            encoding="utf-8")
        monkeypatch.setenv("MB_TOKEN", "t")
        code = main(["run", str(src), "--config", str(cfg), "--out", str(tmp_path / "o"), "-q"])
    assert code == 3
    with (tmp_path / "o" / "results.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3, "every row accounted for"
    assert rows[1]["status"] == "not_sent" and "nobody@contoso.com" in rows[1]["message"]


def test_preview_finds_the_same_duplicates_as_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A repeat is a repeat within its business only; rows without an email or phone repeat
    # when their whole customer does. Preview said otherwise for both before.
    from importer.config import load_config
    from importer.previewer import build_preview

    one, two = BUSINESSES[:2]
    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Email", "Business"])
        w.writerows([
            ["Ann", "ann@x.org", one],  # row 2
            ["Ann", "ann@x.org", two],  # another business: a customer of its own
            ["Ann B", "ANN@x.org", one],  # row 4 repeats row 2
            ["Bob", "", one],
            ["Bob", "", one],  # row 6 repeats row 5: the same customer, no email
            ["Bob", "", two],
            ["Ann", "ann@x.org", ""],  # no business: the default one, not `one`
        ])
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[graph]\nbase_url = "http://127.0.0.1:9"\nbusiness_id = "{BUSINESSES[4]}"\n'
        f'[auth]\ntoken_env = "MB_TOKEN"\n[state]\ndir = "{tmp_path / "state"}"\n'
        '[import]\nbusiness_column = "Business"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MB_TOKEN", "t")
    preview = build_preview(load_config(cfg), src)
    assert main(["run", str(src), "--config", str(cfg), "--out", str(tmp_path / "o"), "-q", "--dry-run"]) == 0
    with (tmp_path / "o" / "results.csv").open(encoding="utf-8-sig", newline="") as f:
        run = [int(r["row"]) for r in csv.DictReader(f) if r["status"] == "duplicate"]
    assert run == [4, 6]
    assert [row for row, _ in preview.first_duplicates] == run
    assert preview.first_duplicates == ((4, 2), (6, 5))
