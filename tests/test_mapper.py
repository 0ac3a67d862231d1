"""The mapper: header detection, [columns], and one row to a customer or its problems."""

from __future__ import annotations

import pytest

from importer.errors import ConfigError
from importer.map.fields import VOCABULARY, detect_field
from importer.map.mapper import (
    FIELDS,
    ColumnMapping,
    MapOptions,
    build_mapping,
    describe_problem,
    map_row,
    to_body,
)
from importer.map.normalise import normalise_phone
from importer.models import Address, Customer, MappedRow, Phone, Problem, Row

OPTIONS = MapOptions(default_region="US")  # the sheets below are American


def case(*values, id):
    return pytest.param(*values, id=id)


def mapped(headers: dict[str, str], options: MapOptions = OPTIONS) -> MappedRow:
    """Map one row given as {header: cell}, with headers auto-detected."""
    mapping = build_mapping(list(headers))
    return map_row(Row(2, tuple(headers.values())), mapping, options)


def customer_of(headers: dict[str, str], options: MapOptions = OPTIONS) -> Customer:
    result = mapped(headers, options)
    assert result.problems == ()
    assert result.customer is not None
    return result.customer


def problems_of(headers: dict[str, str], options: MapOptions = OPTIONS) -> list[Problem]:
    result = mapped(headers, options)
    assert result.customer is None
    assert result.problems
    return list(result.problems)


# --- header detection ----------------------------------------------------------------------

SYNONYMS = [
    ("displayName", ["Name", "Full name", "Display name", "Customer name", "Client name",
                     "FULL_NAME", "displayName"]),
    ("firstName", ["First name", "Given name", "Forename", "first_name"]),
    ("lastName", ["Last name", "Surname", "Family name"]),
    ("emailAddress", ["Email", "E-mail", "e mail", "EMAIL_ADDRESS", "Email address", "Mail",
                      "E-Mail Address"]),
    ("home.street", ["Street", "Address", "Address line 1", "Street address", "Home street",
                     "Home address"]),
    ("home.street2", ["Address line 2", "Street 2", "Home address line 2"]),
    ("home.city", ["City", "Town", "Home city"]),
    ("home.state", ["State", "Province", "Region", "County"]),
    ("home.postalCode", ["ZIP", "ZIP code", "Postal code", "Postcode", "Zip/Postal code"]),
    ("home.countryOrRegion", ["Country", "Country or region", "Country/Region"]),
    ("home.postOfficeBox", ["PO box", "P.O. Box", "Post office box"]),
    ("business.street", ["Business street", "Business address", "Work address"]),
    ("business.street2", ["Business address line 2", "Work street 2"]),
    ("business.city", ["Business city", "Work city", "Business address city"]),
    ("business.state", ["Business state", "Work province"]),
    ("business.postalCode", ["Work ZIP", "Business postal code"]),
    ("business.countryOrRegion", ["Business country", "Work country/region"]),
    ("business.postOfficeBox", ["Business PO box"]),
    ("other.street", ["Other street", "Other address"]),
    ("other.city", ["Other city"]),
    ("other.countryOrRegion", ["Other country"]),
    ("phone.other", ["Phone", "Telephone", "Phone number", "Tel", "Other phone"]),
    ("phone.mobile", ["Mobile", "Cell", "Mobile phone", "Cell phone", "phone.mobile"]),
    ("phone.home", ["Home phone"]),
    ("phone.business", ["Work", "Work phone", "Business phone", "Office phone"]),
    ("phone.businessFax", ["Fax", "Business fax", "Work fax"]),
    ("phone.homeFax", ["Home fax"]),
    ("phone.otherFax", ["Other fax"]),
    ("phone.pager", ["Pager"]),
    ("phone.assistant", ["Assistant phone"]),
    ("phone.radio", ["Radio"]),
]


@pytest.mark.parametrize(
    ("header", "field"),
    [case(header, field, id=header) for field, headers in SYNONYMS for header in headers],
)
def test_a_header_is_detected_by_name(header: str, field: str) -> None:
    assert detect_field(header) == field
    # A name column of another kind (a given name would make "Name" the family name).
    anchor = "companyName" if field == "displayName" else "displayName"
    if field == anchor:
        anchor = "lastName"
    mapping = build_mapping(["Client", header], {"Client": anchor})
    assert mapping.column_of(field) == header


@pytest.mark.parametrize("header", ["Notes", "Customer ID", "", "Assistant", "Birthday", "error"])
def test_other_headers_are_ignored(header: str) -> None:
    assert detect_field(header) is None
    mapping = build_mapping(["Name", header])
    assert mapping.ignored == [header]
    assert mapping.field_of == ("displayName", None)


