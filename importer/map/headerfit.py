"""How well a row of headers maps to customer fields: what picks the sheet and the header row.

    header_fit(["Name", "E-mail", "Notes"])  ->  HeaderFit(usable=True, fields=2)

A sheet of customers has a column for the name and one for an email or a phone; a cover note,
a title block or a list of prices does not. The reader asks this of the first rows of each
sheet (it may not import this part, so the run hands it over as a callback) and reads the
sheet, and the row, whose header fits best. The fit comes from ``build_mapping`` itself, so a
header counts exactly as a run would map it, including the ``[columns]`` of the config.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from ..errors import ConfigError
from .fields import IGNORE, NAME_FIELDS, detect_field
from .mapper import build_mapping
from .normalise import clean

__all__ = ["HeaderFit", "header_fit"]


class HeaderFit(NamedTuple):
    """Compares as a tuple: any usable header beats any unusable one, then more fields win."""

    usable: bool  # a name, and an email or a phone: enough to create a customer
    fields: int  # how many customer fields the header feeds


def header_fit(
    headers: Sequence[str],
    columns: Mapping[str, str] | None = None,
    *,
    auto_detect: bool = True,
) -> HeaderFit:
    """The fit of one row taken as the header; never raises."""
    names = [" ".join(h.split()) for h in headers if h and h.strip()]
    if len(names) != len(set(n.casefold() for n in names)):
        names = list(dict.fromkeys(names))  # a title row may repeat a word; the loader refuses it
    present = {clean(h).casefold() for h in names}
    # Only the [columns] entries this row has: the others belong to another sheet or row.
    wanted = {h: f for h, f in (columns or {}).items() if clean(h).casefold() in present}
    try:
        fields = {f for f in build_mapping(names, wanted, auto_detect=auto_detect).field_of if f}
    except ConfigError:  # no name column, or a [columns] clash: count what is recognised
        fields = {f for h, f in wanted.items() if f != IGNORE}
        if auto_detect:
            fields |= {f for h in names if (f := detect_field(h))}
    named = any(f in fields for f in NAME_FIELDS)
    contact = "emailAddress" in fields or any(f.startswith("phone.") for f in fields)
    return HeaderFit(named and contact, len(fields))
