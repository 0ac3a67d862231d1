"""The page shows how a file is read (its encoding, the phone region and why) and lets the
person change both before the import; a file two code pages fit asks which one it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from importer.config import Config, parse_config
from importer.emulator import EmulatorSettings, running_emulator
from tests.test_web import BIZ, JSON, TOKEN, csrf_token, open_client, upload

ITALIAN = ("Nome;Cognome;Email;Cellulare;Città\r\nNiccolò;Füssli;n@x.it;347 765 4321;Forlì\r\n"
           "Benedetta;Cantù;b@x.it;333 123 4567;Cefalù\r\n").encode("cp1252")
FRENCH = "Name\r\nHélène Lefèvre\r\n".encode("cp1252")  # as much cp1250 "Hélčne Lefčvre"


def config(tmp_path: Path, url: str = "http://127.0.0.1:9", **mapping: str) -> Config:
    return parse_config({
        "graph": {"base_url": url, "business_id": BIZ},
        "mapping": mapping,
        "limits": {"timeout": 5, "max_backoff": 0.2},
        "report": {"dir": str(tmp_path / "runs")},
        "state": {"dir": str(tmp_path / "state")},
    })


async def test_the_page_shows_the_encoding_and_the_region_and_why(tmp_path: Path) -> None:
    async with open_client(config(tmp_path, default_region="")) as client:
        resp = await upload(client, "clienti.csv", ITALIAN)
        assert resp.status == 201
        body = await resp.json()
        assert body["preview"]["encoding"] == "cp1252"
        assert body["preview"]["phone_region"]["region"] == "IT"
        page = await (await client.get(f"/uploads/{body['upload_id']}")).text()
        assert re.search(r"Text read as <b>cp1252</b> \(detected from \d+ words\)", page)
        assert ("phones without a country code are read as Italy (+39): the sheet&#x27;s "
                "headers are Italian") in page
        assert '<select name="encoding" id="encoding">' in page  # not UTF-8: a choice
        assert f'action="/uploads/{body["upload_id"]}/reading"' in page


async def test_the_person_changes_the_region_before_the_import(tmp_path: Path) -> None:
    async with open_client(config(tmp_path)) as client:
        body = await (await upload(client, "clienti.csv", ITALIAN)).json()
        token = await csrf_token(client)
        resp = await client.post(f"/uploads/{body['upload_id']}/reading",
                                 data={"csrf_token": token, "encoding": "", "region": "ch"},
                                 allow_redirects=False)
        assert resp.status == 303
        preview = await (await client.get(f"/uploads/{body['upload_id']}/preview.json")).json()
        assert preview["phone_region"]["region"] == "CH"
        assert preview["phone_region"]["source"] == "config"
        # The sheet says Italy: every number read in Switzerland says so.
        assert "headers are Italian" in preview["phone_region"]["conflict"]
        bad = await client.post(f"/uploads/{body['upload_id']}/reading",
                                data={"csrf_token": token, "region": "Q1"})
        assert bad.status == 400


async def test_a_file_two_code_pages_fit_asks_which_then_reads_it(tmp_path: Path) -> None:
    async with open_client(config(tmp_path, default_region="FR")) as client:
        resp = await upload(client, "clients.csv", FRENCH, headers={"Accept": "text/html"})
        assert resp.status == 200  # followed to the page that asks
        page = await resp.text()
        assert "Which encoding is clients.csv in?" in page
        assert "cannot tell which encoding" in page and "cp1250" in page
        upload_id = re.search(r'action="/uploads/([^/]+)/reading"', page).group(1)
        started = await client.post(f"/uploads/{upload_id}/start",
                                    data={"csrf_token": await csrf_token(client)})
        assert started.status == 409  # nothing is imported before the encoding is chosen
        resp = await client.post(f"/uploads/{upload_id}/reading",
                                 data={"csrf_token": await csrf_token(client),
                                       "encoding": "cp1252"}, headers=JSON)
        preview = await resp.json()
        assert resp.status == 200
        assert preview["encoding"] == "cp1252"
        assert preview["samples"][0]["body"]["displayName"] == "Hélène Lefèvre"


@pytest.mark.parametrize(("country", "number", "e164"), [
    ("Italy", "347 765 4321", "+393477654321"), ("Mexico", "55 1234 5678", "+525512345678")])
async def test_the_page_preview_reads_numbers_in_the_business_country(
        tmp_path: Path, country: str, number: str, e164: str) -> None:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Studio"},
                                business_addresses={BIZ: {"countryOrRegion": country}})
    async with running_emulator(settings) as emu:
        from importer.signin import StaticToken

        async with open_client(config(tmp_path, emu.url), tokens=StaticToken(TOKEN)) as client:
            sheet = f"Name,Email,Mobile\r\nAnn Lee,ann@gmail.com,{number}\r\n".encode()
            body = await (await upload(client, "c.csv", sheet)).json()
            preview = body["preview"]
            assert preview["phone_region"]["source"] == "business"
            assert preview["samples"][0]["body"]["phones"][0]["number"] == e164