def test_every_field_is_known_by_its_own_name() -> None:
    # but "title": a bare "Title" header is a job title as often as "Dr."
    named = [name for name in FIELDS if name != "title"]
    assert {detect_field(name) for name in named} == set(named)
    assert detect_field("title") is None
    assert set(VOCABULARY.values()) == set(FIELDS)


def test_the_first_of_two_look_alike_headers_wins_and_a_note_says_so() -> None:
    mapping = build_mapping(["Name", "Email", "Full name", "City", "Town"])
    assert mapping.field_of == ("displayName", "emailAddress", None, "home.city", None)
    assert mapping.ignored == ["Full name", "Town"]
    assert len(mapping.notes) == 2
    assert "'Full name'" in mapping.notes[0] and "'Name'" in mapping.notes[0]


def test_several_email_and_phone_columns_all_feed_their_field() -> None:
    mapping = build_mapping(["Name", "Email", "E-mail 2 Address", "Phone", "Telephone"])
    assert mapping.field_of == ("displayName", "emailAddress", "emailAddress", "phone.other",
                                "phone.other")
    assert mapping.notes == ()


# --- [columns] -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "columns", "expected"),
    [
        case(["Client", "Mail"], {"Client": "displayName"},
             ("displayName", "emailAddress"), id="explicit-plus-detected"),
        case(["Name", "Kunde"], {"Kunde": "displayName"},
             (None, "displayName"), id="explicit-wins-over-detected"),
        case(["Name", "Phone"], {"Phone": "ignore"}, ("displayName", None), id="ignore"),
        case(["Name", "Telefon"], {"Telefon": "phone.mobile"},
             ("displayName", "phone.mobile"), id="phone-type"),
        case(["Name", "Email "], {"email": "emailAddress"},
             ("displayName", "emailAddress"), id="header-case-and-blanks"),
        case(["Name", "Postleitzahl", "Ort"],
             {"Postleitzahl": "business.postalCode", "Ort": "business.city"},
             ("displayName", "business.postalCode", "business.city"), id="address-parts"),
    ],
)
def test_columns_table_maps_headers(headers, columns, expected) -> None:
    assert build_mapping(headers, columns).field_of == expected


def test_an_explicit_field_shadows_a_detected_one_with_a_note() -> None:
    mapping = build_mapping(["Name", "Email", "Private mail"], {"Private mail": "emailAddress"})
    assert mapping.column_of("emailAddress") == "Private mail"
    assert mapping.ignored == ["Email"]
    assert "[columns]" in mapping.notes[0]


def test_auto_detect_off_maps_only_the_columns_table() -> None:
    mapping = build_mapping(["Client", "Email"], {"Client": "displayName"}, auto_detect=False)
    assert mapping.field_of == ("displayName", None)


def test_mapping_helpers() -> None:
    mapping = build_mapping(["Name", "Notes", "Mobile"])
    assert mapping.headers == ("Name", "Notes", "Mobile")
    assert mapping.column_of("phone.mobile") == "Mobile"
    assert mapping.column_of("emailAddress") is None
    assert mapping.index_of("phone.mobile") == 2
    assert mapping.ignored == ["Notes"]
    assert mapping == ColumnMapping(
        ("Name", "Notes", "Mobile"), ("displayName", None, "phone.mobile"))


@pytest.mark.parametrize(
    ("headers", "columns", "message"),
    [
        case(["Name", "Email"], {"E-mail": "emailAddress"},
             "[columns] 'E-mail': the sheet has no such column; did you mean 'Email'?",
             id="header-missing-close-match"),
        case(["Name", "Email"], {"Zzz": "displayName"},
             "[columns] 'Zzz': the sheet has no such column; its columns are 'Name', 'Email'",
             id="header-missing-no-match"),
        case(["Name", "Email"], {"Email": "emailAdress"},
             "[columns] 'Email' = 'emailAdress': unknown field; did you mean 'emailAddress'?",
             id="field-typo"),
        case(["Name", "Handy"], {"Handy": "mobile"},
             "[columns] 'Handy' = 'mobile': unknown field; did you mean 'phone.mobile'?",
             id="field-synonym"),
        case(["Name", "Email"], {"Email": "displayname"},
             "[columns] 'Email' = 'displayname': unknown field; did you mean 'displayName'?",
             id="field-case"),
        case(["Name", "Client"], {"Name": "displayName", "Client": "displayName"},
             "[columns] maps both 'Name' and 'Client' to displayName; "
             "map one of them to \"ignore\"",
             id="two-columns-one-field"),
        case(["Email"], {"Email": "emailAddress", "email": "ignore"},
             "[columns] names the column 'Email' twice: 'Email' and 'email'; keep one",
             id="one-column-twice"),
        case(["Email", "Phone"], None,
             "no column for the customer's name: the columns are 'Email', 'Phone', and none of "
             "those recognised is a name; map them in [columns], e.g. \"Client\" = "
             "\"displayName\" ('bookings-import init FILE' writes a config to start from)",
             id="no-name-column"),
        case(["Name", "Email"], {"Name": "ignore"},
             "no column for the customer's name: the columns are 'Name', 'Email', and none of "
             "those recognised is a name", id="name-ignored"),
        case(["Kundnummer", "Anteckning"], None,
             "no column for the customer's name: the columns are 'Kundnummer', 'Anteckning', "
             "and none of them is a name", id="nothing-recognised"),
        case(["Ann Lee", "ann@contoso.com", "+1 206 555 0100"], None,
             "the first row holds data, not column names ('Ann Lee', 'ann@contoso.com', "
             "'+1 206 555 0100'): the file has no header row; set [input] header = false",
             id="header-less"),
    ],
)
def test_config_errors(headers, columns, message) -> None:
    with pytest.raises(ConfigError) as exc:
        build_mapping(headers, columns)
    assert str(exc.value).startswith(message)


