"""The house in layers: every module of xl_lstm sits in one layer folder, imports only its
own layer or those below (lazy imports inside functions included), takes no underscore name
from another module, is part of no import cycle, and stays small."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "xl_lstm"
LAYERS = ("core", "lstm", "tables", "forecasting", "excel", "workbook", "template", "runs", "cli")  # bottom to top
TOP = {"__init__", "__main__", "udfs", "scripts"}  # the public entry points, above every layer
MAX_LINES = 500


def modules() -> dict[str, Path]:
    """dotted name under xl_lstm -> file, e.g. 'lstm.engine'."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module under xl_lstm, names taken from it, line) for every import of the file."""
    package = name.split(".")[:-1] if not name.endswith("__init__") else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and node.module.startswith("xl_lstm"):
                target = node.module.removeprefix("xl_lstm").lstrip(".")
            else:
                continue
            found.append((target, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("xl_lstm."):
                    found.append((a.name.removeprefix("xl_lstm."), [], node.lineno))
    return found


def layer(name: str) -> int:
    head = name.split(".")[0]
    return len(LAYERS) if head in TOP or name == "" else LAYERS.index(head)


def resolved(target: str, names: list[str], mods: dict[str, Path]) -> list[str]:
    """The modules an import reaches: ``from .excel import sheet`` reaches excel.sheet."""
    if target in mods:
        return [target]
    subs = [f"{target}.{n}" if target else n for n in names]
    return [m for m in subs if m in mods] or [f"{target}.__init__" if target else "__init__"]


def test_every_module_lives_in_a_layer_folder() -> None:
    loose = [m for m in modules() if "." not in m and m not in TOP]
    folders = {m.split(".")[0] for m in modules() if "." in m}
    assert loose == [] and folders <= set(LAYERS), (loose, folders - set(LAYERS))


def test_imports_only_go_down() -> None:
    mods = modules()
    up = [
        f"{name} (line {line}) imports {t}"
        for name, path in mods.items()
        for target, names, line in imports(name, path)
        for t in resolved(target, names, mods)
        if layer(t) > layer(name)
    ]
    assert up == []


def test_no_import_cycle_lazy_imports_included() -> None:
    mods = modules()
    graph = {
        name: {t for target, names, _ in imports(name, path) for t in resolved(target, names, mods) if t != name}
        for name, path in mods.items()
    }
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_no_underscore_name_is_imported_from_another_module() -> None:
    mods = modules()
    private = [
        f"{name} (line {line}) takes {n} from {target}"
        for name, path in mods.items()
        for target, names, line in imports(name, path)
        for n in names
        if n.startswith("_") and n != "__version__"
    ]
    assert private == []


def test_modules_stay_small() -> None:
    big = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert big == {}
