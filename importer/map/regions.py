"""Which country a phone number written without a country code belongs to, when the row does
not say: the config, the Bookings business, or the sheet itself. Pure: values in, a verdict out.

The order, first that answers:

1. the row's own country column (the mapper reads that per row, before any of this);
2. ``[mapping] default_region`` when the config sets it;
3. the Bookings business's own country (its address, else its phone's country code), read on
   every run and ``check`` that signs in;
4. what the sheet points to: its header language when that names one country, else the
   country its email domains and its numbers agree on (the candidates of its language and
   domains under which the sample's numbers are valid);
5. none: numbers without a country code are refused (``unreadable_phone``), never read as US.

Languages: the header recognition tells the sheet's (``ColumnMapping.language``, a BCP 47 tag);
``LANGUAGE_COUNTRIES`` says where each is an office language. A language the recognition
learns slots in as a row of that table.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers

from ..models import Row
from .countries import resolve_country
from .fields import detect_language
from .languages import LANGUAGES
from .mapping import ColumnMapping
from .normalise import Invalid, normalise_phone, phone_region

__all__ = ["LANGUAGE_COUNTRIES", "PhoneRegion", "business_region", "choose_region",
           "header_language", "region_name", "sheet_evidence", "sheet_region"]

# Language -> the countries it is an office language of; one country: the language names it.
LANGUAGE_COUNTRIES: dict[str, tuple[str, ...]] = {
    "it": ("IT",), "pl": ("PL",), "cs": ("CZ",), "sk": ("SK",), "hu": ("HU",), "ro": ("RO",),
    "bg": ("BG",), "el": ("GR", "CY"), "tr": ("TR",), "ja": ("JP",), "ko": ("KR",),
    "da": ("DK",), "fi": ("FI",), "is": ("IS",), "et": ("EE",), "lv": ("LV",), "lt": ("LT",),
    "sl": ("SI",), "hr": ("HR",), "uk": ("UA",), "he": ("IL",), "th": ("TH",), "vi": ("VN",),
    "nb": ("NO",), "no": ("NO",), "sv": ("SE", "FI"),
    "de": ("DE", "AT", "CH", "LI", "LU"), "fr": ("FR", "BE", "CH", "LU", "CA", "MC"),
    "nl": ("NL", "BE"), "pt": ("PT", "BR", "AO", "MZ"),
    "es": ("ES", "MX", "AR", "CO", "CL", "PE", "VE", "EC", "GT", "CU", "BO", "DO", "HN", "PY",
           "SV", "NI", "CR", "PA", "UY"),
    "ru": ("RU", "BY", "KZ", "KG"), "ar": ("SA", "EG", "AE", "MA", "DZ", "IQ", "JO", "LB"),
    "zh": ("CN", "TW", "HK", "SG"), "zh-Hans": ("CN", "SG"), "zh-Hant": ("TW", "HK", "MO"),
    "pt-BR": ("BR",), "pt-PT": ("PT",), "sr-Latn": ("RS", "ME", "BA"), "sr-Cyrl": ("RS", "BA"),
    "kk": ("KZ",), "id": ("ID",), "ms": ("MY", "BN", "SG"), "hi": ("IN",),
    "ca": ("ES", "AD"),
}

_LAYOUT_LANGUAGE = re.compile(r"_([a-z]{2})$|\((\w+)\)$")
# Email domains that name no country however they end.
_GENERIC_TLDS = {"com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "io", "co",
                 "me", "tv", "ai", "app", "dev", "cc", "ws", "eu", "email", "online", "xyz"}
_TLD_COUNTRY = {"uk": "GB"}
_PHONE_START = re.compile(r"^\s*(\+|00)")


@dataclass(frozen=True)
class PhoneRegion:
    """The region numbers without a country code are read in, and why ("" when none)."""

    region: str  # ISO code; "" when no region could be told
    source: str  # "config", "business", "sheet" or "none"
    reason: str  # in words, for the log, preview, page and summary
    conflict: str = ""  # the sheet points elsewhere: a warning for every row it concerns

    def describe(self) -> str:
        if not self.region:
            return ("phones without a country code cannot be read: no region is known "
                    f"({self.reason}); set [mapping] default_region")
        return (f"phones without a country code are read as {region_name(self.region)}: "
                f"{self.reason}")

    def as_dict(self) -> dict[str, str]:
        return {"region": self.region, "source": self.source, "reason": self.reason,
                "conflict": self.conflict, "text": self.describe()}


def region_name(region: str) -> str:
    """ "Italy (+39)" """
    try:
        name = resolve_country(region).name
    except Invalid:
        name = region
    code = phonenumbers.country_code_for_region(region)
    return f"{name} (+{code})" if code else name


def header_language(headers: Sequence[str], layout: str = "") -> str:
    """The language a header row is written in ("" when it does not tell): the recognised
    layout's ("outlook_desktop_de", "Outlook desktop (German)"), else the recognition's
    (``fields.detect_language``, a BCP 47 tag of ``languages.LANGUAGES``)."""
    if match := _LAYOUT_LANGUAGE.search(layout):
        if match.group(1):
            return match.group(1)
        named = {name: code for code, name in LANGUAGES.items()}.get(match.group(2))
        if named:
            return named
    return detect_language(list(headers))


def business_region(body: dict[str, object]) -> PhoneRegion | None:
    """The business's country from GET /solutions/bookingBusinesses/{id}: its address's
    country, else the country code of its phone."""
    name = str(body.get("displayName") or "the business")
    address = body.get("address")
    if isinstance(address, dict) and (country := str(address.get("countryOrRegion") or "")):
        try:
            region = phone_region(resolve_country(country).alpha_2)
        except Invalid:
            region = None
        if region:
            return PhoneRegion(region, "business", f"from the address of {name}")
    phone = str(body.get("phone") or "")
    if _PHONE_START.match(phone):
        try:
            number = phonenumbers.parse(normalise_phone(phone, None))
            region = phonenumbers.region_code_for_number(number)
        except (Invalid, phonenumbers.NumberParseException):
            region = None
        if region and region != "ZZ":
            return PhoneRegion(region, "business", f"from the phone number of {name}")
    return None


def sheet_region(language: str, emails: Iterable[str], numbers: Iterable[str],
                 named: Iterable[str] = ()) -> PhoneRegion:
    """What the sheet points to: ``language`` of its headers, its ``emails``, its
    ``numbers`` written without a country code (of rows that name no country) and the
    countries its other rows ``named`` (a sample of each)."""
    countries = LANGUAGE_COUNTRIES.get(language, ())
    spoken = LANGUAGES.get(language, language)
    if len(countries) == 1 and phone_region(countries[0]):
        return PhoneRegion(countries[0], "sheet", f"the sheet's headers are {spoken}")
    domains: Counter[str] = Counter()
    mails = 0
    for email in emails:
        _, _, domain = email.strip().rpartition("@")
        if not domain:
            continue
        mails += 1
        tld = domain.rsplit(".", 1)[-1].lower()
        if len(tld) == 2 and tld not in _GENERIC_TLDS:
            code = _TLD_COUNTRY.get(tld, tld.upper())
            if phone_region(code):
                domains[code] += 1
    national = [n for n in numbers if n.strip() and not _PHONE_START.match(n)][:200]
    # A domain country is a candidate when a third of the addresses end in it, a named
    # country when most rows that name one name it.
    by_domain = [c for c, n in domains.most_common(5) if 3 * n >= mails]
    rows_named = Counter(_country_code(text) for text in named)
    rows_named.pop("", None)
    by_rows = [c for c, n in rows_named.most_common(1) if 2 * n > sum(rows_named.values())]
    candidates = list(dict.fromkeys([*countries, *by_domain, *by_rows]))
    if not candidates:
        return PhoneRegion("", "none", "neither the headers' language, the email domains nor "
                                       "the rows' countries name one country")
    if national:
        valid = {c: sum(1 for n in national if _valid_in(n, c)) for c in candidates}
        ranked = sorted(valid.items(), key=lambda item: item[1], reverse=True)
        best, count = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else -1
        if count >= 0.8 * len(national) and count > runner_up:
            why = [f"the headers are {spoken}"] if best in countries else []
            if best in by_domain:
                why.append(f"email domains end in .{_tld_of(best)}")
            if best in by_rows:
                why.append(f"most rows that name a country name {region_name(best)}")
            why.append(f"{count} of the first {len(national)} numbers are valid there")
            return PhoneRegion(best, "sheet", ", ".join(why))
        return PhoneRegion("", "none", "the sheet's numbers fit no one of "
                                       + ", ".join(candidates[:5]))
    if domains:
        (top, count), *rest = domains.most_common()
        if count * 2 > mails and (not rest or count > 2 * rest[0][1]) and (
                not countries or top in countries):
            return PhoneRegion(top, "sheet", f"most email domains end in .{_tld_of(top)}")
    return PhoneRegion("", "none", "the sheet points to no one country")


def points_elsewhere(chosen: str, sheet: PhoneRegion) -> str:
    """The warning for rows read as ``chosen`` while the sheet points to another country."""
    if not chosen or not sheet.region or sheet.region == chosen:
        return ""
    return (f"read as {region_name(chosen)}, though {sheet.reason} "
            f"({region_name(sheet.region)}); check the region, or set [mapping] default_region")


def _country_code(text: str) -> str:
    try:
        return resolve_country(text).alpha_2
    except Invalid:
        return ""


def _valid_in(number: str, region: str) -> bool:
    try:
        normalise_phone(number, region)
    except Invalid:
        return False
    return True


def _tld_of(region: str) -> str:
    return "uk" if region == "GB" else region.lower()


def sheet_evidence(mapping: ColumnMapping, rows: Iterable[Row]) -> PhoneRegion:
    """``sheet_region`` of a sheet: its header row's language, the countries its rows name,
    and the emails and numbers of its first ``rows``. A row that names its country reads its
    numbers there: they are no evidence for the rows that do not."""
    plan = mapping._plan
    country_columns = [columns[7] for _, columns, _, _ in plan.addresses if columns[7] >= 0]
    if plan.phone_country >= 0:
        country_columns.append(plan.phone_country)
    emails: list[str] = []
    numbers: list[str] = []
    named: list[str] = []
    for row in rows:
        values = row.values
        emails += [values[i] for i in plan.emails if i < len(values) and values[i]]
        countries = [values[i] for i in country_columns if i < len(values) and values[i].strip()]
        if countries:
            named.append(countries[0])
        else:
            numbers += [values[i] for _, i, _ in plan.phones if i < len(values) and values[i]]
    language = mapping.language or header_language(mapping.headers, mapping.layout)
    return sheet_region(language, emails, numbers, named)


def choose_region(configured: str, business: PhoneRegion | None,
                  sheet: PhoneRegion) -> PhoneRegion:
    """The region of the run, in order: the config, the business, the sheet; with the
    warning for numbers read in a region the sheet contradicts."""
    if configured:
        chosen = PhoneRegion(configured.upper(), "config", "set in [mapping] default_region")
    elif business is not None:
        chosen = business
    else:
        return sheet
    return dataclasses.replace(chosen, conflict=points_elsewhere(chosen.region, sheet))
