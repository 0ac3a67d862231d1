"""The exports people bring, told apart by their header rows. Data only.

A layout is recognised when every header of its ``signature`` is in the sheet's header row
(compared folded, as all headers are); when several are, the one with the longest signature
wins. A recognised layout says what its ambiguous headers mean: a bare "Title" is a salutation
in Outlook and a job title in Salesforce, "Ort" is Outlook's meeting place, not a city, and
Yahoo's "Home" is a phone. Every other header is read by the general rules of
``vocabulary.py``, so a layout lists only what those rules would get wrong, and a layout nobody
listed still maps by its words.

To add one: a row here (its name, the headers that only it has, and its exceptions), and a
fixture pair in tests/fixtures/exports (``<layout>.csv`` and ``<layout>.expected.jsonl``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from .vocabulary import fold as _fold

IGNORE = "ignore"

# A header that is not a customer field although its words say so: the host's email in a
# scheduling export, a geo-IP region, a job title.
Override = str | tuple[str, ...]  # a field, or one per occurrence of a header that repeats


@dataclass(frozen=True)
class Layout:
    key: str  # a short id, as summaries and configs name it
    name: str  # as a person reads it
    signature: tuple[str, ...]
    fields: MappingProxyType[str, Override] = field(default_factory=lambda: MappingProxyType({}))
    language: str = ""  # the export's language, when it is one language's (a languages.py tag)


def _layout(key: str, name: str, signature: tuple[str, ...],
            fields: dict[str, Override] | None = None, language: str = "en") -> Layout:
    return Layout(key, name, signature, MappingProxyType(fields or {}), language)


_OUTLOOK = {"Title": "title", "Location": IGNORE, "Office Location": IGNORE}

LAYOUTS: tuple[Layout, ...] = (
    _layout("outlook_desktop", "Outlook desktop (English)",
            ("First Name", "Last Name", "Business Street 2", "Business Address PO Box",
             "E-mail Type", "E-mail Display Name"), _OUTLOOK),
    _layout("outlook_desktop_de", "Outlook desktop (German)",
            ("Vorname", "Nachname", "Straße geschäftlich", "E-Mail-Adresse", "E-Mail-Typ"),
            {"Ort": IGNORE, "Büro": IGNORE, "Privat": IGNORE}, "de"),
    _layout("outlook_desktop_fr", "Outlook desktop (French)",
            ("Prénom", "Nom", "Rue (bureau)", "Code postal (bureau)", "Type de courrier"),
            # The first "Titre" is the salutation, the second the job title (the reader names
            # it "Titre (2)", which no rule maps; a raw header row gives it as an occurrence).
            {"Titre": ("title", IGNORE), "Emplacement": IGNORE, "Bureau": IGNORE,
             "Privé": IGNORE}, "fr"),
    # The localized desktop exports whose header lists are published (address-book importers
    # keep them): Outlook's "Title" is the salutation in each, its job title is ignored.
    _layout("outlook_desktop_es", "Outlook desktop (Spanish)",
            ("Nombre", "Apellidos", "Calle del trabajo", "Código postal del trabajo",
             "Teléfono del trabajo"),
            {"Tratamiento": "title", "Puesto": IGNORE, "Departamento": IGNORE,
             "Ubicación": IGNORE}, "es"),
    _layout("outlook_desktop_it", "Outlook desktop (Italian)",
            ("Nome", "Cognome", "Indirizzo di lavoro", "CAP di lavoro", "Telefono di lavoro"),
            {"Titolo": "title", "Qualifica": IGNORE, "Luogo": IGNORE}, "it"),
    _layout("outlook_desktop_nl", "Outlook desktop (Dutch)",
            ("Voornaam", "Achternaam", "Werkadres, straat", "Werkadres, postcode",
             "Telefoon op werk"),
            {"Titel": "title", "Functie": IGNORE, "Locatie": IGNORE, "Kantoorlocatie": IGNORE,
             "Priv": IGNORE}, "nl"),
    _layout("outlook_desktop_pl", "Outlook desktop (Polish)",
            ("Imię", "Nazwisko", "Ulica (biuro)", "Kod pocztowy (biuro)", "Telefon służbowy"),
            {"Tytuł": "title", "Stanowisko": IGNORE, "Lokalizacja": IGNORE}, "pl"),
    _layout("outlook_desktop_pt_br", "Outlook desktop (Portuguese, Brazil)",
            ("Primeiro nome", "Último nome", "Rua comercial", "Código postal comercial",
             "Fone comercial"),
            {"Título": "title", "Cargo": IGNORE, "Departamento": IGNORE, "Local": IGNORE},
            "pt-BR"),
    _layout("outlook_com", "Outlook.com", ("Given Yomi", "Surname Yomi", "E-mail Address",
                                           "Company Main Phone"), _OUTLOOK),
    _layout("google_contacts", "Google Contacts", ("First Name", "Last Name", "File As",
                                                   "Organization Name", "Labels")),
    _layout("google_contacts_legacy", "Google Contacts (older export)",
            ("Name", "Given Name", "Additional Name", "Family Name", "Group Membership"),
            {"Location": IGNORE, "Organization 1 - Location": IGNORE}),
    # Shopify's "Phone" is the customer's own (text messages); the address has its own.
    _layout("shopify", "Shopify customers", ("Customer ID", "Default Address Address1",
                                             "Default Address City"),
            {"Phone": "phone.mobile"}),
    # The older export writes the province and country twice, as names and as codes: the
    # names are what a person reads in Bookings.
    _layout("shopify_old", "Shopify customers (older export)",
            ("First Name", "Last Name", "Address1", "Province Code", "Total Spent"),
            {"Province Code": IGNORE, "Country Code": IGNORE}),
    _layout("square", "Square customers", ("Square Customer ID", "Street Address 1"),
            {"Nickname": IGNORE}),
    _layout("hubspot", "HubSpot contacts", ("Record ID", "First Name", "Email", "Contact owner"),
            {"Contact owner": IGNORE}),
    _layout("mailchimp", "Mailchimp audience", ("Email Address", "MEMBER_RATING", "LEID"),
            # One cell holds the address (two spaces between its parts); CC and REGION are
            # where the signup came from, good for reading phone numbers and nothing else.
            {"Address": "home.formatted", "CC": "phoneCountry", "REGION": IGNORE}),
    _layout("salesforce_report", "Salesforce contacts report",
            ("First Name", "Last Name", "Mailing Zip/Postal Code", "Account Name"),
            {"Title": IGNORE, "Account Owner": IGNORE, "Contact Owner": IGNORE}),
    _layout("calendly", "Calendly bookings", ("Invitee Email", "Event Type Name"),
            # "User ..." is the host, "Guest Email(s)" are other people.
            {"User Name": IGNORE, "User Email": IGNORE, "Guest Email(s)": IGNORE,
             "Location": IGNORE}),
    _layout("acuity", "Acuity Scheduling clients", ("First Name", "Last Name", "Phone", "Email",
                                                    "Days Since Last Appointment")),
    _layout("yahoo", "Yahoo contacts", ("First", "Last", "Email", "Messenger ID", "Yahoo! Phone"),
            {"Home": "phone.home", "Work": "phone.business", "Other": "phone.other",
             "Primary": "phone.other", "Title": IGNORE}),
    _layout("windows_live_mail", "Windows Live Mail / Windows Contacts",
            ("First Name", "Last Name", "Name", "E-mail Address", "Personal Web Page",
             "Business Web Page")),
    _layout("zoho", "Zoho CRM contacts", ("Contact Owner", "First Name", "Last Name",
                                          "Mailing Zip", "Secondary Email"),
            {"Title": IGNORE, "Contact Owner": IGNORE, "Assistant": IGNORE,
             "Vendor Name": IGNORE, "Reports To": IGNORE, "Created By": IGNORE,
             "Modified By": IGNORE}),
)


_SIGNATURES = tuple((layout, frozenset(_fold(h) for h in layout.signature)) for layout in LAYOUTS)


def detect_layout(headers: tuple[str, ...] | list[str]) -> Layout | None:
    """The known layout the header row is, or None (then the general rules alone map it)."""
    present = {_fold(h) for h in headers}
    found = [(len(sig), -n, layout) for n, (layout, sig) in enumerate(_SIGNATURES)
             if sig <= present]
    return max(found, key=lambda item: item[:2])[2] if found else None


def layout_fields(layout: Layout | None, headers: tuple[str, ...]) -> list[str | None]:
    """Per column, what the layout says it is (None: the general rules decide)."""
    if layout is None:
        return [None] * len(headers)
    by_key = {_fold(h): value for h, value in layout.fields.items()}
    seen: dict[str, int] = {}
    out: list[str | None] = []
    for header in headers:
        key = _fold(header)
        value = by_key.get(key)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        if isinstance(value, tuple):
            value = value[occurrence] if occurrence < len(value) else None
        out.append(value)
    return out
