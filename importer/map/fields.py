"""The customer fields a sheet column can feed, and how a header is read as one of them.

A field name is what the ``[columns]`` table of the config speaks (``FIELDS`` is the one list):

- names: ``displayName`` (the whole name), ``nameLastFirst`` (the whole name written "Family,
  Given", split at the comma), ``title`` ("Dr."; kept only when
  ``mapping.keep_title``), ``firstName``, ``middleName``, ``lastName``, ``suffix`` and
  ``companyName`` (the name of a contact that has no person's name);
- ``emailAddress`` (several columns may feed it: the first non-empty one is sent);
- ``{kind}.{part}`` for addresses (``home.street``, ``business.city``; ``street2`` and
  ``street3`` are further street lines, ``formatted`` the whole address in one cell, used when the
  parts are empty, ``label`` a column whose text ("Work") decides the address's type);
- ``phone.{type}`` for phones (several columns may feed one type), ``phoneLabel`` (the text that
  decides the type of the phone column beside it, as "Phone 1 - Label" does) and
  ``phoneCountry`` (a country column that only says how to read the row's phone numbers);
- ``ignore`` drops a column.

The words of headers live in ``vocabulary.py``; the known export layouts in ``layouts.py``.
"""

from __future__ import annotations

import functools
from types import MappingProxyType

from ..models import ADDRESS_TYPES, PHONE_TYPES
from . import languages as langs
from . import vocabulary as vocab

IGNORE = "ignore"
PERSON_FIELDS = ("displayName", "nameLastFirst", "title", "firstName", "middleName", "lastName",
                 "suffix", "companyName")
# Any one of these gives a customer a name.
NAME_FIELDS = ("displayName", "nameLastFirst", "firstName", "lastName", "companyName")
ADDRESS_PARTS = (
    "street",
    "street2",
    "street3",
    "houseNumber",
    "city",
    "state",
    "postalCode",
    "countryOrRegion",
    "postOfficeBox",
    "formatted",
    "label",
)
ADDRESS_FIELDS = tuple(f"{kind}.{part}" for kind in ADDRESS_TYPES for part in ADDRESS_PARTS)
PHONE_FIELDS = tuple(f"phone.{kind}" for kind in PHONE_TYPES)
FIELDS: tuple[str, ...] = (*PERSON_FIELDS, "emailAddress", *ADDRESS_FIELDS, *PHONE_FIELDS,
                           "phoneLabel", "phoneCountry")
# Fields that several columns may feed (the others take one column each).
REPEATABLE = frozenset({"emailAddress", "phoneLabel", *PHONE_FIELDS})


def header_key(header: str) -> str:
    """Fold a header for matching: casefold and keep only letters and digits."""
    return "".join(ch for ch in header.casefold() if ch.isalnum())


# --- the tables, folded --------------------------------------------------------------------


def _loose(text: str) -> str:
    """A phrase without its filler words ("Adresse de courrier" -> "adressecourrier")."""
    return "".join(w for w in vocab.tokens(text) if w not in vocab.FILLERS)


def _table(pairs: list[tuple[str, str]], key=vocab.fold) -> dict[str, str]:
    table: dict[str, str] = {}
    for phrase, meaning in pairs:
        # Two meanings for one phrase would make detection depend on table order.
        if table.setdefault(key(phrase), meaning) != meaning:
            raise RuntimeError(f"header {phrase!r} means both {table[key(phrase)]} and {meaning}")
    return table


_EXACT_PAIRS = [(f, f) for f in FIELDS if f not in vocab.NOT_BY_FIELD_NAME] + [
    (phrase, field) for field, phrases in vocab.EXACT.items() for phrase in phrases]
VOCABULARY = _table(_EXACT_PAIRS)
# Whole phrases that still mean their field behind a qualifier or a number ("E-mail 2 Address",
# "Default Address Company").
_QUALIFIED = _table([(p, f) for p, f in _EXACT_PAIRS if f in ("emailAddress", "companyName")],
                    _loose)
_ADDRESS = _table([(p, part) for part, phrases in vocab.ADDRESS_WORDS.items() for p in phrases],
                  _loose)
_PHONES = _table([(p, kind) for kind, phrases in vocab.PHONE_WORDS.items() for p in phrases],
                 _loose)
