"""Which sheet of a workbook holds the customers, when the user does not name one.

A workbook often opens with a cover note ("Read me", instructions, a summary) and keeps the
customers on a later sheet. Each visible worksheet with data is asked, in workbook order, how
well its header fits customer data (``rank``: the loader finds the best header among its first
rows and asks the run's scorer). The first sheet whose header is usable (a name and an email or
phone) is read; failing that, the one that maps the most columns; failing that, the first sheet
with data, as before. Sheets after the first usable one are never loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Candidate", "HeaderRank", "SheetRank", "pick_sheet", "text_rows"]

# (usable, fields), compared as importer.map.HeaderFit compares; (False, 0): nothing maps.
HeaderRank = tuple[bool, int]
SheetRank = Callable[[Iterator[tuple[int, list[str]]]], HeaderRank]


@dataclass(frozen=True, slots=True)
class Candidate:
    name: str
    load: Callable[[], Any]  # the sheet, or None when it has no data


@dataclass(frozen=True, slots=True)
class Picked:
    name: str
    sheet: Any
    note: str | None  # why it is not the first sheet with data, for the run's notes


def pick_sheet(
    candidates: Sequence[Candidate],
    rows_of: Callable[[Any], Iterator[tuple[int, list[str]]]],
    rank: SheetRank | None,
) -> Picked | None:
    """The sheet to read among ``candidates`` (visible worksheets, in order); None if all are empty."""
    best: tuple[HeaderRank, Candidate, Any] | None = None
    passed: list[str] = []  # sheets with data that were not chosen
    first: str | None = None
    for candidate in candidates:
        sheet = candidate.load()
        if sheet is None:
            continue
        first = first or candidate.name
        if rank is None:
            return Picked(candidate.name, sheet, None)
        score = rank(rows_of(sheet))
        if best is None or score > best[0]:
            if best is not None:
                passed.append(best[1].name)
            best = (score, candidate, sheet)
        else:
            passed.append(candidate.name)
        if score[0]:
            break
    if best is None:
        return None
    score, chosen, sheet = best
    note = None
    # A sheet where nothing maps is read only when every sheet is like it: then it is the
    # first, and the mapper says what is missing.
    if chosen.name != first:
        others = ", ".join(repr(name) for name in passed)
        why = ("its header has a name and an email or phone column" if score[0]
               else "its header maps the most customer columns")
        note = f"read sheet {chosen.name!r}: {why}, unlike {others}; name a sheet to read another"
    return Picked(chosen.name, sheet, note)


def text_rows(rows: Iterator[Sequence[Any]], text: Callable[[Any], str]) -> Iterator[tuple[int, list[str]]]:
    """Numbered rows of cell text, for ranking (number formats do not change a header)."""
    for number, row in enumerate(rows, 1):
        yield number, [v if type(v) is str else text(v) for v in row]