def test_an_unknown_field_lists_the_forms() -> None:
    with pytest.raises(ConfigError, match=r"unknown field; use displayName, .*phone\.\{home\|"):
        build_mapping(["Name", "X"], {"X": "qqqqqq"})


def test_no_name_when_auto_detect_is_off() -> None:
    with pytest.raises(ConfigError, match="no column for the customer's name"):
        build_mapping(["Name"], auto_detect=False)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        case({"default_region": "XX"}, "mapping.default_region 'XX' has no phone numbering plan",
             id="unknown-region"),
        case({"max_name_length": 0}, "mapping.max_name_length must be at least 1", id="length"),
    ],
)
def test_map_options_are_checked(options, message) -> None:
    with pytest.raises(ConfigError, match=message):
        MapOptions(**options)


# --- name ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "name"),
    [
        case({"Name": "Joni Sherman"}, "Joni Sherman", id="name"),
        case({"First name": "Joni", "Last name": "Sherman"}, "Joni Sherman", id="first-last"),
        case({"First name": "Joni"}, "Joni", id="first-only"),
        case({"Last name": "Sherman", "First name": ""}, "Sherman", id="last-only"),
        case({"Name": "", "First name": "Joni", "Last name": "Sherman"}, "Joni Sherman",
             id="empty-name-falls-back"),
        case({"Name": "Contoso Ltd", "First name": "Joni"}, "Contoso Ltd", id="name-wins"),
        case({"Name": " \u00a0Joni \n  Sherman\u200b "}, "Joni Sherman", id="blanks"),
    ],
)
def test_display_name(cells, name) -> None:
    assert customer_of(cells).display_name == name


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        case({"Name": "  ", "Email": "joni@contoso.com"},
             Problem("name is required; fill in 'Name'", "Name", ""), id="missing-not-email"),
        case({"First name": "", "Last name": "\u00a0"},
             Problem("name is required; fill in 'First name' or 'Last name'", "First name", ""),
             id="missing-first-last"),
        case({"Name": "", "First name": " ", "Last name": ""},
             Problem("name is required; fill in 'Name' or 'First name' or 'Last name'", "Name",
                     ""), id="missing-all-three"),
        case({"Name": "x" * 256},
             Problem("name is 256 characters long; Bookings takes at most 255", "Name", "x" * 256),
             id="too-long"),
        case({"Name": "Joni\x07"},
             Problem("'Joni\\x07' contains an invisible control character (U+0007); delete it",
                     "Name", "Joni\x07"), id="control-character"),
    ],
)
def test_name_problems(cells, problem) -> None:
    assert problems_of(cells) == [problem]


def test_a_mapping_without_name_columns_reports_the_name_missing() -> None:
    mapping = ColumnMapping(("Email",), ("emailAddress",))
    result = map_row(Row(2, ("joni@contoso.com",)), mapping, OPTIONS)
    assert result.problems == (Problem("name is required; fill in a name column", None, ""),)


@pytest.mark.parametrize(
    ("headers", "fields", "message"),
    [
        case(("A", "B"), ("displayName",), "same length", id="lengths"),
        case(("A", "B"), ("displayName", "displayName"), "two columns feed displayName", id="dup"),
        case(("A",), ("nickname",), "unknown field 'nickname'", id="unknown"),
    ],
)
def test_column_mapping_checks_itself(headers, fields, message) -> None:
    with pytest.raises(ValueError, match=message):
        ColumnMapping(headers, fields)


def test_name_length_limit_is_an_option() -> None:
    assert problems_of({"Name": "Joni Sherman"}, MapOptions(max_name_length=4))[0].message == (
        "name is 12 characters long; Bookings takes at most 4")


