"""A row's outcome as text: the reason it failed, and cells safe to open in a spreadsheet.

Shared by results.csv (``results.py``), failures.xlsx (``workbook.py``) and the JSON log
(``logs.py``). CSV cells that start with ``=``, ``+``, ``-``, ``@`` (or tab, CR, LF) are prefixed
with ``'`` so a spreadsheet program shows them as text instead of running them as formulas; the
loader undoes that when a failures file is imported again.
"""

from __future__ import annotations

from ..models import RowResult, Status

FAILED_STATUSES = frozenset({Status.FAILED, Status.INVALID, Status.NOT_SENT})
# LF too: the loader reads a CR (one of OWASP's list) as LF, so a CR-led cell arrives as one.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: str) -> str:
    """Make a cell safe to open in a spreadsheet program (CSV/formula injection)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def error_text(result: RowResult) -> str:
    """The one-line reason a row did not go through, for failures files and messages."""
    if result.problems:
        return "; ".join(str(p) for p in result.problems)
    parts = []
    if result.http_status:
        parts.append(f"HTTP {result.http_status}")
    if result.error_code:
        parts.append(result.error_code)
    head = " ".join(parts)
    message = result.message or ("not sent: the run stopped first" if
                                 result.status is Status.NOT_SENT else "")
    return f"{head}: {message}" if head and message else head or message