_PHONE_LABELS = _table([(p, t) for t, phrases in vocab.PHONE_LABELS.items() for p in phrases])
_QUALIFIER_WORDS = [(q, kind) for kind, qs in vocab.QUALIFIERS.items() for q in qs]

# --- the words of every language (languages.py) --------------------------------------------

# A header another language reads otherwise: language -> folded header -> field. Used only
# when the sheet is in that language ("Kraj" is a country in Polish, a region in Czech).
BY_LANGUAGE: dict[str, dict[str, str]] = {}
# Folded header (or qualifier word) -> the languages that write it: what detect_language counts.
LANGUAGES_OF: dict[str, set[str]] = {}
_PHONE_KINDS = ("phone", "mobile", "fax", "pager")


def _meaning(meaning: str) -> str:
    """The field a whole header of this meaning is when it stands alone."""
    if meaning in _PHONE_KINDS:
        return "phone." + vocab.PHONE_TYPE_OF[(meaning, "")]
    if meaning in vocab.ADDRESS_WORDS:
        return f"home.{meaning}"
    return meaning


def _whole(key: str, loose: str) -> str | None:
    """What a header that is exactly this phrase means by the tables so far."""
    if key in VOCABULARY:
        return VOCABULARY[key]
    if loose != key:  # "E-adresa" is no "adresa": a whole header is looked up whole first
        return None
    if loose in _ADDRESS:
        return f"home.{_ADDRESS[loose]}"
    if loose in _PHONES:
        return "phone." + vocab.PHONE_TYPE_OF[(_PHONES[loose], "")]
    return None


def _learn(language: str, meaning: str, phrase: str) -> None:
    key, loose = vocab.fold(phrase), _loose(phrase)
    LANGUAGES_OF.setdefault(key, set()).add(language)
    own_only = meaning.endswith("?")  # only in a sheet of this language
    meaning = meaning.rstrip("?")
    if meaning.startswith("+") and meaning[1:] in vocab.QUALIFIERS:
        _QUALIFIER_WORDS.append((phrase, meaning[1:]))
        return
    if meaning not in _PHONE_KINDS and meaning not in vocab.ADDRESS_WORDS and meaning not in FIELDS:
        raise RuntimeError(f"languages.py: {phrase!r} ({language}) means {meaning!r}, which is "
                           "no field, address part, phone word or qualifier")
    field = _meaning(meaning)
    now = _whole(key, loose)
    if own_only or (now is not None and now != field):
        # Another language reads this phrase otherwise: this one reads it its own way.
        BY_LANGUAGE.setdefault(language, {})[key] = field
        return
    if meaning in _PHONE_KINDS:
        _PHONES.setdefault(loose, meaning)
    elif meaning in vocab.ADDRESS_WORDS:
        _ADDRESS.setdefault(loose, meaning)
    elif now is None:
        VOCABULARY[key] = field


_ROWS = langs.rows()
for _row in _ROWS:
    _learn(*_row)
VOCABULARY = MappingProxyType(VOCABULARY)
_QUALIFIERS = sorted(((tuple(vocab.tokens(q)), kind) for q, kind in _QUALIFIER_WORDS),
                     key=lambda item: -len(item[0]))


def _take_qualifier(words: list[str]) -> tuple[str, list[str]]:
    """The kind the first qualifier in ``words`` names ("" when none), and the other words."""
    for phrase, kind in _QUALIFIERS:
        size = len(phrase)
        for start in range(len(words) - size + 1):
            if tuple(words[start:start + size]) == phrase:
                return kind, words[:start] + words[start + size:]
    return "", words


# --- reading a header ----------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def detect_field(header: str) -> str | None:
    """The field a header means by its words alone (no layout), or None."""
    words = vocab.tokens(header)
    exact = VOCABULARY.get("".join(words))
    if exact is not None:
        return exact
    numbers = [int(w) for w in words if w.isdigit()]
    number = numbers[0] if numbers else 0
    whole = "".join(w for w in words if not w.isdigit() and w not in vocab.FILLERS)
    if whole in _ADDRESS and not number:  # "Post office box": no qualifier in it after all
        return f"home.{_ADDRESS[whole]}"
    kind, rest = _take_qualifier([w for w in words if not w.isdigit()])
    is_label = bool(rest) and rest[-1] in vocab.LABEL_WORDS
    if is_label:
        rest = rest[:-1]
    rest = [w for w in rest if w not in vocab.FILLERS]
    base = "".join(rest)
    if is_label:
        return _label_field(base, rest, kind, number)
    if not base:
        return None
    if base in _QUALIFIED:
        return _QUALIFIED[base]
    if base in _PHONES:
        return "phone." + vocab.PHONE_TYPE_OF[(_PHONES[base], kind)]
    return _address_field(base, rest, kind, number)


