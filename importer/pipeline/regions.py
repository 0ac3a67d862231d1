"""Each business's phone region in a run into several (``[import] business_column``).

Numbers without a country code are read in the country of the business a row goes to: read
once per business, as its first row is met, through the run's own reading of the business
(the sync's ``ready``), and logged. Takes the run's region and the sheet's; gives the mapping
options of each business's rows; opens no connection of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..map import MapOptions, PhoneRegion, business_region, choose_region

log = logging.getLogger("importer")


class Regions:
    """The phone region of each business of a run into several (``import.business_column``):
    its own country when the run reads the businesses (after the row's own country and
    ``[mapping] default_region``), else the run's region (the config's or the sheet's), which
    is also what the rows of a business that gives no country are read in. Each business is
    read once; its region is logged when its first row is met and kept for summary.json."""

    def __init__(self, path: str, run: PhoneRegion, sheet: PhoneRegion, options: MapOptions,
                 *, reads: bool) -> None:
        self._path = path
        self._run = run  # the config's, else the sheet's
        self._sheet = sheet
        self._options = options  # the mapping options without a region
        self._fallback = options.with_region(run.region, run.conflict)
        self.reads = reads  # False: a dry run, or the config decides; nothing to wait for
        self._known: dict[str, MapOptions] = {}  # lane -> options
        self.summary: dict[str, dict[str, str]] = {}  # business as first written -> region

    def options(self, business: str) -> MapOptions | None:
        """The options the rows of ``business`` are mapped with; None: its country is not
        read yet (``learn`` it first)."""
        if not business:  # bound for no business: its rows fail on their own
            return self._fallback
        known = self._known.get(business.lower())
        if known is None and not self.reads:
            known = self._settle(business, self._run)
        return known

    def fallback(self) -> MapOptions:
        return self._fallback

    async def learn(self, business: str,
                    read: Callable[[str], Awaitable[Any]]) -> MapOptions:
        """Read ``business`` (``read``: the sync's ``ready``) and settle its region. What
        reading it raises (no such business, sign-in refused) is raised: the run stops there
        as it does when a row is sent to it."""
        if (known := self.options(business)) is not None:
            return known
        opened = await read(business)
        found = business_region(opened.info)
        if found is None:
            return self._settle(business, self._run)
        return self._settle(business, choose_region("", found, self._sheet))

    def _settle(self, business: str, region: PhoneRegion) -> MapOptions:
        options = (self._fallback if region is self._run
                   else self._options.with_region(region.region, region.conflict))
        self._known[business.lower()] = options
        self.summary[business] = region.as_dict()
        say_region(f"{self._path}: rows for {business}", region)
        return options



def say_region(path: str, region: PhoneRegion) -> None:
    log.info("%s: %s", path, region.describe())
    if region.conflict:
        log.warning("%s: phones without a country code are %s", path, region.conflict)

