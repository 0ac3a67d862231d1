"""The upload page in a real browser: upload the sample, preview, import, download failures.

Drives Debian's Chromium through Playwright (headless). Screenshots of each screen go to
artifacts/screenshots/. Without Chromium or Playwright the test is skipped, except in CI
(``CI`` set), where they are installed and their absence is a failure.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.config import parse_config
from importer.web import ServeOptions, running_app
from tests.emulator_thread import in_thread

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "customers.xlsx"
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
TIMEOUT_MS = 20_000


def _require_browser() -> None:
    missing = [what for what, ok in (
        (f"Chromium at {CHROMIUM}", CHROMIUM.exists()),
        ("the playwright package", importlib.util.find_spec("playwright") is not None),
    ) if not ok]
    if not missing:
        return
    reason = f"needs {' and '.join(missing)} (apt-get install chromium; pip install playwright)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test: {reason}")
    pytest.skip(reason)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The page with the sandbox emulator, served from a thread with its own event loop."""
    config = parse_config({"report": {"dir": str(tmp_path / "runs")},
                           "state": {"dir": str(tmp_path / "state")}})
    with in_thread(lambda: running_app(config, ServeOptions(port=0, sandbox=True))) as (app, _):
        yield app.url


@contextlib.contextmanager
def browser_page(**options: Any) -> Iterator[tuple[Any, list[str]]]:
    """A page of headless Chromium, and the script errors it logs (a failed resource, such as
    an answer the page refuses on purpose, is not one)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900}, **options)
            page.set_default_timeout(TIMEOUT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                    and not msg.text.startswith("Failed to load resource") else None)
            yield page, errors
        finally:
            browser.close()


def test_upload_preview_import_and_download_in_a_browser(served: str, tmp_path: Path) -> None:
    _require_browser()
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    with browser_page(accept_downloads=True) as (page, errors):
        # Script errors only: the refused upload below is logged as a failed resource, on purpose.

        page.goto(served)
        expect(page.get_by_role("heading", name="Import customers")).to_be_visible()
        page.screenshot(path=str(SHOTS / "1-upload.png"), full_page=True)

        page.set_input_files("input[type=file]", str(SAMPLE))
        page.get_by_role("button", name="Upload and preview").click()
        expect(page.get_by_role("heading", name="Preview of customers.xlsx")).to_be_visible()
        expect(page.locator("#verdict")).to_have_text("8 valid, 2 invalid")
        # The mapping step: each column's field, as detected.
        expect(page.get_by_label("Customer name", exact=True)).to_have_value("displayName")
        expect(page.get_by_label("Home ZIP", exact=True)).to_have_value("home.postalCode")
        expect(page.get_by_label("Notes", exact=True)).to_have_value("ignore")
        page.screenshot(path=str(SHOTS / "2-preview.png"), full_page=True)

        page.get_by_role("button", name="Import the 8 valid rows").click()
        # samples/README.md: 7 created, 1 duplicate email, 2 invalid.
        expect(page.locator("#counts")).to_have_text("7 created, 1 duplicate, 2 invalid")
        expect(page.locator("#state")).to_have_text("finished with failures")
        expect(page.locator("#done")).to_have_text("10")
        page.screenshot(path=str(SHOTS / "3-run.png"), full_page=True)

        with page.expect_download() as download_info:
            page.locator("#files").get_by_role("link", name="failures.csv").click()
        download = download_info.value
        text = Path(download.path()).read_text(encoding="utf-8-sig")
        failures = list(csv.DictReader(io.StringIO(text)))
        assert len(failures) == 2
        assert {r["source_row"] for r in failures} == {"9", "10"}

        page.goto(served)
        not_a_workbook = tmp_path / "customers.xlsx"
        not_a_workbook.write_text("Name,Email\nAnn,ann@example.com\n", encoding="utf-8")
        page.set_input_files("input[type=file]", str(not_a_workbook))
        page.get_by_role("button", name="Upload and preview").click()
        expect(page.get_by_role("alert")).to_contain_text("this is a text file")
        page.screenshot(path=str(SHOTS / "5-refused.png"), full_page=True)

        page.goto(served)
        expect(page.locator("table.zebra tbody tr")).to_have_count(1)
        expect(page.locator("table.zebra tbody tr")).to_contain_text("customers.xlsx")
        page.screenshot(path=str(SHOTS / "4-past-runs.png"), full_page=True)
        assert errors == [], errors


def test_the_mapping_step_in_a_browser(served: str) -> None:
    """Change a column's field on the preview: the preview follows, the snippet shows the
    choice as [columns], and the import uses it."""
    _require_browser()
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    with browser_page() as (page, errors):
        # Script errors only: the refused mapping below answers 400, on purpose.

        page.goto(served)
        page.set_input_files("input[type=file]", str(ROOT / "samples" / "customers.csv"))
        page.get_by_role("button", name="Upload and preview").click()
        expect(page.locator("#verdict")).to_have_text("8 valid, 2 invalid")
        preview_url = page.url
        email = page.get_by_label("Email", exact=True)
        expect(email).to_have_value("emailAddress")
        expect(page.get_by_label("Notes", exact=True)).to_have_value("ignore")
        # With the script, a change applies at once: no Apply button to press.
        expect(page.get_by_role("button", name="Apply the mapping")).to_be_hidden()

        email.select_option("ignore")  # row 7's bad email no longer refuses the row
        expect(page.locator("#verdict")).to_have_text("9 valid, 1 invalid")
        expect(page.get_by_label("Email", exact=True)).to_have_value("ignore")
        page.get_by_text("As a [columns] table for the config file").click()
        snippet = page.locator("#columns-snippet")
        expect(snippet).to_contain_text('"Email" = "ignore"')
        expect(snippet).to_contain_text('"Customer name" = "displayName"')
        page.screenshot(path=str(SHOTS / "6-mapping.png"), full_page=True)

        page.get_by_label("Customer name", exact=True).select_option("ignore")
        expect(page.get_by_role("alert")).to_contain_text("no column for the customer's name")
        page.goto(preview_url)
        expect(page.locator("#verdict")).to_have_text("9 valid, 1 invalid")  # the last good one

        page.get_by_role("button", name="Import the 9 valid rows").click()
        expect(page.locator("#counts")).to_have_text("9 created, 1 invalid")
        assert errors == [], errors


def test_a_sheet_in_an_unknown_language_opens_the_mapping_step_in_a_browser(
        served: str, tmp_path: Path) -> None:
    """No column is recognised (Icelandic headers): the preview still opens, every column set
    to "ignore" beside its values, says what is missing, and the columns mapped there import."""
    _require_browser()
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "viðskiptavinir.csv"
    source.write_text("Nafn;Netfang;Farsími;Athugasemd\n"
                      "Guðrún Jónsdóttir;gudrun@example.is;+354 611 2345;fastagestur\n"
                      "Þórður Ólafsson;thordur@example.is;+354 822 3456;\n", encoding="utf-8")
    with browser_page() as (page, errors):
        page.goto(served)
        page.set_input_files("input[type=file]", str(source))
        page.get_by_role("button", name="Upload and preview").click()
        expect(page.get_by_role("heading", name="Preview of viðskiptavinir.csv")).to_be_visible()
        expect(page.locator("#missing")).to_contain_text("no column for the customer's name")
        for header in ("Nafn", "Netfang", "Farsími", "Athugasemd"):
            expect(page.get_by_label(header, exact=True)).to_have_value("ignore")
        expect(page.locator("#mapping-form")).to_contain_text("gudrun@example.is")
        page.screenshot(path=str(SHOTS / "7-unknown-language.png"), full_page=True)

        page.get_by_label("Nafn", exact=True).select_option("displayName")
        expect(page.locator("#verdict")).to_have_text("2 valid, 0 invalid")
        expect(page.locator("#missing")).to_have_count(0)
        page.get_by_label("Netfang", exact=True).select_option("emailAddress")
        expect(page.get_by_label("Netfang", exact=True)).to_have_value("emailAddress")
        page.get_by_label("Farsími", exact=True).select_option("phone.mobile")
        expect(page.get_by_label("Farsími", exact=True)).to_have_value("phone.mobile")
        expect(page.locator("#verdict")).to_have_text("2 valid, 0 invalid")

        page.get_by_role("button", name="Import the 2 valid rows").click()
        expect(page.locator("#counts")).to_have_text("2 created")
        assert errors == [], errors


def test_a_header_less_file_is_mapped_by_letter_in_a_browser(served: str, tmp_path: Path) -> None:
    """A file whose first row is a customer: the box "the first row is a customer" is ticked,
    the columns are letters with their values (the first row's too), the snippet says
    header = false, and every row is imported, the first included."""
    _require_browser()
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "list.csv"
    source.write_text("Ann Lee,ann.lee@contoso.com,+1 206 555 0100\n"
                      "Bo Kim,bo.kim@contoso.com,+1 425 555 0199\n"
                      "Cy Diaz,cy.diaz@contoso.com,+1 312 555 0142\n", encoding="utf-8")
    with browser_page(accept_downloads=True) as (page, errors):
        page.goto(served)
        page.set_input_files("input[type=file]", str(source))
        page.get_by_role("button", name="Upload and preview").click()
        expect(page.get_by_role("heading", name="Preview of list.csv")).to_be_visible()
        expect(page.get_by_label("The first row is a customer, not headers")).to_be_checked()
        expect(page.locator("#mapping-form")).to_contain_text("ann.lee@contoso.com")
        expect(page.locator("#missing")).to_contain_text("no column for the customer's name")
        for letter in "ABC":
            expect(page.get_by_label(letter, exact=True)).to_have_value("ignore")
        page.screenshot(path=str(SHOTS / "8-header-less.png"), full_page=True)

        form = page.locator("#mapping-form")
        # The box applies at once too: unticked, the first row is read as column names.
        box = page.get_by_label("The first row is a customer, not headers")
        box.uncheck()
        expect(form).not_to_have_attribute("aria-busy", "true")
        expect(page.get_by_label("ann.lee@contoso.com", exact=True)).to_have_value("ignore")
        expect(box).not_to_be_checked()
        box.check()
        expect(form).not_to_have_attribute("aria-busy", "true")
        expect(page.get_by_label("A", exact=True)).to_have_value("ignore")
        expect(box).to_be_checked()
        # Each change is sent at once and the page comes back with it: wait for that page
        # before the next change, which would otherwise be lost as it loads.
        for letter, field in (("A", "displayName"), ("B", "emailAddress"), ("C", "phone.mobile")):
            page.get_by_label(letter, exact=True).select_option(field)
            expect(form).not_to_have_attribute("aria-busy", "true")
            expect(page.get_by_label(letter, exact=True)).to_have_value(field)
        expect(page.locator("#verdict")).to_have_text("3 valid, 0 invalid")
        expect(page.get_by_label("The first row is a customer, not headers")).to_be_checked()
        page.get_by_text("As a [columns] table for the config file").click()
        snippet = page.locator("#columns-snippet")
        expect(snippet).to_contain_text("[input]\nheader = false")
        expect(snippet).to_contain_text('"A" = "displayName"')
        expect(snippet).to_contain_text('"C" = "phone.mobile"')

        page.get_by_role("button", name="Import the 3 valid rows").click()
        expect(page.locator("#counts")).to_have_text("3 created")
        expect(page.locator("#done")).to_have_text("3")
        page.screenshot(path=str(SHOTS / "9-header-less-run.png"), full_page=True)
        with page.expect_download() as download_info:
            page.locator("#files").get_by_role("link", name="results.csv").click()
        text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
        results = list(csv.DictReader(io.StringIO(text)))
        assert [(r["row"], r["status"], r["email"]) for r in results] == [
            ("1", "created", "ann.lee@contoso.com"), ("2", "created", "bo.kim@contoso.com"),
            ("3", "created", "cy.diaz@contoso.com")]
        assert errors == [], errors
