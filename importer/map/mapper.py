"""From a spreadsheet row to a customer: which column feeds which field, and the checks.

    build_mapping(headers, [columns])  ->  ColumnMapping        (once per sheet; ConfigError)
    map_row(row, mapping, options)     ->  MappedRow            (per row; pure, never raises)
    to_body(customer, version)         ->  the JSON body for POST .../customers

``map_row`` collects every problem of a row rather than stopping at the first, so one pass over
the failures file fixes a row. Cells arrive as the text a person sees; all conversion (email
normalisation, E.164 phones, country names) happens here, on purpose.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import ConfigError
from ..models import (
    ADDRESS_TYPES,
    API_VERSIONS,
    PHONE_TYPES,
    Address,
    Customer,
    MappedRow,
    Phone,
    Problem,
    Row,
)
from .fields import ADDRESS_PARTS, FIELDS, IGNORE, NAME_FIELDS, detect_field, header_key
from .normalise import (
    Invalid,
    check_text,
    clean,
    clean_words,
    has_control,
    normalise_email,
    normalise_phone,
    phone_region,
    resolve_country,
)

__all__ = [
    "FIELDS",
    "ColumnMapping",
    "MapOptions",
    "build_mapping",
    "describe_problem",
    "map_row",
    "to_body",
]

ODATA_TYPE = "#microsoft.graph.bookingCustomer"
_FIELD_FORMS = (
    "displayName, firstName, lastName, emailAddress, "
    "{home|business|other}.{" + "|".join(ADDRESS_PARTS) + "}, "
    "phone.{" + "|".join(PHONE_TYPES) + "} or ignore"
)
_NO_NAME = (
    "no column for the customer's name; add one to [columns], e.g. \"Client\" = \"displayName\""
)


# --- the mapping ---------------------------------------------------------------------------


class _Plan(NamedTuple):
    """Column indexes per field, laid out the way map_row walks them (-1: no column)."""

    display: int
    first: int
    last: int
    email: int
    addresses: tuple[tuple[str, tuple[int, ...]], ...]  # kind, index per ADDRESS_PARTS
    phones: tuple[tuple[str, int], ...]  # phone type, index


@dataclass(frozen=True)
class ColumnMapping:
    """Which sheet column feeds which customer field; ``field_of[i]`` is None for ignored ones."""

    headers: tuple[str, ...]
    field_of: tuple[str | None, ...]
    notes: tuple[str, ...] = ()  # what auto-detection decided that a person should know
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _plan: _Plan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.headers) != len(self.field_of):
            raise ValueError("headers and field_of must have the same length")
        index: dict[str, int] = {}
        for i, name in enumerate(self.field_of):
            if name is None:
                continue
            if name not in FIELDS:
                raise ValueError(f"unknown field {name!r}")
            if index.setdefault(name, i) != i:
                raise ValueError(f"two columns feed {name}")
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_plan", _plan(index))

    @property
    def ignored(self) -> list[str]:
        """The headers of the columns no field takes."""
        return [h for h, f in zip(self.headers, self.field_of, strict=True) if f is None]

    def index_of(self, name: str) -> int | None:
        return self._index.get(name)

    def column_of(self, name: str) -> str | None:
        """The header of the column that feeds a field, or None."""
        i = self._index.get(name)
        return None if i is None else self.headers[i]


def _plan(index: Mapping[str, int]) -> _Plan:
    addresses = []
    for kind in ADDRESS_TYPES:
        columns = tuple(index.get(f"{kind}.{part}", -1) for part in ADDRESS_PARTS)
        if any(c >= 0 for c in columns):
            addresses.append((kind, columns))
    phones = tuple((t, index[f"phone.{t}"]) for t in PHONE_TYPES if f"phone.{t}" in index)
    return _Plan(
        index.get("displayName", -1),
        index.get("firstName", -1),
        index.get("lastName", -1),
        index.get("emailAddress", -1),
        tuple(addresses),
        phones,
    )


def build_mapping(
    headers: Sequence[str],
    columns: Mapping[str, str] | None = None,
    *,
    auto_detect: bool = True,
) -> ColumnMapping:
    """Map the sheet's columns: the ``[columns]`` entries first, then headers we recognise.

    Raises ConfigError for a ``[columns]`` header the sheet lacks, an unknown field, one field
    named for two columns, or no column for the name at all.
    """
    headers = tuple(headers)
    field_of: list[str | None] = [None] * len(headers)
    decided: dict[int, str] = {}  # column -> the [columns] key that decided it
    taken: dict[str, int] = {}  # field -> column
    for header, name in (columns or {}).items():
        i = _find_header(headers, header)
        if i in decided:
            raise ConfigError(f"[columns] names the column {headers[i]!r} twice: "
                              f"{decided[i]!r} and {header!r}; keep one")
        decided[i] = header
        if name == IGNORE:
            continue
        if name not in FIELDS:
            raise ConfigError(f"[columns] {header!r} = {name!r}: unknown field{_field_hint(name)}")
        if name in taken:
            raise ConfigError(f"[columns] maps both {headers[taken[name]]!r} and {header!r} to "
                              f"{name}; map one of them to \"ignore\"")
        taken[name] = i
        field_of[i] = name
    notes: list[str] = []
    if auto_detect:
        for i, header in enumerate(headers):
            name = detect_field(header) if i not in decided else None
            if name is None:
                continue
            if name in taken:
                first = headers[taken[name]]
                how = "[columns] maps" if taken[name] in decided else "auto-detected"
                notes.append(f"column {header!r} is ignored: it looks like {name}, which {how} "
                             f"{first!r}; name the one you want in [columns]")
                continue
            taken[name] = i
            field_of[i] = name
    if not any(name in taken for name in NAME_FIELDS):
        raise ConfigError(_NO_NAME)
    return ColumnMapping(headers, tuple(field_of), tuple(notes))


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


# --- one row -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapOptions:
    default_region: str = "US"  # reads phone numbers written without a country code
    max_name_length: int = 255

    def __post_init__(self) -> None:
        if self.default_region and phone_region(self.default_region) is None:
            raise ConfigError(f"mapping.default_region {self.default_region!r} has no phone "
                              "numbering plan; use a two-letter country code such as 'US'")
        if self.max_name_length < 1:
            raise ConfigError("mapping.max_name_length must be at least 1")


def map_row(row: Row, mapping: ColumnMapping, options: MapOptions) -> MappedRow:
    """The customer of one row, or every problem that keeps it back. Never raises."""
    plan = mapping._plan
    headers = mapping.headers
    values = row.values
    size = len(values)
    problems: list[Problem] = []

    name = _name(values, size, plan, headers, options, problems)

    email = ""
    if 0 <= plan.email < size:
        text = clean(values[plan.email])
        if text:
            try:
                email = normalise_email(text)
            except Invalid as exc:
                problems.append(Problem(str(exc), headers[plan.email], text))

    addresses, region = _addresses(values, size, plan, headers, problems)

    phones: list[Phone] = []
    if plan.phones:
        # A number without a country code belongs where the customer lives, if we know that.
        region = region or phone_region(options.default_region)
        for kind, i in plan.phones:
            text = clean(values[i]) if i < size else ""
            if text:
                try:
                    phones.append(Phone(normalise_phone(text, region), kind))
                except Invalid as exc:
                    problems.append(Problem(str(exc), headers[i], text))

    if problems or not name:
        return MappedRow(row, None, tuple(problems))
    return MappedRow(row, Customer(name, email, tuple(addresses), tuple(phones)))


def _addresses(values: tuple[str, ...], size: int, plan: _Plan, headers: tuple[str, ...],
               problems: list[Problem]) -> tuple[list[Address], str | None]:
    """The row's addresses, and the phone region of the first one with a known country."""
    addresses: list[Address] = []
    region = None
    for kind, columns in plan.addresses:
        parts = [clean_words(values[i]) if 0 <= i < size else "" for i in columns]
        if not any(parts):
            continue
        street, street2, city, state, postal, country, box = parts
        if has_control(street + street2 + city + state + postal + box):
            for i, part in zip(columns, parts, strict=True):
                if part and i != columns[5]:
                    _check_text(part, headers[i], problems)
        if country:
            try:
                found = resolve_country(country)
                country = found.name
                region = region or phone_region(found.alpha_2)
            except Invalid as exc:
                problems.append(Problem(str(exc), headers[columns[5]], country))
        if street and street2:
            street = f"{street}, {street2}"
        addresses.append(Address(street or street2, city, state, postal, country, box, kind))
    return addresses, region


