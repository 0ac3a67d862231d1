"""From a spreadsheet row to a customer: which column feeds which field, and the checks.

    build_mapping(headers, [columns])  ->  ColumnMapping        (once per sheet; ConfigError)
    map_row(row, mapping, options)     ->  MappedRow            (per row; pure, never raises)
    to_body(customer, version)         ->  the JSON body for POST .../customers

``map_row`` collects every problem of a row rather than stopping at the first, so one pass over
the failures file fixes a row. Cells arrive as the text a person sees; all conversion (email
normalisation, E.164 phones, country names) happens here, on purpose. What a row loses on the way
(a second email, a phone nobody can read) is named in its warnings, never dropped silently.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from ..config import NAME_ORDERS, UNREADABLE_PHONE, MappingSection
from ..errors import ConfigError
from ..models import API_VERSIONS, Address, Customer, MappedRow, Phone, Problem, Row
from .countries import resolve_country
from .fields import FIELDS, address_type_of_label, header_key, phone_type_of_label
from .keys import email_key
from .languages import FAMILY_FIRST
from .mapping import ColumnMapping, NoNameColumn, Plan, build_mapping, looks_like_data
from .normalise import (
    Invalid,
    check_text,
    clean,
    clean_words,
    has_control,
    normalise_email,
    normalise_phone,
    phone_region,
    quote,
)

__all__ = [
    "FIELDS",
    "UNREADABLE_PHONE",
    "ColumnMapping",
    "MapOptions",
    "NoNameColumn",
    "build_mapping",
    "describe_problem",
    "looks_like_data",
    "map_row",
    "to_body",
]

ODATA_TYPE = "#microsoft.graph.bookingCustomer"
# Several numbers in one cell: Google's " ::: ", line breaks, ";" and " / ".
_MANY_NUMBERS = re.compile(r"\s*(?::::|;|\n|\s/\s)\s*")


# --- one row -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapOptions:
    # Reads phone numbers written without a country code when the row names no country; ""
    # (no region known) refuses them. The run decides it (map/regions.py), not a US default.
    default_region: str = ""
    max_name_length: int = 255
    # A phone number that cannot be read: "reject" the row, "drop" the number, or "keep" it as
    # written. Whatever is dropped or kept is named in the row's warnings.
    unreadable_phone: str = "reject"
    # A country nobody can read ("D"): the same choices; "" follows unreadable_phone.
    unreadable_country: str = ""
    keep_title: bool = False  # "Dr." of a title column goes in front of the name
    # Given and family name columns make "given family", or "family given" (as Japanese,
    # Chinese, Korean, Hungarian and Vietnamese write them); "auto": as the sheet's language.
    name_order: str = "auto"
    language: str = ""  # the sheet's language, when the mapping that tells it is not at hand
    # Said in the warnings of a row whose number was read in ``default_region`` while the
    # sheet points to another country: such a number is never sent silently.
    region_warning: str = ""

    def __post_init__(self) -> None:
        if self.name_order not in NAME_ORDERS:
            raise ConfigError(f"mapping.name_order must be one of {', '.join(NAME_ORDERS)}, "
                              f"not {self.name_order!r}")
        if self.default_region and phone_region(self.default_region) is None:
            raise ConfigError(f"mapping.default_region {self.default_region!r} has no phone "
                              "numbering plan; use a two-letter country code such as 'US'")
        if self.max_name_length < 1:
            raise ConfigError("mapping.max_name_length must be at least 1")
        if self.unreadable_phone not in UNREADABLE_PHONE:
            raise ConfigError(f"mapping.unreadable_phone must be one of "
                              f"{', '.join(UNREADABLE_PHONE)}, not {self.unreadable_phone!r}")
        if self.unreadable_country not in ("", *UNREADABLE_PHONE):
            raise ConfigError(f"mapping.unreadable_country must be one of "
                              f"{', '.join(UNREADABLE_PHONE)}, not {self.unreadable_country!r}")

    @property
    def country_policy(self) -> str:
        return self.unreadable_country or self.unreadable_phone

    @classmethod
    def of(cls, section: MappingSection, mapping: ColumnMapping | None = None) -> MapOptions:
        """The options the config's [mapping] section sets; with the sheet's mapping, its
        "auto" name order is settled by the language the headers are written in."""
        order = section.name_order
        if order == "auto" and mapping is not None:
            order = "family_given" if mapping.language in FAMILY_FIRST else "given_family"
        return cls(default_region=section.default_region, max_name_length=section.max_name_length,
                   unreadable_phone=section.unreadable_phone,
                   unreadable_country=section.unreadable_country, keep_title=section.keep_title,
                   name_order=order, language=mapping.language if mapping else "")

    def with_region(self, region: str, warning: str = "") -> MapOptions:
        """These options, reading numbers without a country code as ``region``."""
        return dataclasses.replace(self, default_region=region, region_warning=warning)


def map_row(row: Row, mapping: ColumnMapping, options: MapOptions) -> MappedRow:
    """The customer of one row, or every problem that keeps it back. Never raises."""
    plan = mapping._plan
    headers = mapping.headers
    values = row.values
    size = len(values)
    problems: list[Problem] = []
    warnings: list[str] = []

    language = options.language or mapping.language
    order = options.name_order
    if order == "auto":
        order = "family_given" if language in FAMILY_FIRST else "given_family"
    # Chinese and Korean names are written without a space between family and given name.
    joiner = "" if order == "family_given" and language in _UNSPACED else " "
    name = _name(values, size, plan, headers, options, problems, order == "family_given", joiner,
                 language == "vi")
    email = _email(values, size, plan, headers, problems, warnings) if plan.emails else ""
    addresses, region = _addresses(values, size, plan, headers, problems, warnings,
                                   options.country_policy)

    phones: tuple[Phone, ...] = ()
    if plan.phones:
        # A number without a country code belongs where the customer lives, if we know that.
        if region is None and 0 <= plan.phone_country < size:
            region = _region_of(clean_words(values[plan.phone_country]))
        assumed = region is None and bool(options.region_warning)
        region = region or phone_region(options.default_region)
        phones = _phones(values, size, plan, headers, region, options, problems, warnings,
                         assumed)

    lost = tuple(warnings) if warnings else ()
    if problems or not name:
        return MappedRow(row, None, tuple(problems), lost)
    return MappedRow(row, Customer(name, email, tuple(addresses), phones), (), lost)


def _region_of(country: str) -> str | None:
    if not country:
        return None
    try:
        return phone_region(resolve_country(country).alpha_2)
    except Invalid:
        return None  # only a hint for reading phone numbers; the default region stands


def _email(values: tuple[str, ...], size: int, plan: Plan, headers: tuple[str, ...],
           problems: list[Problem], warnings: list[str]) -> str:
    """The first non-empty of the email columns; the others are named in the warnings."""
    email = ""
    decided = False
    for i in plan.emails:
        text = clean(values[i]) if i < size else ""
        if not text:
            continue
        for piece in _emails_in(text):
            if not decided:
                decided = True
                try:
                    email = normalise_email(piece)
                except Invalid as exc:
                    problems.append(Problem(str(exc), headers[i], piece))
            elif email_key(piece) != email_key(email):
                warnings.append(f"{headers[i]}: {quote(piece)} is not sent (a Bookings customer "
                                "has one email address)")
    return email


_MANY_EMAILS = re.compile(r"\s*(?::::|[,;\n]|\s/\s)\s*|\s+(?=\S+@)")


def _emails_in(text: str) -> list[str] | tuple[str]:
    """The addresses of one cell: Google's " ::: ", or several written apart by , ; a line
    break or spaces ("a@x.de, b@x.de"); a cell without a second "@" is one address."""
    if text.count("@") < 2:
        return _split(text, ":::") if ":::" in text else (text,)
    return [p for p in (clean(part) for part in _MANY_EMAILS.split(text)) if p]


def _split(text: str, separator: str) -> list[str]:
    return [p for p in (clean(part) for part in text.split(separator)) if p]


def _phones(values: tuple[str, ...], size: int, plan: Plan, headers: tuple[str, ...],
            region: str | None, options: MapOptions, problems: list[Problem],
            warnings: list[str], assumed: bool = False) -> tuple[Phone, ...]:
    """Every number of every phone column, typed, each number once. ``assumed``: the region
    is the run's, which the sheet contradicts; each number read in it is named."""
    phones: list[Phone] = []
    seen: set[str] = set()
    for kind, i, label in plan.phones:
        text = clean(values[i]) if i < size else ""
        if not text:
            continue
        if 0 <= label < size and (named := clean(values[label])):
            kind = phone_type_of_label(named) or kind
        if text[0] == "'":  # Shopify's mark that keeps Excel from reading the number as one
            text = text[1:].lstrip()
        many = ";" in text or ":::" in text or "\n" in text or " / " in text
        for piece in [p for p in _MANY_NUMBERS.split(text) if p] if many else (text,):
            try:
                number = normalise_phone(piece, region)
                if assumed and not piece.startswith(("+", "00")):
                    warnings.append(f"{headers[i]}: {quote(piece)} {options.region_warning}")
            except Invalid as exc:
                if options.unreadable_phone == "reject":
                    problems.append(Problem(str(exc), headers[i], piece))
                    continue
                if options.unreadable_phone == "drop" or has_control(piece):
                    warnings.append(f"{headers[i]}: {exc}; left out")
                    continue
                number = clean_words(piece)
                warnings.append(f"{headers[i]}: {exc}; sent as written")
            if number not in seen:
                seen.add(number)
                phones.append(Phone(number, kind))
    return tuple(phones)


