from __future__ import annotations

from importer.mapper import MapOptions, build_mapping, map_row
from importer.models import Row
from importer.parallel import CHUNK, map_rows


def test_parallel_mapping_gives_the_same_rows_in_the_same_order() -> None:
    headers = ("Name", "Email", "Phone")
    rows = [Row(n + 2, (f"P {n}", f"p{n}@x.com" if n % 7 else "bad@", f"+1 206 555 {n % 10000:04d}"))
            for n in range(CHUNK * 3 + 17)]
    mapping = build_mapping(headers)
    options = MapOptions()
    expected = [map_row(r, mapping, options) for r in rows]
    assert list(map_rows(iter(rows), mapping, options, parallel=True)) == expected


def test_stopping_early_shuts_the_workers_down() -> None:
    headers = ("Name", "Email")
    rows = (Row(n + 2, (f"P {n}", f"p{n}@x.com")) for n in range(CHUNK * 10))
    mapped = map_rows(rows, build_mapping(headers), MapOptions(), parallel=True)
    first = [next(mapped) for _ in range(5)]
    mapped.close()
    assert [m.row.number for m in first] == [2, 3, 4, 5, 6]
