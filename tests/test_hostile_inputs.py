"""Hostile and malformed spreadsheets through the real command line: nothing lost, nothing sent.

Every input is generated here (no committed binaries). Each has one documented outcome:

- REFUSED: exit 2, one line on stderr naming the file (and the row when there is one), no
  traceback, and not one request reaches the Graph emulator;
- ROWS: the file is read, and results.csv (with failures.csv / failures.xlsx) says what became
  of each row: ``valid`` or ``invalid`` with the reason.

Runs happen in a worker thread with a deadline, so a hang fails the test instead of the build.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings
from tests.deadlines import HANG
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread
from tests.loader_fixtures import SheetSpec, fake_ole, patch_zip, table, write_xlsx
from tests.peak import MEASURE

ROOT = Path(__file__).resolve().parent.parent
BIZ = "hostile@contoso.onmicrosoft.com"
TOKEN = "hostile-token"
DEADLINE = HANG  # any one run may take this long before it counts as a hang

Build = Callable[[Path], Path]


# --- running the command line -------------------------------------------------------------


@dataclass
class Ran:
    code: int
    out: str
    err: str


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> Ran:
    """``main(args)`` in a worker thread: a hang fails after DEADLINE instead of blocking CI."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["code"] = main(args)
        except BaseException as exc:  # an escaped exception is a bug the test must show
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(DEADLINE)
    assert not worker.is_alive(), f"hung: bookings-import {' '.join(args)}"
    captured = capsys.readouterr()
    assert "error" not in box, f"escaped exception {box.get('error')!r}"
    assert "Traceback" not in captured.err
    return Ran(box["code"], captured.out, captured.err)


@pytest.fixture(scope="module")
def emu() -> Iterator[ThreadedEmulator]:
    with emulator_in_thread(EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Hostile"})) as server:
        yield server


@pytest.fixture
def live_config(tmp_path: Path, emu: ThreadedEmulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOSTILE_TOKEN", TOKEN)
    path = tmp_path / "c.toml"
    path.write_text(
        f'[graph]\nbase_url = "{emu.url}"\nbusiness_id = "{BIZ}"\n'
        f'[auth]\ntoken_env = "HOSTILE_TOKEN"\n[state]\ndir = "{tmp_path / "state"}"\n'
        "[limits]\ntimeout = 5\nmax_backoff = 0.1\n",
        encoding="utf-8",
    )
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# --- builders -----------------------------------------------------------------------------


def text(name: str, content: str | bytes, encoding: str = "utf-8") -> Build:
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return build


def workbook(name: str, rows: list[list[Any]], **formats: str) -> Build:
    return lambda tmp: table(tmp / name, rows, **formats)


def openpyxl_book(name: str, fill: Callable[[Any], None]) -> Build:
    def build(tmp: Path) -> Path:
        book = openpyxl.Workbook()
        fill(book)
        book.save(tmp / name)
        return tmp / name

    return build


def renamed(name: str, build: Build) -> Build:
    def rename(tmp: Path) -> Path:
        made = build(tmp)
        return made.rename(tmp / name)

    return rename


def truncated_xlsx(tmp: Path) -> Path:
    data = table(tmp / "whole.xlsx", [["Name", "Email"], ["Ann", "a@x.org"]]).read_bytes()
    path = tmp / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


def zip_bomb(tmp: Path, *, megabytes: int = 120, lie: bool = False, name: str = "bomb.xlsx") -> Path:
    """A real workbook plus a sharedStrings.xml of ``megabytes`` MiB of 'A' (about 120 KiB
    packed). With ``lie`` the archive declares the part as 1,000 bytes, so a size check alone
    would let it through."""
    base = table(tmp / "base.xlsx", [["Name", "Email"], ["Ann", "a@x.org"]])
    path = tmp / name
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info, source.read(info))
        part = zipfile.ZipInfo("xl/sharedStrings.xml")
        part.compress_type = zipfile.ZIP_DEFLATED
        with out.open(part, "w") as stream:
            stream.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                         b"<si><t>")
            block = b"A" * (1 << 20)
            for _ in range(megabytes):
                stream.write(block)
            stream.write(b"</t></si></sst>")
    if lie:
        data = bytearray(path.read_bytes())
        member = b"xl/sharedStrings.xml"
        for magic, name_at, size_at in ((b"PK\x03\x04", 26, 22), (b"PK\x01\x02", 28, 24)):
            at = data.find(magic)
            while at >= 0:
                length = struct.unpack_from("<H", data, at + name_at)[0]
                start = at + (30 if magic == b"PK\x03\x04" else 46)
                if data[start : start + length] == member:
                    struct.pack_into("<I", data, at + size_at, 1000)
                at = data.find(magic, at + 4)
        path.write_bytes(bytes(data))
    return path


