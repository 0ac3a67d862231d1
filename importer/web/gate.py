"""The one-read-at-a-time gate: every workbook the page reads passes it, one at a time.

A new upload's preview, a mapping change's, a change of encoding or phone region, and the
opening of an import all take the gate (``state.reading``), so the memory the page holds is one
read's budget however many requests arrive at once. A few wait behind the one being read
(``max_waiting_previews``); more raise ``Busy``, which the handlers answer with 503. The read
itself runs in a worker thread, and the gate is let go when the read ends, even if the request
that asked for it has gone. Nothing here builds a response.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import ConfigError, ImporterError, InputError
from ..map import PhoneRegion
from ..previewer import build_preview, to_dict
from ..read import ReadBusy
from ..send import business_phone_region
from . import memory
from .state import PageState, config_of
from .uploads import Upload

log = logging.getLogger("importer.web")


class Busy(Exception):
    """Too many previews are waiting for the one being read."""


async def enter(state: PageState) -> None:
    """Take the one-read-at-a-time gate, waiting behind at most max_waiting_previews others;
    Busy if there are more."""
    if state.reading.locked() and state.waiting >= state.settings.max_waiting_previews:
        raise Busy
    state.waiting += 1
    try:
        await state.reading.acquire()
    finally:
        state.waiting -= 1


async def read_preview(state: PageState, stored: Upload, config: Config | None = None, *,
                       require_name: bool = False) -> dict[str, Any]:
    """Read one upload at a time (a new upload's preview, a mapping change's, or a change of
    its encoding or phone region), so that the memory the page holds is one read's budget
    however many arrive at once; what the read let go is handed back to the system.
    ``config``: the page's own with this upload's choices, or one with a chosen mapping. An
    import's read counts against the same budget (read/budget.py): a read that does not fit
    beside it raises ReadBusy. A new upload's sheet none of whose columns is recognised opens
    the mapping step all the same (``require_name`` False); a chosen mapping must name one.
    The business's country is asked before the gate is taken, so the gate is never held
    through a sign-in or a Graph call."""
    business = await _business_region(state)
    await enter(state)
    reading = asyncio.ensure_future(asyncio.to_thread(
        _preview, config or config_of(state.config, stored), stored.path, stored.sheet, business,
        require_name=require_name))

    def done(_: object) -> None:  # only when the read has ended, even if the request has not
        state.reading.release()
        memory.give_back()

    reading.add_done_callback(done)
    return await asyncio.shield(reading)


async def first_row_as_customer(state: PageState, stored: Upload) -> None:
    """A new upload whose first row, read as the header, is a customer: read it again without
    a header row, its columns named by letter and left to the person to map (the page shows the
    box "the first row is a customer" ticked). Through the same gate and budget as every read;
    busy or refused, the first preview stays, and the page offers the choice all the same."""
    chosen = dataclasses.replace(stored, header=False, columns={})
    try:
        preview = await read_preview(state, chosen)
    except (Busy, ReadBusy, InputError, ConfigError) as exc:
        log.info("%s read again without a header row: %s", stored.id, exc or "busy")
        return
    stored.header, stored.columns, stored.preview = False, {}, preview


async def _business_region(state: PageState) -> PhoneRegion | None:
    """The business's country, read once (a run reads it again), so that the page's preview
    reads numbers as the import will. Unreadable (no sign-in yet, Graph down): None, and the
    preview goes by the config and the sheet; the run itself then says what it used."""
    if state.config.mapping.default_region or not state.config.graph.business_id \
            or state.board.tokens is None:
        return None
    async with state.business_lock:
        if state.business is None:
            try:
                found = await business_phone_region(state.config, state.board.tokens)
            except (ImporterError, OSError) as exc:
                # Asked once: a page whose Graph is away must not wait for it at every upload.
                log.info("the business's country could not be read for the preview: %s", exc)
                found = None
            state.business = found or PhoneRegion("", "none", "the business gives no country")
    return state.business if state.business.region else None


def _preview(config: Config, path: Path, sheet: str | None,
             business: PhoneRegion | None = None, *, require_name: bool = True) -> dict[str, Any]:
    """The preview as JSON, without the private path the upload is stored under."""
    data = to_dict(build_preview(config, path, sheet, require_name=require_name,
                                 business=business))
    data.pop("path", None)
    return data