# --- email ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "email"),
    [
        case("joni@contoso.com", "joni@contoso.com", id="plain"),
        case("Joni.Sherman@Contoso.COM", "Joni.Sherman@contoso.com", id="domain-lowercased"),
        case("\u00a0 joni@contoso.com \t", "joni@contoso.com", id="blanks"),
        case("o'brien+news@mail.contoso.co.uk", "o'brien+news@mail.contoso.co.uk", id="marks"),
        case("jöni@bücher.de", "jöni@bücher.de", id="unicode"),
        case("PostMaster@Contoso.com", "postmaster@contoso.com", id="role-mailbox-lowercased"),
        case("", "", id="empty-is-allowed"),
    ],
)
def test_email(cell, email) -> None:
    assert customer_of({"Name": "Joni", "Email": cell}).email == email


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        case("joe@", "'joe@' has no domain after the @", id="no-domain"),
        case("joe", "'joe' has no @", id="no-at"),
        case("@contoso.com", "'@contoso.com' has nothing before the @", id="no-local"),
        case("joe@contoso", "'joe@contoso' has no period in the domain after the @ "
             "(like contoso.com)", id="no-period"),
        case("joe..x@contoso.com", "'joe..x@contoso.com' has two periods in a row", id="two-dots"),
        case("joe@host.test", "'joe@host.test' has a reserved domain that cannot receive email",
             id="reserved"),
        case("joe smith@contoso.com", "'joe smith@contoso.com' is not a valid email address: "
             "the email address contains invalid characters before the @-sign: SPACE",
             id="library-message"),
    ],
)
def test_email_problems(cell, message) -> None:
    assert problems_of({"Name": "Joni", "Email": cell}) == [Problem(message, "Email", cell)]


# --- phones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "number"),
    [
        case({"Phone": "(206) 555-0100"}, "+12065550100", id="us-national"),
        case({"Phone": "2065550100"}, "+12065550100", id="numeric-looking"),
        case({"Phone": "206.555.0100"}, "+12065550100", id="dots"),
        case({"Phone": "1 (206) 555-0100"}, "+12065550100", id="us-trunk-prefix"),
        case({"Phone": "+44 20 7946 0958"}, "+442079460958", id="international-plus"),
        case({"Phone": "0044 20 7946 0958"}, "+442079460958", id="international-00"),
        case({"Phone": "+44 (0)20 7946 0958"}, "+442079460958", id="plus-with-trunk-zero"),
        case({"Phone": "+39 06 6982 1234"}, "+390669821234", id="italian-leading-zero"),
        case({"Phone": "206-555-0100 x123"}, "+12065550100;ext=123", id="extension-x"),
        case({"Phone": "206-555-0100 ext. 45"}, "+12065550100;ext=45", id="extension-ext"),
        case({"Phone": "020 7946 0958", "Country": "United Kingdom"}, "+442079460958",
             id="region-from-address"),
        case({"Phone": "030 901820", "Business country": "DE"}, "+4930901820",
             id="region-from-business-address"),
        case({"Phone": "0612345678", "Country": "", "Other country": "NL"}, "+31612345678",
             id="region-from-first-address-with-a-country"),
    ],
)
def test_phone(cells, number) -> None:
    assert customer_of({"Name": "Joni", **cells}).phones == (Phone(number, "other"),)


def test_default_region_reads_national_numbers() -> None:
    options = MapOptions(default_region="GB")
    assert customer_of({"Name": "J", "Mobile": "07911 123456"}, options).phones == (
        Phone("+447911123456", "mobile"),)
    assert customer_of({"Name": "J", "Mobile": "+1 206 555 0100"}, options).phones == (
        Phone("+12065550100", "mobile"),)


@pytest.mark.parametrize(
    ("cell", "region", "message"),
    [
        case("12345", "US", "'12345' is not a valid phone number for region US; if it is from "
             "another country, write it with + and the country code", id="invalid-for-region"),
        case("not a number", "US", "'not a number' is not a phone number", id="words"),
        case("+999 1234567", "US", "'+999 1234567' has an unknown country code after the +",
             id="unknown-country-code"),
        case("+44 12", "US", "'+44 12' is not a valid phone number for country code +44",
             id="invalid-international"),
        case("0044 12", "US", "'0044 12' is not a valid phone number for country code +44",
             id="invalid-00"),
        case("2065550100", "", "'2065550100' has no country code; write it as +<country code> "
             "<number>, or set [mapping] default_region", id="no-region"),
        case("1" * 30, "US", "'111111111111111111111111111111' has too many digits for a phone "
             "number", id="too-long"),
    ],
)
def test_phone_problems(cell, region, message) -> None:
    options = MapOptions(default_region=region)
    assert problems_of({"Name": "Joni", "Phone": cell}, options) == [
        Problem(message, "Phone", cell)]