def doctype_xlsx(tmp: Path) -> Path:
    # "Billion laughs": entity expansion in workbook.xml must never be evaluated.
    path = table(tmp / "laughs.xlsx", [["Name", "Email"], ["Ann", "a@x.org"]])
    return patch_zip(path, "xl/workbook.xml", (
        b"<workbook ",
        b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><workbook ',
    ))


def zip_without_workbook(tmp: Path) -> Path:
    path = tmp / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return path


def only_sheet_hidden(tmp: Path) -> Path:
    # Excel refuses to save a workbook without a visible sheet, and so does openpyxl;
    # other programs write them, so the flag is set in the XML.
    path = write_xlsx(tmp / "hidden-only.xlsx",
                      SheetSpec("Customers", [["Name", "Email"], ["Ann", "a@x.org"]]))
    return patch_zip(path, "xl/workbook.xml", (b'state="visible"', b'state="hidden"'))


def far_cell(tmp: Path) -> Path:
    path = table(tmp / "far.xlsx", [["Name", "Email"], ["Ann", "a@x.org"]])
    return patch_zip(path, "xl/worksheets/sheet1.xml", (
        b"</row></sheetData>",
        b'</row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        b"</sheetData>",
    ))


def directory(tmp: Path) -> Path:
    path = tmp / "folder.csv"
    path.mkdir()
    return path


def broken_symlink(tmp: Path) -> Path:
    path = tmp / "link.csv"
    path.symlink_to(tmp / "gone.csv")
    return path


def named_pipe(tmp: Path) -> Path:
    # Nobody writes to it: opened the usual way, it would block for ever.
    path = tmp / "pipe.csv"
    os.mkfifo(path)
    return path


def parent_is_a_file(tmp: Path) -> Path:
    (tmp / "customers.csv").write_text("Name,Email\nAnn,a@x.org\n", encoding="utf-8")
    return tmp / "customers.csv" / "in.csv"


def wide_csv(columns: int, same_name: bool) -> Build:
    extra = [f"Extra {i}" for i in range(columns - 2)]
    names = ["Email"] * columns if same_name else ["Name", "Email", *extra]
    return text(f"wide-{columns}{'-same' if same_name else ''}.csv",
                ",".join(names) + "\n" + ",".join(["Ann", "a@x.org", *(["v"] * (columns - 2))]) + "\n")


# --- refused: exit 2, one line, nothing sent ----------------------------------------------

