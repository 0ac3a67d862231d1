"""The words of headers: what a column header means, in English, German, French, Spanish, Dutch,
Italian and Portuguese. Data only; ``fields.detect_field`` reads it.

A header is folded before it is looked up (:func:`tokens`): case, accents, punctuation and
spacing do not count, so "Téléphone (bureau)", "telephone bureau" and "TELEPHONE_BUREAU" are one
header. Then it is read in two steps:

1. ``EXACT``: whole headers that mean one field ("Vorname", "Courriel", "Company Main Phone").
2. The general rule: a *qualifier* anywhere in the header says which address or phone it is
   ("Business", "geschäftlich", "(domicile)", "Mailing", "Default Address" ...; ``QUALIFIERS``),
   a number says which street line or which numbered group ("Street Address 2",
   "Address 1 - City"), and what is left is a word of ``ADDRESS_WORDS``, ``PHONE_WORDS`` or
   ``EMAIL_WORDS``. So "Weiteres/r Bundesland/Kanton" is ``other.state`` and "Rue (bureau) 2"
   is ``business.street2`` without anyone listing them.

To teach it a new header, add its words to the table of its field; a test checks that no
phrase means two things.
"""

from __future__ import annotations

import re
import unicodedata

# --- folding -------------------------------------------------------------------------------

# Letters, and the vowel signs of Indic and Thai scripts (marks that are not letters, yet part
# of a word: "ชื่อ" must not fall apart into two words).
_WORDS = re.compile(r"(?:[^\W\d_]|[\u0900-\u0DFF\u0E00-\u0EFF])+|\d+")


