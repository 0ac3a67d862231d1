"""Builders for the spreadsheets that tests/test_loader.py reads: real files, made in tmp_path."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl


@dataclass
class SheetSpec:
    """One worksheet: ``rows`` are written from ``top_left``; ``formats`` maps "C3" -> "00000"."""

    name: str
    rows: Sequence[Sequence[Any]] = ()
    state: str = "visible"  # visible | hidden | veryHidden
    formats: dict[str, str] = field(default_factory=dict)
    top_left: tuple[int, int] = (1, 1)  # (row, column), 1-based as in Excel


def write_xlsx(path: Path, *sheets: SheetSpec) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for spec in sheets:
        sheet = book.create_sheet(spec.name)
        sheet.sheet_state = spec.state
        top, left = spec.top_left
        for r, values in enumerate(spec.rows):
            for c, value in enumerate(values):
                if value is not None:
                    sheet.cell(row=top + r, column=left + c, value=value)
        for ref, number_format in spec.formats.items():
            sheet[ref].number_format = number_format
    if not sheets:
        book.create_sheet("Sheet1")
    book.save(path)
    return path


def table(path: Path, rows: Sequence[Sequence[Any]], **formats: str) -> Path:
    """A one-sheet workbook named Sheet1, rows from A1."""
    return write_xlsx(path, SheetSpec("Sheet1", rows, formats=formats))


def patch_zip(path: Path, member: str, *replacements: tuple[bytes, bytes]) -> Path:
    """Rewrite one part of a zip (e.g. to add cached formula values openpyxl cannot write)."""
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            if info.filename == member:
                for old, new in replacements:
                    assert old in data, f"{old!r} not in {member}"
                    data = data.replace(old, new)
            target.writestr(info, data)
    return path


def fake_ole(encrypted: bool) -> bytes:
    """Enough of an OLE2 compound file for the loader's checks: the magic number, and for an
    encrypted workbook the UTF-16 name of the EncryptedPackage stream in a directory sector."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    directory = ("EncryptedPackage" if encrypted else "Workbook").encode("utf-16-le")
    return header + directory.ljust(512, b"\0") + b"\0" * 1024