def _address_field(base: str, rest: list[str], kind: str, number: int) -> str | None:
    part = _ADDRESS.get(base)
    group = 0
    if part is None and len(rest) > 1 and rest[0] in vocab.ADDRESS_LEADS:
        # "Address 1 - City", "Business Address PO Box": the number counts groups, not lines.
        part, group = _ADDRESS.get("".join(rest[1:])), number
    if part is None:
        return None
    if part == "street" and not group and number in (2, 3):
        part = f"street{number}"  # "Street Address 2", "Straße privat 3"
    elif (number > 3 and not group) or group > len(vocab.GROUP_KINDS):
        return None
    if not kind:
        kind = vocab.GROUP_KINDS[group - 1] if group else "home"
    return f"{kind}.{part}"


def _label_field(base: str, rest: list[str], kind: str, number: int) -> str | None:
    if base in _PHONES:
        return "phoneLabel"
    if rest and all(w in vocab.ADDRESS_LEADS for w in rest):
        if number > len(vocab.GROUP_KINDS):
            return None
        return f"{kind or vocab.GROUP_KINDS[max(number, 1) - 1]}.label"
    return None  # an email's label, or something else's: nothing Bookings keeps


@functools.lru_cache(maxsize=1024)
def phone_type_of_label(label: str) -> str | None:
    """The Graph phone type a label names ("* Mobile", "Work Fax", "Privat"), or None."""
    label = label.split(":::")[0].replace("*", " ")
    found = _PHONE_LABELS.get(vocab.fold(label))
    if found is not None:
        return found
    kind, rest = _take_qualifier(list(vocab.tokens(label)))
    base = "".join(w for w in rest if w not in vocab.FILLERS)
    if not base:
        return vocab.PHONE_TYPE_OF[("phone", kind)] if kind else None
    phone = _PHONES.get(base)
    return vocab.PHONE_TYPE_OF[(phone, kind)] if phone else None


@functools.lru_cache(maxsize=1024)
def address_type_of_label(label: str) -> str | None:
    """The Graph address type a label names ("* Home", "Work", "Privat"), or None."""
    label = label.split(":::")[0].replace("*", " ")
    kind, rest = _take_qualifier(list(vocab.tokens(label)))
    return kind if kind and not [w for w in rest if w not in vocab.ADDRESS_LEADS] else None


# --- the language of a header row ----------------------------------------------------------

_ORDER = {language: n for n, language in enumerate(dict.fromkeys(r[0] for r in _ROWS))}


def detect_language(headers: tuple[str, ...] | list[str]) -> str:
    """The language a header row is written in (a BCP 47 tag of ``languages.LANGUAGES``), or
    "" when no header is a word of any language.

    Each header votes for the languages that write it, a header several languages share with
    less weight ("Telefon"), one only a single language writes ("Telefon komórkowy") with its
    whole vote; a qualifier ("(biuro)") votes as a word of its own. On a tie, the language
    listed first in the table wins."""
    votes: dict[str, float] = {}
    for header in headers:
        words = vocab.tokens(header)
        found = [LANGUAGES_OF.get("".join(words))]
        if not found[0]:
            # "Ulica (biuro) 2": the words apart, then the header without its qualifier.
            kind, rest = _take_qualifier([w for w in words if not w.isdigit()])
            found = [LANGUAGES_OF.get("".join(w for w in rest if w not in vocab.FILLERS))]
            if kind:
                found += [LANGUAGES_OF.get(w) for w in words if w not in rest]
        for languages in found:
            for language in languages or ():
                votes[language] = votes.get(language, 0.0) + 1.0 / len(languages)
    if not votes:
        return ""
    return max(votes, key=lambda language: (round(votes[language], 6), -_ORDER[language]))


def field_in_language(header: str, language: str) -> str | None:
    """The field a header means in a sheet written in ``language``, by its words alone."""
    own = BY_LANGUAGE.get(language)
    if own:
        found = own.get(vocab.fold(header))
        if found is not None:
            return found
    return detect_field(header)
