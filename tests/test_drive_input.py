"""A file on SharePoint or OneDrive as the input: run, preview, init and the API, end to end."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer import api
from importer.cli import main
from importer.emulator import EmulatorSettings, FaultRule
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread
from tests.test_cli import (
    BIZ,
    SAMPLE_DUPLICATE,
    SAMPLE_INVALID,
    SAMPLE_VALID,
    SAMPLES,
    TOKEN,
    read_csv,
    write_config,
)

LIBRARY = "https://contoso.sharepoint.com/sites/Front/Shared%20Documents"
FILE_URL = f"{LIBRARY}/Customers/customers%20list.xlsx"


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={BIZ: "Contoso"}, retry_after=0.05)
    with emulator_in_thread(settings) as server:
        yield server


@pytest.fixture(autouse=True)
def private_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary copies land here, so a test can see that none is left behind."""
    monkeypatch.setenv("E2E_TOKEN", TOKEN)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


def put_sample(emu: ThreadedEmulator, access: str = "write"):  # type: ignore[no-untyped-def]
    files = emu.emulator.files
    drive = emu.call(lambda: files.add_drive(LIBRARY, access=access))
    data = (SAMPLES / "customers.xlsx").read_bytes()
    return drive, emu.call(files.put, drive.id, "Customers/customers list.xlsx", data)


@pytest.mark.parametrize("kind", ["own URL", "sharing link"])
def test_a_run_reads_the_file_through_graph_and_records_where_it_came_from(
        emu: ThreadedEmulator, tmp_path: Path, private_temp: Path, kind: str) -> None:
    _, item = put_sample(emu)
    url = (FILE_URL if kind == "own URL"
           else emu.call(emu.emulator.files.sharing_link, item) + "?e=Xy12Ab")
    config = write_config(tmp_path / "c.toml", emu.url)
    out = tmp_path / "run"
    assert main(["run", url, "--config", str(config), "--out", str(out), "--quiet"]) == 1
    assert len(emu.emulator.customers(BIZ)) == SAMPLE_VALID
    statuses = [r["status"] for r in read_csv(out / "results.csv")]
    assert statuses.count("created") == SAMPLE_VALID
    assert len(statuses) == SAMPLE_VALID + SAMPLE_DUPLICATE + SAMPLE_INVALID
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    source = summary["input"]["source"]
    assert summary["input"]["path"] == url and summary["input"]["name"] == "customers list.xlsx"
    assert source["url"] == url and source["item_id"] == item.id
    assert source["etag"] == f'"{{{item.id}}},{item.version}"'
    assert source["last_modified"] == item.modified
    downloads = emu.emulator.files.downloads
    assert downloads and not any(d["authorization"] for d in downloads)
    assert list(private_temp.iterdir()) == [], "the temporary copy is removed"
    # The failures file of the run is an input as before.
    assert (out / "failures.xlsx").is_file()


def test_faults_on_the_file_calls_leave_every_row_imported_once(
        emu: ThreadedEmulator, tmp_path: Path) -> None:
    put_sample(emu)
    emu.call(emu.emulator.set_faults, [
        FaultRule("status_429", first=2, methods=("*",), path_contains="/shares/",
                  retry_after=0.01),
        FaultRule("status_503", first=1, methods=("*",), path_contains="/content"),
        FaultRule("status_503", first=1, methods=("*",), path_contains="/_download/"),
        FaultRule("reset_before", first=1, methods=("POST",), path_contains="/customers"),
    ])
    config = write_config(tmp_path / "c.toml", emu.url)
    for n in (1, 2):  # the second run finds every customer there already
        assert main(["run", FILE_URL, "--config", str(config), "--quiet",
                     "--out", str(tmp_path / f"run{n}")]) == 1
    assert len(emu.emulator.customers(BIZ)) == SAMPLE_VALID
    assert emu.emulator.counters.faults["status_503"] == 1  # /content
    assert [d["status"] for d in emu.emulator.files.downloads] == [503, 200, 200]
    assert not any(d["authorization"] for d in emu.emulator.files.downloads)