# --- countries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "name"),
    [
        case("US", "United States", id="alpha-2"),
        case("us", "United States", id="alpha-2-lower"),
        case("USA", "United States", id="alpha-3"),
        case("U.S.A.", "United States", id="dotted"),
        case("united states of america", "United States", id="official-name"),
        case("America", "United States", id="alias-america"),
        case("GB", "United Kingdom", id="gb"),
        case("UK", "United Kingdom", id="uk"),
        case("England", "United Kingdom", id="england"),
        case("Scotland", "United Kingdom", id="scotland"),
        case("Wales", "United Kingdom", id="wales"),
        case("DEU", "Germany", id="deu"),
        case("germany", "Germany", id="name-lower"),
        case("Deutschland", "Germany", id="native-name"),
        case("The Netherlands", "Netherlands", id="leading-the"),
        case("Korea, Republic of", "South Korea", id="iso-name-to-common-name"),
        case("Viet Nam", "Vietnam", id="common-name"),
        case("Cote d'Ivoire", "Côte d'Ivoire", id="without-accents"),
        case("St Lucia", "Saint Lucia", id="st-for-saint"),
        case("Trinidad & Tobago", "Trinidad and Tobago", id="ampersand"),
    ],
)
def test_country(cell, name) -> None:
    customer = customer_of({"Name": "Joni", "City": "X", "Country": cell})
    assert customer.addresses[0].country_or_region == name


# One name per language of the lookup that no other language (nor English, nor the tables of
# aliases) spells the same way: leaving a language out of countries._LANGUAGES fails its own.
@pytest.mark.parametrize(
    ("cell", "name"),
    [
        case("Frankreich", "France", id="de"),
        case("Allemagne", "Germany", id="fr"),
        case("Países Bajos", "Netherlands", id="es"),
        case("Verenigde Staten", "United States", id="nl"),
        case("Svizzera", "Switzerland", id="it-svizzera"),
        case("Germania", "Germany", id="it-germania"),
        case("Paesi Bassi", "Netherlands", id="it-paesi-bassi"),
        case("Stati Uniti", "United States", id="it-stati-uniti"),
        case("Vietname", "Vietnam", id="pt"),
        case("Cingapura", "Singapore", id="pt-br"),
    ],
)
def test_a_country_name_only_one_language_has(cell, name) -> None:
    customer = customer_of({"Name": "Joni", "City": "X", "Country": cell})
    assert customer.addresses[0].country_or_region == name


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        case("Narnia", "'Narnia' is not a country or region we know; write the country's name "
             "or its ISO code, e.g. 'Germany' or 'DE'", id="unknown"),
        case("Germny", "'Germny' is not a country or region we know; did you mean 'Germany'?",
             id="typo"),
    ],
)
def test_country_problems(cell, message) -> None:
    assert problems_of({"Name": "Joni", "Country": cell}) == [Problem(message, "Country", cell)]


# --- addresses and phones together ---------------------------------------------------------


def test_several_addresses_and_phones_with_types() -> None:
    customer = customer_of({
        "Name": "Joni Sherman",
        "Address line 1": "1 Main St",
        "Address line 2": "Apt 4",
        "City": "Buffalo",
        "Business address": "4567 Second Street",
        "Business address line 2": "",
        "Business PO box": "77",
        "Business country": "usa",
        "Other country": "Canada",
        "Mobile": "206 555 0101",
        "Home phone": "206 555 0102",
        "Work phone": "206 555 0103",
        "Fax": "206 555 0104",
        "Other street": "",
    })
    assert customer.addresses == (
        Address(street="1 Main St, Apt 4", city="Buffalo", type="home"),
        Address(street="4567 Second Street", country_or_region="United States",
                post_office_box="77", type="business"),
        Address(country_or_region="Canada", type="other"),
    )
    assert customer.phones == (
        Phone("+12065550102", "home"),
        Phone("+12065550103", "business"),
        Phone("+12065550101", "mobile"),
        Phone("+12065550104", "businessFax"),
    )


def test_empty_address_parts_make_no_address() -> None:
    customer = customer_of({"Name": "Joni", "Street": " ", "City": "", "Country": "\u00a0"})
    assert customer.addresses == ()


def test_a_short_row_reads_missing_cells_as_empty() -> None:
    mapping = build_mapping(["Name", "Email", "Phone", "City"])
    result = map_row(Row(7, ("Joni",)), mapping, OPTIONS)
    assert result.customer == Customer("Joni")
    assert result.row.number == 7


def test_every_problem_of_a_row_is_collected() -> None:
    row = Row(9, ("", "joe@", "12345", "Narnia", "+44 12"), source_row=4)
    mapping = build_mapping(["Name", "Email", "Phone", "Country", "Mobile"])
    result = map_row(row, mapping, OPTIONS)
    assert result.row is row
    assert result.customer is None
    assert not result.ok
    assert [(p.column, p.value) for p in result.problems] == [
        ("Name", ""),
        ("Email", "joe@"),
        ("Country", "Narnia"),
        ("Mobile", "+44 12"),  # phones in Graph's order of types
        ("Phone", "12345"),
    ]