def _addresses(values: tuple[str, ...], size: int, plan: Plan, headers: tuple[str, ...],
               problems: list[Problem], warnings: list[str],
               policy: str = "reject") -> tuple[list[Address], str | None]:
    """The row's addresses, and the phone region of the first one with a known country. A
    country nobody can read refuses the row, is left out or is sent as written (``policy``,
    as for phones), named in the warnings unless refused."""
    addresses: list[Address] = []
    region = None
    for kind, columns, whole, label in plan.addresses:
        parts = [clean_words(values[i]) if 0 <= i < size else "" for i in columns]
        street, street2, street3, house, city, state, postal, country, box = parts
        sources = columns
        if not (street or street2 or street3 or house or city or state or postal or box):
            if 0 <= whole < size and clean(values[whole]):
                street, street2, city, state, postal, written = _unpack(values[whole])
                country = country or written
                parts = [street, street2, "", "", city, state, postal, country, ""]
                sources = (whole,) * 9
            elif not country:
                continue
        if has_control("".join(parts)):
            for i, part in zip(sources, parts, strict=True):
                if part and i != columns[7]:
                    _check_text(part, headers[i], problems)
        if country:
            try:
                found = resolve_country(country)
                country = found.name
                region = region or phone_region(found.alpha_2)
            except Invalid as exc:
                if policy == "reject":
                    problems.append(Problem(str(exc), headers[sources[7]], country))
                elif policy == "drop" or has_control(country):
                    warnings.append(f"{headers[sources[7]]}: {exc}; left out")
                    country = ""
                else:
                    warnings.append(f"{headers[sources[7]]}: {exc}; sent as written")
        if house:
            street = f"{street} {house}" if street else house
        if street2 or street3:
            street = ", ".join(p for p in (street, street2, street3) if p)
        if 0 <= label < size and (named := clean(values[label])):
            kind = address_type_of_label(named) or kind
        addresses.append(Address(street, city, state, postal, country, box, kind))
    return addresses, region


