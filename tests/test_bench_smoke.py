"""The benchmark script runs end to end on small sizes and prints its table (figures not judged)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.deadlines import HANG

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_prints_a_row_per_client_with_every_customer_created() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick", "--skip-sdk"],
        capture_output=True, text=True, timeout=HANG, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert any(line.startswith("| client | rows | rows/s |") for line in lines), done.stdout
    table = {
        cells[0]: cells
        for line in lines
        if line.startswith("| ") and not line.startswith(("| client", "|---"))
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert set(table) == {
        "bookings-import, 1 business", "bookings-import, 10 businesses", "naive sequential script"}
    for name, cells in table.items():
        rows, created = cells[1], cells[-1]
        assert created == rows, f"{name}: {rows} rows but {created} customers created"
    assert "Targets, from the medians above:" in lines
    assert any(line.strip().startswith("ten businesses:") for line in lines)
    assert any(line.startswith("dry run, 20,000-row CSV:") for line in lines)
    for layout in ("inline strings", "shared strings"):
        assert any(line.startswith(f"XLSX load, 5,000-row sheet ({layout})") for line in lines)


def test_both_workbook_layouts_hold_the_same_customers(tmp_path: Path) -> None:
    # The benchmark's two XLSX figures must time the same rows, whatever the layout.
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import datagen
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))

    from importer.read.loader import open_input

    expected = [tuple(row) for row in datagen.customers(300)]
    for path in (
        datagen.write_xlsx(tmp_path / "inline.xlsx", 300),
        datagen.write_xlsx(tmp_path / "shared.xlsx", 300, shared_strings=True),
    ):
        with open_input(path) as loaded:
            assert loaded.info.headers == datagen.HEADERS
            assert [row.values for row in loaded.rows()] == expected
