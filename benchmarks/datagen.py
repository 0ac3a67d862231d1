"""Realistic customer rows for the benchmarks, generated on the fly (no data is committed)."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

FIRST = ("Aisha", "Ben", "Chloé", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ingrid", "José",
         "Kwame", "Lena", "Mateo", "Nora", "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tomás",
         "Uma", "Viktor", "Wen", "Xavier", "Yara", "Zoë")
LAST = ("Okafor", "Müller", "García", "Nguyen", "Smith", "Kowalski", "Rossi", "Tanaka", "Dubois",
        "O'Brien", "Andersson", "Haddad", "Silva", "Novak", "Ivanova", "Kim", "Jensen", "Patel")
STREETS = ("Main St", "Oak Avenue", "High Street", "Station Road", "Elm Street", "Lakeview Dr",
           "Church Lane", "Maple Court", "Park Road", "Mill Lane")
PLACES = (
    ("Seattle", "WA", "98101", "United States", "+1 206 555 {:04d}"),
    ("Austin", "TX", "78701", "United States", "(512) 555-{:04d}"),
    ("London", "", "SW1A 1AA", "United Kingdom", "+44 20 7946 {:04d}"),
    ("Berlin", "", "10115", "Germany", "+49 30 1234{:04d}"),
    ("Toronto", "ON", "M5H 2N2", "Canada", "+1 416 555 {:04d}"),
    ("Sydney", "NSW", "2000", "Australia", "+61 2 9374 {:04d}"),
)
# Names and cities of a Polish office, for a CSV saved in its code page (cp1250).
POLISH = (("Łucja", "Żółkiewska", "Łódź"), ("Grzegorz", "Brzęczyszczykiewicz", "Kraków"),
          ("Małgorzata", "Wiśniewska", "Gdańsk"), ("Józef", "Szczęsny", "Białystok"),
          ("Zdzisław", "Wójcik", "Wrocław"), ("Bożena", "Kamińska", "Poznań"))
HEADERS = ("Name", "Email", "Phone", "Street", "City", "State", "Postal code", "Country")


def customers(n: int, *, seed: int = 7) -> Iterator[tuple[str, ...]]:
    """``n`` distinct customers: unique emails, phones in national and international forms."""
    rng = random.Random(seed)
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, state, postcode, country, phone = rng.choice(PLACES)
        email = f"{first}.{last}.{i}@example.com".lower().replace("'", "")
        yield (
            f"{first} {last}",
            email,
            phone.format(rng.randrange(10000)),
            f"{rng.randrange(1, 999)} {rng.choice(STREETS)}",
            city,
            state,
            postcode,
            country,
        )


def write_csv(path: Path, n: int, *, businesses: Sequence[str] = ()) -> Path:
    """A CSV of ``n`` customers; with ``businesses``, a ``Business`` column that interleaves them."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow((*HEADERS, "Business") if businesses else HEADERS)
        for i, row in enumerate(customers(n)):
            out.writerow((*row, businesses[i % len(businesses)]) if businesses else row)
    return path


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def graph_body(row: dict[str, str]) -> dict[str, object]:
    """The create body a hand-written script would send for a row: columns as they are."""
    return {
        "@odata.type": "#microsoft.graph.bookingCustomer",
        "displayName": row["Name"],
        "emailAddress": row["Email"],
        "phones": [{"number": row["Phone"], "type": "mobile"}],
        "addresses": [{
            "street": row["Street"],
            "city": row["City"],
            "state": row["State"],
            "postalCode": row["Postal code"],
            "countryOrRegion": row["Country"],
        }],
    }


def write_xlsx(path: Path, n: int, *, shared_strings: bool = False) -> Path:
    """A one-sheet workbook of ``n`` customers, its sheet XML written directly (openpyxl takes
    15 s for 100,000 rows). By default every string is inline in its cell, as openpyxl writes
    it; with ``shared_strings`` the text is in a shared-strings table the cells point into, as
    Excel saves it."""
    import zipfile
    from xml.sax.saxutils import escape

    from openpyxl import Workbook

    template = path.with_suffix(".template.xlsx")
    book = Workbook()
    book.active.title = "Customers"
    book.save(template)  # the workbook, styles and content types around the sheet
    strings: dict[str, int] = {}
    rows = []
    for number, values in enumerate((HEADERS, *customers(n)), 1):
        if shared_strings:
            cells = "".join(
                f'<c r="{chr(65 + column)}{number}" t="s"><v>{strings.setdefault(text, len(strings))}</v></c>'
                for column, text in enumerate(values)
                if text
            )
            rows.append(f'<row r="{number}" spans="1:{len(HEADERS)}">{cells}</row>')
        else:
            cells = "".join(
                f'<c r="{chr(65 + column)}{number}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
                if value else f'<c r="{chr(65 + column)}{number}" t="inlineStr" />'
                for column, value in enumerate(values)
            )
            rows.append(f'<row r="{number}">{cells}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    declaration = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    sheet = (f'{declaration}<worksheet xmlns="{main}"><dimension ref="A1:H{n + 1}"/>'
             f'<sheetData>{"".join(rows)}</sheetData></worksheet>')
    table = (f'{declaration}<sst xmlns="{main}" count="{len(strings)}" uniqueCount="{len(strings)}">'
             + "".join(f"<si><t>{escape(text)}</t></si>" for text in strings) + "</sst>")
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            elif shared_strings and info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                                    b'"application/vnd.openxmlformats-officedocument.spreadsheetml.'
                                    b'sharedStrings+xml"/></Types>')
            elif shared_strings and info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdStrings" Type="http://'
                                    b'schemas.openxmlformats.org/officeDocument/2006/relationships/'
                                    b'sharedStrings" Target="sharedStrings.xml"/></Relationships>')
            out.writestr(info.filename, data)
        if shared_strings:
            out.writestr("xl/sharedStrings.xml", table)
    template.unlink()
    return path
