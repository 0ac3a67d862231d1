"""The run's rows, planned: read, mapped and keyed in order, each handed out once.

The feed reads rows ahead while the business is being read (``prefetch``), maps each with its
business's phone region (regions.py) and keys it, so that a row repeating an earlier customer
is known before it is sent. It sends nothing and writes nothing; the sender and the dry run
take its rows.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .. import parallel
from ..config import Config
from ..map import ColumnMapping, MapOptions, customer_key, fingerprint, map_row, to_body
from ..models import MappedRow, Row
from ..send import SeenKeys
from .regions import Regions

# Rows mapped ahead while the business is being read at the start of a run.
PREFETCH_ROWS = 200


@dataclass
class Planned:
    seq: int
    mapped: MappedRow
    body: dict[str, Any] | None  # None: invalid
    business_id: str = ""
    key: str = ""
    fp: str = ""
    repeats: int | None = None  # the row this one repeats (same customer key)



class Feed:
    """The input rows, mapped and keyed, handed out once each, in order."""

    def __init__(self, rows: Iterator[Row], mapping: ColumnMapping, config: Config,
                 options: MapOptions | None = None) -> None:
        # None: the phone region waits for the business; rows are read ahead, not mapped.
        # A run into several businesses maps each row with its business's options instead
        # (``use_regions``).
        self._mapping = mapping
        self.regions: Regions | None = None
        self._options = options or MapOptions.of(config.mapping, mapping)
        self._final = options is not None
        # One iterator for the whole run: the feed is read by the pool, then drained after it.
        self._rows = iter(rows)
        self._read_ahead: deque[Row] = deque()  # read by prefetch, not mapped yet
        self._seq = 0
        self._version = config.graph.version
        self._default_business = config.graph.business_id
        self._business_index = parallel.business_index(mapping.headers, config.import_.business_column)
        self._match_name_phone = config.import_.match_name_phone
        self.seen = SeenKeys()
        self._ahead: deque[Planned] = deque()
        self._error: BaseException | None = None

    def set_options(self, options: MapOptions) -> None:
        self._options, self._final = options, True

    @property
    def several(self) -> bool:
        """Each row names its business (``import.business_column``)."""
        return self._business_index is not None

    def unread(self, business: str) -> bool:
        """The phones of ``business``'s rows wait for its country, which was not read."""
        return self.regions is not None and self.regions.options(business) is None

    def use_regions(self, regions: Regions) -> None:
        self.regions = regions
        self.set_options(regions.fallback())

    def worker_setup(self) -> parallel.Setup:
        """What a worker process needs to map rows exactly as this feed does."""
        return parallel.Setup(self._mapping.headers, self._mapping.field_of, self._options,
                              self._version, self._business_index, self._default_business,
                              self._match_name_phone)

    def business_of(self, row: Row) -> str:
        if self._business_index is not None:
            value = row.values[self._business_index].strip()
            if value:
                return value
        return self._default_business

    def __iter__(self) -> Iterator[Planned]:
        # Not a ``for`` over a generator: the pool's iteration may be abandoned part way and
        # the rest drained by a second one, so nothing here may close the shared iterators.
        while True:
            if self._ahead:
                yield self._ahead.popleft()
                continue
            planned = self._plan_next()
            if planned is None:
                return
            yield planned

    async def prefetch(self, until: asyncio.Future[Any], *, limit: int,
                       seen: Callable[[str], object]) -> None:
        """Work ahead while ``until`` is pending (the business being read): read up to
        ``limit`` rows and call ``seen`` with each business they name (so those start opening
        now), then map them, yielding to the loop between rows: the mapper's first rows warm
        its libraries (tens of milliseconds) while the service answers instead of after. An
        error of the input is kept for the iteration to raise where it would have."""
        self._read_rows(limit, seen)
        while not until.done() and self._read_ahead and self._final and not (
                self.regions and self.regions.reads):
            planned = self._plan_next()
            if planned is None:
                return
            self._ahead.append(planned)
            await asyncio.sleep(0)

    async def planned(self, read: Callable[[str], Awaitable[Any]],
                      seen: Callable[[str], object]) -> AsyncIterator[Planned]:
        """The rows in order, as ``__iter__``; but a row bound for a business whose country is
        not read yet waits for it (``read``), after reading rows ahead and starting to open
        (``seen``) every business they name: the businesses open at once, not one by one."""
        while True:
            if self._ahead:
                yield self._ahead.popleft()
                continue
            if self.regions is not None and self.regions.reads:
                row = self._peek_row()
                if row is None:
                    return
                business = self.business_of(row)
                if self.regions.options(business) is None:
                    self._read_rows(PREFETCH_ROWS, seen)
                    await self.regions.learn(business, read)
            planned = self._plan_next()
            if planned is None:
                return
            yield planned

    def _peek_row(self) -> Row | None:
        """The next row, left to be read again (an input error: raised now)."""
        row = self._next_row()
        if row is not None:
            self._read_ahead.appendleft(row)
        return row

    def _read_rows(self, limit: int, seen: Callable[[str], object]) -> None:
        while len(self._read_ahead) < limit and self._error is None:
            try:
                row = next(self._rows, None)
            except Exception as exc:
                self._error = exc
                break
            if row is None:
                break
            self._read_ahead.append(row)
            if business := self.business_of(row):
                seen(business)

    def _next_row(self) -> Row | None:
        if self._read_ahead:
            return self._read_ahead.popleft()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return next(self._rows, None)

    def _plan_next(self) -> Planned | None:
        row = self._next_row()
        if row is None:
            return None
        seq = self._seq
        self._seq += 1
        business = self.business_of(row)
        options = self._options
        if self.regions is not None:
            options = self.regions.options(business) or options
        mapped = map_row(row, self._mapping, options)
        if not (mapped.ok and mapped.customer):
            return Planned(seq, mapped, None, business)
        body = to_body(mapped.customer, self._version)
        key = customer_key(body, match_name_phone=self._match_name_phone)
        fp = fingerprint(body)
        key = key or f"body:{fp}"
        repeats = self.seen.first_in(business, key, row.number)
        return Planned(seq, mapped, body, business, key, fp, repeats)

    def close(self) -> None:
        self.seen.close()


def peek(rows: Iterator[Row], count: int) -> tuple[list[Row], Iterator[Row]]:
    """The first ``count`` rows, and every row (those first) as one iterator. An error of the
    input met while peeking is raised where the run would have met it."""
    sample: list[Row] = []
    try:
        for row in rows:
            sample.append(row)
            if len(sample) >= count:
                break
    except Exception as exc:
        return sample, itertools.chain(sample, _raise(exc))
    return sample, itertools.chain(sample, rows)


def _raise(exc: Exception) -> Iterator[Row]:
    raise exc
    yield  # pragma: no cover - makes this a generator