@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        ("a folder", 2, "this is a folder, not a file"),
        ("too big", 2, "over the limit of"),
        ("no access", 3, "Sites.Selected with a read grant"),
        ("not found", 2, "not found (HTTP 404 itemNotFound)"),
        ("plain http redirect", 2, "only https is followed"),
        ("plain http URL", 2, "only https:// is accepted"),
    ],
)
def test_refusals_are_one_line_and_nothing_is_sent(
        emu: ThreadedEmulator, tmp_path: Path, private_temp: Path,
        capsys: pytest.CaptureFixture[str], case: str, code: int, words: str) -> None:
    put_sample(emu, access="none" if case == "no access" else "write")
    url = {"a folder": f"{LIBRARY}/Customers", "not found": f"{LIBRARY}/nope.xlsx",
           "plain http URL": "http://contoso.sharepoint.com/sites/Front/a.xlsx"}.get(case, FILE_URL)
    extra = "max_download_mb = 0.001\n" if case == "too big" else ""
    if case == "plain http redirect":
        emu.emulator.download_base = "http://downloads.contoso.invalid"
    config = write_config(tmp_path / "c.toml", emu.url, extra=extra)
    assert main(["run", url, "--config", str(config), "--out", str(tmp_path / "run")]) == code
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1, err
    assert "Traceback" not in err and TOKEN not in err
    assert emu.emulator.customers(BIZ) == []
    assert emu.emulator.files.downloads == [] and list(private_temp.iterdir()) == []
    assert not (tmp_path / "run").exists()


def test_preview_init_and_the_api_take_the_url(emu: ThreadedEmulator, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               private_temp: Path) -> None:
    put_sample(emu)
    config = write_config(tmp_path / "c.toml", emu.url)
    assert main(["preview", FILE_URL, "--config", str(config)]) == 1
    shown = capsys.readouterr().out
    assert FILE_URL in shown and str(private_temp) not in shown
    starter = tmp_path / "starter.toml"
    assert main(["init", FILE_URL, "--config", str(config), "--output", str(starter)]) == 0
    assert "Customer name" in starter.read_text(encoding="utf-8")
    assert main(["init", FILE_URL, "--output", str(tmp_path / "x.toml")]) == 2
    preview = api.preview(FILE_URL, config)
    assert preview.path == FILE_URL
    outcome = api.run(FILE_URL, config, out_dir=tmp_path / "api")
    assert outcome.counts["created"] == SAMPLE_VALID
    assert list(private_temp.iterdir()) == []


def download(emu: ThreadedEmulator, folder: str, path: str) -> bytes:
    files = emu.emulator.files
    drive = next(iter(files.drives.values()))
    item = files.by_path(files.folder(drive.id, folder), path)
    assert item.content is not None
    return item.content


def test_reports_go_to_a_folder_url_and_failures_xlsx_round_trips_from_there(
        emu: ThreadedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from openpyxl import load_workbook

    drive, _ = put_sample(emu)
    emu.call(emu.emulator.files.folder, drive.id, "Reports")
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path / "c.toml", emu.url)
    emu.call(emu.emulator.set_faults, [FaultRule("status_503", every=2, methods=("PUT",),
                                                 path_contains="/content")])
    assert main(["run", FILE_URL, "--config", str(config), "--out", f"{LIBRARY}/Reports"]) == 1
    printed = capsys.readouterr().out
    local = next((tmp_path / "runs").iterdir())
    assert f"reports uploaded to {LIBRARY}/Reports/{local.name}" in printed
    uploaded = {p.relative_to(local).as_posix(): p.read_bytes() for p in local.rglob("*")
                if p.is_file()}
    assert {"results.csv", "failures.xlsx", "summary.json"} <= set(uploaded)
    for rel, data in uploaded.items():
        assert download(emu, "Reports", f"{local.name}/{rel}") == data
    summary = json.loads(uploaded["summary.json"])
    assert summary["reports"] == {"local": str(local), "url": f"{LIBRARY}/Reports/{local.name}",
                                  "uploaded": True}
    # Someone fixes the failures in Excel for the web and runs the file from its URL.
    book = load_workbook(io.BytesIO(download(emu, "Reports", f"{local.name}/failures.xlsx")))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    email = header.index("Email")
    name = header.index("Customer name")
    fixed = 0
    for n, row in enumerate(sheet.iter_rows(min_row=2), start=1):
        row[email].value = f"fixed{n}@contoso.com"
        row[name].value = row[name].value or f"Fixed {n}"
        fixed += 1
    data = io.BytesIO()
    book.save(data)
    emu.call(emu.emulator.files.put, drive.id, f"Reports/{local.name}/failures.xlsx",
             data.getvalue())
    before = len(emu.emulator.customers(BIZ))
    url = f"{LIBRARY}/Reports/{local.name}/failures.xlsx"
    assert main(["run", url, "--config", str(config), "--out", str(tmp_path / "fix"),
                 "--quiet"]) == 0
    assert len(emu.emulator.customers(BIZ)) == before + fixed == SAMPLE_VALID + SAMPLE_INVALID


