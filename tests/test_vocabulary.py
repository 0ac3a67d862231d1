"""Header words in seven languages, and the general rule that reads qualified and numbered
headers no table lists."""

from __future__ import annotations

import pytest

from importer.map.fields import (
    FIELDS,
    address_type_of_label,
    detect_field,
    phone_type_of_label,
)
from importer.map.layouts import LAYOUTS, detect_layout, layout_fields
from importer.map.vocabulary import EXACT, tokens


def case(*values, id):
    return pytest.param(*values, id=id)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        # names, in each language
        case("Vorname", "firstName", id="de-given"),
        case("Prénom", "firstName", id="fr-given"),
        case("Nombre", "firstName", id="es-given"),
        case("Voornaam", "firstName", id="nl-given"),
        case("Nome", "firstName", id="it-pt-given"),
        case("Nachname", "lastName", id="de-family"),
        case("Nom", "lastName", id="fr-family"),
        case("Apellidos", "lastName", id="es-family"),
        case("Achternaam", "lastName", id="nl-family"),
        case("Cognome", "lastName", id="it-family"),
        case("Sobrenome", "lastName", id="pt-family"),
        case("Weitere Vornamen", "middleName", id="de-middle"),
        case("Tussenvoegsel", "middleName", id="nl-prefix"),
        case("Name Suffix", "suffix", id="suffix"),
        case("Name Prefix", "title", id="prefix"),
        case("Organization Name", "companyName", id="organization"),
        case("Default Address Company", "companyName", id="qualified-company"),
        case("File As", "displayName", id="file-as"),
        case("Invitee Name", "displayName", id="invitee"),
        # case, accents, punctuation and spacing do not count
        case("PRENOM", "firstName", id="no-accents"),
        case("correo_electronico", "emailAddress", id="underscores"),
        case("  E - MAIL  ", "emailAddress", id="spacing"),
        # email, numbered and qualified
        case("Courriel", "emailAddress", id="fr-email"),
        case("E-Mail 2: Adresse", "emailAddress", id="de-email-2"),
        case("E-mail 3 Address", "emailAddress", id="email-3"),
        case("E-mail 1 - Value", "emailAddress", id="google-email"),
        case("Alternate Email 1", "emailAddress", id="alternate"),
        case("Adresse de courrier 2", "emailAddress", id="fr-outlook-email-2"),
        # phones of every kind
        case("Primary Phone", "phone.other", id="primary"),
        case("Company Main Phone", "phone.business", id="company-main"),
        case("Car Phone", "phone.mobile", id="car"),
        case("Callback", "phone.other", id="callback"),
        case("Mobile Phone Number", "phone.mobile", id="hubspot-mobile"),
        case("Telefon geschäftlich 2", "phone.business", id="de-business-2"),
        case("Telefon (privat)", "phone.home", id="de-home"),
        case("Téléphone (domicile)", "phone.home", id="fr-home"),
        case("Télécopie (autre)", "phone.otherFax", id="fr-other-fax"),
        case("Fax privat", "phone.homeFax", id="de-home-fax"),
        case("Teléfono del trabajo", "phone.business", id="es-work"),
        case("Telefoon thuis", "phone.home", id="nl-home"),
        case("Telefono ufficio", "phone.business", id="it-office"),
        case("Telefone residencial", "phone.home", id="pt-home"),
        case("Handy", "phone.mobile", id="de-mobile"),
        case("Telemóvel", "phone.mobile", id="pt-mobile"),
        case("Default Address Phone", "phone.home", id="shopify-address-phone"),
        case("Phone 2 - Value", "phone.other", id="google-phone"),
        case("Phone 1 - Label", "phoneLabel", id="google-phone-label"),
        case("Phone 1 - Type", "phoneLabel", id="legacy-phone-type"),
        # addresses behind any prefix
        case("Mailing Street", "home.street", id="mailing"),
        case("Mailing Zip/Postal Code", "home.postalCode", id="mailing-zip"),
        case("Billing City", "home.city", id="billing"),
        case("Shipping Country", "other.countryOrRegion", id="shipping"),
        case("Default Address Address1", "home.street", id="shopify-street"),
        case("Default Address Address2", "home.street2", id="shopify-street-2"),
        case("Default Address Province Code", "home.state", id="shopify-province"),
        case("State/Region", "home.state", id="hubspot-state"),
        case("Street Address 1", "home.street", id="square-street-1"),
        case("Street Address 2", "home.street2", id="square-street-2"),
        case("Business Street 3", "business.street3", id="street-3"),
        case("Business Address PO Box", "business.postOfficeBox", id="po-box"),
        case("Straße privat 2", "home.street2", id="de-street-2"),
        case("Weiteres/r Bundesland/Kanton", "other.state", id="de-other-state"),
        case("Land/Region geschäftlich", "business.countryOrRegion", id="de-country"),
        case("Postleitzahl privat", "home.postalCode", id="de-postcode"),
        case("Rue (bureau) 2", "business.street2", id="fr-street-2"),
        case("Dép/Région (domicile)", "home.state", id="fr-state"),
        case("Boîte postale du domicile", "home.postOfficeBox", id="fr-po-box"),
        case("Código postal", "home.postalCode", id="es-postcode"),
        case("Woonplaats", "home.city", id="nl-city"),
        case("Huisnummer", "home.houseNumber", id="nl-house-number"),
        case("Città", "home.city", id="it-city"),
        case("CAP", "home.postalCode", id="it-postcode"),
        case("Morada", "home.street", id="pt-street"),
        case("Address 1 - City", "home.city", id="google-group-1"),
        case("Address 2 - Street", "business.street", id="google-group-2"),
        case("Address 3 - Country", "other.countryOrRegion", id="google-group-3"),
        case("Address 1 - Extended Address", "home.street2", id="google-extended"),
        case("Address 1 - Formatted", "home.formatted", id="google-formatted"),
        case("Address 1 - Label", "home.label", id="google-address-label"),
        case("Address 2", "home.street2", id="address-line-2"),
    ],
)
def test_a_header_means_its_field(header: str, field: str) -> None:
    assert detect_field(header) == field


