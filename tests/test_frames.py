"""DataFrames and records read as rows of text, each cell as a person sees it (read/frames.py)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from importer.errors import InputError
from importer.read import open_source
from importer.read.frames import cell_of, column_texts


def texts(values: Any, dtype: Any = None) -> list[str]:
    return column_texts(pd.Series(values, dtype=dtype))


NAT = pd.NaT
# (id, the column, what a person sees in it)
DTYPES: list[Any] = [
    ("int8", lambda: pd.Series([1, -128], dtype="int8"), ["1", "-128"]),
    ("int16", lambda: pd.Series([300, -3], dtype="int16"), ["300", "-3"]),
    ("int32", lambda: pd.Series([70000], dtype="int32"), ["70000"]),
    ("int64 large", lambda: pd.Series([2**63 - 1, 6175550111], dtype="int64"),
     ["9223372036854775807", "6175550111"]),
    ("uint8", lambda: pd.Series([255], dtype="uint8"), ["255"]),
    ("uint64 beyond int64", lambda: pd.Series([2**64 - 1], dtype="uint64"), ["18446744073709551615"]),
    ("float64 phones", lambda: pd.Series([6175550111.0, np.nan, 2.0]), ["6175550111", "", "2"]),
    ("float64 fractions", lambda: pd.Series([0.1, 1.5, -0.25, 1e-7]), ["0.1", "1.5", "-0.25", "0.0000001"]),
    ("float64 large, no exponent", lambda: pd.Series([1e22, 12345678901234567.0]),
     ["10000000000000000000000", "12345678901234568"]),
    ("float64 inf and -0", lambda: pd.Series([np.inf, -np.inf, -0.0]), ["inf", "-inf", "0"]),
    ("float32 shortest", lambda: pd.Series([0.1, 2.0, np.nan], dtype="float32"), ["0.1", "2", ""]),
    ("float16", lambda: pd.Series([0.5, 3.0], dtype="float16"), ["0.5", "3"]),
    ("complex128", lambda: pd.Series([1 + 2j, complex(np.nan, 0)]), ["1+2j", ""]),
    ("complex64", lambda: pd.Series([1.5 - 2j], dtype="complex64"), ["1.5-2j"]),
    ("bool", lambda: pd.Series([True, False]), ["TRUE", "FALSE"]),
    ("boolean nullable", lambda: pd.Series([True, None, False], dtype="boolean"), ["TRUE", "", "FALSE"]),
    ("Int8 nullable", lambda: pd.Series([5, None], dtype="Int8"), ["5", ""]),
    ("Int64 nullable", lambda: pd.Series([2**62, None], dtype="Int64"), [str(2**62), ""]),
    ("UInt64 nullable", lambda: pd.Series([2**64 - 1, None], dtype="UInt64"), [str(2**64 - 1), ""]),
    ("Float32 nullable", lambda: pd.Series([0.1, None, 4.0], dtype="Float32"), ["0.1", "", "4"]),
    ("Float64 nullable", lambda: pd.Series([6175550111.0, None], dtype="Float64"), ["6175550111", ""]),
    ("object text keeps zeros and spaces", lambda: pd.Series(["02134", " 007 ", None, np.nan], dtype=object),
     ["02134", " 007 ", "", ""]),
    ("object mixed", lambda: pd.Series([7, 2.0, True, pd.NA, NAT, dt.date(2024, 3, 1), 2**70,
                                         decimal.Decimal("1E+2"), b"caf\xc3\xa9"], dtype=object),
     ["7", "2", "TRUE", "", "", "2024-03-01", str(2**70), "100", "café"]),
    ("object numpy scalars", lambda: pd.Series([np.int64(5), np.float32(0.1), np.bool_(False),
                                                 np.datetime64("NaT"), np.datetime64("2024-03-01")],
                                                dtype=object),
     ["5", "0.1", "FALSE", "", "2024-03-01"]),
    ("str (the default for text)", lambda: pd.Series(["00501", None]), ["00501", ""]),
    ("string python", lambda: pd.Series(["a", None], dtype="string[python]"), ["a", ""]),
    ("category of text", lambda: pd.Series(["x", None, "y", "x"], dtype="category"), ["x", "", "y", "x"]),
    ("category of floats", lambda: pd.Series([1.0, 2.5, None], dtype="category"), ["1", "2.5", ""]),
    ("datetime64 dates", lambda: pd.Series(pd.to_datetime(["2024-03-01", None])), ["2024-03-01", ""]),
    ("datetime64 with times", lambda: pd.Series(pd.to_datetime(["2024-03-01 14:30", "2024-03-02 00:00:00.5"],
                                                                  format="ISO8601")),
     ["2024-03-01 14:30:00", "2024-03-02 00:00:00.500000"]),
    ("datetime64 seconds unit", lambda: pd.Series(np.array(["2024-03-01"], dtype="datetime64[s]")),
     ["2024-03-01"]),
    ("datetime64 with zone",
     lambda: pd.Series(pd.to_datetime(["2024-03-01 09:00"]).tz_localize("Europe/Paris")),
     ["2024-03-01 09:00:00+01:00"]),
    ("Timestamp objects", lambda: pd.Series([pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-01 08:05:09")],
                                            dtype=object), ["2024-03-01", "2024-03-01 08:05:09"]),
    ("date objects", lambda: pd.Series([dt.date(1999, 12, 31)]), ["1999-12-31"]),
    ("datetime objects", lambda: pd.Series([dt.datetime(2024, 3, 1, 7, 0)], dtype=object),
     ["2024-03-01 07:00:00"]),
    ("timedelta64", lambda: pd.Series(pd.to_timedelta(["26:00:00", None])), ["26:00:00", ""]),
    ("period", lambda: pd.Series(pd.period_range("2024-01", periods=2, freq="M")), ["2024-01", "2024-02"]),
    ("period with NaT", lambda: pd.Series([pd.Period("2024-03-01", freq="D"), NAT], dtype="period[D]"),
     ["2024-03-01", ""]),
    ("interval", lambda: pd.Series(pd.interval_range(0, 2)), ["(0, 1]", "(1, 2]"]),
    ("sparse", lambda: pd.Series(pd.arrays.SparseArray([0, 0, 3])), ["0", "0", "3"]),
    ("sparse float", lambda: pd.Series(pd.arrays.SparseArray([np.nan, 4.0])), ["", "4"]),
]


@pytest.mark.parametrize(("make", "expected"), [pytest.param(m, e, id=i) for i, m, e in DTYPES])
def test_every_dtype_reads_as_a_person_sees_it(make: Any, expected: list[str]) -> None:
    series = make()
    assert column_texts(series) == expected
    # The same cells in an object column (as records give them) read the same, but for the
    # types that only a dtype knows how to show (float32's 0.1 is 0.10000000149011612 as a
    # Python float).
    if not (isinstance(series.dtype, pd.CategoricalDtype | pd.SparseDtype)
            or str(series.dtype).lower() == "float32"):
        assert [cell_of(v) for v in series.tolist()] == expected


def test_a_frame_reads_like_the_sheet_it_would_be() -> None:
    frame = pd.DataFrame(
        {
            "Name": ["Ann Lee", "", "Bob Ray"],
            "Phone": [6175550111.0, np.nan, 2065550100.0],
            "ZIP": ["02134", None, "98101"],
        },
        index=["a", "b", "c"],
    )
    frame.loc["b", "Name"] = None  # a blank row: skipped, and still counted in the numbering
    with open_source(frame) as loaded:
        assert loaded.info.headers == ("Name", "Phone", "ZIP")
        assert (loaded.info.kind, loaded.info.header_row, loaded.rows_hint) == ("dataframe", 1, 3)
        rows = list(loaded.rows())
    assert [(r.number, r.values) for r in rows] == [
        (2, ("Ann Lee", "6175550111", "02134")),
        (4, ("Bob Ray", "2065550100", "98101")),
    ]


def test_unnamed_columns_find_the_header_among_the_rows() -> None:
    # pd.read_excel(header=None) of a sheet with a title above its header
    frame = pd.DataFrame([["Customers", None], ["Name", "Email"], ["Ann", "ann@example.com"]])
    with open_source(frame) as loaded:
        assert loaded.info.headers == ("Name", "Email")
        assert loaded.info.header_row == 2
        assert [(r.number, r.values) for r in loaded.rows()] == [(3, ("Ann", "ann@example.com"))]


def test_records_take_every_key_in_the_order_first_seen() -> None:
    records = [{"Name": "Ann", "Email": "ann@example.com"},
               {"Email": "bob@example.com", "Phone": 6175550111.0}]
    with open_source(iter(records)) as loaded:
        assert loaded.info.headers == ("Name", "Email", "Phone")
        assert [(r.number, r.values) for r in loaded.rows()] == [
            (2, ("Ann", "ann@example.com", "")),
            (3, ("", "bob@example.com", "6175550111")),
        ]


def test_the_same_rows_have_the_same_digest_and_other_rows_another() -> None:
    one = pd.DataFrame({"Name": ["Ann"], "Email": ["a@x.org"]})
    with open_source(one) as a, open_source(one.copy()) as b, open_source(
            [{"Name": "Ann", "Email": "b@x.org"}]) as c:
        assert a.sha256() == b.sha256() != c.sha256()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param([{"Name": "A"}, ["B"]], "records, row 3: item 1 is a list, not a mapping",
                     id="not a mapping"),
        pytest.param([], "records: there are no records", id="no records"),
        pytest.param(42, "int: cannot read this as rows", id="a number"),
        pytest.param({"Name": "A"}, "dict: cannot read this as rows", id="one dict"),
    ],
)
def test_what_is_not_rows_is_one_line_naming_it(source: Any, message: str) -> None:
    with pytest.raises(InputError) as caught:
        open_source(source)
    assert str(caught.value).startswith(message)
