"""Which sheet column feeds which customer field: decided once per sheet, from the header row.

    build_mapping(headers, [columns])  ->  ColumnMapping   (ConfigError)

The ``[columns]`` entries come first; then, with ``auto_detect``, the known layout the header
row is (``layouts.py``) says what its ambiguous headers mean, and the words of every other header
(``vocabulary.py``) say the rest. The result carries a plan: the column indexes laid out the way
``map_row`` walks them, so that a row only follows the plan and never looks at a header again.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from ..errors import ConfigError
from ..models import ADDRESS_TYPES, PHONE_TYPES
from .fields import (
    ADDRESS_PARTS,
    FIELDS,
    IGNORE,
    NAME_FIELDS,
    REPEATABLE,
    detect_field,
    detect_language,
    field_in_language,
    header_key,
)
from .layouts import detect_layout, layout_fields
from .normalise import clean
from .vocabulary import FAMILY_NAME_BESIDE_GIVEN, fold, tokens

_FIELD_FORMS = (
    "displayName, title, firstName, middleName, lastName, suffix, companyName, emailAddress, "
    "{home|business|other}.{" + "|".join(ADDRESS_PARTS) + "}, "
    "phone.{" + "|".join(PHONE_TYPES) + "}, phoneLabel, phoneCountry or ignore"
)


class NoNameColumn(ConfigError):
    """No column gives the customer a name: the message names the columns the sheet has, and
    says whether the first row looks like data rather than a header."""

    def __init__(self, headers: tuple[str, ...], recognised: bool = False) -> None:
        self.headers = headers
        self.header_is_data = looks_like_data(headers)
        shown = ", ".join(repr(h) for h in headers[:12]) + (", ..." if len(headers) > 12 else "")
        if self.header_is_data:
            what = ("the first row holds data, not column names (" + shown + "): the file has "
                    "no header row; set [input] header = false and name the columns by letter "
                    "in [columns], e.g. A = \"displayName\", B = \"emailAddress\"")
        else:
            seen = f"the columns are {shown}" if headers else "the sheet has no columns"
            which = "none of them is" if not recognised else "none of those recognised is"
            what = (f"no column for the customer's name: {seen}, and {which} a name; map them "
                    "in [columns], e.g. \"Client\" = \"displayName\" ('bookings-import init "
                    "FILE' writes a config to start from)")
        super().__init__(what)


_EMAILISH = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONEISH = re.compile(r"\+?[\d ()./-]{7,}")


def looks_like_data(headers: Sequence[str]) -> bool:
    """Whether a header row is rather a customer's row: one of its cells is an email address or
    a phone number, which no column name is."""
    return any(_EMAILISH.fullmatch(h.strip()) or (_PHONEISH.fullmatch(h.strip())
                                                    and sum(c.isdigit() for c in h) >= 7)
               for h in headers)
NO_CONTACT = ("no column feeds an email address, a phone or an address: every customer would be "
              "created with a name only; map those columns in [columns] if the sheet has them")
_CONTACT_PARTS = ("street", "street2", "street3", "city", "postalCode", "formatted",
                  "postOfficeBox")


class Plan(NamedTuple):
    """Column indexes per field, laid out the way map_row walks them (-1: no column)."""

    display: int
    last_first: int  # one column of "Family, Given"
    title: int
    first: int
    middle: int
    last: int
    suffix: int
    company: int
    emails: tuple[int, ...]
    # kind, index per part from street to postOfficeBox, the formatted and the label column
    addresses: tuple[tuple[str, tuple[int, ...], int, int], ...]
    phones: tuple[tuple[str, int, int], ...]  # phone type, value column, label column (-1)
    phone_country: int


@dataclass(frozen=True)
class ColumnMapping:
    """Which sheet column feeds which customer field; ``field_of[i]`` is None for ignored ones.

    ``layout`` is the known export the header was recognised as ("" for none); ``language``
    the language its headers are written in (a BCP 47 tag of ``languages.LANGUAGES``, "" when
    none is known); ``on_purpose`` the columns ignored knowingly (by ``[columns]`` or the
    layout), which no warning is about.
    """

    headers: tuple[str, ...]
    field_of: tuple[str | None, ...]
    notes: tuple[str, ...] = ()  # what auto-detection decided that a person should know
    layout: str = ""
    on_purpose: frozenset[int] = frozenset()
    language: str = field(default="", compare=False)  # derived from the headers, as the plan
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _plan: Plan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.headers) != len(self.field_of):
            raise ValueError("headers and field_of must have the same length")
        columns: dict[str, list[int]] = {}
        for i, name in enumerate(self.field_of):
            if name is None:
                continue
            if name not in FIELDS:
                raise ValueError(f"unknown field {name!r}")
            if name in columns and name not in REPEATABLE:
                raise ValueError(f"two columns feed {name}")
            columns.setdefault(name, []).append(i)
        object.__setattr__(self, "_index", {name: found[0] for name, found in columns.items()})
        object.__setattr__(self, "_plan", _plan(columns, self.headers))

    @property
    def ignored(self) -> list[str]:
        """The headers of the columns no field takes."""
        return [h for h, f in zip(self.headers, self.field_of, strict=True) if f is None]

    def index_of(self, name: str) -> int | None:
        """The (first) column that feeds a field, or None."""
        return self._index.get(name)

    def column_of(self, name: str) -> str | None:
        """The header of the (first) column that feeds a field, or None."""
        i = self._index.get(name)
        return None if i is None else self.headers[i]


def _plan(columns: Mapping[str, list[int]], headers: tuple[str, ...]) -> Plan:
    def one(name: str) -> int:
        return columns[name][0] if name in columns else -1

    addresses = []
    for kind in ADDRESS_TYPES:
        parts = tuple(one(f"{kind}.{part}") for part in ADDRESS_PARTS)
        if any(c >= 0 for c in parts[:-1]):  # a label alone is no address
            addresses.append((kind, parts[:9], parts[9], parts[10]))
    phones = sorted((PHONE_TYPES.index(t), i, t) for t in PHONE_TYPES
                    for i in columns.get(f"phone.{t}", ()))
    labels = _pair_labels(sorted(i for _, i, _ in phones), columns.get("phoneLabel", []),
                          headers)
    return Plan(
        one("displayName"), one("nameLastFirst"), one("title"), one("firstName"),
        one("middleName"), one("lastName"), one("suffix"), one("companyName"),
        tuple(columns.get("emailAddress", ())),
        tuple(addresses), tuple((t, i, labels.get(i, -1)) for _, i, t in phones),
        one("phoneCountry"))


def _pair_labels(phones: list[int], labels: list[int], headers: tuple[str, ...]) -> dict[int, int]:
    """Phone column -> the label column that types it: the phone column of the label's number
    ("Phone 2 - Label" types "Phone 2 - Value"), else the nearest one to the right of the label
    (labels come first in Google's exports), else the nearest one to its left."""
    paired: dict[int, int] = {}
    for label in labels:
        free = [p for p in phones if p not in paired]
        number = _number(headers[label])
        same = [p for p in free if number and _number(headers[p]) == number]
        after = [p for p in free if p > label]
        before = [p for p in free if p < label]
        if same or after or before:
            paired[same[0] if same else min(after) if after else max(before)] = label
    return paired


def _number(header: str) -> str:
    return next((word for word in tokens(header) if word.isdigit()), "")


def build_mapping(
    headers: Sequence[str],
    columns: Mapping[str, str] | None = None,
    *,
    auto_detect: bool = True,
    require_name: bool = True,
) -> ColumnMapping:
    """Map the sheet's columns: the ``[columns]`` entries first, then headers we recognise.

    Raises ConfigError for a ``[columns]`` header the sheet lacks, an unknown field, one field
    (that takes a single column) named for two columns, or (with ``require_name``) no column
    for the name at all: ``NoNameColumn``, which names the columns the sheet has.
    """
    headers = tuple(headers)
    field_of: list[str | None] = [None] * len(headers)
    decided: dict[int, str] = {}  # column -> the [columns] key that decided it
    taken: dict[str, int] = {}  # field -> its first column
    on_purpose: set[int] = set()
    for header, name in (columns or {}).items():
        i = _find_header(headers, header)
        if i in decided:
            raise ConfigError(f"[columns] names the column {headers[i]!r} twice: "
                              f"{decided[i]!r} and {header!r}; keep one")
        decided[i] = header
        if name == IGNORE:
            on_purpose.add(i)
            continue
        if name not in FIELDS:
            raise ConfigError(f"[columns] {header!r} = {name!r}: unknown field{_field_hint(name)}")
        if name in taken and name not in REPEATABLE:
            raise ConfigError(f"[columns] maps both {headers[taken[name]]!r} and {header!r} to "
                              f"{name}; map one of them to \"ignore\"")
        taken.setdefault(name, i)
        field_of[i] = name
    notes: list[str] = []
    layout = detect_layout(headers) if auto_detect else None
    language = layout.language if layout and layout.language else detect_language(headers)
    if auto_detect:
        guesses = [by_layout or field_in_language(h, language)
                   for h, by_layout in zip(headers, layout_fields(layout, headers), strict=True)]
        _family_name_beside_given(headers, guesses, taken)
        for i, header in enumerate(headers):
            name = guesses[i] if i not in decided else None
            if name == IGNORE:
                on_purpose.add(i)
                continue
            if name is None:
                continue
            # A field [columns] names is fed by the columns it names alone.
            if name in taken and (name not in REPEATABLE or taken[name] in decided):
                first = headers[taken[name]]
                how = "[columns] maps" if taken[name] in decided else "auto-detected"
                notes.append(f"column {header!r} is ignored: it looks like {name}, which {how} "
                             f"{first!r}; name the one you want in [columns]")
                continue
            taken.setdefault(name, i)
            field_of[i] = name
    if require_name and not any(name in taken for name in NAME_FIELDS):
        raise NoNameColumn(headers, bool(taken))
    if not any(name == "emailAddress" or name.startswith("phone.")
               or name.partition(".")[2] in _CONTACT_PARTS for name in taken):
        notes.append(NO_CONTACT)
    return ColumnMapping(headers, tuple(field_of), tuple(notes),
                         layout.name if layout else "", frozenset(on_purpose), language)


def _family_name_beside_given(headers: tuple[str, ...], guesses: list[str | None],
                              taken: Mapping[str, int]) -> None:
    """"Vorname | Name": beside a given name and no family name, "Name" is the family name."""
    if "lastName" in guesses or "lastName" in taken:
        return
    folded = {fold(h) for h in headers}
    for i, header in enumerate(headers):
        given = FAMILY_NAME_BESIDE_GIVEN.get(fold(header))
        if guesses[i] == "displayName" and given and given & folded:
            guesses[i] = "lastName"
            return


def _find_header(headers: tuple[str, ...], header: str) -> int:
    if header in headers:
        return headers.index(header)
    # Trailing blanks and case are invisible in a spreadsheet; tolerate them if unambiguous.
    folded = clean(header).casefold()
    loose = [i for i, h in enumerate(headers) if clean(h).casefold() == folded]
    if len(loose) == 1:
        return loose[0]
    key = header_key(header)
    close = [h for h in headers if key and header_key(h) == key]
    close += [h for h in difflib.get_close_matches(header, headers, n=3) if h not in close]
    if close:
        hint = "did you mean " + " or ".join(repr(h) for h in close[:3]) + "?"
    else:
        shown = ", ".join(repr(h) for h in headers[:12]) + (", ..." if len(headers) > 12 else "")
        hint = f"its columns are {shown}" if headers else "it has no header row"
    raise ConfigError(f"[columns] {header!r}: the sheet has no such column; {hint}")


def _field_hint(name: str) -> str:
    by_fold = {f.casefold(): f for f in (*FIELDS, IGNORE)}
    meant = by_fold.get(name.casefold()) or detect_field(name)  # "emailaddress", "Mobile"
    if meant is None:
        close = difflib.get_close_matches(name.casefold(), by_fold, n=1)
        meant = by_fold[close[0]] if close else None
    return f"; did you mean {meant!r}?" if meant else f"; use {_FIELD_FORMS}"