REFUSED: list[tuple[str, Build, str, int | None]] = [
    # id, builder, words of the message, row named (None: no row)
    ("empty-csv", text("empty.csv", b""), "the file is empty", None),
    ("empty-xlsx", text("empty.xlsx", b""), "the file is empty", None),
    ("binary-garbage-csv", text("garbage.csv", bytes(range(256)) * 16), "binary data", None),
    ("xlsx-named-csv", renamed("really-xlsx.csv", workbook("w.xlsx", [["Name", "Email"]])),
     "this is a zip file", None),
    ("csv-named-xlsx", text("really-csv.xlsx", "Name,Email\nAnn,a@x.org\n"), "this is a text file", None),
    ("truncated-xlsx", truncated_xlsx, "the workbook is damaged", None),
    ("encrypted-xlsx", text("secret.xlsx", fake_ole(encrypted=True)), "password-protected", None),
    ("xls-named-xlsx", text("old.xlsx", fake_ole(encrypted=False)), "Excel 97-2003", None),
    ("ole-named-csv", text("old.csv", fake_ole(encrypted=True)), "not CSV text", None),
    ("zip-bomb", zip_bomb, "which is unsafe", None),
    ("zip-bomb-lying-sizes", lambda tmp: zip_bomb(tmp, megabytes=40, lie=True),
     "cannot be read", None),
    ("zip-without-workbook", zip_without_workbook, "not an Excel workbook", None),
    ("doctype-entities", doctype_xlsx, "document type declarations are not allowed", None),
    ("far-stray-cell", far_cell, "too many to read", None),
    ("only-sheet-hidden", only_sheet_hidden, "hidden sheets: 'Customers'", None),
    ("workbook-without-data", lambda tmp: write_xlsx(tmp / "blank.xlsx", SheetSpec("Sheet1")),
     "no visible sheet has any data", None),
    ("csv-of-blank-lines", text("blank.csv", "\n,,\n  \n\n"), "has no data", None),
    ("unbalanced-quote", text("quote.csv", 'Name,Email\n"Ann,a@x.org\nBob,b@x.org\n'),
     "never closed", 2),
    ("unbalanced-quote-late", text("quote-late.csv", "Name,Email\n" + "Ann,a@x.org\n" * 50
                                   + 'Bob,"b@x.org\n' + "Cy,c@x.org\n" * 20_000),
     "is probably not closed", 52),
    ("one-megabyte-cell-csv", text("big.csv", "Name,Email,Notes\nAnn,a@x.org," + "x" * (1 << 20) + "\n"),
     "Excel holds at most 32,767", 2),
    # 1,000 columns of one name are read as "Email", "Email (2)", ... and name nobody
    ("thousand-columns-same-name", wide_csv(1000, same_name=True),
     "no column for the customer's name", None),
    ("no-header-row", text("scattered.csv", "Name\n,Ann\n,,a@x.org\n"), "no header row found", None),
    ("unknown-extension", text("customers.numbers", "Name,Email\n"), "unsupported file type '.numbers'",
     None),
    ("ods-that-is-text", text("customers.ods", "Name,Email\n"), "not an OpenDocument", None),
    ("damaged-xls", text("customers.xls", fake_ole(encrypted=False)), "the workbook is damaged", None),
    ("no-extension", text("customers", "Name,Email\n"), "without extension", None),
    ("directory", directory, "this is a folder", None),
    ("broken-symlink", broken_symlink, "file not found", None),
    ("missing-file", lambda tmp: tmp / "nowhere.xlsx", "file not found", None),
    ("named-pipe", named_pipe, "not a regular file (a pipe, socket or device)", None),
    ("parent-is-a-file", parent_is_a_file, "a folder named in the path is a file", None),
]


@pytest.mark.parametrize(("case", "build", "words", "row"),
                         [pytest.param(*c, id=c[0]) for c in REFUSED])
def test_refused_input_is_one_line_exit_2_and_nothing_is_sent(
    case: str, build: Build, words: str, row: int | None, tmp_path: Path,
    live_config: Path, emu: ThreadedEmulator, capsys: pytest.CaptureFixture[str],
) -> None:
    source = build(tmp_path)
    sent_before = len(emu.emulator.request_log)
    ran = run_cli(["run", str(source), "--config", str(live_config), "--out",
                   str(tmp_path / "out")], capsys)
    assert ran.code == 2, ran.err
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1, ran.err
    assert lines[0].startswith(f"bookings-import: error: {source}"), lines[0]
    assert words in lines[0]
    if row is not None:
        assert f"{source}, row {row}:" in lines[0]
    assert len(emu.emulator.request_log) == sent_before, "a request reached the service"
    assert not (tmp_path / "out").exists(), "no report for a file that was never read"


