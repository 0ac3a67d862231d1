"""The emulator's files API (SharePoint, OneDrive), over real sockets with a plain aiohttp client."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from yarl import URL

from importer.emulator import EmulatorSettings, FaultRule, running_emulator
from tests.test_emulator import TOKEN, Api

SITE = "https://contoso.sharepoint.com/sites/Front/Shared%20Documents"


def share(url: str) -> str:
    return "u!" + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        running_emulator(EmulatorSettings(page_size=2)) as server,
        aiohttp.ClientSession(headers=headers) as http,
    ):
        yield Api(server, http)


def files(api: Api) -> Any:
    return api.server.emulator.files


async def get_json(api: Api, path: str, status: int = 200) -> dict[str, Any]:
    async with api.http.get(api.url(path), allow_redirects=False) as resp:
        assert resp.status == status, await resp.text()
        return await resp.json()


async def test_an_items_own_url_and_a_sharing_link_resolve_to_the_same_item(api: Api) -> None:
    drive = files(api).add_drive(SITE)
    item = files(api).put(drive.id, "Customers/customers 2024.csv", b"Name\nAnn\n")
    link = files(api).sharing_link(item)
    own = f"{SITE}/Customers/customers%202024.csv"
    for url in (own, link):
        body = await get_json(api, f"/shares/{share(url)}/driveItem")
        assert body["id"] == item.id and body["name"] == "customers 2024.csv"
        assert body["size"] == 9 and body["file"]["mimeType"] == "text/csv"
        assert body["parentReference"]["driveId"] == drive.id
        assert body["eTag"] and body["lastModifiedDateTime"].endswith("Z")
    folder = await get_json(api, f"/shares/{share(SITE + '/Customers')}/driveItem")
    assert folder["folder"] == {"childCount": 1}
    missing = await get_json(api, f"/shares/{share(SITE + '/nope.csv')}/driveItem", 404)
    assert missing["error"]["code"] == "itemNotFound"


async def test_content_redirects_to_a_second_host_that_refuses_a_bearer_token(api: Api) -> None:
    drive = files(api).add_drive(SITE)
    item = files(api).put(drive.id, "a.csv", b"Name\nAnn\n")
    async with api.http.get(api.url(f"/drives/{drive.id}/items/{item.id}/content"),
                            allow_redirects=False) as resp:
        assert resp.status == 302
        location = resp.headers["Location"]
    assert URL(location).port != URL(api.server.url).port
    async with aiohttp.ClientSession() as bare, bare.get(location) as resp:
        assert resp.status == 200 and await resp.read() == b"Name\nAnn\n"
    async with api.http.get(location) as resp:  # this session sends its token everywhere
        assert resp.status == 401
    assert [d["authorization"] for d in files(api).downloads] == [False, True]


async def test_children_are_paged_and_uploads_make_folders(api: Api) -> None:
    drive = files(api).add_drive(SITE)
    inbox = files(api).folder(drive.id, "Inbox")
    for name in ("a.csv", "b.csv", "c.csv"):
        async with api.http.put(api.url(f"/drives/{drive.id}/items/{inbox.id}:/{name}:/content"),
                                data=b"x") as resp:
            assert resp.status == 201
    async with api.http.put(api.url(f"/drives/{drive.id}/items/{inbox.id}:/run/1/r.csv:/content"),
                            data=b"y") as resp:
        assert resp.status == 201
    names: list[str] = []
    url: str | None = f"{api.server.url}/v1.0/drives/{drive.id}/items/{inbox.id}/children"
    pages = 0
    while url:
        async with api.http.get(url) as resp:
            body = await resp.json()
        names += [i["name"] for i in body["value"]]
        url = body.get("@odata.nextLink")
        pages += 1
    assert names == ["a.csv", "b.csv", "c.csv", "run"] and pages == 2
    assert files(api).by_path(inbox, "run/1/r.csv").content == b"y"
    path = f"/drives/{drive.id}/items/{inbox.id}:/a.csv:/content?@microsoft.graph.conflictBehavior=fail"
    async with api.http.put(api.url(path), data=b"z") as resp:
        assert resp.status == 409 and (await resp.json())["error"]["code"] == "nameAlreadyExists"


async def test_folders_are_made_and_items_moved_with_graphs_refusals(api: Api) -> None:
    drive = files(api).add_drive(SITE)
    inbox = files(api).folder(drive.id, "Inbox")
    item = files(api).put(drive.id, "Inbox/a.csv", b"x")
    new = {"name": "done", "folder": {}, "@microsoft.graph.conflictBehavior": "fail"}
    children = api.url(f"/drives/{drive.id}/items/{inbox.id}/children")
    async with api.http.post(children, json=new) as resp:
        assert resp.status == 201
        done = await resp.json()
    async with api.http.post(children, json=new) as resp:
        assert resp.status == 409 and (await resp.json())["error"]["code"] == "nameAlreadyExists"
    move = {"parentReference": {"id": done["id"]}}
    async with api.http.patch(api.url(f"/drives/{drive.id}/items/{item.id}"), json=move) as resp:
        assert resp.status == 200
        assert (await resp.json())["parentReference"]["path"].endswith("root:/Inbox/done")
    again = files(api).put(drive.id, "Inbox/a.csv", b"x2")
    async with api.http.patch(api.url(f"/drives/{drive.id}/items/{again.id}"), json=move) as resp:
        assert resp.status == 409
    again.locked = True
    move["name"] = "a 2.csv"
    async with api.http.patch(api.url(f"/drives/{drive.id}/items/{again.id}"), json=move) as resp:
        assert resp.status == 423
    await get_json(api, f"/drives/{drive.id}/items/nothing", 404)


async def test_a_site_without_a_grant_or_with_read_only_is_denied(api: Api) -> None:
    closed = files(api).add_drive("https://contoso.sharepoint.com/sites/HR/Shared%20Documents",
                                  access="none")
    files(api).put(closed.id, "a.csv", b"x")
    body = await get_json(api, f"/shares/{share(closed.web_url + '/a.csv')}/driveItem", 403)
    assert body["error"]["code"] == "accessDenied"
    read = files(api).add_drive(SITE, access="read")
    await get_json(api, f"/drives/{read.id}/root/children")
    async with api.http.put(api.url(f"/drives/{read.id}/items/root:/r.csv:/content"),
                            data=b"x") as resp:
        assert resp.status == 403


async def test_faults_apply_to_the_files_calls(api: Api) -> None:
    drive = files(api).add_drive(SITE)
    files(api).put(drive.id, "a.csv", b"x")
    api.server.emulator.set_faults([FaultRule("status_429", first=1, methods=("*",),
                                              path_contains="/shares/", retry_after=0.1),
                                    FaultRule("status_503", first=1, methods=("*",),
                                              path_contains="/children")])
    path = f"/shares/{share(SITE + '/a.csv')}/driveItem"
    async with api.http.get(api.url(path)) as resp:
        assert resp.status == 429 and resp.headers["Retry-After"] == "0.1"
    await get_json(api, path)
    await get_json(api, f"/drives/{drive.id}/root/children", 503)
    await get_json(api, f"/drives/{drive.id}/root/children")


async def test_files_calls_need_a_token(api: Api) -> None:
    drive = files(api).add_drive(SITE)
    async with aiohttp.ClientSession() as bare, bare.get(
            api.url(f"/drives/{drive.id}/root/children")) as resp:
        assert resp.status == 401


async def test_the_admin_endpoint_stores_files_for_another_process() -> None:
    settings = EmulatorSettings(libraries=("https://contoso.sharepoint.com/sites/S/Docs",))
    async with running_emulator(settings) as server, aiohttp.ClientSession() as http:
        body = {"library": SITE, "path": "Inbox/a.csv", "content": base64.b64encode(b"x").decode()}
        async with http.post(f"{server.url}/_emulator/files", json=body) as resp:
            assert resp.status == 200
            made = await resp.json()
        assert made["webUrl"] == f"{SITE}/Inbox/a.csv"
        files = server.emulator.files
        assert files.resolve(made["sharingLink"]).id == made["id"]
        library = files.resolve("https://contoso.sharepoint.com/sites/S/Docs")
        assert [i.name for i in files.children(library)] == ["Backups", "Inbox", "Reports"]
        async with http.post(f"{server.url}/_emulator/files", json={"path": "x"}) as resp:
            assert resp.status == 400


async def test_the_client_follows_a_next_page_only_on_the_graph_root(api: Api) -> None:
    from importer.config import Config
    from importer.drive import DriveClient, DriveItem
    from importer.errors import ServiceRefused
    from importer.send import GraphClient
    from importer.signin import StaticToken

    drive = files(api).add_drive(SITE)
    for name in ("a.csv", "b.csv", "c.csv"):
        files(api).put(drive.id, f"In/{name}", b"x")
    folder = files(api).folder(drive.id, "In")
    client = DriveClient(GraphClient(api.http, api.server.url, "v1.0", StaticToken(TOKEN)),
                         Config())
    item = DriveItem(drive.id, folder.id, "In", 0, "", "", True)
    assert [i.name for i in await client.children(item, "In")] == ["a.csv", "b.csv", "c.csv"]
    elsewhere = api.server.download_url  # another host: the token must not go there
    import importer.emulator.drives as drives

    real = drives._children

    def next_elsewhere(*args: Any) -> Any:
        outcome = real(*args)
        if isinstance(outcome.body, dict) and "@odata.nextLink" in outcome.body:
            outcome.body["@odata.nextLink"] = f"{elsewhere}/v1.0/steal"
        return outcome

    drives._children = next_elsewhere
    try:
        with pytest.raises(ServiceRefused, match="another host"):
            await client.children(item, "In")
    finally:
        drives._children = real
    assert not files(api).downloads


async def test_an_upload_session_tells_the_ranges_it_still_expects(api: Api) -> None:
    """GET of a session URL (no token) names nextExpectedRanges; a lost answer (the range
    kept) makes the same range a 416; once the last range made the file, the URL is 404."""
    drive = files(api).add_drive(SITE)
    async with api.http.post(api.url(f"/drives/{drive.id}/root:/big.bin:/createUploadSession"),
                             json={}) as resp:
        assert resp.status == 200
        upload = (await resp.json())["uploadUrl"]
    files(api).downloads.clear()
    api.server.emulator.set_faults([FaultRule("drop_after_create", first=1, methods=("PUT",),
                                              path_contains="/_upload/")])
    async with aiohttp.ClientSession() as bare:
        async with bare.get(upload) as resp:
            assert (resp.status, (await resp.json())["nextExpectedRanges"]) == (200, ["0-"])
        # The range is kept, then the connection drops; aiohttp sends a PUT again by itself
        # on a dropped connection, and that finds the range already there.
        async with bare.put(upload, data=b"abcd", headers={"Content-Range": "bytes 0-3/6"}) as r:
            assert r.status == 416
        async with bare.get(upload) as resp:
            body = await resp.json()
            assert (resp.status, body["nextExpectedRanges"]) == (200, ["4-"])
            assert body["expirationDateTime"].endswith("Z")
        async with bare.put(upload, data=b"ef", headers={"Content-Range": "bytes 4-5/6"}) as r:
            assert r.status == 201 and (await r.json())["size"] == 6
        async with bare.get(upload) as resp:
            assert resp.status == 404
    async with api.http.get(upload) as resp:  # a token is refused there
        assert resp.status == 401
    assert [d.get("dropped", False) for d in files(api).downloads if "method" not in d] == [
        True, False, False]  # the dropped PUT, aiohttp's own resend (416), the last range
