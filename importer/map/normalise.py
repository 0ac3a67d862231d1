"""Normalisers for the cells of one customer: text, email addresses and phone numbers (countries:
``countries.py``).

Each normaliser returns the one form we send to Graph or raises :class:`Invalid` whose message is
a short fix hint that names the value ("'joe@' has no domain after the @").

Speed: the mapper must keep up with tens of thousands of rows a second, and the libraries that
know the rules are slow for that (email-validator ~40 µs, phonenumbers.parse ~30 µs a value). So
the common, plain forms take a fast path that computes exactly what the library would, and
everything else goes to the library. The fast paths only ever *accept*; a value they do not
recognise, or find invalid, is judged by the library, which also words the message. Tests check
the fast paths against the libraries on generated input.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any, NamedTuple

import email_validator
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

# --- text ----------------------------------------------------------------------------------

# Everything str.strip() removes, plus the zero-width characters that arrive from web pages and
# Excel and make two equal-looking cells differ.
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_BLANKS = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + _ZERO_WIDTH
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_QUOTE_LIMIT = 40


class Invalid(ValueError):
    """A value that cannot be sent; the message says why and how to fix it."""


def clean(text: str) -> str:
    """The cell without surrounding blanks (non-breaking and zero-width spaces included)."""
    return text.strip(_BLANKS)


def clean_words(text: str) -> str:
    """Like :func:`clean`; runs of blanks inside (a wrapped cell's line breaks) become one space."""
    text = " ".join(text.split())
    if text and (text[0] in _ZERO_WIDTH or text[-1] in _ZERO_WIDTH):
        text = text.strip(_BLANKS)
    return text


def quote(value: str) -> str:
    """The value for a one-line message: quoted, escaped, and cut short when long."""
    if len(value) > _QUOTE_LIMIT:
        value = value[: _QUOTE_LIMIT - 1] + "…"
    return repr(value)


def has_control(value: str) -> bool:
    return _CONTROL.search(value) is not None


def check_text(value: str) -> str:
    """Refuse text with control characters: Graph rejects them and nobody can see them."""
    found = _CONTROL.search(value)
    if found:
        raise Invalid(f"{quote(value)} contains an invisible control character "
                      f"(U+{ord(found.group()):04X}); delete it")
    return value


# --- email ---------------------------------------------------------------------------------

# The plain addresses nearly every sheet holds. For these email-validator's answer is the address
# with its domain in lower case; anything else (quotes, Unicode, "xn--") goes to the library.
_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9_'+-]+(?:\.[A-Za-z0-9_'+-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_PLAIN_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
# What could make the library split or read a local part differently: quotes, escapes, a display
# name, spaces, comments, a second @. Such addresses always go to the library.
_NOT_A_PLAIN_LOCAL = re.compile(r'[\s"\\<>()\[\]@,;:]')
try:  # mailboxes such as "Postmaster" that email-validator writes in lower case
    from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES as _ROLE_MAILBOXES
    from email_validator.syntax import validate_email_local_part as _validate_local_part

    _FAST_EMAILS = True
except ImportError:  # pragma: no cover - a release that moved them: always ask the library
    _ROLE_MAILBOXES, _FAST_EMAILS = [], False
# Domains email-validator refuses without looking them up ("@x.test", "@host.local").
_SPECIAL_USE_SUFFIXES = tuple("." + d for d in email_validator.SPECIAL_USE_DOMAIN_NAMES)
_EMAIL_HINTS = {
    "An email address must have an @-sign.": "has no @",
    "There must be something after the @-sign.": "has no domain after the @",
    "There must be something before the @-sign.": "has nothing before the @",
    "The part after the @-sign is not valid. It should have a period.":
        "has no period in the domain after the @ (like contoso.com)",
    "An email address cannot have two periods in a row.": "has two periods in a row",
    "The part after the @-sign is a special-use or reserved name that cannot be used with email.":
        "has a reserved domain that cannot receive email",
}


def _plain_email(text: str) -> str | None:
    match = _PLAIN_EMAIL.fullmatch(text)
    if match is None:
        return _unicode_local_email(text)
    if len(text) > 254 or len(match["local"]) > 64:
        return None
    domain = _plain_domain(match["domain"])
    if domain is None or match["local"].lower() in _ROLE_MAILBOXES:
        return None
    return f"{match['local']}@{domain}"


def _plain_domain(domain: str) -> str | None:
    domain = domain.lower()
    if "--" in domain:  # Punycode and its look-alikes need the IDNA rules
        return None
    if ("." + domain).endswith(_SPECIAL_USE_SUFFIXES):
        return None
    return domain


def _unicode_local_email(text: str) -> str | None:
    """An accented mailbox at a plain domain ("zoë@contoso.com"): the library's own check of
    the local part, NFC-normalised as it does, and the plain domain rule, without the IDNA
    machinery it runs on every domain (about 80% of its time for such an address)."""
    local, at, domain = text.rpartition("@")
    if not at or text.isascii() or not domain.isascii() or len(text.encode("utf-8")) > 200:
        return None
    if _PLAIN_DOMAIN.fullmatch(domain) is None or _NOT_A_PLAIN_LOCAL.search(local):
        return None
    domain = _plain_domain(domain)  # type: ignore[assignment]
    if domain is None:
        return None
    try:
        normal = unicodedata.normalize("NFC", local)
        info = _validate_local_part(normal, allow_smtputf8=True, allow_empty_local=False,
                                    quoted_local_part=False, strict=False)
        if normal != local:
            _validate_local_part(local, allow_smtputf8=True, allow_empty_local=False,
                                 quoted_local_part=False, strict=False)
    except email_validator.EmailNotValidError:
        return None  # the library says why, in its words
    if info["ascii_local_part"] is not None:
        return None
    return f"{info['local_part']}@{domain}"


def normalise_email(text: str) -> str:
    """The normalised address (domain in lower case, Unicode NFC); :class:`Invalid` if unusable."""
    plain = _plain_email(text) if _FAST_EMAILS else None
    if plain is not None:
        return plain
    try:
        return email_validator.validate_email(text, check_deliverability=False).normalized
    except email_validator.EmailNotValidError as exc:
        raise Invalid(_email_hint(text, str(exc))) from None


def _email_hint(text: str, reason: str) -> str:
    if any(sep in text for sep in ",;") and text.count("@") > 1:
        return f"{quote(text)} holds more than one address; keep one"
    hint = _EMAIL_HINTS.get(reason)
    if hint is None:
        reason = " ".join(reason.split()).rstrip(".")
        hint = "is not a valid email address: " + reason[:1].lower() + reason[1:]
    return f"{quote(text)} {hint}"


# --- phone numbers -------------------------------------------------------------------------

try:  # the parse steps the fast path shares with phonenumbers.parse (private, so guarded)
    from phonenumbers.phonenumberutil import (
        ValidationResult,
        _maybe_strip_national_prefix_carrier_code,
        _test_number_length,
    )

    _FAST_PHONES = True
except ImportError:  # pragma: no cover - a phonenumbers release that renamed them
    _FAST_PHONES = False

# Digits and the punctuation people type between them; a + only in front. Letters (extensions,
# "1-800-FLOWERS"), other marks and other scripts' digits take the library's full parse.
_PLAIN_PHONE = re.compile(r"\+?[0-9 ().\-/]+")
_PHONE_MARKS = str.maketrans("", "", "+ ().-/")
_KEEP_NSN = (
    ValidationResult.TOO_SHORT,
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    ValidationResult.INVALID_LENGTH,
) if _FAST_PHONES else ()
_PARSE_HINTS = {
    NumberParseException.INVALID_COUNTRY_CODE: "has an unknown country code after the +",
    NumberParseException.NOT_A_NUMBER: "is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "has too few digits after the country code",
    NumberParseException.TOO_SHORT_NSN: "has too few digits for a phone number",
    NumberParseException.TOO_LONG: "has too many digits for a phone number",
}


_Desc = tuple[frozenset[int] | None, re.Pattern[str]]
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
          "voicemail", "fixed_line", "mobile")


