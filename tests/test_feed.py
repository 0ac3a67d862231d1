"""The run's feed: rows read ahead at the start, businesses opened early, errors in order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from importer.config import Config
from importer.errors import InputError
from importer.map.mapper import build_mapping
from importer.models import Row
from importer.pipeline import Feed as _Feed

HEADERS = ("Name", "Email", "Business")


def rows(broken_after: int | None = None) -> Iterator[Row]:
    data = [("Ann Lee", "ann@contoso.com", "north@contoso.com"),
            ("Bo Chan", "not an email", "west@contoso.com"),
            ("Cy Diaz", "cy@contoso.com", "south@contoso.com"),
            ("Ann Lee", "ANN@contoso.com", "north@contoso.com")]
    for n, values in enumerate(data, 2):
        if broken_after is not None and n - 2 == broken_after:
            raise InputError("in.csv", "row 4: a broken line", row=n)
        yield Row(n, values)


def feed(source: Iterator[Row]) -> _Feed:
    config = Config().replace("import_", business_column="Business")
    config = config.replace("graph", business_id="main@contoso.com")
    return _Feed(source, build_mapping(HEADERS, config.columns, auto_detect=True), config)


async def test_prefetch_opens_every_business_before_mapping_and_keeps_the_order() -> None:
    f = feed(rows())
    seen: list[str] = []
    opening: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    mapped_when_seen: list[int] = []

    def opened(business: str) -> None:
        seen.append(business)
        mapped_when_seen.append(len(f._ahead))

    await f.prefetch(opening, limit=10, seen=opened)
    assert seen == ["north@contoso.com", "west@contoso.com", "south@contoso.com",
                    "north@contoso.com"]
    assert mapped_when_seen == [0, 0, 0, 0], "businesses start opening before any row is mapped"
    planned = list(f)
    assert [p.mapped.row.number for p in planned] == [2, 3, 4, 5]
    assert [p.body is None for p in planned] == [False, True, False, False]
    assert planned[3].repeats == 2, "the duplicate check still sees the rows in order"


async def test_prefetch_stops_mapping_once_the_business_is_read() -> None:
    f = feed(rows())
    opening: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    opening.set_result(None)
    await f.prefetch(opening, limit=10, seen=lambda b: None)
    assert len(f._ahead) == 0, "nothing mapped: the business was ready"
    assert [p.mapped.row.number for p in f] == [2, 3, 4, 5], "the rows read ahead are not lost"


async def test_an_input_error_met_ahead_is_raised_after_the_rows_before_it() -> None:
    f = feed(rows(broken_after=2))
    opening: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    await f.prefetch(opening, limit=10, seen=lambda b: None)
    got = []
    with pytest.raises(InputError, match="broken line"):
        for p in f:
            got.append(p.mapped.row.number)
    assert got == [2, 3]
