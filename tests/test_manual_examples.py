"""The manual cannot lie: the commands and Python examples of its getting-started, nightly,
export and API pages run as written against the Graph emulator, and print what the page shows.

Each page runs in a temporary folder of its own that holds `samples/` and `customers.xlsx`, in
page order, so a page's later commands see what its earlier ones made (the config `init`
writes, the report folders). The rules (docs/contributing/testing.md says them to writers):

- A ```sh block is one command per line, run with bash; `bookings-import` is this checkout's
  command line. A cron line's five time fields are dropped. Steps that create a venv or install
  the package are left out (CI runs the README's install command as written; test_docs checks
  they are the same).
- A config named with `--config FILE` is pointed at the emulator before the command: copied from
  config.example.toml when the page has not made one yet, then given the emulator's
  `graph.base_url`, its business id and the token sign-in (the edit the page asks
  the reader to make). Absolute folders (/srv, /etc, /var) are made under the temporary folder;
  an inbox gets the sample workbook. A report folder like `runs/20261125-171502/` stands for
  the newest one that holds the file named.
- A ```text block right after a ```sh block is that command's output: each of its lines must be
  in what the command printed (times and timestamps aside).
- A ```python block runs with this Python; `http://127.0.0.1:8765` (where `bookings-import
  sandbox` listens) is the emulator's address.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deadlines import HANG
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# The pages whose examples must run.
PAGES = ["getting-started.md", "nightly.md", "api.md", "export.md"]
TOKEN = "manual-token"  # not a secret: the emulator takes any token
SANDBOX_URL = "http://127.0.0.1:8765"
SANDBOX_BUSINESS = "sandbox@contoso.onmicrosoft.com"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<kind>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                    re.MULTILINE | re.DOTALL)


@dataclass
class Block:
    kind: str  # sh, text, python, ...
    body: str
    start: int
    end: int
    output: str | None = None  # for sh: the text block right after it


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found: list[Block] = []
    for m in _FENCE.finditer(text):
        indent = m.group("indent")
        body = "".join(line[len(indent):] if line.startswith(indent) else line
                       for line in m.group("body").splitlines(keepends=True))
        block = Block(m.group("kind"), body, m.start(), m.end())
        previous = found[-1] if found else None
        if (block.kind == "text" and previous is not None and previous.kind == "sh"
                and not text[previous.end:block.start].strip()):
            previous.output = body
            continue
        found.append(block)
    return found


def pages() -> list[str]:
    return [p for p in PAGES if (DOCS / p).is_file()]


# --- the workspace ----------------------------------------------------------------------------


@dataclass
class Workspace:
    dir: Path
    env: dict[str, str]
    emu: ThreadedEmulator


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    shutil.copy(ROOT / "samples" / "customers.xlsx", tmp_path / "customers.xlsx")
    bin_dir = tmp_path / ".bin"
    bin_dir.mkdir()
    shim = bin_dir / "bookings-import"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m importer "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "BOOKINGS_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    env.pop("BOOKINGS_IMPORT_CONFIG", None)
    with emulator_in_thread() as emu:
        yield Workspace(tmp_path, env, emu)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _write_toml(path: Path, data: dict[str, dict[str, object]]) -> None:
    lines = []
    for section, table in data.items():
        lines.append(f"[{section}]")
        lines += [f"{json.dumps(k, ensure_ascii=False) if section == 'columns' else k} = "
                  f"{_toml_value(v)}" for k, v in table.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def point_at_emulator(config: Path, emu_url: str) -> None:
    """The reader's edit: this config signs in with a token and imports into the emulator."""
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "config.example.toml", config)
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    graph = data.setdefault("graph", {})
    graph["base_url"] = emu_url
    graph["business_id"] = SANDBOX_BUSINESS
    data.setdefault("auth", {})["mode"] = "token"
    data["auth"].pop("token_env", None)
    _write_toml(config, data)


_CRON = re.compile(r"^([\d*/,-]+\s+){5}(?=\S)")
_INSTALL = re.compile(r"(^|\s)(python3? -m venv|\S*pip install)\b")
_ABSOLUTE = re.compile(r"(?<=[\s=])/(?=(srv|etc|var)/)")
_RUN_DIR = re.compile(r"runs/\d{8}-\d{6}/(\S+)")


def prepare(command: str, ws: Workspace) -> str:
    """The command as this test runs it, and the world it expects made ready."""
    command = _CRON.sub("", command.strip())
    steps = [s.strip() for s in command.split("&&")]
    command = " && ".join(s for s in steps if not _INSTALL.search(s))
    command = command.replace(".venv/bin/bookings-import", "bookings-import")
    command = _ABSOLUTE.sub(f"{ws.dir}/root/", command)

    def newest(m: re.Match[str]) -> str:
        name = m.group(1)
        held = sorted(p for p in (ws.dir / "runs").glob(f"*/{name}"))
        assert held, f"no run folder holds {name} for {command!r}"
        return str(held[-1].relative_to(ws.dir))

    command = _RUN_DIR.sub(newest, command)
    words = command.split()
    for flag, word in itertools.pairwise(words):
        target = Path(word) if Path(word).is_absolute() else ws.dir / word
        if flag == "--config":
            point_at_emulator(target, ws.emu.url)
        elif flag == "--inbox":
            target.mkdir(parents=True, exist_ok=True)
            dropped = target / "customers.xlsx"
            shutil.copy(ROOT / "samples" / "customers.xlsx", dropped)
            os.utime(dropped, (1_700_000_000, 1_700_000_000))  # settled long ago
    for redirect in re.findall(r"\d?>>?\s*(\S+)", command):
        Path(redirect).parent.mkdir(parents=True, exist_ok=True)
    return command


