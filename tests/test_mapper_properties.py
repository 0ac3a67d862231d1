"""Properties of the mapper on generated input, and the fast paths checked against the libraries."""

from __future__ import annotations

import json

import email_validator
import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from importer.errors import ConfigError
from importer.map import (
    ColumnMapping,
    MapOptions,
    build_mapping,
    describe_problem,
    map_row,
    to_body,
)
from importer.map.normalise import _fast_e164, _plain_email
from importer.models import PHONE_TYPES, Row

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADERS = (
    "Name", "First name", "Last name", "Email", "Street", "Address line 2", "City", "State",
    "ZIP", "Country", "PO box", "Business street", "Business country", "Other city", "Phone",
    "Mobile", "Work phone", "Fax", "Pager", "Notes",
)
PLAUSIBLE = (
    "", " ", "Joni Sherman", "joni@contoso.com", "JONI@Contoso.com", "joe@", "(206) 555-0100",
    "+44 20 7946 0958", "0044 20 7946 0958", "206-555-0100 x12", "12345", "USA", "Germany",
    "UK", "Narnia", "98052", "4567 First Street", "P.O. Box 12", "\u00a0", "\x00", "x" * 300,
)
MAPPING = build_mapping(HEADERS)

# What each API version's bookingCustomer allows (see the reference schemas).
TOP_KEYS = {"@odata.type", "displayName", "emailAddress", "addresses", "phones"}
ADDRESS_KEYS = {
    "v1.0": {"street", "city", "state", "countryOrRegion", "postalCode"},
    "beta": {"street", "city", "state", "countryOrRegion", "postalCode", "postOfficeBox", "type"},
}
PHONE_KEYS = {"number", "type"}


def check_schema(body: dict, version: str) -> None:
    assert set(body) <= TOP_KEYS
    assert body["@odata.type"] == "#microsoft.graph.bookingCustomer"
    assert isinstance(body["displayName"], str) and body["displayName"].strip()
    if "emailAddress" in body:
        assert isinstance(body["emailAddress"], str) and "@" in body["emailAddress"]
    assert body.get("addresses", [None]) and body.get("phones", [None])  # absent, not empty
    for address in body.get("addresses", []):
        assert isinstance(address, dict) and set(address) == ADDRESS_KEYS[version]
        assert all(isinstance(v, str) for v in address.values())
        assert any(address[k] for k in address if k != "type")
        if version == "beta":
            assert address["type"] in ("home", "business", "other")
    for phone in body.get("phones", []):
        assert isinstance(phone, dict) and set(phone) == PHONE_KEYS
        assert phone["type"] in PHONE_TYPES
        assert phone["number"].startswith("+")
    json.dumps(body)  # serialisable as it stands


cells = st.one_of(st.text(max_size=40), st.sampled_from(PLAUSIBLE))


@FAST
@given(values=st.lists(cells, max_size=len(HEADERS) + 2))
def test_any_row_is_a_valid_customer_or_has_problems(values: list[str]) -> None:
    result = map_row(Row(2, tuple(values)), MAPPING, MapOptions())
    if result.customer is not None:
        assert result.problems == ()
        for version in ("v1.0", "beta"):
            check_schema(to_body(result.customer, version), version)
    else:
        assert result.problems
        for problem in result.problems:
            line = describe_problem(problem)
            assert line and "\n" not in line


@FAST
@given(headers=st.lists(st.text(max_size=20), max_size=8),
       columns=st.dictionaries(st.text(max_size=20), st.sampled_from(["displayName", "ignore",
                               "emailAddress", "phone.mobile", "nonsense"]), max_size=3),
       auto_detect=st.booleans())
def test_any_headers_give_a_mapping_or_a_config_error(headers, columns, auto_detect) -> None:
    try:
        mapping = build_mapping(headers, columns, auto_detect=auto_detect)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(mapping, ColumnMapping)
    assert len(mapping.field_of) == len(headers)
    named = [f for f in mapping.field_of if f is not None]
    assert len(named) == len(set(named))


# --- the fast paths give the libraries' answers --------------------------------------------

plain_emails = st.from_regex(
    r"[A-Za-z0-9_'+.-]{1,70}@[A-Za-z0-9.-]{1,30}\.(com|de|test|local|xn--p1ai|[A-Za-z]{2,5})",
    fullmatch=True,
)


