"""No silent loss: columns that hold emails, phones or addresses but feed no field.

    lookalike_notes(mapping, rows)  ->  one warning per such column

Read on the first rows of a sheet (a sample, once per run), never per row. A column the config
or the recognised layout ignores on purpose is not warned about.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from ..models import Row
from .mapping import ColumnMapping
from .normalise import clean
from .vocabulary import tokens

SAMPLE_ROWS = 200

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
# Digits with the marks people write between them, and a sign it is a phone number rather than
# an id or an amount: a +, a leading 0, or spaces, dashes and brackets between the digits.
_PHONE = re.compile(r"(?:\+|00|0|\(|\d+[ \-(/)])[\d \-().\/]{5,}")
_DATE = re.compile(r"\d{1,4}[-./]\d{1,2}[-./]\d{1,4}")
# Words that name a street in the languages we read headers in.
_STREET_WORDS = frozenset({
    "st", "street", "rd", "road", "ave", "avenue", "lane", "ln", "dr", "drive", "blvd", "way",
    "court", "ct", "place", "pl", "str", "strasse", "weg", "gasse", "platz", "allee", "ring",
    "rue", "chemin", "boulevard", "bd", "impasse", "calle", "avenida", "plaza", "paseo",
    "straat", "laan", "plein", "gracht", "kade", "via", "viale", "piazza", "corso", "rua",
    "travessa", "largo", "praca",
})


def _kind(value: str) -> str | None:
    """What a cell looks like: "email", "phone", "address" or None."""
    if "@" in value and _EMAIL.fullmatch(value):
        return "email"
    digits = sum(ch.isdigit() for ch in value)
    if 7 <= digits <= 15 and _PHONE.fullmatch(value) and not _DATE.fullmatch(value):
        return "phone"
    if digits and len(value) >= 6:
        words = tokens(value)
        if any(w in _STREET_WORDS or w.endswith(("strasse", "straat", "weg")) for w in words):
            return "address"
    return None


_WHAT = {"email": "email addresses", "phone": "phone numbers", "address": "street addresses"}


def lookalike_notes(mapping: ColumnMapping, rows: Iterable[Row], *,
                    used: Collection[str] = ()) -> list[str]:
    """A warning for each column that feeds nothing although most of its filled cells (in
    ``rows``, a sample) look like email addresses, phone numbers or street addresses.
    ``used``: headers the run reads for something other than a field (``import.business_column``,
    whose cells are the businesses' mailbox addresses)."""
    watched = [i for i, name in enumerate(mapping.field_of)
               if name is None and i not in mapping.on_purpose and mapping.headers[i] not in used]
    if not watched:
        return []
    counts: dict[int, dict[str | None, int]] = {i: {} for i in watched}
    for row in rows:
        for i in watched:
            value = clean(row.values[i]) if i < len(row.values) else ""
            if value:
                kind = _kind(value)
                counts[i][kind] = counts[i].get(kind, 0) + 1
    notes = []
    for i in watched:
        filled = sum(counts[i].values())
        found = max((k for k in counts[i] if k), key=lambda k: counts[i][k], default=None)
        if found and counts[i][found] * 2 > filled:
            notes.append(f"column {mapping.headers[i]!r} holds what look like {_WHAT[found]} "
                         f"but feeds no field, so they would not be imported; map it in "
                         f"[columns] (or set it to \"ignore\" to silence this)")
    return notes
