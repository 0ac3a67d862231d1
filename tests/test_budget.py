"""A read holds at most [limits] max_read_mb (read/budget.py), measured in a separate process.

The workbooks are generated here, small on disk: a "shared-strings bomb" (shared strings that
unpack to tens of MiB, a sheet big enough to be read in parts) and a workbook whose cells all
name one long shared string. The budget is small, so that the tests stay cheap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from importer.errors import InputError
from importer.read import sheetsplit
from importer.read.loader import open_input
from tests.deadlines import HANG

from .bombs import cloned_strings_bomb, shared_strings_bomb
from .peak import MEASURE

ROOT = Path(__file__).resolve().parent.parent
BUDGET_MB = 128


def peak_mib(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    proc = subprocess.run([sys.executable, "-c", MEASURE, *args], capture_output=True, text=True,
                          timeout=HANG, cwd=ROOT)
    rss = next(int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("maxrss_kib"))
    return proc, rss / 1024


def config(tmp_path: Path, mb: int) -> Path:
    path = tmp_path / f"budget-{mb}.toml"
    path.write_text(f'[limits]\nmax_read_mb = {mb}\n[report]\ndir = "{tmp_path / "runs"}"\n',
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> float:
    """The peak of the same command on a two-row CSV: the interpreter and the libraries."""
    tmp = tmp_path_factory.mktemp("baseline")
    tiny = tmp / "tiny.csv"
    tiny.write_text("Name,Email\nAnn,a@x.org\n", encoding="utf-8")
    proc, rss = peak_mib("preview", str(tiny), "--config", str(config(tmp, BUDGET_MB)))
    assert proc.returncode == 0, proc.stderr
    return rss


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = shared_strings_bomb(tmp_path_factory.mktemp("bomb") / "bomb.xlsx", strings_mib=64,
                               sheet_mib=10)
    assert path.stat().st_size < 4 << 20, "the bomb itself is small"
    return path


@pytest.mark.parametrize("command", [["preview"], ["run", "--dry-run", "--out"]], ids=["preview", "dry-run"])
def test_a_shared_strings_bomb_within_the_budget_is_read_within_it(
    command: list[str], bomb: Path, baseline: float, tmp_path: Path
) -> None:
    # Read in parts, each part held its own copy of the shared strings: 842 MiB for this one.
    out = [str(tmp_path / "out")] if "--out" in command else []
    proc, rss = peak_mib(command[0], str(bomb), *command[1:], *out, "--config",
                         str(config(tmp_path, BUDGET_MB)))
    assert proc.returncode == 0, proc.stderr
    assert rss - baseline <= BUDGET_MB, f"peak {rss:.0f} MiB, {baseline:.0f} MiB without the read"


def test_a_shared_strings_bomb_over_the_budget_is_refused_before_it_is_read(
    bomb: Path, baseline: float, tmp_path: Path
) -> None:
    proc, rss = peak_mib("preview", str(bomb), "--config", str(config(tmp_path, 48)))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "the workbook part 'xl/sharedStrings.xml' needs about 64 MiB" in proc.stderr
    assert "over the reading limit of 48 MiB ([limits] max_read_mb)" in proc.stderr
    assert rss - baseline < 16, f"peak {rss:.0f} MiB: the strings were read"


def test_cells_that_copy_one_long_string_are_refused_before_the_sheet_is_read(
    baseline: float, tmp_path: Path
) -> None:
    # 30 KB on disk; calamine copies the 1 MiB string into each of the 2,000 cells: 4 GB.
    path = cloned_strings_bomb(tmp_path / "clones.xlsx", string_kib=1024, cells=2000)
    proc, rss = peak_mib("run", str(path), "--dry-run", "--config", str(config(tmp_path, 256)),
                         "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr
    assert "sheet 'Customers' needs about 4,001 MiB of memory to read (2,001 rows by 2 columns)" \
        in proc.stderr
    assert rss - baseline < 16, f"peak {rss:.0f} MiB"


def test_the_same_cells_within_the_budget_are_read(tmp_path: Path) -> None:
    path = cloned_strings_bomb(tmp_path / "clones.xlsx", string_kib=1, cells=200)
    with open_input(path, max_read_mb=16) as loaded:
        assert sum(1 for _ in loaded.rows()) == 200


@pytest.mark.parametrize(("budget", "split"), [(1024, True), (96, False)], ids=["room", "no-room"])
def test_a_sheet_is_read_in_parts_only_when_their_copies_fit(
    budget: int, split: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheetsplit, "workers", lambda: 2)
    path = shared_strings_bomb(tmp_path / "parts.xlsx", strings_mib=8, sheet_mib=9)
    with open_input(path, max_read_mb=budget) as loaded:
        sheet = loaded._source._calamine_sheet  # type: ignore[attr-defined]
        assert isinstance(sheet, sheetsplit.SplitSheet) is split
        rows = list(loaded.rows())
    assert rows[0].values[0] == "Person 2" and rows[-1].number == len(rows) + 1


def test_a_refusal_names_the_part_and_the_limit(tmp_path: Path) -> None:
    path = shared_strings_bomb(tmp_path / "b.xlsx", strings_mib=20, sheet_mib=0)
    with pytest.raises(InputError) as refused:
        open_input(path, max_read_mb=16)
    assert "'xl/sharedStrings.xml' needs about 20 MiB" in str(refused.value)
    assert "limit of 16 MiB" in str(refused.value)
