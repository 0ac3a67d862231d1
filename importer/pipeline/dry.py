"""A dry run: every row mapped, checked and reported, nothing sent.

Big files are mapped in worker processes (``importer.parallel``); the duplicate check and the
report stay in the run's own process, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .. import parallel
from ..map import ColumnMapping
from ..models import Row, RowResult, Status
from .feed import Feed
from .results import problems_text, repeats_text


def dry_run(rows: Iterator[Row], mapping: ColumnMapping, feed: Feed,
             record: Callable[[int, RowResult], None], processes: int) -> None:
    """Map, check and report every row, in ``processes`` worker processes (a big file) or in
    this one (``processes == 0``); the duplicate check and the report stay here, in order."""
    seq = 0

    def handle(row: Row, outcome: parallel.Valid | parallel.Invalid) -> None:
        nonlocal seq
        if len(outcome) == 3:
            name, email, problems = outcome
            result = RowResult(row, Status.INVALID, display_name=name, email=email,
                               problems=problems, message=problems_text(problems))
        else:
            name, email, business, key, encoded, warnings = outcome
            repeats = feed.seen.first_in(business, key, row.number)
            if repeats is not None:
                result = RowResult(row, Status.DUPLICATE, display_name=name, email=email,
                                   business_id=business, message=repeats_text(key, repeats),
                                   warnings=warnings)
            else:
                result = RowResult(row, Status.VALID, display_name=name, email=email,
                                   business_id=business, extra={"body_json": encoded},
                                   warnings=warnings)
        record(seq, result)
        seq += 1

    setup = feed.worker_setup()
    if feed.regions is not None:
        rows = _noting(rows, feed)
    if processes:
        parallel.map_in_workers(rows, setup, processes, handle)
    else:
        parallel.map_here(rows, mapping, setup, handle)


def _noting(rows: Iterator[Row], feed: Feed) -> Iterator[Row]:
    """``rows``, telling the run's regions the business each is bound for (a dry run into
    several businesses: its summary names the region each was read in)."""
    assert feed.regions is not None
    options = feed.regions.options
    for row in rows:
        options(feed.business_of(row))
        yield row