def as_someone_else() -> list[str]:
    """The command prefix that runs a child as a user who may not read a file only its owner
    may. Root reads any file, so as root (CI runs as root) the child runs as nobody."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")  # util-linux, in every Debian
    if setpriv:
        return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    if os.environ.get("CI"):
        pytest.fail("setpriv (util-linux) is missing: as root, an unreadable file cannot be made")
    pytest.skip("as root without setpriv, every file is readable")


def test_unreadable_file_is_refused_with_one_line() -> None:
    prefix = as_someone_else()
    # Not under tmp_path: pytest's folders are private to their owner, and the child must
    # reach the file (and be refused the file itself, not the way to it).
    folder = Path(tempfile.mkdtemp(prefix="bookings-import-unreadable-"))
    try:
        folder.chmod(0o755)
        source = folder / "locked.csv"
        source.write_text("Name,Email\nAnn,a@x.org\n", encoding="utf-8")
        source.chmod(0)
        done = subprocess.run([*prefix, sys.executable, "-m", "importer", "run", str(source),
                               "--dry-run"], capture_output=True, text=True, timeout=DEADLINE, cwd=ROOT)
    finally:
        shutil.rmtree(folder)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"bookings-import: error: {source}: permission denied; close the file in Excel or "
        "check who may read it"]


def test_wrong_sheet_name_lists_the_sheets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_xlsx(tmp_path / "two.xlsx", SheetSpec("Customers", [["Name", "Email"], ["A", "a@x.org"]]),
                        SheetSpec("Notes", [["x", "y"]]))
    ran = run_cli(["run", str(source), "--dry-run", "--sheet", "Clients"], capsys)
    assert ran.code == 2
    assert "no sheet named 'Clients'; the workbook has 'Customers', 'Notes'" in ran.err


# --- read: what became of each row ---------------------------------------------------------


def merged_cells(book: Any) -> None:
    sheet = book.active
    sheet.append(["Name", "Email", "City"])
    sheet.append(["Ann", "a@x.org", "Paris"])
    sheet.append(["Bob", "b@x.org", None])
    sheet.merge_cells("C2:C3")


def hidden_rows_and_sheet(book: Any) -> None:
    sheet = book.active
    sheet.title = "Visible"
    sheet.append(["Name", "Email"])
    sheet.append(["Ann", "a@x.org"])
    sheet.append(["Hidden Row", "h@x.org"])
    sheet.row_dimensions[3].hidden = True
    secret = book.create_sheet("Secret", 0)  # first in the workbook, but hidden
    secret.sheet_state = "hidden"
    secret.append(["Name", "Email"])
    secret.append(["Secret Sam", "s@x.org"])
    book.active = 1


def dates(book: Any) -> None:
    sheet = book.active
    sheet.append(["Name", "Email", "Since"])
    sheet.append(["Ann", "bad-email-1", "02/01/2024"])  # typed as text: kept as typed
    sheet.append(["Bob", "bad-email-2", dt.date(2024, 1, 2)])  # a real date: ISO
    sheet.append(["Cy", "bad-email-3", 45293])  # a serial number in a General cell: a number


def cached_formula(tmp: Path) -> Path:
    path = table(tmp / "cached.xlsx", [["Name", "Email"], ['="Ann "&"Lee"', "a@x.org"]])
    return patch_zip(path, "xl/worksheets/sheet1.xml",
                     (b"</f><v /></c>", b"</f><v>Ann Lee</v></c>"), (b'r="A2"', b'r="A2" t="str"'))


def blank_rows_between(tmp: Path) -> Path:
    path = tmp / "gaps.csv"
    path.write_text("Name,Email\nAnn,a@x.org\n" + ",\n" * 3000 + "\n" * 2000 + "Bob,b@x.org\n",
                    encoding="utf-8")
    return path


@dataclass(frozen=True)
class Read:
    """What results.csv must say: (row, status, display name) per row; ``failures`` maps a
    failures.csv column to the values it must hold, in order."""

    rows: list[tuple[int, str, str]]
    failures: dict[str, list[str]] | None = None
    extra: tuple[str, ...] = ()  # more arguments for the run


READ: list[tuple[str, Build, Read]] = [
    ("header-only", text("header.csv", "Name,Email\n"), Read([])),
    ("nul-bytes", text("nul.csv", b"Name,Email\nA\0nn,a@x.org\0\n\0"), Read([(2, "valid", "Ann")])),
    ("mixed-line-endings", text("mixed.csv", "Name,Email\r\nAnn,a@x.org\nBob,b@x.org\rCy,c@x.org\r\n"),
     Read([(2, "valid", "Ann"), (3, "valid", "Bob"), (4, "valid", "Cy")])),
    ("lone-cr-endings", text("cr.csv", "Name,Email\rAnn,a@x.org\rBob,b@x.org\r"),
     Read([(2, "valid", "Ann"), (3, "valid", "Bob")])),
    ("ten-thousand-columns-csv", wide_csv(10_000, same_name=False), Read([(2, "valid", "Ann")])),
    ("ten-thousand-columns-xlsx", workbook("wide.xlsx", [
        ["Name", "Email", *(f"Extra {i}" for i in range(9998))], ["Ann", "a@x.org", *(["v"] * 9998)]]),
     Read([(2, "valid", "Ann")])),
    ("one-megabyte-cell-xlsx-ignored-column", workbook("notes.xlsx", [
        ["Name", "Email", "Notes"], ["Ann", "a@x.org", "x" * (1 << 20)]]), Read([(2, "valid", "Ann")])),
    ("one-megabyte-name-xlsx", workbook("name.xlsx", [["Name", "Email"], ["x" * (1 << 20), "a@x.org"]]),
     Read([(2, "invalid", "")])),
    ("formula-without-cached-value", workbook("formula.xlsx", [["Name", "Email"], ['="Ann"', "a@x.org"]]),
     Read([(2, "invalid", "")], {"error": ["Name: name is required; fill in 'Name'"]})),
    ("formula-with-cached-value", cached_formula, Read([(2, "valid", "Ann Lee")])),
    ("merged-cells-value-in-first-row-only", openpyxl_book("merged.xlsx", merged_cells),
     Read([(2, "valid", "Ann"), (3, "valid", "Bob")])),
    ("hidden-rows-imported-hidden-sheet-skipped", openpyxl_book("hidden.xlsx", hidden_rows_and_sheet),
     Read([(2, "valid", "Ann"), (3, "valid", "Hidden Row")])),
    ("hidden-sheet-when-named", openpyxl_book("hidden.xlsx", hidden_rows_and_sheet),
     Read([(2, "valid", "Secret Sam")], extra=("--sheet", "Secret"))),
    ("dates-as-text-date-and-serial", openpyxl_book("dates.xlsx", dates),
     Read([(2, "invalid", ""), (3, "invalid", ""), (4, "invalid", "")],
          {"Since": ["02/01/2024", "2024-01-02", "45293"]})),
    ("emoji-and-right-to-left", text("world.csv", "Name,Email,City\n😀 Ann ❤️,a@x.org,القاهرة\n"
                                     "שלום עולם,b@x.org,תל אביב\n"),
     Read([(2, "valid", "😀 Ann ❤️"), (3, "valid", "שלום עולם")])),
    ("names-only-spaces", text("spaces.csv", "Name,Email\n   ,a@x.org\n\u00a0\u2003,b@x.org\n"),
     Read([(2, "invalid", ""), (3, "invalid", "")])),
    # Format characters (bidi overrides, marks) are not control characters: kept as typed.
    ("bidi-override-in-name", text("bidi.csv", "Name,Email\nAnn\u202eevil,a@x.org\n"),
     Read([(2, "valid", "Ann\u202eevil")])),
    ("control-character-in-name", text("bell.csv", "Name,Email\nAnn\x07Lee,a@x.org\n"),
     Read([(2, "invalid", "")])),
    ("title-row-of-one-cell", text("title.csv", "Customer export 2026\n\nName,Email\nAnn,a@x.org\n"),
     Read([(4, "valid", "Ann")])),
    ("one-column-sheet", text("names.csv", "Name\nAnn\nBob\n"),
     Read([(2, "valid", "Ann"), (3, "valid", "Bob")])),
    ("thousands-of-blank-rows-between", blank_rows_between,
     Read([(2, "valid", "Ann"), (5003, "valid", "Bob")])),
    ("utf16-without-bom", text("u16.csv", "Name\tEmail\nZoë\tz@x.org\n", "utf-16-le"),
     Read([(2, "valid", "Zoë")])),
    ("utf16-with-bom-excel-unicode-text", text("unicode.txt", "\ufeffName\tEmail\nZoë,Lee\tz@x.org\n",
                                               "utf-16-le"), Read([(2, "valid", "Zoë,Lee")])),
    # (One word "Zoë" is as much Lithuanian cp1257 "Zoė": a file that short is refused.)
    ("windows-1252", text("ansi.csv", "Name;Email\nZoë Ibáñez;z@x.org\n", "cp1252"),
     Read([(2, "valid", "Zoë Ibáñez")])),
    ("quoted-newlines-and-delimiters", text("quoted.csv", 'Name,Email,Street\n"Lee, Ann",a@x.org,'
                                           '"1 Main St\nFlat 2"\n'),
     Read([(2, "valid", "Lee, Ann")])),
    ("cells-beyond-the-last-header", text("extra.csv", "Name,Email\nAnn,a@x.org,surplus,more\n"),
     Read([(2, "valid", "Ann")])),
    ("headers-with-odd-whitespace", text("ws.csv", '" Name\n",\tEmail \nAnn,a@x.org\n'),
     Read([(2, "valid", "Ann")])),
]


@pytest.mark.parametrize(("case", "build", "expected"), [pytest.param(*c, id=c[0]) for c in READ])
def test_read_inputs_account_for_every_row(
    case: str, build: Build, expected: Read, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = build(tmp_path)
    out = tmp_path / "out"
    ran = run_cli(["run", str(source), "--dry-run", "--out", str(out), *expected.extra], capsys)
    results = read_csv(out / "results.csv")
    got = [(int(r["row"]), r["status"], r["display_name"]) for r in results]
    assert got == expected.rows
    invalid = any(status == "invalid" for _, status, _ in expected.rows)
    assert ran.code == (1 if invalid else 0), ran.err
    if expected.failures:
        failures = read_csv(out / "failures.csv")
        for column, values in expected.failures.items():
            assert [f[column] for f in failures] == values


# --- formula injection and the failures round trip ------------------------------------------

INJECTIONS = [
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def injected(tmp: Path, suffix: str) -> Path:
    rows = [["Name", "Email", "Notes"]]
    rows += [[f"Person {i}", f"not-an-email-{i}", cell] for i, cell in enumerate(INJECTIONS)]
    rows.append(["=HYPERLINK(\"http://evil\",\"x\")", "x@x.org", ""])  # a valid row
    if suffix == ".xlsx":
        book = openpyxl.Workbook()
        for values in rows:
            book.active.append(values)
        for line in book.active.iter_rows():
            for cell in line:
                cell.data_type = "s"  # text that looks like a formula, as a person typed it
        book.save(tmp / "injected.xlsx")
        return tmp / "injected.xlsx"
    path = tmp / "injected.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formula_injection_is_neutralised_in_every_report(
    suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    ran = run_cli(["run", str(injected(tmp_path, suffix)), "--dry-run", "--out", str(out)], capsys)
    assert ran.code == 1
    results = read_csv(out / "results.csv")
    assert results[-1]["display_name"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    with (out / "failures.csv").open(encoding="utf-8-sig", newline="") as f:
        written = [row[3] for row in csv.reader(f)][1:]
    assert len(written) == len(INJECTIONS)
    assert all(cell.startswith("'") for cell in written), written
    if suffix == ".xlsx":
        sheet = openpyxl.load_workbook(out / "failures.xlsx").active
        notes = [row[3].value for row in sheet.iter_rows(min_row=2)]
        assert all(isinstance(v, str) and v.startswith("'") for v in notes), notes
        assert all(row[3].data_type == "s" for row in sheet.iter_rows(min_row=2))


@pytest.mark.parametrize("report", ["failures.csv", "failures.xlsx"])
def test_failures_file_round_trips_neutralised_cells(
    report: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "first"
    run_cli(["run", str(injected(tmp_path, ".xlsx")), "--dry-run", "--out", str(first)], capsys)
    again = tmp_path / "again"
    run_cli(["run", str(first / report), "--dry-run", "--out", str(again)], capsys)
    failures = read_csv(again / "failures.csv")
    assert [int(f["source_row"]) for f in failures] == list(range(2, 2 + len(INJECTIONS)))
    # Read back as the original text: the "'" each report added is gone (twice neutralised,
    # it would start "''"). A CR comes back as LF: CSV and XML both normalise line ends.
    assert [f["Notes"] for f in failures] == [
        "'" + cell.replace("\r", "\n") for cell in INJECTIONS]


FORMULA_HEADERS = ['=HYPERLINK("http://evil","hdr")', "@Email", "+Phone", "-Company"]


@pytest.mark.parametrize("report", ["failures.csv", "failures.xlsx"])
def test_formula_headers_are_neutralised_and_still_map_when_run_again(
    report: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No CSV report starts a header cell with a formula character; the failures file, run
    again with the same [columns], maps its columns as the first run did."""
    rows = [["Name", *FORMULA_HEADERS], ["Ann", "x", "not-an-email", "1", "Co"],
            ["Bo", "y", "bo@x.org", "555-0100", "Co"]]
    if report == "failures.xlsx":  # written for a workbook's run
        source = tmp_path / "headers.xlsx"
        book = openpyxl.Workbook()
        for values in rows:
            book.active.append(values)
        for line in book.active.iter_rows():
            for cell in line:
                cell.data_type = "s"
        book.save(source)
    else:
        source = tmp_path / "headers.csv"
        with source.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
    config = tmp_path / "columns.toml"
    config.write_text('[columns]\n"Name" = "displayName"\n"=HYPERLINK(\\"http://evil\\",\\"hdr\\")" '
                      '= "ignore"\n"@Email" = "emailAddress"\n"+Phone" = "phone.mobile"\n'
                      '"-Company" = "companyName"\n', encoding="utf-8")
    first = tmp_path / "first"
    ran = run_cli(["run", str(source), "--config", str(config), "--dry-run", "--out", str(first)],
                  capsys)
    assert ran.code == 1, ran.err
    for name in ("results.csv", "failures.csv"):
        with (first / name).open(encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f))
        assert not [h for h in header if h.startswith(("=", "+", "-", "@", "\t", "\r"))], header
    with (first / "failures.csv").open(encoding="utf-8-sig", newline="") as f:
        assert next(csv.reader(f))[1:6] == ["Name", *("'" + h for h in FORMULA_HEADERS)]
    if report == "failures.xlsx":
        sheet = openpyxl.load_workbook(first / report).active
        assert [c.value for c in next(sheet.iter_rows(max_row=1))][2] == "'" + FORMULA_HEADERS[0]

    again = run_cli(["preview", str(first / report), "--config", str(config), "--format", "json"],
                    capsys)
    preview = json.loads(again.out)
    assert [(c["header"], c["field"]) for c in preview["columns"]] == [
        ("Name", "displayName"), (FORMULA_HEADERS[0], None), ("@Email", "emailAddress"),
        ("+Phone", "phone.mobile"), ("-Company", "companyName")]
    assert "@Email" in {p["column"] for p in preview["problems"]}