class _Plan(NamedTuple):
    """A numbering plan as the fast path needs it, compiled once per region."""

    region: str
    country_code: int
    country_code_digits: str
    international_prefix: re.Pattern[str] | None
    national_prefix: re.Pattern[str] | None  # national_prefix_for_parsing ("0", "1", ...)
    metadata: Any
    general: _Desc | None
    # Per length of national number: the patterns of every number type (fixed line, mobile, toll
    # free, ...) that allows that length, as one alternation: one regex call instead of ten.
    by_length: dict[int, re.Pattern[str]]


def _desc(desc: Any) -> _Desc | None:
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = frozenset(desc.possible_length) if desc.possible_length else None
    return lengths, re.compile(desc.national_number_pattern)


def _plan_of(region: str, metadata: Any) -> _Plan | None:
    if metadata is None:
        return None
    general = _desc(metadata.general_desc)
    types = [d for d in (_desc(getattr(metadata, kind)) for kind in _TYPES) if d is not None]
    by_length = {}
    for length in range(2, 18):
        patterns = [p.pattern for lengths, p in types if lengths is None or length in lengths]
        if patterns:
            by_length[length] = re.compile("|".join(f"(?:{p})" for p in patterns))
    idd, prefix = metadata.international_prefix, metadata.national_prefix_for_parsing
    return _Plan(region, metadata.country_code, str(metadata.country_code),
                 re.compile(idd) if idd else None, re.compile(prefix) if prefix else None,
                 metadata, general, by_length)


