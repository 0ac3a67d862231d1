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
from importer.read import ReadBusy, sheetsplit
from importer.read.budget import held_in_process
from importer.read.loader import open_input
from tests.deadlines import HANG

from .bombs import cloned_strings_bomb, shared_strings_bomb
from .calamine_fixtures import ods_cell, ods_content, write_ods, write_xlsb
from .peak import MEASURE

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
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


def test_the_open_reads_of_a_process_share_one_budget(tmp_path: Path) -> None:
    """An import, a preview and a mapping change of the upload page may read at once: what
    they hold together is one limit. The second read that would not fit beside the first is
    ReadBusy (the page answers 503); once the first is closed it fits."""
    path = shared_strings_bomb(tmp_path / "b.xlsx", strings_mib=10, sheet_mib=0)
    assert held_in_process() == 0
    with open_input(path, max_read_mb=16) as first:
        assert held_in_process() > 8 << 20
        with pytest.raises(ReadBusy) as busy:
            open_input(path, max_read_mb=16)
        assert "other workbooks being read hold" in str(busy.value)
        assert held_in_process() == first._source._budget.held  # type: ignore[attr-defined]
    assert held_in_process() == 0
    with open_input(path, max_read_mb=16) as second:
        assert second.info.headers == ("Name", "Email")
    assert held_in_process() == 0


# --- .ods, .xlsb, .xls: calamine's grids, counted from the scans before calamine opens them ---


def repeated_ods(path: Path, rows: int) -> Path:
    """A customer list of ``rows`` equal rows, written once with a repeat count: a few hundred
    bytes on disk that calamine lays out as a grid of ``rows`` by ten cells when it opens."""
    header = "".join(ods_cell(h) for h in ["Name", "Email", *(f"Note {i}" for i in range(1, 9))])
    row = ods_cell("Ann Lee") + ods_cell("ann@example.org") + ods_cell("x", repeat=8)
    table = (f'<table:table table:name="Customers"><table:table-row>{header}</table:table-row>'
             f'<table:table-row table:number-rows-repeated="{rows}">{row}</table:table-row>'
             "</table:table>")
    return write_ods(path, content=ods_content(table))


@pytest.fixture(scope="module")
def ods_grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = repeated_ods(tmp_path_factory.mktemp("ods") / "repeated.ods", 60_000)
    assert path.stat().st_size < 4096, "the workbook itself is small"
    return path


def test_an_ods_grid_over_the_budget_is_refused_before_it_is_read(
    ods_grid: Path, baseline: float, tmp_path: Path
) -> None:
    proc, rss = peak_mib("preview", str(ods_grid), "--config", str(config(tmp_path, 48)))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "sheet 'Customers' needs about 97 MiB of memory to read (60,001 rows by 10 columns), " \
        "over the reading limit of 48 MiB ([limits] max_read_mb)" in proc.stderr
    assert rss - baseline < 16, f"peak {rss:.0f} MiB: calamine opened the workbook"


def test_an_ods_grid_within_the_budget_is_read_within_it(
    ods_grid: Path, baseline: float, tmp_path: Path
) -> None:
    budget = BUDGET_MB  # the count is 97 MiB; the read peaks at about 75 MiB
    proc, rss = peak_mib("preview", str(ods_grid), "--config", str(config(tmp_path, budget)))
    assert proc.returncode == 0, proc.stderr
    assert "60,000: 60,000 valid" in proc.stdout, proc.stdout[:500]
    assert rss - baseline <= budget, f"peak {rss:.0f} MiB, {baseline:.0f} MiB without the read"
    assert rss - baseline > 40, "the grid was read (else this test measures nothing)"


def test_every_ods_sheet_is_counted_as_the_workbook_opens(tmp_path: Path) -> None:
    # calamine lays out both tables when it opens the file, whichever sheet is chosen.
    customers = '<table:table table:name="Customers">' + "".join(
        f"<table:table-row>{ods_cell(a)}{ods_cell(b)}</table:table-row>"
        for a, b in [("Name", "Email"), ("Ann", "a@x.org")]) + "</table:table>"
    archive = ('<table:table table:name="Archive"><table:table-row table:number-rows-repeated='
               f'"100000">{ods_cell("x", repeat=4)}</table:table-row></table:table>')
    path = write_ods(tmp_path / "two.ods", content=ods_content(customers + archive))
    with pytest.raises(InputError) as refused:
        open_input(path, sheet="Customers", max_read_mb=16)
    assert "the workbook (2 sheets) needs about" in str(refused.value)
    assert "the largest sheet, 'Archive', has 100,000 rows by 4 columns" in str(refused.value)
    with open_input(path, sheet="Customers", max_read_mb=64) as loaded:
        assert [tuple(r.values) for r in loaded.rows()] == [("Ann", "a@x.org")]


def test_an_xlsb_sheet_is_counted_before_calamine_reads_it(tmp_path: Path) -> None:
    # One cell far away: a grid of 200,000 rows by 101 columns (616 MiB) for two filled cells.
    path = write_xlsb(tmp_path / "far.xlsb", ("Customers", [["Name", "Email"], ["Ann", "a@x.org"]]),
                      far=(199_999, 100))
    with pytest.raises(InputError) as refused:
        open_input(path, max_read_mb=64)
    assert ("sheet 'Customers' needs about 616 MiB of memory to read (200,000 rows by 101 "
            "columns), over the reading limit of 64 MiB ([limits] max_read_mb)") in str(refused.value)


def test_an_xls_workbook_is_counted_as_it_opens(tmp_path: Path) -> None:
    # The committed fixture needs a few KiB: a budget of 1 KiB refuses it unopened.
    with pytest.raises(InputError) as refused:
        open_input(FIXTURES / "customers.xls", max_read_mb=1 / 1024)
    message = str(refused.value)
    assert "needs about" in message and "reading limit of 0 MiB ([limits] max_read_mb)" in message
    with open_input(FIXTURES / "customers.xls", max_read_mb=16) as loaded:
        assert loaded.info.headers