def tokens(text: str) -> tuple[str, ...]:
    """The words and numbers of a header: case-folded, without accents, apostrophes and other
    marks; letters and digits split ("Address1" is "address", "1")."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("'", "").replace("\u2019", "")  # "Assistant's", "l'assistant"
    return tuple(_WORDS.findall(text))


def fold(text: str) -> str:
    """One key for a phrase: its tokens, joined."""
    return "".join(tokens(text))


# --- whole headers -------------------------------------------------------------------------

# Header -> field. These win over the general rule below.
EXACT: dict[str, tuple[str, ...]] = {
    "displayName": (
        "Name", "Full name", "Display name", "Customer name", "Client name", "Contact name",
        "Contact", "File As", "Invitee Name", "Customer", "Client",
        "Vollständiger Name", "Anzeigename", "Kontakt", "Kunde", "Kundenname", "Speichern unter",
        "Nom complet", "Nom et prénom", "Nom affiché", "Nom du client",
        "Nombre completo", "Nombre y apellidos", "Cliente",
        "Volledige naam", "Naam", "Weergavenaam", "Klant", "Klantnaam",
        "Nome completo", "Nome e cognome", "Nominativo",
    ),
    "firstName": (
        "First name", "First", "Given name", "Forename", "Fname", "Invitee First Name",
        "Vorname", "Rufname", "Prénom", "Nombre", "Nombre de pila", "Primer nombre",
        "Voornaam", "Roepnaam", "Nome", "Primeiro nome", "Nome próprio",
    ),
    "middleName": (
        "Middle name", "Middle", "Additional name", "Second name", "Middle initial",
        "Weitere Vornamen", "Zweiter Vorname", "2. Vorname", "Deuxième prénom", "Second prénom",
        "Autres prénoms", "Segundo nombre", "Tweede naam", "Middelste naam",
        # The Dutch surname prefix ("van der") stands between given and family name.
        "Tussenvoegsel", "Tussenvoegsels", "Secondo nome", "Nome do meio", "Segundo nome",
    ),
    "lastName": (
        "Last name", "Last", "Surname", "Family name", "Lname", "Invitee Last Name",
        "Nachname", "Familienname", "Zuname", "Nom", "Nom de famille", "Apellido", "Apellidos",
        "Primer apellido", "Achternaam", "Familienaam", "Cognome", "Apelido", "Sobrenome",
        "Último nome",
    ),
    "suffix": (
        "Suffix", "Name suffix", "Namenszusatz", "Suffixe", "Sufijo", "Achtervoegsel",
        "Suffisso", "Sufixo",
    ),
    # A salutation, never a job title: a bare "Title" is the job in most exports, so only the
    # layouts that use it for "Dr." or "Mrs." say so (see layouts.py).
    "title": (
        "Salutation", "Name prefix", "Honorific", "Anrede", "Akad. Grad", "Civilité",
        "Tratamiento", "Aanhef", "Appellativo", "Tratamento",
    ),
    "companyName": (
        "Company", "Company name", "Organization", "Organization name", "Organisation",
        "Organisation name", "Account name", "Business name", "Employer",
        "Firma", "Unternehmen", "Firmenname", "Betrieb", "Société", "Entreprise",
        "Raison sociale", "Empresa", "Compañía", "Organización", "Razón social", "Bedrijf",
        "Bedrijfsnaam", "Organisatie", "Azienda", "Società", "Ditta", "Ragione sociale",
        "Organizzazione", "Companhia", "Organização", "Razão social",
    ),
    "emailAddress": (
        "Email", "E-mail", "Mail", "Email address", "E-mail address", "Primary email",
        "Secondary email", "Alternate email", "Other email", "Work email", "Home email",
        "Personal email", "Invitee email", "Customer email",
        "E-Mail-Adresse", "Email-Adresse", "Primäre E-Mail-Adresse", "Courriel",
        "Adresse e-mail", "Adresse électronique", "Adresse de messagerie",
        "Adresse de courrier", "Mél", "Correo electrónico", "Correo",
        "Dirección de correo electrónico", "E-mailadres", "Emailadres", "Posta elettronica",
        "Indirizzo email", "Indirizzo e-mail", "Indirizzo di posta elettronica",
        "Correio eletrónico", "Correio eletrônico", "Endereço de e-mail",
    ),
    "phone.other": (
        "Phone", "Phone number", "Telephone", "Telephone number", "Tel", "Contact number",
        "Primary phone", "Primary", "Main phone", "Other number", "Callback", "ISDN",
        "TTY/TDD Phone", "Telex",
        "Yahoo! Phone",
        "Telefon", "Telefonnummer", "Rufnummer", "Haupttelefon", "Rückmeldung",
        "Telefon für Hörbehinderte", "Téléphone", "Numéro de téléphone", "Téléphone principal",
        "Rappel", "RNIS", "Téléphone TDD/TTY", "Télex", "Teléfono", "Número de teléfono",
        "Telefoon", "Telefoonnummer", "Telefono", "Numero di telefono", "Telefone",
        "Número de telefone",
    ),
    "phone.mobile": (
        "Mobile", "Mobile phone", "Mobile number", "Mobile phone number", "Cell", "Cell phone",
        "Cell number", "Cellular", "Car phone", "Text reminder number", "SMS",
        "Mobiltelefon", "Mobil", "Handy", "Handynummer", "Mobilnummer", "Autotelefon",
        "Portable", "Téléphone portable", "Tél. mobile", "Téléphone mobile", "Cellulaire",
        "Téléphone (voiture)", "Móvil", "Celular", "Teléfono móvil", "Teléfono celular",
        "Mobiel", "Mobiele telefoon", "Mobiel nummer", "GSM", "Cellulare", "Cell.",
        "Telefono cellulare", "Telemóvel",
    ),
    "phone.home": ("Home number", "Home tel"),
    "phone.business": (
        "Work", "Work number", "Office number", "Work tel", "Company main phone", "Telefon Firma",
        "Téléphone société",
    ),
    "phone.pager": (
        "Pager", "Pager number", "Récepteur de radiomessagerie", "Buscapersonas", "Semafoon",
        "Cercapersone",
    ),
    "phone.radio": ("Radio", "Radio phone", "Funkruf", "Radiotéléphone"),
    "phone.assistant": (
        "Assistant phone", "Assistant's phone", "Assistant telephone", "Assistant number",
        "Asst phone", "Telefon Assistent", "Téléphone de l'assistant(e)",
    ),
}

# Field names that are also everyday headers of another meaning: a bare "Title" is a job title
# as often as "Dr.", so the field's own name does not make a header mean it.
NOT_BY_FIELD_NAME = frozenset({"title"})

# --- the general rule ----------------------------------------------------------------------

# Words that say whose address or phone a column is. "Mailing", "Billing", "Default Address"
# and "Primary" are the customer's main address, so home; a shipping address is kept as other.
QUALIFIERS: dict[str, tuple[str, ...]] = {
    "home": (
        "home", "private", "personal", "primary", "main", "mailing", "billing", "default",
        "default address", "privat", "privatadresse", "wohnort", "domicile", "personnel",
        "personnelle", "prive", "privee", "casa", "domicilio", "particular", "residencia",
        "residencial", "thuis", "ab", "abitazione",
    ),
    "business": (
        "business", "work", "office", "company", "geschaftlich", "dienstlich", "buro", "bureau",
        "professionnel", "professionnelle", "trabajo", "oficina", "laboral", "werk", "zakelijk",
        "kantoor", "uff", "ufficio", "lavoro", "comercial", "trabalho",
    ),
    "other": (
        "other", "alternate", "alternative", "secondary", "shipping", "weitere", "weiterer",
        "weiteres", "autre", "otro", "otra", "otros", "andere", "ander", "overig", "altro",
        "altra", "outro", "outra",
    ),
}

# Words that carry no meaning here: articles, prepositions, the gender endings of German labels
# ("Weiteres/r", "Assistent(in)") and the "- Value" of numbered groups.
FILLERS = frozenset({
    "de", "del", "la", "le", "l", "du", "des", "da", "do", "dos", "das", "of", "the", "for",
    "und", "and", "y", "et", "en", "e", "r", "in", "im", "van", "di", "op", "value", "wert", "valeur",
    "valor", "waarde", "valore", "invitee", "customer", "client", "contact", "s",
})

# The word that names a numbered group's label ("Phone 1 - Label", "Address 2 - Type").
LABEL_WORDS = frozenset({"label", "type", "typ", "etiquette", "etiket", "tipo", "etichetta"})

ADDRESS_WORDS: dict[str, tuple[str, ...]] = {
    "street": (
        "Street", "Address", "Address line", "Street address", "Street line",
        "Str", "Strasse", "Straße", "Straße und Hausnummer", "Anschrift", "Adresse",
        "Rue", "Voie", "Numéro et rue", "Calle", "Dirección", "Domicilio", "Línea de dirección",
        "Straat", "Straatnaam", "Adres", "Straat en huisnummer", "Via", "Indirizzo", "Rua",
        "Morada", "Endereço", "Logradouro",
    ),
    "street2": (
        "Extended address", "Apt/Suite", "Apartment", "Suite", "Adresszusatz", "c/o",
        "Complément d'adresse", "Bâtiment", "Appartement", "Piso", "Complemento",
        "Toevoeging", "Presso", "Interno",
    ),
    "houseNumber": (
        "House number", "Hausnummer", "Hausnr", "Huisnummer", "Huisnr", "Numero civico",
    ),
    "city": (
        "City", "Town", "Locality", "Suburb", "Ort", "Stadt", "Gemeinde", "Ortschaft", "Ville",
        "Localité", "Commune", "Ciudad", "Localidad", "Población", "Municipio", "Plaats",
        "Woonplaats", "Stad", "Città", "Comune", "Località", "Cidade", "Município", "Concelho",
    ),
    "state": (
        "State", "Province", "Region", "County", "State or province", "State/Province",
        "State/Region", "Province code", "Bundesland", "Bundesland/Kanton", "Kanton",
        "Landkreis", "Région", "Département", "Dép/Région", "Canton", "État", "Provincia",
        "Estado", "Región", "Comunidad autónoma", "Departamento", "Provincie", "Regio",
        "Regione", "Distrito", "Região", "Província", "UF",
    ),
    "postalCode": (
        "ZIP", "ZIP code", "Postal code", "Postcode", "Post code", "ZIP/Postal code",
        "PLZ", "Postleitzahl", "Code postal", "CP", "NPA", "Código postal", "C.P.", "CAP",
        "Codice postale", "C.A.P.", "CEP",
    ),
    "countryOrRegion": (
        "Country", "Country or region", "Country/Region", "Country code", "Land",
        "Land/Region", "Staat", "Pays", "Pays/Région", "País", "País/Región", "Land/regio",
        "Paese", "Nazione", "País/Região",
    ),
    "postOfficeBox": (
        "PO box", "P.O. Box", "Post office box", "Postfach", "Boîte postale", "BP", "B.P.",
        "Case postale", "Apartado de correos", "Apartado postal", "Casilla", "Postbus",
        "Casella postale", "Apartado", "Caixa postal",
    ),
    # The whole address in one cell; used only when the row's parts are empty.
    "formatted": ("Formatted", "Formatted address", "Full address", "Adresse complète"),
}

# The word that opens an address column of a numbered or prefixed group ("Address 1 - City",
# "Business Address City"): dropped when what follows is an address part.
ADDRESS_LEADS = frozenset({"address", "adresse", "anschrift", "adres", "direccion", "indirizzo",
                           "endereco", "morada"})

# What the rest of a header means once its qualifier is gone: a phone of that kind.
PHONE_WORDS: dict[str, tuple[str, ...]] = {
    "phone": (
        "Phone", "Phone number", "Telephone", "Telephone number", "Tel", "Telefon",
        "Telefonnummer", "Téléphone", "Teléfono", "Telefoon", "Telefono", "Telefone",
        "Numéro de téléphone", "Número de teléfono",
    ),
    "mobile": EXACT["phone.mobile"],
    "fax": ("Fax", "Fax number", "Telefax", "Télécopie", "Facsímil"),
    "pager": EXACT["phone.pager"],
}

# A phone's kind, and the qualifier of its column, give its Graph type.
PHONE_TYPE_OF: dict[tuple[str, str], str] = {
    ("phone", ""): "other",
    ("phone", "home"): "home",
    ("phone", "business"): "business",
    ("phone", "other"): "other",
    ("mobile", ""): "mobile",
    ("mobile", "home"): "mobile",
    ("mobile", "business"): "mobile",
    ("mobile", "other"): "mobile",
    ("fax", ""): "businessFax",
    ("fax", "home"): "homeFax",
    ("fax", "business"): "businessFax",
    ("fax", "other"): "otherFax",
    ("pager", ""): "pager",
    ("pager", "home"): "pager",
    ("pager", "business"): "pager",
    ("pager", "other"): "pager",
}

# The label of a numbered phone ("Mobile", "* Work", "Home Fax", "iPhone") when the general rule
# does not read it: the words people write, mapped to a Graph phone type.
PHONE_LABELS: dict[str, tuple[str, ...]] = {
    "mobile": ("iPhone", "Android", "Cellphone", "Portable"),
    "home": ("Home", "Private", "Privat", "Domicile", "Casa", "Thuis"),
    "business": ("Work", "Business", "Office", "Company main", "Geschäftlich", "Bureau",
                 "Trabajo", "Werk", "Ufficio", "Comercial"),
    "other": ("Other", "Main", "Google Voice", "Grand Central"),
}

# "Name" beside "Vorname" (and no family-name column) is the family name: German and Dutch lists
# are typed "Vorname | Name". Beside "First name" it stays the whole name.
FAMILY_NAME_BESIDE_GIVEN = {
    "name": frozenset({"vorname", "rufname"}),
    "naam": frozenset({"voornaam", "roepnaam"}),
}

# What a numbered address group is when its label says nothing: 1 home, 2 business, 3 other.
GROUP_KINDS = ("home", "business", "other")