def _name(values: tuple[str, ...], size: int, plan: _Plan, headers: tuple[str, ...],
          options: MapOptions, problems: list[Problem]) -> str:
    """displayName: the name column, else first and last name.

    Never the email address in its place: a customer nobody can find by name is worse than a
    row the failures file sends back for a name.
    """
    name = clean_words(values[plan.display]) if 0 <= plan.display < size else ""
    source = plan.display
    if not name:
        parts = [i for i in (plan.first, plan.last) if i >= 0]
        name = " ".join(p for p in (clean_words(values[i]) for i in parts if i < size) if p)
        source = parts[0] if parts else source
    if not name:
        sources = [i for i in (plan.display, plan.first, plan.last) if i >= 0]
        where = " or ".join(repr(headers[i]) for i in sources) or "a name column"
        header = headers[sources[0]] if sources else None
        problems.append(Problem(f"name is required; fill in {where}", header, ""))
        return ""
    header = headers[source]
    if len(name) > options.max_name_length:
        problems.append(Problem(f"name is {len(name)} characters long; Bookings takes at most "
                                f"{options.max_name_length}", header, name))
    _check_text(name, header, problems)
    return name


def _check_text(value: str, column: str | None, problems: list[Problem]) -> None:
    try:
        check_text(value)
    except Invalid as exc:
        problems.append(Problem(str(exc), column, value))


