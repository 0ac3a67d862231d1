"""A file without a header row on the upload page, at the HTTP level: detected and read with
its first row as a customer, its columns mapped by letter, every row imported, and the
[columns] snippet that imports the same file the same way on the command line."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from importer.cli import main
from importer.emulator import EmulatorSettings, RunningEmulator, running_emulator
from tests.test_web import (
    BIZ,
    JSON,
    STATE,
    TOKEN,
    csrf_token,
    make_config,
    open_client,
    start,
    upload,
    wait_finished,
)

# A second business for the same file imported from the command line.
CLI_BIZ = "fabrikam@contoso.onmicrosoft.com"
HEADERLESS = (b"Ann Lee,ann.lee@contoso.com,+1 206 555 0100\n"
              b"Bo Kim,bo.kim@contoso.com,+1 425 555 0199\n"
              b"Cy Diaz,cy.diaz@contoso.com,+1 312 555 0142\n")
BY_LETTER = {"A": "displayName", "B": "emailAddress", "C": "phone.mobile"}


@pytest.fixture
async def emu() -> AsyncIterator[RunningEmulator]:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Contoso", CLI_BIZ: "Fabrikam"},
                                retry_after=0.05)
    async with running_emulator(settings) as server:
        yield server


async def uploaded(client: Any, data: bytes = HEADERLESS) -> dict[str, Any]:
    resp = await upload(client, "list.csv", data)
    assert resp.status == 201, await resp.text()
    return dict(await resp.json())


def mapping_form(token: str, fields: dict[str, str], *, first_row: bool = True) -> dict[str, str]:
    """The page's form, as the browser sends it: the box, when ticked, and a field per column."""
    form = {"csrf_token": token, **{f"field-{i}": fields[c] for i, c in enumerate(fields)}}
    return {**form, "first-row": "customer"} if first_row else form


def snippet_of(page: str) -> str:
    found = re.search(r'<pre id="columns-snippet">(.*?)</pre>', page, re.S)
    assert found, page
    return found.group(1).replace("&quot;", '"')


async def test_a_header_less_upload_is_read_with_its_first_row_as_a_customer(
        tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path)) as client:
        body = await uploaded(client)
        preview = body["preview"]
        # Read again without a header row: the columns are letters, nothing mapped yet, and
        # the first row's values are among the samples.
        assert [c["header"] for c in preview["columns"]] == ["A", "B", "C"]
        assert all(c["field"] is None for c in preview["columns"])
        assert preview["column_samples"][0] == ["Ann Lee", "Bo Kim", "Cy Diaz"]
        assert preview["column_samples"][1][0] == "ann.lee@contoso.com"
        assert (preview["header_row"], preview["rows"]) == (0, 3)
        assert "no column for the customer's name" in preview["missing"]
        upload_id = body["upload_id"]
        page = await (await client.get(f"/uploads/{upload_id}")).text()
        box = re.search(r'<input type="checkbox" name="first-row" value="customer" '
                        r'id="first-row"( checked)?>', page)
        assert box and box.group(1), "the box is ticked: it was detected"
        assert "The first row is a customer, not headers" in page
        for i, letter in enumerate("ABC"):
            assert f'<label for="field-{i}">{letter}</label>' in page
        assert "ann.lee@contoso.com" in page and "no header row: every row is a customer" in page
        assert tomllib.loads(snippet_of(page))["input"] == {"header": False}
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        assert preview["header"] is False


async def test_the_columns_are_mapped_by_letter_and_every_row_is_imported(
        tmp_path: Path, emu: RunningEmulator) -> None:
    async with open_client(make_config(tmp_path, emu.url)) as client:
        upload_id = (await uploaded(client))["upload_id"]
        resp = await client.post(f"/uploads/{upload_id}/mapping",
                                 data=mapping_form(await csrf_token(client), BY_LETTER),
                                 allow_redirects=False)
        assert resp.status == 303, await resp.text()
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        assert (preview["valid"], preview["invalid"], preview["missing"]) == (3, 0, "")
        assert [s["row"] for s in preview["samples"]] == [1, 2, 3]
        assert tomllib.loads(preview["columns_snippet"]) == {"input": {"header": False},
                                                             "columns": BY_LETTER}
        page = await (await client.get(f"/uploads/{upload_id}")).text()
        assert "Import the 3 valid rows" in page
        run = await (await start(client, upload_id)).json()
        status = await wait_finished(client, run["run_id"])
        assert status["state"] == "finished", status
        assert sorted((c["displayName"], c["emailAddress"], c["phones"][0]["number"])
                      for c in emu.emulator.customers(BIZ)) == [
            ("Ann Lee", "ann.lee@contoso.com", "+12065550100"),
            ("Bo Kim", "bo.kim@contoso.com", "+14255550199"),
            ("Cy Diaz", "cy.diaz@contoso.com", "+13125550142")]