def test_describe_problem_is_one_line() -> None:
    assert describe_problem(Problem("'x' has no @", "E-mail\naddress", "x")) == (
        "E-mail address: 'x' has no @")
    assert describe_problem(Problem("name is required")) == "name is required"


# --- request bodies ------------------------------------------------------------------------

JONI_HEADERS = {
    "Name": "Joni Sherman",
    "Email": "jonis@relecloud.com",
    "Home street": "4567 First Street",
    "Home city": "Buffalo",
    "Home state": "NY",
    "Home country": "USA",
    "Home ZIP": "98052",
    "Business street": "4567 Second Street",
    "Business city": "Buffalo",
    "Business state": "NY",
    "Business country": "USA",
    "Business ZIP": "98054",
    "Home phone": "206-555-0100",
    "Business phone": "206-555-0200",
}
JONI_V1 = {
    "@odata.type": "#microsoft.graph.bookingCustomer",
    "displayName": "Joni Sherman",
    "emailAddress": "jonis@relecloud.com",
    "addresses": [
        {"street": "4567 First Street", "city": "Buffalo", "state": "NY",
         "countryOrRegion": "United States", "postalCode": "98052"},
        {"street": "4567 Second Street", "city": "Buffalo", "state": "NY",
         "countryOrRegion": "United States", "postalCode": "98054"},
    ],
    "phones": [
        {"number": "+12065550100", "type": "home"},
        {"number": "+12065550200", "type": "business"},
    ],
}
JONI_BETA = {
    **JONI_V1,
    "addresses": [
        {**JONI_V1["addresses"][0], "postOfficeBox": "", "type": "home"},
        {**JONI_V1["addresses"][1], "postOfficeBox": "", "type": "business"},
    ],
}


@pytest.mark.parametrize(("version", "body"), [("v1.0", JONI_V1), ("beta", JONI_BETA)])
def test_graph_docs_example_customer(version, body) -> None:
    result = to_body(customer_of(JONI_HEADERS), version)
    assert result == body
    assert list(result) == ["@odata.type", "displayName", "emailAddress", "addresses", "phones"]
    assert list(result["addresses"][0]) == list(body["addresses"][0])


@pytest.mark.parametrize(
    ("address", "v1", "beta"),
    [
        case(Address(street="1 Main St", post_office_box="123", type="other"),
             {"street": "1 Main St, PO Box 123", "city": "", "state": "", "countryOrRegion": "",
              "postalCode": ""},
             {"street": "1 Main St", "city": "", "state": "", "countryOrRegion": "",
              "postalCode": "", "postOfficeBox": "123", "type": "other"},
             id="po-box-folded-into-street"),
        case(Address(post_office_box="P.O. Box 9", city="Leeds"),
             {"street": "P.O. Box 9", "city": "Leeds", "state": "", "countryOrRegion": "",
              "postalCode": ""},
             {"street": "", "city": "Leeds", "state": "", "countryOrRegion": "",
              "postalCode": "", "postOfficeBox": "P.O. Box 9", "type": "home"},
             id="po-box-already-labelled"),
    ],
)
def test_address_bodies_per_version(address, v1, beta) -> None:
    customer = Customer("Joni", addresses=(address,))
    assert to_body(customer, "v1.0")["addresses"] == [v1]
    assert to_body(customer, "beta")["addresses"] == [beta]


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_a_bare_customer_has_only_name_and_type(version) -> None:
    assert to_body(Customer("Joni"), version) == {
        "@odata.type": "#microsoft.graph.bookingCustomer", "displayName": "Joni"}


def test_an_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown Graph API version 'v2'"):
        to_body(Customer("Joni"), "v2")


def test_phones_fast_path_agrees_for_region_of_the_sheet() -> None:
    # A Canadian number with a US default goes the library's slower way; same answer.
    assert normalise_phone("+1 416 555 0199", "US") == "+14165550199"
    assert normalise_phone("416 555 0199", "CA") == "+14165550199"


# --- what exports bring: names, several emails and phones, labels, countries ----------------


