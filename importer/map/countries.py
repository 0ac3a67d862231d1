"""Country names and codes as people write them, to the one name sent as countryOrRegion.

English names and ISO codes come from pycountry, and so do the names in German, French,
Spanish, Dutch, Italian and Portuguese (its ISO 3166 translations); the tables below add what
ISO does not list: everyday names ("UK", "Holland") and endonyms of other languages
("Sverige", "Polska").
"""

from __future__ import annotations

import difflib
import functools
import gettext
import unicodedata
from typing import NamedTuple

import pycountry

from .normalise import Invalid, _region_plan, quote


class Country(NamedTuple):
    name: str  # English common name: what we send as countryOrRegion
    alpha_2: str


# Names people write that ISO 3166 does not list (codes or names of the pycountry database).
_COUNTRY_ALIASES = {
    "GB": ("UK", "U.K.", "Great Britain", "Britain", "England", "Scotland", "Wales",
           "Northern Ireland"),
    "US": ("America",),  # "USA", "U.S.A." are its alpha-3 code once punctuation is folded
    "KR": ("Korea", "Republic of Korea"),
    "KP": ("DPRK",),
    "RU": ("Russia",),
    "TR": ("Turkey",),
    "CI": ("Ivory Coast",),
    "MK": ("Macedonia",),
    "VA": ("Vatican", "Vatican City"),
    "PS": ("Palestine",),
    "CV": ("Cape Verde",),
    "FM": ("Micronesia",),
    "BN": ("Brunei",),
    "MM": ("Burma",),
    "SZ": ("Swaziland",),
    "TL": ("East Timor",),
    "AE": ("UAE", "Emirates"),
    "NL": ("Holland",),
    "CD": ("DR Congo", "DRC", "Democratic Republic of the Congo", "Congo-Kinshasa"),
    "CG": ("Congo-Brazzaville",),
    "MO": ("Macau",),
    "CN": ("PRC", "Mainland China"),
}
# Endonyms and names in languages beyond those of _LANGUAGES (whose names come from the ISO 3166
# translations pycountry ships).
_ENDONYMS = {
    "DE": ("BRD",),
    "AT": ("Oesterreich",),
    "CH": ("Svizra", "Schwyz"),
    "BE": ("Belgie",),
    "LU": ("Lëtzebuerg",),
    "SE": ("Sverige",),
    "NO": ("Norge", "Noreg"),
    "DK": ("Danmark",),
    "FI": ("Suomi",),
    "IS": ("Ísland",),
    "PL": ("Polska",),
    "CZ": ("Česko", "Česká republika", "Czechia"),
    "SK": ("Slovensko",),
    "HU": ("Magyarország",),
    "SI": ("Slovenija",),
    "HR": ("Hrvatska",),
    "RO": ("România",),
    "BG": ("България",),
    "GR": ("Ελλάδα", "Ellada", "Hellas"),
    "CY": ("Κύπρος",),
    "IE": ("Éire",),
    "TR": ("Türkiye",),
    "RU": ("Россия", "Rossiya"),
    "UA": ("Україна", "Ukraina"),
    "MX": ("Mexiko",),
    # In the scripts and languages of the sheets the header tables read (languages.py).
    "ES": ("Espanya", "Espainia"),
    "RS": ("Srbija", "Србија"),
    "EE": ("Eesti",),
    "LV": ("Latvija",),
    "LT": ("Lietuva",),
    "KZ": ("Қазақстан", "Казахстан", "Qazaqstan"),
    "JP": ("日本", "日本国"),
    "CN": ("中国", "中华人民共和国", "中華人民共和國"),
    "TW": ("台灣", "臺灣", "台湾"),
    "HK": ("香港",),
    "KR": ("대한민국", "한국", "韓国", "韩国"),
    "TH": ("ประเทศไทย", "ไทย"),
    "IN": ("भारत",),
    "IL": ("ישראל",),
    "SA": ("السعودية", "المملكة العربية السعودية"),
    "AE": ("الإمارات", "الإمارات العربية المتحدة"),
    "EG": ("مصر",),
    "VN": ("Việt Nam",),
    "US": ("EEUU", "EE. UU.", "EUA"),
    "GB": ("Großbritannien", "Grossbritannien", "Royaume-Uni", "Reino Unido", "Regno Unito",
           "Verenigd Koninkrijk", "Inglaterra", "Angleterre"),
}
# The languages whose country names are read (German, French, Spanish, Dutch, Italian,
# Portuguese; English is the database's own).
_LANGUAGES = ("de", "fr", "es", "nl", "it", "pt", "pt_BR")


def _country_key(text: str) -> str:
    """Fold a country name: no accents, no case, no punctuation, "&" read as "and"."""
    text = unicodedata.normalize("NFKD", text.replace("&", " and ")).casefold()
    return "".join(ch for ch in text if ch.isalnum())


@functools.cache
def _countries() -> dict[str, Country]:
    table: dict[str, Country] = {}
    by_code: dict[str, Country] = {}
    for entry in pycountry.countries:
        country = Country(getattr(entry, "common_name", None) or entry.name, entry.alpha_2)
        by_code[entry.alpha_2] = country
        for name in (entry.alpha_2, entry.alpha_3, entry.name, getattr(entry, "official_name", ""),
                     getattr(entry, "common_name", "")):
            if name:
                table.setdefault(_country_key(name), country)
    for code, aliases in (*_COUNTRY_ALIASES.items(), *_ENDONYMS.items()):
        for alias in aliases:
            table.setdefault(_country_key(alias), by_code[code])
    for language in _LANGUAGES:
        try:
            names = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        except OSError:  # pragma: no cover - a pycountry build without its translations
            continue
        for entry in pycountry.countries:
            for name in (entry.name, getattr(entry, "common_name", "")):
                if name and (local := names.gettext(name)) != name:
                    table.setdefault(_country_key(local), by_code[entry.alpha_2])
    return table


def resolve_country(text: str) -> Country:
    """The country a code or name means (case-insensitive); :class:`Invalid` when none."""
    found = _resolve_country(text)
    if isinstance(found, str):
        raise Invalid(found)
    return found


# A sheet holds a handful of distinct countries, each on thousands of rows; an unknown one is
# cached too, so that its suggestion is worked out once.
@functools.lru_cache(maxsize=4096)
def _resolve_country(text: str) -> Country | str:
    table = _countries()
    key = _country_key(text)
    variants = [key]
    if key.startswith("the"):
        variants.append(key[3:])  # "The Netherlands"
    if key.startswith("st"):
        variants.append("saint" + key[2:])  # "St Lucia", "St. Kitts and Nevis"
    for variant in variants:
        if variant in table:
            return table[variant]
    close = difflib.get_close_matches(key, table, n=1, cutoff=0.8)
    hint = f"; did you mean {table[close[0]].name!r}?" if close else (
        "; write the country's name or its ISO code, e.g. 'Germany' or 'DE'")
    return f"{quote(text)} is not a country or region we know{hint}"


def cache_info() -> dict[str, object]:
    """Hit counts of the caches, for the benchmark script."""
    return {"countries": _resolve_country.cache_info(), "regions": _region_plan.cache_info()}

