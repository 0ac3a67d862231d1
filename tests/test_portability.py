"""The package where POSIX pieces are missing, as on Windows: no ``fcntl`` module.

What Windows itself does (LockFileEx, the proactor loop, its code pages) cannot run here; these
tests hold the parts that can: nothing imports a POSIX-only module, and a whole import works
without it.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from tests.deadlines import HANG

ROOT = Path(__file__).resolve().parent.parent

# sys.modules[name] = None makes `import name` raise ImportError, as `import fcntl` does on Windows.
WITHOUT_FCNTL = """\
import importlib, pkgutil, sys
sys.modules["fcntl"] = None
import importer
names = [m.name for m in pkgutil.walk_packages(importer.__path__, "importer.")]
for name in names:
    importlib.import_module(name)
assert sys.modules["fcntl"] is None
print(f"imported {len(names)} modules", flush=True)
from importer.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def without_fcntl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_FCNTL, *args], capture_output=True,
                          text=True, encoding="utf-8", cwd=ROOT, timeout=HANG)


def test_every_module_imports_and_help_works_without_fcntl() -> None:
    done = without_fcntl("--help")
    assert done.returncode == 0, done.stderr
    first, _, rest = done.stdout.partition("\n")
    assert first.startswith("imported ") and int(first.split()[1]) > 60
    assert "usage: bookings-import" in rest and "exit codes:" in rest


def test_a_sandbox_import_works_without_fcntl(tmp_path: Path) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "out"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("Name", "Email"),
                                 *((f"Person {i}", f"p{i}@contoso.com") for i in range(30))])
    done = without_fcntl("run", str(src), "--sandbox", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    with (out / "results.csv").open(encoding="utf-8-sig", newline="") as f:
        assert [row["status"] for row in csv.DictReader(f)] == ["created"] * 30