def test_a_failed_upload_keeps_the_local_reports_and_says_where_they_are(
        emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    drive, _ = put_sample(emu)
    emu.call(emu.emulator.files.folder, drive.id, "Reports")
    emu.call(emu.emulator.set_faults, [FaultRule("status_503", methods=("PUT",),
                                                 path_contains=":/content")])
    config = write_config(tmp_path / "c.toml", emu.url)
    code = main(["run", FILE_URL, "--config", str(config), "--out", f"{LIBRARY}/Reports"])
    assert code == 1  # the run's own outcome: some rows invalid
    err = capsys.readouterr().err
    assert "reports not uploaded" in err and "HTTP 503" in err
    local = next((tmp_path / "runs").iterdir())
    summary = json.loads((local / "summary.json").read_text(encoding="utf-8"))
    assert summary["reports"]["uploaded"] is False and summary["reports"]["local"] == str(local)
    assert len(emu.emulator.customers(BIZ)) == SAMPLE_VALID
    puts = [r for r in emu.emulator.request_log if r.method == "PUT"]
    assert len(puts) == 6, "the upload was retried as often as [limits] max_attempts says"


def test_a_report_folder_that_cannot_be_written_is_refused_before_anything_is_sent(
        emu: ThreadedEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    put_sample(emu)
    read_only = emu.call(lambda: emu.emulator.files.add_drive(
        "https://contoso.sharepoint.com/sites/Office/Shared%20Documents", access="read"))
    config = write_config(tmp_path / "c.toml", emu.url)
    assert main(["run", FILE_URL, "--config", str(config), "--out", read_only.web_url]) == 3
    err = capsys.readouterr().err.strip()
    assert "Sites.Selected with a write grant" in err and len(err.splitlines()) == 1
    assert emu.emulator.customers(BIZ) == [] and not (tmp_path / "runs").exists()


def test_the_sandbox_has_a_library_to_upload_reports_to(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from importer.emulator import SANDBOX_LIBRARY

    monkeypatch.chdir(tmp_path)
    code = main(["run", str(SAMPLES / "customers.csv"), "--sandbox", "--quiet",
                 "--out", f"{SANDBOX_LIBRARY}/Reports"])
    assert code == 1  # the samples hold invalid rows on purpose
    local = next((tmp_path / "runs").iterdir())
    assert f"reports uploaded to {SANDBOX_LIBRARY}/Reports/{local.name}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "local"),
    [("customers list.xlsx", "customers list.xlsx"), ("..", "input"), ("", "input"),
     ("../../x.csv", "_.._x.csv"), ("a\\..\\b.xlsx", "a_.._b.xlsx"), ("x" * 300 + ".csv", "input.csv")],
)
def test_the_temporary_copy_stays_in_its_folder_whatever_the_name(name: str, local: str) -> None:
    from importer.drive.fetch import local_name

    assert local_name(name) == local


def test_init_from_a_url_writes_it_as_the_input(emu: ThreadedEmulator, tmp_path: Path) -> None:
    from importer.config import load_config

    put_sample(emu)
    config = write_config(tmp_path / "c.toml", emu.url)
    starter = tmp_path / "starter.toml"
    assert main(["init", FILE_URL, "--config", str(config), "--output", str(starter)]) == 0
    assert load_config(starter).files.input == FILE_URL


def test_large_reports_go_up_in_an_upload_session_without_the_token(
        emu: ThreadedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importer.drive.client as drive_client

    monkeypatch.setattr(drive_client, "SIMPLE_UPLOAD_MAX", 100)  # every report file is "large"
    monkeypatch.setattr(drive_client, "UPLOAD_RANGE", 700)
    monkeypatch.chdir(tmp_path)
    drive, _ = put_sample(emu)
    emu.call(emu.emulator.files.folder, drive.id, "Reports")
    emu.call(emu.emulator.set_faults, [FaultRule("status_503", every=3, methods=("PUT",),
                                                 path_contains="/_upload/")])
    config = write_config(tmp_path / "c.toml", emu.url)
    assert main(["run", FILE_URL, "--config", str(config), "--quiet",
                 "--out", f"{LIBRARY}/Reports"]) == 1
    local = next((tmp_path / "runs").iterdir())
    for path in local.rglob("*"):
        if path.is_file():
            rel = path.relative_to(local).as_posix()
            assert download(emu, "Reports", f"{local.name}/{rel}") == path.read_bytes(), rel
    uploads = [d for d in emu.emulator.files.downloads if d.get("upload")]
    assert len(uploads) > 10 and not any(d["authorization"] for d in uploads)
    assert emu.emulator.files.sessions == {}, "every session completed"


@pytest.mark.parametrize("every", [1, 3], ids=["every-answer-lost", "some-answers-lost"])
def test_an_upload_session_resumes_from_what_it_has_after_a_lost_answer(
        emu: ThreadedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        every: int) -> None:
    """The upload host keeps a range, then the connection drops before its answer: sent
    again it is refused (416), or for the last range the session is gone (404, the file
    made). The client asks the session (GET its URL) which ranges it expects and goes on,
    and after a lost last answer finds the file it made; every report arrives whole."""
    import importer.drive.client as drive_client

    monkeypatch.setattr(drive_client, "SIMPLE_UPLOAD_MAX", 100)  # every report file is "large"
    monkeypatch.setattr(drive_client, "UPLOAD_RANGE", 700)
    monkeypatch.chdir(tmp_path)
    drive, _ = put_sample(emu)
    emu.call(emu.emulator.files.folder, drive.id, "Reports")
    emu.call(emu.emulator.set_faults, [FaultRule("drop_after_create", every=every,
                                                 methods=("PUT",), path_contains="/_upload/")])
    config = write_config(tmp_path / "c.toml", emu.url)
    assert main(["run", FILE_URL, "--config", str(config), "--quiet",
                 "--out", f"{LIBRARY}/Reports"]) == 1
    local = next((tmp_path / "runs").iterdir())
    for path in local.rglob("*"):
        if path.is_file():
            rel = path.relative_to(local).as_posix()
            assert download(emu, "Reports", f"{local.name}/{rel}") == path.read_bytes(), rel
    uploads = [d for d in emu.emulator.files.downloads if d.get("upload")]
    assert any(d.get("dropped") for d in uploads)
    assert any(d.get("method") == "GET" for d in uploads), "the session was asked its status"
    assert not any(d["authorization"] for d in uploads)
    assert emu.emulator.files.sessions == {}, "every session completed"


def test_an_upload_session_that_takes_nothing_is_given_up(
        emu: ThreadedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Every range's connection drops before the host keeps it: the session keeps asking for
    byte 0, and the upload ends after max_attempts status checks that show no progress."""
    import importer.drive.client as drive_client

    monkeypatch.setattr(drive_client, "SIMPLE_UPLOAD_MAX", 100)
    monkeypatch.setattr(drive_client, "UPLOAD_RANGE", 700)
    monkeypatch.chdir(tmp_path)
    drive, _ = put_sample(emu)
    emu.call(emu.emulator.files.folder, drive.id, "Reports")
    emu.call(emu.emulator.set_faults, [FaultRule("reset_before", methods=("PUT",),
                                                 path_contains="/_upload/")])
    config = write_config(tmp_path / "c.toml", emu.url, extra="max_attempts = 2")
    assert main(["run", FILE_URL, "--config", str(config), "--quiet",
                 "--out", f"{LIBRARY}/Reports"]) == 1
    assert "reports not uploaded" in capsys.readouterr().err
    uploads = [d for d in emu.emulator.files.downloads if d.get("upload")]
    statuses = [d for d in uploads if d.get("method") == "GET"]
    assert len(statuses) == 3, "asked once per try, max_attempts + 1 tries without progress"
    assert all(d.get("reset") for d in uploads if d.get("method") != "GET")


def test_the_config_names_the_input_and_the_report_folder(
        emu: ThreadedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    drive, _ = put_sample(emu)
    emu.call(emu.emulator.files.folder, drive.id, "Reports")
    extra = f'[files]\ninput = "{FILE_URL}"\nout = "{LIBRARY}/Reports"\n'
    config = write_config(tmp_path / "c.toml", emu.url, extra=extra)
    assert main(["run", "--config", str(config)]) == 1  # a nightly job needs no arguments
    assert len(emu.emulator.customers(BIZ)) == SAMPLE_VALID
    assert f"reports uploaded to {LIBRARY}/Reports/" in capsys.readouterr().out
    bad = write_config(tmp_path / "bad.toml", emu.url, extra='[files]\ninput = "http://x/a.csv"\n')
    assert main(["run", "--config", str(bad)]) == 2
    assert "files.input must be an https:// URL" in capsys.readouterr().err
