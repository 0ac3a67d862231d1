"""The mapping step of the upload page at the HTTP level: the columns with their detected
fields, a changed choice that changes the preview and the run, and the [columns] snippet."""

from __future__ import annotations

import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from importer.emulator import EmulatorSettings, RunningEmulator, running_emulator
from importer.map import FIELDS
from tests.test_web import (
    BIZ,
    JSON,
    SAMPLES,
    TOKEN,
    csrf_token,
    make_config,
    open_client,
    start,
    upload,
    wait_finished,
)


@pytest.fixture
async def emu() -> AsyncIterator[RunningEmulator]:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Contoso"}, retry_after=0.05)
    async with running_emulator(settings) as server:
        yield server


CSV = (SAMPLES / "customers.csv").read_bytes()
HEADERS = CSV.decode("utf-8").splitlines()[0].split(",")


async def uploaded(client: object) -> str:
    resp = await upload(client, "customers.csv", CSV)  # type: ignore[arg-type]
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["upload_id"])


def form_of(fields: dict[str, str], token: str) -> dict[str, str]:
    """The page's form: every column's choice, as the browser sends it."""
    return {"csrf_token": token, **{f"field-{i}": fields[h] for i, h in enumerate(HEADERS)}}


DETECTED = {
    "Customer name": "displayName", "Email": "emailAddress", "Home street": "home.street",
    "Home city": "home.city", "Home state": "home.state", "Home ZIP": "home.postalCode",
    "Home country": "home.countryOrRegion", "Business street": "business.street",
    "Business city": "business.city", "Business state": "business.state",
    "Business ZIP": "business.postalCode", "Business country": "business.countryOrRegion",
    "Home phone": "phone.home", "Work phone": "phone.business", "Mobile": "phone.mobile",
    "Notes": "ignore",
}


async def test_the_preview_lists_every_column_with_its_detected_field(tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path)) as client:
        upload_id = await uploaded(client)
        page = await (await client.get(f"/uploads/{upload_id}")).text()
        assert f'action="/uploads/{upload_id}/mapping"' in page
        for i, header in enumerate(HEADERS):
            select = re.search(rf'<select id="field-{i}" name="field-{i}">(.*?)</select>', page)
            assert select, header
            options = re.findall(r'<option value="([^"]*)"', select.group(1))
            assert options == ["ignore", *FIELDS]  # every field the mapper knows
            chosen = re.findall(r'<option value="([^"]*)" selected>', select.group(1))
            assert chosen == [DETECTED[header]], header
        snippet = re.search(r'<pre id="columns-snippet">(.*?)</pre>', page, re.S)
        assert snippet
        text = snippet.group(1).replace("&quot;", '"')
        assert tomllib.loads(text)["columns"] == DETECTED


async def test_a_changed_choice_changes_the_preview_and_the_snippet(tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path)) as client:
        upload_id = await uploaded(client)
        token = await csrf_token(client)
        chosen = {**DETECTED, "Email": "ignore", "Notes": "home.street2"}
        resp = await client.post(f"/uploads/{upload_id}/mapping", data=form_of(chosen, token),
                                 allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == f"/uploads/{upload_id}#columns"
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        assert {"header": "Email", "field": None} in preview["columns"]
        assert {"header": "Notes", "field": "home.street2"} in preview["columns"]
        # The bad email of row 7 no longer counts: 9 valid rows instead of 8, and no email sent.
        assert (preview["valid"], preview["invalid"]) == (9, 1)
        assert all("emailAddress" not in s["body"] for s in preview["samples"])
        assert tomllib.loads(preview["columns_snippet"])["columns"] == chosen
        page = await (await client.get(f"/uploads/{upload_id}")).text()
        assert "9 valid, 1 invalid" in page
        assert re.search(r'<select id="field-1" name="field-1"><option value="ignore" selected>', page)


async def test_a_script_sends_only_the_columns_it_changes(tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path)) as client:
        upload_id = await uploaded(client)
        resp = await client.post(f"/uploads/{upload_id}/mapping",
                                 json={"columns": {"Mobile": "phone.other"}},
                                 headers={**JSON, "X-CSRF-Token": await csrf_token(client)})
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert {"header": "Mobile", "field": "phone.other"} in body["columns"]
        assert {"header": "Email", "field": "emailAddress"} in body["columns"]


