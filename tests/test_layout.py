"""The package's layout holds: no import circles, and calls run one way between the parts.

    importer (the package: the library API's names, loaded from api on first use)
        │
    api, cli, web, runner, previewer, check, inbox, starter, parallel   (the run around the parts)
        │
        ├──> drive ──> send ──> map, signin
        ├──> read
        └──> report
    export (a run-level part: customers out) ──> drive, send, map, report
    pipeline (a run-level part: runner's pieces) ──> parallel, send, map, report
    every part ──> config, models, errors, version (the base)
    every module, the emulator too ──> console (signals and output; imports nothing of ours)

The imports are read from the source with ``ast`` (module level, inside functions and under
``TYPE_CHECKING`` alike), so a lazy import cannot hide a circle. A part is entered through its
package (``from ..map import map_row``); its modules are private to it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "importer"

PARTS = ("read", "map", "send", "signin", "report", "drive")
# Parts of the run itself (the top is full): they may call every part, as the run may.
# ``pipeline`` holds the pieces of runner.py below its entry (the feed, each business's region, the
# sender, the dry run): runner imports it, so it importing runner would be a circle (caught here).
RUN_PARTS = ("export", "pipeline")
BASE = frozenset({"importer.config", "importer.models", "importer.errors", "importer.version"})
APART = ("web", "emulator")
SHARED = frozenset({"importer.console"})
EVERYTHING = frozenset({"base", "run", "shared", *PARTS, *APART})
# The package itself is the library's face: it exports the API, so it sits above everything and
# nothing may import it (a module that needs the version reads importer.version).
FACE = "importer"
# What each kind of module may import (besides its own part's modules).
ALLOWED: dict[str, frozenset[str]] = {
    "shared": frozenset(),
    "base": frozenset({"base", "shared"}),
    "read": frozenset({"base", "shared"}),
    "map": frozenset({"base", "shared"}),
    "signin": frozenset({"base", "shared"}),
    "report": frozenset({"base", "shared"}),
    "send": frozenset({"base", "shared", "map", "signin"}),
    # Files on SharePoint/OneDrive: the run's sign-in and HTTP edge with its retry policy.
    "drive": frozenset({"base", "shared", "send", "signin"}),
    "emulator": frozenset({"shared"}),
    "run": EVERYTHING,
    "web": EVERYTHING,
    "face": EVERYTHING,
}
MAX_TOP_MODULES = 13  # about a dozen: more, and the top needs a part of its own


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


Edge = tuple[str, str]  # (the module imported, the module the statement names)


def imports_of(path: Path, name: str, modules: set[str]) -> set[Edge]:
    """The package's modules that ``path`` (module ``name``) imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[Edge] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [(alias.name, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from . import journal` imports a module; `from .map import to_body` a name
            targets = [(f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target, target)
                       for a in node.names]
        else:
            continue
        found.update(t for t in targets if t[0] in modules and t[0] != name)
    return found


def import_graph(root: Path) -> dict[str, set[Edge]]:
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    modules = set(files)
    return {name: imports_of(path, name, modules) for name, path in files.items()}


def part_of(module: str) -> str:
    if module in SHARED:
        return "shared"
    if module == FACE:
        return "face"
    if module in BASE:
        return "base"
    pieces = module.split(".")
    if len(pieces) > 1 and pieces[1] in (*PARTS, *APART):
        return pieces[1]
    return "run"


def circles(graph: dict[str, set[Edge]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    edges = {module: {target for target, _ in targets} for module, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def wrong_way(graph: dict[str, set[Edge]]) -> list[str]:
    """Imports that run against the parts' directions, or reach into another part's modules."""
    found = []
    for module, targets in sorted(graph.items()):
        mine = part_of(module)
        for target, stated in sorted(targets):
            theirs = part_of(target)
            if theirs == mine:
                continue
            if theirs not in ALLOWED[mine]:
                found.append(f"{module} ({mine}) imports {target} ({theirs})")
            elif theirs in PARTS and stated != f"importer.{theirs}":
                found.append(f"{module} imports {stated}: use the part's package, importer.{theirs}")
    return found


# --- the package itself -----------------------------------------------------------------------


def test_the_package_has_no_import_circles() -> None:
    assert circles(import_graph(PACKAGE)) == []


def test_imports_run_one_way_between_the_parts() -> None:
    assert wrong_way(import_graph(PACKAGE)) == []


def test_every_module_lives_in_a_part_and_the_top_stays_small() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(top) <= MAX_TOP_MODULES, top
    for part in (*PARTS, *APART, *RUN_PARTS):
        init = PACKAGE / part / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc.splitlines()) >= 3, f"importer/{part}/__init__.py needs a docstring"


# --- the checks catch what they are for -------------------------------------------------------


def write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "importer"
    for name, text in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({"report/__init__.py": "from .results import x\n",
                      "report/results.py": "def f():\n    from .workbook import y\n",
                      "report/workbook.py": "from .results import z\n"},
                     [["importer.report.results", "importer.report.workbook"]],
                     id="a lazy import closes a circle"),
        pytest.param({"a.py": "from . import b\n", "b.py": "from importer import a\n"},
                     [["importer.a", "importer.b"]], id="module imports"),
        pytest.param({"a.py": "from . import b\n", "b.py": "import os\n"}, [], id="no circle"),
    ],
)
def test_circles_are_found(tmp_path: Path, files: dict[str, str], expected: list[list[str]]) -> None:
    assert circles(import_graph(write_package(tmp_path, files))) == expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({"map/__init__.py": "", "map/mapper.py": "from ..send import GraphClient\n",
                      "send/__init__.py": ""},
                     ["importer.map.mapper (map) imports importer.send (send)"], id="map calls send"),
        pytest.param({"send/__init__.py": "", "send/graph.py": "from .. import cli\n",
                      "cli.py": ""},
                     ["importer.send.graph (send) imports importer.cli (run)"], id="send calls the CLI"),
        pytest.param({"send/__init__.py": "", "send/graph.py": "from ..web import app\n",
                      "web/__init__.py": "", "web/app.py": ""},
                     ["importer.send.graph (send) imports importer.web.app (web)"], id="send calls the page"),
        pytest.param({"read/__init__.py": "", "read/loader.py": "",
                      "runner.py": "from .read.loader import open_input\n"},
                     ["importer.runner imports importer.read.loader: use the part's package, "
                      "importer.read"], id="reaching into a part"),
        pytest.param({"map/__init__.py": "", "send/__init__.py": "",
                      "send/sync.py": "from ..map import customer_key\nfrom ..errors import E\n",
                      "errors.py": ""}, [], id="send uses map and the base"),
    ],
)
def test_imports_against_the_directions_are_found(tmp_path: Path, files: dict[str, str],
                                                   expected: list[str]) -> None:
    assert wrong_way(import_graph(write_package(tmp_path, files))) == expected


def test_no_module_or_part_takes_a_name_of_the_api() -> None:
    """``importer.run`` is the API's function: a module or sub-package of that name, once
    imported, replaces it on the package (``importer.run(frame, config)`` then calls a module)."""
    import importer

    names = {p.parent.name for p in PACKAGE.glob("*/__init__.py")} | {p.stem for p in PACKAGE.glob("*.py")}
    assert names.isdisjoint(importer.__all__), sorted(names & set(importer.__all__))