def _unpack(text: str) -> tuple[str, str, str, str, str, str]:
    """A whole address in one cell: street, street 2, city, state, ZIP and country.

    Mailchimp writes the parts two spaces apart ("1 Main St  Apt 4  Springfield  IL  62701  US",
    an empty part leaves four); any other text is kept whole, its lines as one street line, but
    for a last line that names a country (as Google's formatted addresses end).
    """
    if "  " in text.strip("\r\n"):
        parts = [clean_words(p) for p in text.strip("\r\n").split("  ")]
        if len(parts) >= 3:
            parts += [""] * (6 - len(parts))
            middle = " ".join(p for p in parts[1:-4] if p)  # a part that held two spaces itself
            return parts[0], middle, parts[-4], parts[-3], parts[-2], parts[-1]
    lines = [line for line in (clean_words(line) for line in text.splitlines()) if line]
    country = ""
    if len(lines) > 1:
        try:
            country = resolve_country(lines[-1]).name
            lines.pop()
        except Invalid:
            pass
    return ", ".join(lines), "", "", "", "", country


def _name(values: tuple[str, ...], size: int, plan: Plan, headers: tuple[str, ...],
          options: MapOptions, problems: list[Problem], family_first: bool = False,
          joiner: str = " ", middle_before_given: bool = False) -> str:
    """displayName: the name column, else the "Family, Given" column turned round, else given,
    middle and family name (family first where the language writes it so; and suffix, and the
    title when the config asks), else the company's name.

    Never the email address in its place: a customer nobody can find by name is worse than a
    row the failures file sends back for a name.
    """
    name = clean_words(values[plan.display]) if 0 <= plan.display < size else ""
    source = plan.display
    if not name and 0 <= plan.last_first < size:
        name = _turn_round(clean_words(values[plan.last_first]), family_first, joiner)
        source = plan.last_first
    if not name and (plan.first >= 0 or plan.last >= 0):
        first = clean_words(values[plan.first]) if 0 <= plan.first < size else ""
        last = clean_words(values[plan.last]) if 0 <= plan.last < size else ""
        if first or last:
            title = plan.title if options.keep_title else -1
            if family_first and middle_before_given:  # Nguyễn (Văn) An
                parts = (title, plan.last, plan.middle, plan.first, plan.suffix)
            elif family_first:
                parts = (title, plan.last, plan.first, plan.middle, plan.suffix)
            else:
                parts = (title, plan.first, plan.middle, plan.last, plan.suffix)
            words = [w for w in (clean_words(values[i]) for i in parts if 0 <= i < size) if w]
            name = _join_name(words, joiner)
            source = plan.first if first else plan.last
    if not name and 0 <= plan.company < size:
        name = clean_words(values[plan.company])
        source = plan.company
    if not name:
        sources = [i for i in (plan.display, plan.last_first, plan.first, plan.last, plan.company)
                   if i >= 0]
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


def _turn_round(text: str, family_first: bool, joiner: str) -> str:
    """ "Clever, Susan" -> "Susan Clever" (or "Clever Susan" where the family name comes
    first); a cell without one comma between two names is the name as written."""
    family, comma, given = text.partition(",")
    family, given = family.strip(), " ".join(given.split())
    if not comma or not family or not given or "," in given:
        return text
    return _join_name([family, given] if family_first else [given, family], joiner)


_UNSPACED = frozenset({"zh-Hans", "zh-Hant", "ko"})


def _join_name(words: list[str], joiner: str) -> str:
    """The parts of a name, with a space between them; without one (王小明, 홍길동) only when
    the parts are written in the language's own script."""
    if any(c.isascii() and c.isalpha() for w in words for c in w):
        return " ".join(words)
    return joiner.join(words)


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