async def test_a_choice_the_mapper_refuses_is_shown_and_not_kept(tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path)) as client:
        upload_id = await uploaded(client)
        token = await csrf_token(client)
        cases = [
            # (email and phone columns may feed one field together; a name column may not)
            ({**DETECTED, "Notes": "displayName"},
             "maps both 'Customer name' and 'Notes' to displayName"),
            ({**DETECTED, "Customer name": "ignore"}, "no column for the customer's name"),
            ({**DETECTED, "Notes": "<script>"}, "'<script>' is not a customer field"),
        ]
        for chosen, message in cases:
            resp = await client.post(f"/uploads/{upload_id}/mapping", data=form_of(chosen, token))
            assert resp.status == 400
            page = await resp.text()
            assert message.replace("'", "&#x27;").replace("<", "&lt;").replace(">", "&gt;") in page
            assert "<script>" not in page.replace('<script src="/static/app.js" defer></script>', "")
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        assert {"header": "Email", "field": "emailAddress"} in preview["columns"]


async def test_the_mapping_needs_the_session_token(tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path)) as client:
        upload_id = await uploaded(client)
        for token in ("", "0" * 64):
            resp = await client.post(f"/uploads/{upload_id}/mapping",
                                     data=form_of({**DETECTED, "Email": "ignore"}, token))
            assert resp.status == 403
        resp = await client.post(f"/uploads/{upload_id}/mapping", json={"columns": {}},
                                 headers={**JSON, "Origin": "https://evil.example"})
        assert resp.status == 403
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        assert (preview["valid"], preview["invalid"]) == (8, 2)


async def test_the_run_uses_the_chosen_mapping(tmp_path: Path, emu: RunningEmulator) -> None:
    async with open_client(make_config(tmp_path, emu.url)) as client:
        upload_id = await uploaded(client)
        chosen = {**DETECTED, "Email": "ignore", "Mobile": "ignore"}
        resp = await client.post(f"/uploads/{upload_id}/mapping",
                                 data=form_of(chosen, await csrf_token(client)))
        assert resp.status == 200  # followed the redirect to the preview
        run = await (await start(client, upload_id)).json()
        status = await wait_finished(client, run["run_id"])
        assert status["state"] == "finished", status
        customers = emu.emulator.customers(BIZ)
        assert customers and all(not c.get("emailAddress") for c in customers)
        assert all(p["type"] != "mobile" for c in customers for p in c.get("phones", []))


# Icelandic: a language the tables do not know, so no column is recognised.
UNKNOWN = ("Nafn;Netfang;Farsími;Athugasemd\n"
           "Guðrún Jónsdóttir;gudrun@example.is;+354 611 2345;fastagestur\n"
           "Þórður Ólafsson;thordur@example.is;+354 822 3456;\n").encode()


async def test_a_sheet_in_an_unknown_language_opens_the_mapping_step(
        tmp_path: Path, emu: RunningEmulator) -> None:
    async with open_client(make_config(tmp_path, emu.url)) as client:
        resp = await upload(client, "viðskiptavinir.csv", UNKNOWN)
        assert resp.status == 201, await resp.text()
        upload_id = (await resp.json())["upload_id"]
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        # Every column, all ignored, each with its values; what is missing is said.
        assert preview["columns"] == [{"header": h, "field": None}
                                      for h in ("Nafn", "Netfang", "Farsími", "Athugasemd")]
        assert preview["column_samples"][1] == ["gudrun@example.is", "thordur@example.is"]
        assert "no column for the customer's name" in preview["missing"]
        assert "'Nafn', 'Netfang', 'Farsími', 'Athugasemd'" in preview["missing"]
        page = await (await client.get(f"/uploads/{upload_id}")).text()
        assert 'id="missing"' in page and "Guðrún Jónsdóttir" in page
        resp = await client.post(
            f"/uploads/{upload_id}/mapping",
            json={"columns": {"Nafn": "displayName", "Netfang": "emailAddress",
                              "Farsími": "phone.mobile"}},
            headers={**JSON, "X-CSRF-Token": await csrf_token(client)})
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert (body["valid"], body["invalid"], body["missing"]) == (2, 0, "")
        run = await (await start(client, upload_id)).json()
        status = await wait_finished(client, run["run_id"])
        assert status["state"] == "finished", status
        assert sorted((c["displayName"], c["emailAddress"], c["phones"][0]["number"])
                      for c in emu.emulator.customers(BIZ)) == [
            ("Guðrún Jónsdóttir", "gudrun@example.is", "+3546112345"),
            ("Þórður Ólafsson", "thordur@example.is", "+3548223456")]


async def test_the_upload_form_accepts_the_other_workbook_formats(tmp_path: Path) -> None:
    xls = (Path(__file__).parent / "fixtures" / "customers.xls").read_bytes()
    async with open_client(make_config(tmp_path)) as client:
        form = aiohttp.FormData()
        form.add_field("csrf_token", await csrf_token(client))
        form.add_field("file", xls, filename="customers.xls")
        resp = await client.post("/uploads", data=form, headers=JSON)
        assert resp.status == 201, await resp.text()
        preview = (await resp.json())["preview"]
        assert (preview["kind"], preview["sheet"], preview["valid"]) == ("xls", "Customers", 2)