def describe_problem(problem: Problem) -> str:
    """One line: "column: message" (headers may hold line breaks; the line must not)."""
    return " ".join(str(problem).splitlines())


# --- the request body ----------------------------------------------------------------------


def to_body(customer: Customer, version: str) -> dict[str, Any]:
    """The bookingCustomer JSON of one API version: only the properties its schema has.

    Addresses carry every property of the version's physicalAddress ("" when empty), as
    Microsoft's own examples do; ``emailAddress``, ``addresses`` and ``phones`` are left out
    when empty. v1.0 has no ``type`` or ``postOfficeBox`` on an address (the service files every
    address under "other"), so there a PO box is folded into the street.
    """
    if version not in API_VERSIONS:
        raise ValueError(f"unknown Graph API version {version!r}; use one of {API_VERSIONS}")
    body: dict[str, Any] = {"@odata.type": ODATA_TYPE, "displayName": customer.display_name}
    if customer.email:
        body["emailAddress"] = customer.email
    if customer.addresses:
        body["addresses"] = [_address_body(a, version) for a in customer.addresses]
    if customer.phones:
        body["phones"] = [{"number": p.number, "type": p.type} for p in customer.phones]
    return body


def _address_body(address: Address, version: str) -> dict[str, str]:
    street = address.street
    if version == "v1.0" and address.post_office_box:
        box = address.post_office_box
        if not header_key(box).startswith("pobox"):
            box = f"PO Box {box}"
        street = f"{street}, {box}" if street else box
    body = {
        "street": street,
        "city": address.city,
        "state": address.state,
        "countryOrRegion": address.country_or_region,
        "postalCode": address.postal_code,
    }
    if version != "v1.0":
        body["postOfficeBox"] = address.post_office_box
        body["type"] = address.type
    return body