async def test_the_snippet_imports_the_same_file_the_same_way_on_the_command_line(
        tmp_path: Path, emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    async with open_client(make_config(tmp_path, emu.url)) as client:
        upload_id = (await uploaded(client))["upload_id"]
        token = await csrf_token(client)
        chosen = {"A": "displayName", "B": "ignore", "C": "phone.home"}
        await client.post(f"/uploads/{upload_id}/mapping", data=mapping_form(token, chosen))
        page = await (await client.get(f"/uploads/{upload_id}")).text()
        run = await (await start(client, upload_id)).json()
        assert (await wait_finished(client, run["run_id"]))["state"] == "finished"
    source = tmp_path / "list.csv"
    source.write_bytes(HEADERLESS)
    config = tmp_path / "cli.toml"
    config.write_text(f"""{snippet_of(page)}
[graph]
base_url = "{emu.url}"
business_id = "{CLI_BIZ}"

[auth]
mode = "token"
token_env = "WEB_HEADERLESS_TOKEN"

[mapping]
default_region = "US"

[state]
dir = "{tmp_path / 'cli-state'}"
""", encoding="utf-8")
    monkeypatch.setenv("WEB_HEADERLESS_TOKEN", TOKEN)
    # The command line runs its own event loop; the emulator answers from this one.
    code = await asyncio.to_thread(main, ["run", str(source), "--config", str(config),
                                          "--out", str(tmp_path / "cli-out"), "--quiet"])
    assert code == 0

    def bodies(business: str) -> list[dict[str, Any]]:
        return sorted(({k: v for k, v in c.items() if k != "id" and not k.endswith("DateTime")}
                       for c in emu.emulator.customers(business)), key=lambda c: c["displayName"])

    assert len(bodies(BIZ)) == 3
    assert bodies(CLI_BIZ) == bodies(BIZ)
    assert [c["phones"][0]["type"] for c in bodies(BIZ)] == ["home"] * 3
    assert not any(c.get("emailAddress") for c in bodies(BIZ))


async def test_the_choice_can_be_undone_and_made_again(tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path)) as client:
        upload_id = (await uploaded(client))["upload_id"]
        token = await csrf_token(client)
        # Untick: the first row is read as the header again; the person's choice is kept.
        resp = await client.post(f"/uploads/{upload_id}/mapping", data=mapping_form(
            token, {"A": "ignore", "B": "ignore", "C": "ignore"}, first_row=False))
        assert resp.status == 200
        page = await resp.text()
        assert '<label for="field-1">ann.lee@contoso.com</label>' in page
        assert 'id="first-row">' in page, "not ticked: the person said so"
        assert "tick \"The first row is a customer, not headers\"" in page
        assert "[input]" not in snippet_of(page)
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        assert (preview["header"], preview["header_is_data"], preview["rows"]) == (True, True, 2)
        # Tick it again: letters, nothing mapped (the selects named other columns).
        resp = await client.post(f"/uploads/{upload_id}/mapping", data=mapping_form(
            token, {"a": "displayName", "b": "ignore", "c": "ignore"}))
        assert resp.status == 200
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        assert preview["columns"] == [{"header": c, "field": None} for c in "ABC"]
        assert preview["rows"] == 3


async def test_a_script_chooses_the_header_row_and_the_letters(tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path)) as client:
        upload_id = (await uploaded(client))["upload_id"]
        headers = {**JSON, "X-CSRF-Token": await csrf_token(client)}
        url = f"/uploads/{upload_id}/mapping"
        resp = await client.post(url, json={"header": True}, headers=headers)
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["header"] is True
        # Back without a header row, mapped by letter in the same request.
        resp = await client.post(url, json={"header": False, "columns": BY_LETTER},
                                 headers=headers)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert (body["header"], body["valid"], body["rows"]) == (False, 3, 3)
        assert tomllib.loads(body["columns_snippet"])["columns"] == BY_LETTER
        # Then one letter at a time, as any column.
        resp = await client.post(url, json={"columns": {"C": "ignore"}}, headers=headers)
        assert {"header": "C", "field": None} in (await resp.json())["columns"]
        for refused, message in (
                ({"header": "no"}, '"header": false for a file without a header row'),
                ({"header": True, "columns": {"A": "<b>"}}, "'<b>' is not a customer field"),
                ({"header": True, "columns": {"Z": "displayName"}}, "'Z'")):
            resp = await client.post(url, json=refused, headers=headers)
            assert resp.status == 400, refused
            assert message in (await resp.json())["error"]
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        assert (preview["header"], preview["valid"]) == (False, 3)  # none of those was kept


async def test_the_choice_needs_the_session_token(tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path)) as client:
        upload_id = (await uploaded(client))["upload_id"]
        for token in ("", "0" * 64):
            resp = await client.post(f"/uploads/{upload_id}/mapping", data=mapping_form(
                token, {"A": "ignore", "B": "ignore", "C": "ignore"}, first_row=False))
            assert resp.status == 403
        resp = await client.post(f"/uploads/{upload_id}/mapping", json={"header": True},
                                 headers={**JSON, "Origin": "https://evil.example"})
        assert resp.status == 403
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        assert (preview["header"], preview["rows"]) == (False, 3)