@functools.cache
def _region_plan(region: str) -> _Plan | None:
    return _plan_of(region, phonenumbers.PhoneMetadata.metadata_for_region(region, None))


@functools.cache
def _country_code_plan(country_code: int) -> _Plan | None:
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    return _plan_of(region, metadata)


def _valid_in(plan: _Plan, nsn: str) -> bool:
    """phonenumbers.is_valid_number_for_region: the general pattern and one of a number type."""
    if plan.general is None:
        return False
    lengths, general = plan.general
    if (lengths is not None and len(nsn) not in lengths) or not general.fullmatch(nsn):
        return False
    types = plan.by_length.get(len(nsn))
    return types is not None and types.fullmatch(nsn) is not None


def phone_region(code: str | None) -> str | None:
    """The region as phonenumbers knows it, or None when it has no numbering plan for it."""
    if not code:
        return None
    code = code.upper()
    return code if _region_plan(code) is not None else None


def _fast_e164(text: str, region: str | None) -> str | None:
    """E.164 of a plain, valid number, exactly as the library would give it; else None."""
    if len(text) > 250 or not _PLAIN_PHONE.fullmatch(text):
        return None
    digits = text.translate(_PHONE_MARKS)
    if len(digits) < 3:
        return None
    if text[0] == "+":
        if digits[0] == "0":
            return None
        for size in (1, 2, 3):
            if int(digits[:size]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                break
        else:
            return None
        plan = _country_code_plan(int(digits[:size]))
        national = digits[size:]
    else:
        plan = _region_plan(region) if region else None
        # A national number that starts like a dialling prefix or the country code may be either;
        # the library has the rules to decide.
        if plan is None or digits.startswith(plan.country_code_digits) or (
            plan.international_prefix is not None and plan.international_prefix.match(digits)
        ):
            return None
        national = digits
    if plan is None or len(national) < 2:
        return None
    if plan.national_prefix is not None and plan.national_prefix.match(national):
        # As parse does: drop the national prefix ("0" in 020 ...) unless too little is left.
        _, stripped, _ = _maybe_strip_national_prefix_carrier_code(national, plan.metadata)
        if _test_number_length(stripped, plan.metadata) not in _KEEP_NSN:
            national = stripped
    # The national significant number keeps its leading zeros (Italy), as the library's does.
    if 2 <= len(national) <= 17 and _valid_in(plan, national):
        return f"+{plan.country_code}{national}"
    return None


def _is_valid(number: PhoneNumber, region: str | None) -> bool:
    # Checking the one likely region first is several times faster than is_valid_number, which
    # tries every region of the country code (NANP has 25).
    plan = _region_plan(region) if region else None
    if plan is None or plan.country_code != number.country_code:
        plan = _country_code_plan(number.country_code)
    if plan is not None and phonenumbers.is_valid_number_for_region(number, plan.region):
        return True
    return phonenumbers.is_valid_number(number)


def normalise_phone(text: str, region: str | None) -> str:
    """E.164 (``+12065550100``; an extension as ``;ext=123``); :class:`Invalid` if unusable.

    ``region`` reads numbers written without a country code; None means there is none, so only
    numbers with + or 00 are accepted.
    """
    shown = quote(text)
    international = text.startswith(("+", "00"))
    if text.startswith("00"):
        text = "+" + text[2:]  # 00 is the international prefix in most of the world, not the US
    if _FAST_PHONES:
        e164 = _fast_e164(text, region)
        if e164 is not None:
            return e164
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE and not international:
            raise Invalid(f"{shown} has no country code; write it as +<country code> "
                          "<number>, or set [mapping] default_region") from None
        hint = _PARSE_HINTS.get(exc.error_type, "is not a phone number")
        raise Invalid(f"{shown} {hint}") from None
    if not _is_valid(number, region):
        if international:
            raise Invalid(f"{shown} is not a valid phone number for country code "
                          f"+{number.country_code}")
        raise Invalid(f"{shown} is not a valid phone number for region {region}; if it is "
                      "from another country, write it with + and the country code")
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return f"{e164};ext={number.extension}" if number.extension else e164
