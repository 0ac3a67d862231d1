"""Write samples/customers.csv and samples/customers.xlsx (run from the repository root).

The two files hold the same customers; samples/README.md says what each row tests.
The XLSX has a title row above the header and stores ZIP codes and phone numbers as numbers
with the formats Excel gives them, which is what the loader must read back as text.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

HEADERS = [
    "Customer name", "Email", "Home street", "Home city", "Home state", "Home ZIP",
    "Home country", "Business street", "Business city", "Business state", "Business ZIP",
    "Business country", "Home phone", "Work phone", "Mobile", "Notes",
]

ROWS = [
    # The Graph documentation's example customer: two addresses, two phones.
    ["Joni Sherman", "jonis@relecloud.com", "4567 Main Street", "Buffalo", "NY", "98052", "USA",
     "4570 Main Street", "Buffalo", "NY", "98052", "USA", "206-555-0100", "206-555-0200", "",
     "Graph docs example"],
    # ZIP with a leading zero (a number formatted 00000 in the workbook).
    ["Adele Vance", "adelev@contoso.com", "12 Beacon St", "Boston", "MA", "02134", "United States",
     "", "", "", "", "", "", "", "6175550111", "leading-zero ZIP, numeric mobile"],
    # Phone typed as a number.
    ["Alex Wilber", "alexw@contoso.com", "", "", "", "", "", "", "", "", "", "", "2065550100", "",
     "", "numeric phone cell"],
    # International numbers and a non-US address.
    ["Zoë Ångström", "zoe.angstrom@fabrikam.co.uk", "221B Baker Street", "London", "", "NW1 6XE",
     "UK", "", "", "", "", "", "+44 20 7946 0958", "", "07911 123456", "UK numbers, accents"],
    ["José Núñez", "jose.nunez@example.de", "", "", "", "", "", "Unter den Linden 5", "Berlin", "",
     "10117", "DE", "", "+49 30 901820", "", "German business address"],
    # Invalid email: reported as invalid, never sent.
    ["Joe Broken", "joe@", "", "", "", "", "", "", "", "", "", "", "", "", "", "invalid email"],
    # No name: reported as invalid.
    ["", "noname@contoso.com", "", "", "", "", "", "", "", "", "", "", "", "", "", "no name"],
    # Same email as Adele Vance's row.
    ["Adele Vance (again)", "AdeleV@contoso.com", "", "", "", "", "", "", "", "", "", "", "", "",
     "", "duplicate email"],
    ["Lee Gu", "leeg@contoso.com", "", "", "", "", "", "", "", "", "", "", "", "", "+1 425 555 0109",
     "mobile only"],
    ["Megan Bowen", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "no email (allowed)"],
]

NUMERIC_COLUMNS = {"Home ZIP", "Business ZIP", "Home phone", "Mobile"}


def write_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADERS)
        writer.writerows(ROWS)


def write_xlsx(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(["Contoso customer export"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    ws.append(HEADERS)
    for values in ROWS:
        cells: list[object] = []
        for header, value in zip(HEADERS, values, strict=True):
            if header in NUMERIC_COLUMNS and value.isdigit():
                cells.append(int(value))
            else:
                cells.append(value)
        ws.append(cells)
        row = ws.max_row
        for col, header in enumerate(HEADERS, start=1):
            cell = ws.cell(row=row, column=col)
            if header.endswith("ZIP") and isinstance(cell.value, int):
                cell.number_format = "00000"
    for col in "ABCDEFGHIJKLMNOP":
        ws.column_dimensions[col].width = 18
    wb.save(path)


if __name__ == "__main__":
    here = Path(__file__).parent
    write_csv(here / "customers.csv")
    write_xlsx(here / "customers.xlsx")