@pytest.mark.parametrize(
    "header",
    ["Title", "Titre", "E-mail Display Name", "E-mail Type", "E-mail 1 - Label", "User Email",
     "Guest Email(s)", "User Name", "Phonetic First Name", "Job Title", "Office Location",
     "Address 4 - City", "Home", "Private", "Record ID", "Customer ID", "Organization 1 - Title",
     "Nom complet de l'adresse de courrier", "Personal Web Page", "Notes"],
)
def test_a_header_that_is_no_customer_field_is_left_alone(header: str) -> None:
    assert detect_field(header) is None


def test_every_table_target_is_a_field() -> None:
    assert set(EXACT) <= set(FIELDS)
    for layout in LAYOUTS:
        for value in layout.fields.values():
            for name in value if isinstance(value, tuple) else (value,):
                assert name in (*FIELDS, "ignore"), (layout.key, name)


def test_tokens_fold_case_accents_and_marks() -> None:
    assert tokens("Straße geschäftlich 2") == ("strasse", "geschaftlich", "2")
    assert tokens("Assistant's Phone") == ("assistants", "phone")
    assert tokens("Address1") == ("address", "1")


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        case("Mobile", "mobile", id="mobile"),
        case("* Mobile", "mobile", id="primary-mark"),
        case("Work", "business", id="work"),
        case("Home Fax", "homeFax", id="home-fax"),
        case("Work Fax", "businessFax", id="work-fax"),
        case("Pager", "pager", id="pager"),
        case("Main", "other", id="main"),
        case("iPhone", "mobile", id="iphone"),
        case("Privat", "home", id="de-home"),
        case("Mobile ::: Work", "mobile", id="first-of-several"),
        case("Bestie", None, id="custom"),
    ],
)
def test_a_phone_label_names_a_graph_type(label: str, kind: str | None) -> None:
    assert phone_type_of_label(label) == kind


@pytest.mark.parametrize(("label", "kind"), [("* Home", "home"), ("Work", "business"),
                                             ("Other", "other"), ("Vacation", None)])
def test_an_address_label_names_a_graph_type(label: str, kind: str | None) -> None:
    assert address_type_of_label(label) == kind


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        case(["Title", "First Name", "Last Name", "Business Street 2", "Business Address PO Box",
              "E-mail Type", "E-mail Display Name"], "outlook_desktop", id="outlook"),
        case(["Contact Owner", "First Name", "Last Name", "Mailing Zip", "Secondary Email",
              "Account Name", "Mailing Street", "Mailing City"], "zoho", id="zoho-not-salesforce"),
        case(["Salutation", "First Name", "Last Name", "Mailing Street", "Mailing City",
              "Mailing Zip/Postal Code", "Account Name"], "salesforce_report", id="salesforce"),
        case(["Name", "Email", "Phone"], None, id="none"),
    ],
)
def test_a_layout_is_told_by_its_header_row(headers: list[str], key: str | None) -> None:
    found = detect_layout(headers)
    assert (found.key if found else None) == key


def test_a_repeated_header_gets_one_meaning_per_occurrence() -> None:
    layout = detect_layout(["Titre", "Prénom", "Nom", "Rue (bureau)", "Code postal (bureau)",
                            "Type de courrier", "Titre"])
    assert layout is not None and layout.key == "outlook_desktop_fr"
    headers = ("Titre", "Prénom", "Titre", "Ort")
    assert layout_fields(layout, headers) == ["title", None, "ignore", None]