@pytest.mark.parametrize(
    ("cells", "options", "name"),
    [
        case({"First name": "Jan", "Middle name": "van der", "Last name": "Berg"}, OPTIONS,
             "Jan van der Berg", id="middle"),
        case({"First name": "Oliver", "Last name": "Bennett", "Suffix": "Jr."}, OPTIONS,
             "Oliver Bennett Jr.", id="suffix"),
        case({"Salutation": "Dr.", "First name": "Eva", "Last name": "Koch"}, OPTIONS,
             "Eva Koch", id="title-left-out"),
        case({"Salutation": "Dr.", "First name": "Eva", "Last name": "Koch"},
             MapOptions(keep_title=True), "Dr. Eva Koch", id="title-kept-when-asked"),
        case({"Salutation": "Dr.", "Suffix": "PhD", "First name": "", "Last name": "",
              "Company": "Koch Praxis"}, MapOptions(keep_title=True), "Koch Praxis",
             id="title-and-suffix-alone-are-no-name"),
        case({"First name": "", "Last name": "", "Company": "Sunrise Yoga"}, OPTIONS,
             "Sunrise Yoga", id="company-when-no-person"),
        case({"First name": "Ann", "Last name": "", "Company": "Sunrise Yoga"}, OPTIONS,
             "Ann", id="person-before-company"),
        case({"Vorname": "Günther", "Name": "Schäfer"}, OPTIONS, "Günther Schäfer",
             id="de-name-is-family-name-beside-vorname"),
    ],
)
def test_names_from_their_parts(cells, options, name) -> None:
    assert customer_of(cells, options).display_name == name


def test_a_nameless_row_names_the_company_column_too() -> None:
    assert problems_of({"First name": "", "Company": ""})[0].message == (
        "name is required; fill in 'First name' or 'Company'")


def test_the_first_filled_email_is_sent_and_the_others_are_named() -> None:
    result = mapped({"Name": "Ann", "Email": "", "E-mail 2 Address": "ann@contoso.com",
                     "E-mail 3 Address": "ANN@contoso.com", "Other email": "a.b@fabrikam.com"})
    assert result.customer is not None and result.customer.email == "ann@contoso.com"
    assert result.warnings == ("Other email: 'a.b@fabrikam.com' is not sent (a Bookings "
                               "customer has one email address)",)


def test_several_emails_in_one_cell() -> None:
    result = mapped({"Name": "Ann", "E-mail 1 - Value": "ann@contoso.com ::: ann@fabrikam.com"})
    assert result.customer is not None and result.customer.email == "ann@contoso.com"
    assert "'ann@fabrikam.com' is not sent" in result.warnings[0]


@pytest.mark.parametrize(
    ("cell", "numbers"),
    [
        case("07911 123456 ::: 07911 123457", ["+447911123456", "+447911123457"], id=":::"),
        case("07911 123456\n07911 123457", ["+447911123456", "+447911123457"], id="lines"),
        case("07911 123456; 07911 123457", ["+447911123456", "+447911123457"], id="semicolon"),
        case("07911 123456 / 07911 123457", ["+447911123456", "+447911123457"], id="slash"),
        case("07911 123456 ::: +44 7911 123456", ["+447911123456"], id="repeat-removed"),
        case("'+447911123456", ["+447911123456"], id="shopify-apostrophe"),
        case("020/7946 0958", ["+442079460958"], id="slash-inside-a-number"),
    ],
)
def test_several_numbers_in_one_cell(cell, numbers) -> None:
    phones = customer_of({"Name": "J", "Mobile": cell}, MapOptions(default_region="GB")).phones
    assert [p.number for p in phones] == numbers


def test_a_number_in_two_columns_is_sent_once_with_the_first_type() -> None:
    phones = customer_of({"Name": "J", "Mobile Phone": "+1 206 555 0100",
                          "Primary Phone": "(206) 555-0100"}).phones
    assert phones == (Phone("+12065550100", "mobile"),)


def test_a_label_column_types_the_phone_beside_it() -> None:
    phones = customer_of({"Name": "J", "Phone 1 - Label": "* Work", "Phone 1 - Value": "+1 206 555 0100",
                          "Phone 2 - Label": "Bestie", "Phone 2 - Value": "+1 206 555 0101",
                          "Phone 3 - Label": "Home Fax", "Phone 3 - Value": "+1 206 555 0102"}).phones
    assert phones == (Phone("+12065550100", "business"), Phone("+12065550101", "other"),
                      Phone("+12065550102", "homeFax"))


def test_a_label_types_the_phone_of_its_number_wherever_it_stands() -> None:
    phones = customer_of({"Name": "J", "Phone 1 - Value": "+1 206 555 0100",
                          "Phone 1 - Type": "Mobile", "Phone 2 - Value": "+1 206 555 0101",
                          "Phone 2 - Type": "Work"}).phones
    assert phones == (Phone("+12065550100", "mobile"), Phone("+12065550101", "business"))


def test_an_unnumbered_label_types_the_phone_to_its_right() -> None:
    phones = customer_of({"Name": "J", "Mobile": "+1 206 555 0100", "Phone type": "Work",
                          "Phone": "+1 206 555 0101"}).phones
    assert phones == (Phone("+12065550100", "mobile"), Phone("+12065550101", "business"))