# --- in a separate process: bounded memory and time, exit code, no traceback -----------------



def subprocess_run(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    proc = subprocess.run([sys.executable, "-c", MEASURE, "run", *args, "--dry-run"],
                          capture_output=True, text=True, timeout=DEADLINE, cwd=ROOT)
    rss = next((int(line.split()[1]) for line in proc.stdout.splitlines()
                if line.startswith("maxrss_kib")), 0)
    return proc, rss / 1024


@pytest.mark.parametrize(
    ("build", "words"),
    [
        pytest.param(lambda tmp: zip_bomb(tmp, megabytes=300), "which is unsafe", id="zip-bomb"),
        pytest.param(lambda tmp: zip_bomb(tmp, megabytes=300, lie=True), "cannot be read",
                     id="zip-bomb-lying-sizes"),
        pytest.param(text("garbage.csv", bytes(range(256)) * 4096), "binary data", id="garbage"),
        pytest.param(text("quote.csv", 'Name,Email\n"Ann,a@x.org\n' + "Bob,b@x.org\n" * 100),
                     "never closed", id="unbalanced-quote"),
    ],
)
def test_in_a_subprocess_refused_in_bounded_memory(build: Build, words: str, tmp_path: Path) -> None:
    source = build(tmp_path)
    assert source.stat().st_size < 2 << 20, "the bomb itself is small"
    proc, rss_mib = subprocess_run(str(source), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and words in proc.stderr
    assert "Traceback" not in proc.stderr
    # The interpreter with pandas, openpyxl and calamine loaded is about 100 MiB; 300 MiB of
    # sharedStrings unpacked would show.
    assert rss_mib < 250, f"peak RSS {rss_mib:.0f} MiB"


def test_in_a_subprocess_hostile_rows_finish_with_exit_1(tmp_path: Path) -> None:
    source = injected(tmp_path, ".csv")
    with contextlib.suppress(FileNotFoundError):
        (tmp_path / "out").rmdir()
    proc, _ = subprocess_run(str(source), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(read_csv(tmp_path / "out" / "results.csv")) == len(INJECTIONS) + 1