def normalise(text: str) -> list[str]:
    text = re.sub(r"\b\d+(\.\d+)? s\b", "N s", text)
    text = re.sub(r"\d{8}-\d{6}", "YYYYMMDD-HHMMSS", text)
    return [line.rstrip() for line in text.splitlines()]


def run_sh(block: Block, ws: Workspace) -> list[subprocess.CompletedProcess[str]]:
    done = []
    for line in block.body.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        command = prepare(line, ws)
        proc = subprocess.run(["bash", "-c", command], cwd=ws.dir, env=ws.env,
                              capture_output=True, text=True, timeout=HANG)
        said = f"{command}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        # 1 is "some rows were invalid": the samples hold two invalid rows on purpose
        assert proc.returncode in (0, 1), said
        assert "Traceback" not in proc.stderr, said
        done.append(proc)
    if block.output is not None:
        printed = set(normalise("".join(p.stdout + p.stderr for p in done)))
        for expected in normalise(block.output):
            if expected.strip():
                assert expected in printed, f"the page shows {expected!r}, not printed by:\n{said}"
    return done


def run_python(block: Block, ws: Workspace) -> subprocess.CompletedProcess[str]:
    code = block.body.replace(SANDBOX_URL, ws.emu.url)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ws.dir, env=ws.env,
                          capture_output=True, text=True, timeout=HANG)
    assert proc.returncode == 0, f"{block.body}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc


def run_page(name: str, ws: Workspace) -> list[tuple[Block, object]]:
    ran: list[tuple[Block, object]] = []
    for block in blocks(DOCS / name):
        if block.kind == "sh":
            ran.append((block, run_sh(block, ws)))
        elif block.kind == "python":
            ran.append((block, run_python(block, ws)))
    assert ran, f"docs/{name} has no ```sh or ```python example"
    return ran


# --- the pages --------------------------------------------------------------------------------


def test_every_page_with_examples_is_run() -> None:
    assert set(PAGES) == set(pages()), "a page whose examples must run is missing"


@pytest.mark.parametrize("name", pages())
def test_the_examples_of_the_page_run_as_written(name: str, workspace: Workspace) -> None:
    ran = run_page(name, workspace)
    check = CHECKS.get(name)
    if check is not None:
        check(ran, workspace)


def _getting_started(ran: list[tuple[Block, object]], ws: Workspace) -> None:
    commands = [b.body for b, _ in ran]
    assert any("--sandbox" in c for c in commands) and any("--dry-run" in c for c in commands)
    # The real import and the failures file went to the emulator: 7 customers, none twice.
    held = ws.emu.emulator.customers(SANDBOX_BUSINESS)
    assert len(held) == 7
    assert len({c["emailAddress"] for c in held if c.get("emailAddress")}) == len(
        [c for c in held if c.get("emailAddress")])
    assert (ws.dir / "bookings-import.toml").is_file()  # written by init, as the page says


def _nightly(ran: list[tuple[Block, object]], ws: Workspace) -> None:
    inbox = ws.dir / "root" / "srv" / "bookings" / "inbox"
    assert (inbox / "done" / "customers.xlsx").is_file()
    assert (inbox / "done" / "customers.xlsx.report" / "results.csv").is_file()
    log = ws.dir / "root" / "var" / "log" / "bookings-import.jsonl"
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert events[-1]["event"] == "summary" and events[-1]["exit_code"] == 1
    assert len(ws.emu.emulator.customers(SANDBOX_BUSINESS)) == 7


def _api(ran: list[tuple[Block, object]], ws: Workspace) -> None:
    outputs = [proc.stdout.splitlines() for block, proc in ran  # type: ignore[attr-defined]
               if block.kind == "python"]
    assert len(outputs) == 2, "each example of the page has its check here"
    lines = outputs[0]
    # The comments say what each print shows
    assert lines[0] == "2 valid, 1 invalid"
    assert lines[1] == "{'valid': 2, 'invalid': 1}"
    out_dir = ws.dir / lines[2]
    assert (out_dir / "results.csv").is_file() and out_dir.parent.name == "runs"
    assert lines[-1].split() == ["crm-19", "Alex", "Wilber", "4", "Email:", "'alexw@'", "has", "no",
                                 "domain", "after", "the", "@"]
    assert "crm-17" not in "\n".join(lines)
    assert outputs[1] == ["{'created': 1}", "{'unchanged': 1}"]
    assert [c["displayName"] for c in ws.emu.emulator.customers(SANDBOX_BUSINESS)] == ["Lee Gu"]


CHECKS = {"getting-started.md": _getting_started, "nightly.md": _nightly, "api.md": _api}
