"""failures.xlsx: the rows that did not go through, for a person to fix in Excel.

It mirrors failures.csv (``source_row`` first, the input's own columns, ``Error`` last) and adds
what a CSV cannot carry: each cell a problem names is filled and carries a comment with the
reason, so the person sees at once what to fix. Saved again and imported with ``bookings-import
run failures.xlsx``, it sends exactly those rows; the loader ignores ``source_row`` and ``Error``.

Every value is written as text with the text number format: a ZIP code 02134 must come back as
02134, not as the number 2134. Text that Excel would treat as a formula is neutralised with a
leading ``'`` exactly as in failures.csv, and the loader removes it again.

openpyxl's write-only mode streams rows to a temporary file, so a large failures file costs no
memory; the workbook is complete only once ``close()`` has run (failures.csv, written line by
line, is the copy that survives a crash).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from ..models import RowResult, SheetInfo
from .text import error_text, neutralise

FILE_NAME = "failures.xlsx"
SHEET_TITLE = "Failures"
AUTHOR = "bookings-import"
MAX_CELL_CHARS = 32767  # Excel's limit per cell
_TEXT = "@"
_PROBLEM_FILL = PatternFill(fill_type="solid", fgColor="FFC7CE")  # Excel's "light red fill"
_HEADER_FONT = Font(bold=True)
_WIDTH = 18  # columns a person can read without resizing each one


def storable(text: str) -> str:
    """Text the file can hold: legal XML within Excel's size limit."""
    # Control characters cannot be stored in the file at all; the mapper already reported them.
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)[:MAX_CELL_CHARS]


class FailuresWorkbook:
    """Streams failed rows into failures.xlsx; call ``close()`` to finish the file."""

    def __init__(self, path: Path, info: SheetInfo) -> None:
        self.path = path
        self.headers = info.headers
        self._column = {h: i for i, h in enumerate(info.headers)}
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(SHEET_TITLE)
        self._sheet.freeze_panes = "B2"  # the header row and source_row stay in view
        for i in range(len(info.headers) + 2):
            self._sheet.column_dimensions[get_column_letter(i + 1)].width = _WIDTH
        self._sheet.column_dimensions[get_column_letter(len(info.headers) + 2)].width = 60
        # Headers neutralised like the cells and like failures.csv; the loader undoes it when
        # the file is read again, so they still match the config's [columns].
        self._sheet.append([self._cell(h, font=_HEADER_FONT)
                            for h in ("source_row", *info.headers, "Error")])
        self.rows = 0
        self._closed = False

    def _cell(self, value: Any, *, font: Font | None = None) -> WriteOnlyCell:
        if isinstance(value, str):
            value = storable(neutralise(value))
        cell = WriteOnlyCell(self._sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula, whatever the text
            cell.number_format = _TEXT
        if font is not None:
            cell.font = font
        return cell

    def add(self, result: RowResult) -> None:
        """Append one failed, invalid or not-sent row."""
        reasons: dict[int, list[str]] = {}
        for problem in result.problems:
            i = self._column.get(problem.column) if problem.column else None
            if i is not None:
                reasons.setdefault(i, []).append(problem.message)
        values = result.row.values
        cells = [self._cell(result.row.source_row or result.row.number)]
        for i in range(len(self.headers)):
            cell = self._cell(values[i] if i < len(values) else "")
            if i in reasons:
                cell.fill = _PROBLEM_FILL
                cell.comment = Comment(storable("\n".join(reasons[i])), AUTHOR,
                                       width=300, height=80)
            cells.append(cell)
        cells.append(self._cell(error_text(result)))
        self._sheet.append(cells)
        self.rows += 1

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._book.save(self.path)
