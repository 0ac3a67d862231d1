"""Rows that are not a file: a pandas DataFrame, or records ({"Name": ..., "Email": ...}).

    open_source(source, sheet=None)  ->  LoadedInput   (a path, a DataFrame or records)
    open_frame(frame)                ->  LoadedInput
    open_records(records)            ->  LoadedInput

They give the same ``LoadedInput`` a spreadsheet gives, so header recognition, mapping,
validation, the journal and the reports cannot tell them from a file. Each cell becomes the text
a person sees, as the sheet would show it had the frame been written to a workbook:

- text (``object``, ``str``, ``string``) is kept exactly, so ZIP code 02134 stays 02134;
- missing values (None, NaN, NaT, pd.NA) are empty;
- integers are exact at any size (int64, uint64, Int64, Python ints); a float with no fraction
  has no ``.0`` (a phone number read into a float column, 6175550111.0, is 6175550111) and any
  other float is written in full, never in exponent form;
- dates are ISO dates (2024-03-01); a date and time keeps its time (2024-03-01 14:30:00, with
  fractions of a second and the offset when it has them);
- booleans are TRUE and FALSE as in a sheet; durations read as Excel shows them (26:00:00);
  categories read as their values; periods, intervals and complex numbers as pandas prints them.

Rows are numbered as the sheet would number them: the DataFrame's position + 2 (row 1 is the
header of column names). A frame whose columns are unnamed (0, 1, 2 … as ``header=None``
gives) has its header found among its rows, as in a sheet, and position + 1 is its row number.
pandas is imported only when a DataFrame arrives: the command line never pays for it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import math
import sys
from collections.abc import Generator, Iterable, Mapping
from pathlib import Path
from typing import Any

from importer.errors import InputError
from importer.read.budget import DEFAULT_MAX_READ_MB
from importer.read.loader import HeaderScore, LoadedInput, load_source, open_input
from importer.read.numformat import cell_text

__all__ = ["cell_of", "frame_row_offset", "is_frame", "open_frame", "open_records", "open_source"]

FRAME_NAME = "DataFrame"
RECORDS_NAME = "records"


def open_source(source: Any, *, sheet: str | None = None, score: HeaderScore | None = None,
                max_read_mb: float = DEFAULT_MAX_READ_MB, header: bool = True,
                encoding: str = "") -> LoadedInput:
    """Open a path (str or os.PathLike), a pandas DataFrame, or an iterable of mappings.
    ``score`` and ``max_read_mb`` are open_input's, for a file: how a header row fits customer
    data, and the memory a workbook's read may hold ([limits] max_read_mb)."""
    if isinstance(source, str | Path) or hasattr(source, "__fspath__"):
        return open_input(source, sheet=sheet, score=score, max_read_mb=max_read_mb,
                          header=header, encoding=encoding)
    if isinstance(source, LoadedInput):
        return source
    if is_frame(source):
        loaded = open_frame(source)
    elif isinstance(source, Iterable) and not isinstance(source, bytes | bytearray | Mapping):
        loaded = open_records(source)
    else:
        raise InputError(
            type(source).__name__,
            "cannot read this as rows: give a file path, a pandas DataFrame, or a list of "
            'dicts such as {"Name": ..., "Email": ...}',
        )
    if sheet is not None:
        loaded.note(f"sheet {sheet!r} ignored: only a workbook has sheets")
    return loaded


