"""docs/export.md never lies: its shell examples run as written against the Graph emulator.

tests/test_manual_examples.py runs the page's ```sh blocks as every manual page's are run;
this file checks what they do to the businesses (two of them, not one), and also runs the
plain ``` example that needs import.business_column set.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook

from importer.emulator import EmulatorSettings
from tests.deadlines import HANG
from tests.emulator_thread import ThreadedEmulator, emulator_in_thread
from tests.test_cli import SAMPLE_VALID, SAMPLES, TOKEN, write_config

PAGE = Path(__file__).resolve().parents[1] / "docs" / "export.md"
FRONT = "front@contoso.onmicrosoft.com"
BACK = "back@contoso.onmicrosoft.com"


def examples(section: str, fence: str = "sh") -> list[list[str]]:
    """The command lines of the section's ```sh blocks (or plain ``` ones), split as a shell
    would."""
    text = PAGE.read_text(encoding="utf-8")
    part = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(rf"```{fence}\n(.*?)```", part, flags=re.DOTALL)
    assert blocks, f"no shell example under {section!r}"
    return [shlex.split(line) for block in blocks for line in block.splitlines() if line.strip()]


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    settings = EmulatorSettings(tokens={TOKEN}, businesses={FRONT: "Front", BACK: "Back"},
                                page_size=4)
    with emulator_in_thread(settings) as server:
        yield server


def shell(cwd: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    assert argv[0] == "bookings-import"
    tool = shutil.which("bookings-import", path=str(Path(sys.executable).parent))
    assert tool, "the console script is installed beside the interpreter"
    env = {**os.environ, "E2E_TOKEN": TOKEN}
    return subprocess.run([tool, *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=HANG)


def seed(emu: ThreadedEmulator, cwd: Path) -> None:
    config = write_config(cwd / "seed.toml", emu.url, business=FRONT)
    done = shell(cwd, ["bookings-import", "run", str(SAMPLES / "customers.xlsx"), "--config",
                       str(config), "--quiet", "--out", str(cwd / "seed-run")])
    assert done.returncode == 1, done.stderr  # the samples hold invalid rows on purpose


def test_back_up_before_a_big_import(emu: ThreadedEmulator, tmp_path: Path) -> None:
    seed(emu, tmp_path)
    write_config(tmp_path / "bookings-import.toml", emu.url, business=FRONT)
    book = Workbook()
    book.active.append(["Name", "Email", "Mobile"])
    for n in range(3):
        book.active.append([f"New {n}", f"new{n}@contoso.com", f"+1425555010{n}"])
    book.save(tmp_path / "customers.xlsx")
    before = emu.emulator.customers(FRONT)
    for argv in examples("Back up before a big import"):
        done = shell(tmp_path, argv)
        assert done.returncode == 0, (argv, done.stderr)
    backup = tmp_path / "backup-before-import.xlsx"
    assert backup.is_file()
    # The backup holds what the business held before the import, and reads back as input.
    check = shell(tmp_path, ["bookings-import", "preview", str(backup), "--format", "json"])
    assert check.returncode == 0, check.stderr
    assert f'"valid": {len(before)}' in check.stdout
    assert len(emu.emulator.customers(FRONT)) == len(before) + 3


def test_move_customers_between_businesses(emu: ThreadedEmulator, tmp_path: Path) -> None:
    seed(emu, tmp_path)
    write_config(tmp_path / "front.toml", emu.url, business=FRONT)
    write_config(tmp_path / "back.toml", emu.url, business=BACK)
    for argv in examples("Move customers between businesses"):
        done = shell(tmp_path, argv)
        assert done.returncode == 0, (argv, done.stderr)
    moved = emu.emulator.customers(BACK)
    assert len(moved) == SAMPLE_VALID

    def fields(c: dict) -> tuple:  # type: ignore[type-arg]
        return (c["displayName"], c["emailAddress"], sorted(map(str, c["phones"])),
                sorted(map(str, c["addresses"])))

    assert sorted(map(fields, moved)) == sorted(map(fields, emu.emulator.customers(FRONT)))


def test_several_businesses_in_one_file(emu: ThreadedEmulator, tmp_path: Path) -> None:
    seed(emu, tmp_path)
    write_config(tmp_path / "all-businesses.toml", emu.url, business=FRONT,
                 extra='[import]\nbusiness_column = "Business"\n')
    for argv in examples("Several businesses in one file", fence=""):
        done = shell(tmp_path, argv)
        assert done.returncode == 0, (argv, done.stderr)
        assert f"{SAMPLE_VALID} from {FRONT}, 0 from {BACK}" in done.stdout
    assert (tmp_path / "all-customers.xlsx").is_file()
