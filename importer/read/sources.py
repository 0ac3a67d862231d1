"""What the readers share: the ``Source`` protocol the loader reads rows through, the magic
numbers that tell file kinds apart, one message per file-system error, and what tells calamine
failing on a file from any other exception."""

from __future__ import annotations

from collections.abc import Generator
from typing import Protocol

from python_calamine import CalamineError

__all__ = ["CHUNK", "FOLDER", "OLE_MAGIC", "ZIP_MAGIC", "Source", "calamine_failed", "os_message"]

ZIP_MAGIC = b"PK\x03\x04"  # .xlsx, .xlsm (and any zip)
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls and password-protected workbooks (OLE2 compound file)
CHUNK = 1 << 20  # bytes read at a time when a whole file is streamed
FOLDER = "this is a folder; give the path of a .xlsx or .csv file"


class Source(Protocol):
    kind: str
    what: str  # "the file" / "sheet 'Customers'", for messages
    sheet: str | None
    encoding: str | None
    delimiter: str | None
    column_offset: int  # absolute column index of cell 0 (calamine trims leading columns)
    notes: list[str]

    def iter_raw(self) -> Generator[tuple[int, list[str]], None, None]:
        """(row number, cell texts) for every row, blank ones included, from the top."""
        ...

    def close(self) -> None: ...


def os_message(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found; check the path and the file name"
    if isinstance(exc, IsADirectoryError):
        return FOLDER
    if isinstance(exc, NotADirectoryError):
        return "a folder named in the path is a file; check the path"
    if isinstance(exc, PermissionError):
        return "permission denied; close the file in Excel or check who may read it"
    return f"cannot read the file ({exc.strerror or exc}); check the path and try again"


# What calamine raises for a file it cannot read. A malformed file can also make it panic: pyo3
# raises PanicException, a BaseException, which only its name tells apart.
_CALAMINE_ERRORS = (CalamineError, OSError, ValueError, IndexError, OverflowError, KeyError)


def calamine_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is calamine failing on the file (an error or a panic), not an interrupt
    or a bug of ours: what every call into calamine turns into a one-line ``InputError``."""
    return isinstance(exc, _CALAMINE_ERRORS) or type(exc).__name__ == "PanicException"