async def test_the_choice_is_read_through_the_one_gate(tmp_path: Path) -> None:
    """While a workbook is being read and nobody may wait, neither the detection's second read
    nor a changed choice is read beside it."""
    async with open_client(make_config(tmp_path), max_waiting_previews=0) as client:
        upload_id = (await uploaded(client))["upload_id"]
        token = await csrf_token(client)
        reading = client.app[STATE].reading  # type: ignore[index]
        await reading.acquire()  # a big workbook is being read
        try:
            form = await client.post(f"/uploads/{upload_id}/mapping", data=mapping_form(
                token, {"A": "ignore", "B": "ignore", "C": "ignore"}, first_row=False))
            assert form.status == 503 and form.headers["Retry-After"]
            script = await client.post(f"/uploads/{upload_id}/mapping", json={"header": True},
                                       headers={**JSON, "X-CSRF-Token": token})
            assert script.status == 503
        finally:
            reading.release()
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        assert (preview["header"], preview["rows"]) == (False, 3)


async def test_a_busy_second_read_leaves_the_first_preview_and_the_box_ticked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The detection's read again waits at the gate like any: refused there, the upload keeps
    its first preview, and the box is offered ticked."""
    from importer.web import gate as web_app

    async with open_client(make_config(tmp_path), max_waiting_previews=0) as client:
        state = client.app[STATE]  # type: ignore[index]
        reads: list[bool] = []
        first = web_app.read_preview

        async def read_then_hold(*args: Any, **kwargs: Any) -> Any:
            answer = await first(*args, **kwargs)
            reads.append(True)
            if len(reads) == 1:
                await state.reading.acquire()  # another upload is read meanwhile
            return answer

        monkeypatch.setattr(web_app, "read_preview", read_then_hold)
        try:
            body = await uploaded(client)
        finally:
            state.reading.release()
        assert body["preview"]["header_is_data"] is True
        assert len(reads) == 1, "the second read was refused at the gate"
        page = await (await client.get(f"/uploads/{body['upload_id']}")).text()
        assert 'id="first-row" checked>' in page
        assert '<label for="field-1">ann.lee@contoso.com</label>' in page
        token = await csrf_token(client)
        resp = await client.post(f"/uploads/{body['upload_id']}/mapping", data=mapping_form(
            token, {"x": "ignore", "y": "ignore", "z": "ignore"}))
        assert resp.status == 200
        preview = await (await client.get(f"/uploads/{body['upload_id']}/preview.json")).json()
        assert (preview["header"], preview["rows"]) == (False, 3)


async def test_a_config_without_a_header_row_is_the_page_s_own(tmp_path: Path) -> None:
    """Served with [input] header = false and letters in [columns]: the file is mapped by them
    and the box is ticked; unticked, the letters do not apply; ticked again, they do."""
    config = make_config(tmp_path).replace("input", header=False)
    config = dataclasses.replace(config, columns=dict(BY_LETTER))
    async with open_client(config) as client:
        body = await uploaded(client)
        assert (body["header"], body["preview"]["valid"]) == (False, 3)
        upload_id = body["upload_id"]
        page = await (await client.get(f"/uploads/{upload_id}")).text()
        assert 'id="first-row" checked>' in page
        token = await csrf_token(client)
        resp = await client.post(f"/uploads/{upload_id}/mapping", data=mapping_form(
            token, BY_LETTER, first_row=False))
        assert resp.status == 200, await resp.text()
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        assert (preview["header"], preview["rows"], preview["valid"]) == (True, 2, 0)
        resp = await client.post(f"/uploads/{upload_id}/mapping", data=mapping_form(
            token, {"x": "ignore", "y": "ignore", "z": "ignore"}))
        preview = await (await client.get(f"/uploads/{upload_id}/preview.json")).json()
        assert (preview["header"], preview["rows"], preview["valid"]) == (False, 3, 3)


# As much cp1250 ("Hélčne Lefčvre") as cp1252: the page asks which, then reads it.
UNDECIDED = "Hélène Lefèvre,helene@contoso.fr\r\nAndré Bonnard,andre@contoso.fr\r\n".encode("cp1252")


async def test_a_header_less_file_whose_encoding_is_chosen_is_read_so_too(
        tmp_path: Path) -> None:
    async with open_client(make_config(tmp_path)) as client:
        resp = await upload(client, "clients.csv", UNDECIDED)
        assert resp.status == 400, await resp.text()
        body = await resp.json()
        assert "cannot tell which encoding" in body["error"]
        resp = await client.post(body["reading_url"], data={
            "csrf_token": await csrf_token(client), "encoding": "cp1252"}, headers=JSON)
        assert resp.status == 200, await resp.text()
        preview = await resp.json()
        assert (preview["header"], preview["rows"]) == (False, 2)
        assert preview["column_samples"][0] == ["Hélène Lefèvre", "André Bonnard"]