# Accented, combining, other-script, invisible and punctuation characters in the mailbox, at
# plain and not-so-plain domains.
unicode_locals = st.text(
    alphabet=st.one_of(st.sampled_from("aZ09._+-'éüßñøçÅ\u0301\u0308\u200b\u00a0 \"\\@<>()!#$%&*/=?^`{|}~"),
                       st.characters(codec="utf-8", exclude_categories=("Cs",))),
    min_size=1, max_size=70)
unicode_emails = st.builds(lambda local, domain: f"{local}@{domain}", unicode_locals,
                           st.sampled_from(["contoso.com", "EXAMPLE.de", "x.test", "a--b.com",
                                            "münchen.de", "host.local", "co", "a.b.c.museum"]))


@FAST
@given(text=st.one_of(plain_emails, unicode_emails, st.text(max_size=30)))
def test_fast_email_agrees_with_email_validator(text: str) -> None:
    fast = _plain_email(text)
    if fast is not None:  # None means "ask the library", which is always right
        assert email_validator.validate_email(text, check_deliverability=False).normalized == fast


@pytest.mark.parametrize("text", ["chloé.müller.7@example.com", "Zoë@Contoso.COM",
                                  "jose\u0301@contoso.com", "ñandú+tag@shop.example.org"])
def test_accented_mailboxes_at_plain_domains_take_the_fast_path(text: str) -> None:
    expected = email_validator.validate_email(text, check_deliverability=False).normalized
    assert _plain_email(text) == expected


REGIONS = ("US", "CA", "GB", "DE", "FR", "IT", "NL", "CH", "AU", "NZ", "IN", "JP", "BR", "MX",
           "AR", "CN", "RU", "ZA", "KR", "SE", "IE", "ES", "AT", "BE", "SG", "HK")
TYPES = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
         phonenumbers.PhoneNumberType.TOLL_FREE)
STYLES = (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
          phonenumbers.PhoneNumberFormat.E164)


@st.composite
def typed_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A real-looking number: a region's example, perhaps with a digit changed, in some style."""
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(TYPES)))
    assume(example is not None)
    text = phonenumbers.format_number(example, draw(st.sampled_from(STYLES)))
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    if draw(st.booleans()):
        i = draw(st.sampled_from(digits))
        text = text[:i] + str(draw(st.integers(0, 9))) + text[i + 1:]
    return text, draw(st.sampled_from((region, *REGIONS)))


random_numbers = st.tuples(
    st.from_regex(r"\+?[0-9 ().\-/]{1,20}", fullmatch=True), st.sampled_from(REGIONS))


def library_e164(text: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if number.extension or (not phonenumbers.is_valid_number(number) and not (
            phonenumbers.is_valid_number_for_region(number, region))):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=500, deadline=None)
@given(case=st.one_of(typed_numbers(), random_numbers))
def test_fast_phone_agrees_with_phonenumbers(case: tuple[str, str]) -> None:
    text, region = case
    fast = _fast_e164(text, region)
    if fast is not None:  # None means "ask the library", which is always right
        assert library_e164(text, region) == fast


@pytest.mark.parametrize("region", REGIONS)
def test_national_example_numbers_take_the_fast_path(region: str) -> None:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    expected = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    assert _fast_e164(national, region) == expected


@FAST
@given(values=st.lists(cells, max_size=len(HEADERS)), version=st.sampled_from(["v1.0", "beta"]))
def test_every_valid_body_is_accepted_by_the_service_schema(values: list[str], version: str) -> None:
    from importer.emulator.schema import validate_customer

    result = map_row(Row(2, tuple(values)), MAPPING, MapOptions())
    assume(result.customer is not None)
    assert result.customer is not None
    validate_customer(version, to_body(result.customer, version), creating=True)


@FAST
@given(values=st.lists(cells, max_size=len(HEADERS)),
       pad=st.sampled_from([" ", "\t", "\u00a0", "  \u2003"]))
def test_space_around_cells_changes_nothing(values: list[str], pad: str) -> None:
    def outcome(cells: list[str]) -> object:
        result = map_row(Row(2, tuple(cells)), MAPPING, MapOptions())
        if result.customer is None:
            return sorted(p.column or "" for p in result.problems)
        return to_body(result.customer, "beta")

    assert outcome([pad + v + pad for v in values]) == outcome(values)