def is_frame(source: object) -> bool:
    """A pandas DataFrame (without importing pandas: if it is not loaded, this is none)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(source, pandas.DataFrame)


def frame_row_offset(frame: Any) -> int:
    """What a DataFrame's position adds up to its row number: 2 below a header of column
    names, 1 when the columns are unnamed (0, 1, 2 …) and the header is among the rows."""
    import pandas as pd

    return 1 if isinstance(frame.columns, pd.RangeIndex) else 2


def open_frame(frame: Any, *, name: str = FRAME_NAME) -> LoadedInput:
    """A DataFrame's column names as the header, its rows below (see the module's notes)."""
    if frame_row_offset(frame) == 2:
        header: list[str] | None = [_label_text(label) for label in frame.columns]
    else:
        header = None  # unnamed columns: the header is somewhere in the rows
    columns = [column_texts(frame.iloc[:, i]) for i in range(frame.shape[1])]
    rows = [list(cells) for cells in zip(*columns, strict=True)] if columns else []
    return load_source(_TableSource(name, "dataframe", f"the {name}", header, rows), name)


def open_records(records: Iterable[Any], *, name: str = RECORDS_NAME) -> LoadedInput:
    """Mappings of column name to value; the header is every key, in the order first seen."""
    keys: dict[Any, int] = {}
    items: list[Mapping[Any, Any]] = []
    for i, item in enumerate(records):
        if not isinstance(item, Mapping):
            raise InputError(
                name,
                f"item {i} is a {type(item).__name__}, not a mapping of column names to values "
                '(e.g. {"Name": "Ann Lee", "Email": "ann@example.com"})',
                row=i + 2,
            )
        items.append(item)
        for key in item:
            keys.setdefault(key, len(keys))
    if not items:
        raise InputError(name, "there are no records; give at least one row")
    rows = [[cell_of(item[k]) if k in item else "" for k in keys] for item in items]
    header = [_label_text(key) for key in keys]
    return load_source(_TableSource(name, "records", f"the {name}", header, rows), name)


class _TableSource:
    """The loader's ``Source`` over rows already turned into text."""

    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    column_offset = 0

    def __init__(self, name: str, kind: str, what: str, header: list[str] | None,
                 rows: list[list[str]]) -> None:
        self.name, self.kind, self.what = name, kind, what
        self.notes: list[str] = []
        self._header = header
        self._rows = rows
        self.row_count = len(rows) + (header is not None)

    def iter_raw(self) -> Generator[tuple[int, list[str]], None, None]:
        first = 1
        if self._header is not None:
            yield 1, list(self._header)
            first = 2
        for number, cells in enumerate(self._rows, first):
            yield number, list(cells)  # the loader pads rows in place: give it a copy

    def sha256(self) -> str:
        """The content's digest (the journal's "same input" test), as a file's would be."""
        digest = hashlib.sha256()
        for _, cells in self.iter_raw():
            digest.update("\x1f".join(cells).encode("utf-8", "surrogatepass") + b"\x1e")
        return digest.hexdigest()

    def close(self) -> None:
        self._rows = []


# --- cells --------------------------------------------------------------------------------


def column_texts(series: Any) -> list[str]:
    """Every cell of one column as text, by the column's dtype (fast paths), else cell by cell."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        names = column_texts(pd.Series(dtype.categories))
        return [names[code] if code >= 0 else "" for code in series.cat.codes.tolist()]
    if isinstance(dtype, pd.SparseDtype):
        return column_texts(series.sparse.to_dense())
    if isinstance(dtype, np.dtype):
        if dtype.kind in "iu":
            return [str(v) for v in series.tolist()]
        if dtype.kind == "f":
            return [_float_text(v) for v in series.to_numpy()]
        if dtype.kind == "b":
            return ["TRUE" if v else "FALSE" for v in series.tolist()]
    if isinstance(dtype, pd.Float32Dtype | pd.Float64Dtype):
        floats = series.to_numpy(dtype=dtype.numpy_dtype, na_value=np.nan)
        return [_float_text(v) for v in floats]
    return [cell_of(v) for v in series.tolist()]


def cell_of(value: Any) -> str:
    """One value as the text a person sees (see the module's notes)."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, str):
        return str(value)
    return _other_text(value)


def _other_text(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        if _missing(value):  # pd.NaT is a datetime too
            return ""
        return _date_text(value)
    if isinstance(value, decimal.Decimal):
        return "" if value.is_nan() else format(value, "f")
    if isinstance(value, complex):
        return "" if math.isnan(value.real) or math.isnan(value.imag) else str(value).strip("()")
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        if isinstance(value, np.bool_):
            return "TRUE" if value else "FALSE"
        if isinstance(value, np.integer):
            return str(int(value))
        if isinstance(value, np.floating):
            return _float_text(value)
        if isinstance(value, np.complexfloating):
            return "" if np.isnan(value) else str(value).strip("()")
        if isinstance(value, np.datetime64 | np.timedelta64):
            if np.isnat(value):
                return ""
            import pandas as pd

            converted = pd.Timestamp(value) if isinstance(value, np.datetime64) else pd.Timedelta(value)
            return _date_text(converted)
        return cell_of(value.item())
    if _missing(value):
        return ""
    return str(value)


def _missing(value: Any) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def _float_text(value: Any) -> str:
    """Shortest text that reads back as the same float (float32 too), never 1e+16 or 6.1e9."""
    import numpy as np

    if value != value:  # NaN
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text: str = np.format_float_positional(value, trim="-")
    return "0" if text == "-0" else text


def _date_text(value: dt.datetime | dt.date | dt.time | dt.timedelta) -> str:
    if isinstance(value, dt.datetime):
        nanos = getattr(value, "nanosecond", 0)
        if value.time() == dt.time(0) and not nanos:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.timedelta):
        return cell_text(value)
    return value.isoformat()


def _label_text(label: Any) -> str:
    """A column name as the header cell: a MultiIndex's levels joined by spaces."""
    if isinstance(label, tuple):
        return " ".join(text for part in label if (text := cell_of(part).strip()))
    return cell_of(label)