def test_an_address_label_types_the_address() -> None:
    addresses = customer_of({"Name": "J", "Address 1 - Label": "Work", "Address 1 - City": "Oslo",
                             "Address 2 - Label": "", "Address 2 - City": "Bergen"}).addresses
    assert [(a.city, a.type) for a in addresses] == [("Oslo", "business"), ("Bergen", "business")]


@pytest.mark.parametrize(
    ("cells", "phone", "number"),
    [
        case({"Mailing Country": "Deutschland"}, "030 1234567", "+49301234567", id="de-endonym"),
        case({"Land/Region privat": "Österreich"}, "01 5234567", "+4315234567", id="at-endonym"),
        case({"Pays": "Belgique"}, "02 512 34 56", "+3225123456", id="be-endonym"),
        case({"País": "España"}, "91 123 45 67", "+34911234567", id="es-endonym"),
        case({"Land": "Nederland"}, "020 123 4567", "+31201234567", id="nl-endonym"),
        case({"Country": "Schweiz"}, "044 668 18 00", "+41446681800", id="ch-endonym"),
        case({"Phone country": "DE"}, "030 1234567", "+49301234567", id="phone-country-column"),
        case({"Country": "", "Phone country": "ZZ"}, "(301) 234-5678", "+13012345678",
             id="unknown-hint-default"),
        case({"Country": "DE"}, "+44 20 7946 0958", "+442079460958", id="own-plus-prefix"),
    ],
)
def test_phones_read_in_the_rows_country(cells, phone, number) -> None:
    columns = {"Phone country": "phoneCountry"} if "Phone country" in cells else None
    headers = {"Name": "J", **cells, "Phone": phone}
    mapping = build_mapping(list(headers), columns)
    result = map_row(Row(2, tuple(headers.values())), mapping, OPTIONS)
    assert result.customer is not None, result.problems
    assert result.customer.phones[0].number == number


@pytest.mark.parametrize(
    ("policy", "phones", "problems", "warning"),
    [
        case("reject", (), 1, None, id="reject"),
        case("drop", (Phone("+12065550100", "mobile"),), 0,
             "Phone: 'ask reception' is not a phone number; left out", id="drop"),
        case("keep", (Phone("+12065550100", "mobile"), Phone("ask reception", "other")), 0,
             "Phone: 'ask reception' is not a phone number; sent as written", id="keep"),
    ],
)
def test_unreadable_phone(policy, phones, problems, warning) -> None:
    result = mapped({"Name": "J", "Mobile": "206 555 0100", "Phone": "ask reception"},
                    MapOptions(default_region="US", unreadable_phone=policy))
    assert len(result.problems) == problems
    if problems:
        assert result.customer is None
        return
    assert result.customer is not None and result.customer.phones == phones
    assert result.warnings == (warning,)


def test_unreadable_phone_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"mapping\.unreadable_phone must be one of reject, drop"):
        MapOptions(unreadable_phone="ignore")


@pytest.mark.parametrize(
    ("cell", "address"),
    [
        case("123 Main St  Apt 4  Springfield  IL  62701  US",
             Address("123 Main St, Apt 4", "Springfield", "IL", "62701", "United States"),
             id="mailchimp"),
        case("Friedrichstraße 123    Berlin    10117  DE",
             Address("Friedrichstraße 123", "Berlin", "", "10117", "Germany"), id="empty-parts"),
        case("Calle de Alcalá 123\n28009 Madrid\nEspaña",
             Address("Calle de Alcalá 123, 28009 Madrid", country_or_region="Spain"),
             id="lines-ending-in-a-country"),
        case("Via del Corso 12, Roma", Address("Via del Corso 12, Roma"), id="one-line"),
    ],
)
def test_a_whole_address_in_one_cell(cell, address) -> None:
    mapping = build_mapping(["Name", "Whole"], {"Whole": "home.formatted"})
    result = map_row(Row(2, ("J", cell)), mapping, OPTIONS)
    assert result.customer is not None, result.problems
    assert result.customer.addresses == (address,)


def test_a_formatted_address_is_used_only_when_the_parts_are_empty() -> None:
    mapping = build_mapping(["Name", "Whole", "Street", "City"], {"Whole": "home.formatted"})
    row = Row(2, ("J", "1 Long Road\nLeeds", "2 Short St", "York"))
    assert map_row(row, mapping, OPTIONS).customer.addresses == (  # type: ignore[union-attr]
        Address("2 Short St", "York"),)


def test_street_lines_house_number_and_full_state_names() -> None:
    addresses = customer_of({"Name": "J", "Street": "Keizersgracht", "Huisnummer": "123",
                             "Street 2": "2nd floor", "Street 3": "rear", "State": "New South Wales"}
                            ).addresses
    assert addresses == (Address("Keizersgracht 123, 2nd floor, rear", state="New South Wales"),)
