"""A big sheet read in parts on several threads gives exactly what one read gives (sheetsplit.py).

The limits are lowered so that small generated sheets are cut into many parts, at every kind
of place: blank rows, rows that start further right, number formats, ragged rows."""

from __future__ import annotations

import random
import re
import threading
import time
import zipfile
from pathlib import Path

import pytest

from importer.errors import InputError
from importer.read import sheetsplit, xlsxsource
from importer.read.loader import open_input
from tests.deadlines import HANG

from .loader_fixtures import SheetSpec, patch_zip, write_xlsx


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheetsplit, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(sheetsplit, "PART_MIN_BYTES", 2_000)
    monkeypatch.setattr(sheetsplit, "PART_MAX_BYTES", 6_000)
    monkeypatch.setattr(sheetsplit, "workers", lambda: 2)
    monkeypatch.setattr(xlsxsource, "CHUNK", 1_500)


def read(path: Path, *, split: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[object, ...]:
    with monkeypatch.context() as patch:
        if not split:
            patch.setattr(sheetsplit, "SPLIT_MIN_BYTES", 1 << 40)
        with open_input(path) as loaded:
            kind = type(loaded._source._calamine_sheet).__name__  # type: ignore[attr-defined]
            return kind, loaded.info, list(loaded.rows()), loaded.warnings


def messy_sheet(rows: int, seed: int) -> SheetSpec:
    """Customers from C4, with blank rows and spacer columns, ragged rows, numbers and a ZIP
    column formatted 00000."""
    rng = random.Random(seed)
    table: list[list[object]] = [["Name", "Email", None, "Phone", "ZIP"]]
    for i in range(rows):
        if rng.random() < 0.05:
            table.append([])  # a blank row, sometimes at a cut
            continue
        row: list[object] = [f"Person {i}", f"p{i}@example.org", None]
        row += [rng.randrange(10**9), rng.randrange(99_999)]
        if rng.random() < 0.02:
            row += ["stray"]  # a cell beyond the last header
        table.append(row)
    formats = {f"G{r}": "00000" for r in range(5, rows + 5)}
    return SheetSpec("Customers", table, formats=formats, top_left=(4, 3))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_parts_read_as_one_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_parts: None, seed: int
) -> None:
    path = write_xlsx(tmp_path / "in.xlsx", messy_sheet(600, seed))
    whole = read(path, split=False, monkeypatch=monkeypatch)
    parts = read(path, split=True, monkeypatch=monkeypatch)
    assert whole[0] == "CalamineSheet" and parts[0] == "SplitSheet"
    assert parts[1:] == whole[1:]
    assert len(whole[2]) > 500


def test_a_part_that_starts_further_left_aligns_with_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_parts: None
) -> None:
    # The first rows use columns C and D only; a late row has a value in A: every row must
    # come out aligned from A, as one read gives it.
    table: list[list[object]] = [[None, None, "Name", "Email"]]
    table += [[None, None, f"P{i}", f"p{i}@example.org"] for i in range(400)]
    table += [["note", None, "Last", "last@example.org"]]
    path = write_xlsx(tmp_path / "in.xlsx", SheetSpec("Customers", table))
    whole = read(path, split=False, monkeypatch=monkeypatch)
    parts = read(path, split=True, monkeypatch=monkeypatch)
    assert parts[0] == "SplitSheet"
    assert parts[1:] == whole[1:]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ((b'<row r="200"', b'<!-- a note --><row r="200"'), "CalamineSheet"),
        ((b'<c r="A300"', b'<c r="A3"'), "CalamineSheet"),  # a cell placed among earlier rows
        ((b'<c r="B250"', b"<c"), "CalamineSheet"),  # a cell without a reference
    ],
    ids=["comment-among-rows", "reference-out-of-order", "cell-without-reference"],
)
def test_what_a_cut_could_change_is_read_whole(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_parts: None,
    change: tuple[bytes, bytes],
    expected: str,
) -> None:
    path = write_xlsx(
        tmp_path / "in.xlsx",
        SheetSpec("Customers", [["Name", "Email"]] + [[f"P{i}", f"p{i}@x.org"] for i in range(400)]),
    )
    patch_zip(path, "xl/worksheets/sheet1.xml", change)
    whole = read(path, split=False, monkeypatch=monkeypatch)
    parts = read(path, split=True, monkeypatch=monkeypatch)
    assert parts[0] == expected
    assert parts[1:] == whole[1:]


def test_a_far_cell_late_in_the_sheet_stops_the_parts_and_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_parts: None
) -> None:
    path = write_xlsx(
        tmp_path / "in.xlsx",
        SheetSpec("Customers", [["Name", "Email"]] + [[f"P{i}", f"p{i}@x.org"] for i in range(400)]),
    )
    patch_zip(path, "xl/worksheets/sheet1.xml", (b'<c r="B390"', b'<c r="XFD1048576"'))
    with pytest.raises(InputError, match=r"uses cells up to XFD1048576 .* too many to read"):
        open_input(path)


def test_one_cpu_reads_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_parts: None) -> None:
    monkeypatch.setattr(sheetsplit, "workers", lambda: 1)
    path = write_xlsx(tmp_path / "in.xlsx", messy_sheet(100, 4))
    assert read(path, split=True, monkeypatch=monkeypatch)[0] == "CalamineSheet"


def test_the_copies_hold_only_what_calamine_needs(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "in.xlsx", SheetSpec("A", [["x"]]), SheetSpec("B", [["y"]]))
    with zipfile.ZipFile(path) as archive:
        targets = xlsxsource._workbook_targets(archive, str(path))
        names = [name for name, _ in xlsxsource._copied_parts(archive, targets)]
    assert "xl/styles.xml" in names and "xl/workbook.xml" in names
    assert not any(name.startswith("xl/worksheets/") for name in names)


def test_sheets_read_at_once_share_the_cpus_without_deadlock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_parts: None
) -> None:
    # Each check holds a CPU slot; with two slots and three checks at once, a check that
    # kept its slot while waiting for its parts would wait forever.
    path = write_xlsx(tmp_path / "in.xlsx", messy_sheet(800, 5))
    expected = read(path, split=False, monkeypatch=monkeypatch)
    results: list[object] = []

    def load() -> None:
        with open_input(path) as loaded:
            results.append((loaded.info, list(loaded.rows()), loaded.warnings))

    threads = [threading.Thread(target=load, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + HANG
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "sheet reads deadlocked"
    assert results == [expected[1:]] * 3


def test_a_sheet_prefixed_throughout_is_read_in_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_parts: None
) -> None:
    # <x:worksheet xmlns:x="..."><x:sheetData><x:row r="1"><x:c r="A1" ...>, as the Open XML
    # SDK can write it: calamine reads it, and so must the parts.
    path = write_xlsx(tmp_path / "in.xlsx", messy_sheet(500, 6))
    member = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    xml = re.sub(rb"<(/?)([A-Za-z])", rb"<\1x:\2", parts[member])
    parts[member] = xml.replace(b'xmlns="', b'xmlns:x="', 1)
    assert b'<x:c r="C5"' in parts[member]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    whole = read(path, split=False, monkeypatch=monkeypatch)
    split = read(path, split=True, monkeypatch=monkeypatch)
    assert split[0] == "SplitSheet"
    assert split[1:] == whole[1:]
    assert len(whole[2]) > 400
