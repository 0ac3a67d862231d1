"""The export file: rows of text to a .csv or .xlsx that a run reads back as it stands.

Written beside its final name and renamed into place when complete, so a backup that was cut
short is never mistaken for a whole one. Cells that a spreadsheet program would run as a
formula get a leading ``'`` as in the failures files (the export's ``bookings_customer_id``
column tells the loader to take it off again); in .xlsx every cell is text, so a ZIP code
02134 stays 02134.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import IO, Any

from .text import neutralise

EXPORT_SUFFIXES = (".csv", ".xlsx")
SHEET_TITLE = "Customers"


class ExportFile:
    """Streams rows to ``path`` (.csv or .xlsx); ``close()`` puts the finished file in place,
    ``discard()`` removes the partial one."""

    def __init__(self, path: Path, headers: tuple[str, ...]) -> None:
        suffix = path.suffix.lower()
        if suffix not in EXPORT_SUFFIXES:
            raise ValueError(f"{path}: export to a .csv or .xlsx file")
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self.rows = 0
        self._csv: Any = None
        self._handle: IO[str] | None = None
        self._book: Any = None
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            self._handle = self.partial.open("w", encoding="utf-8-sig", newline="")
            self._csv = csv.writer(self._handle)
            self._csv.writerow(headers)
        else:
            from openpyxl import Workbook

            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet(SHEET_TITLE)
            self._sheet.freeze_panes = "C2"
            self._sheet.append([self._cell(h, guard=False) for h in headers])

    def _cell(self, value: str, *, guard: bool = True) -> Any:
        from openpyxl.cell import WriteOnlyCell

        from .workbook import storable

        cell = WriteOnlyCell(self._sheet, value=storable(neutralise(value) if guard else value))
        cell.data_type = "s"  # never a formula, whatever the text
        cell.number_format = "@"
        return cell

    def add(self, row: list[str]) -> None:
        if self._csv is not None:
            self._csv.writerow([neutralise(v) for v in row])
        else:
            self._sheet.append([self._cell(v) for v in row])
        self.rows += 1

    def close(self) -> Path:
        if self._handle is not None:
            self._handle.close()
        if self._book is not None:
            self._book.save(self.partial)
        os.replace(self.partial, self.path)
        return self.path

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self.partial.unlink(missing_ok=True)
