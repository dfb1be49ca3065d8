"""Run a tests/pyodide/lite.py request in Pyodide (under Node) or on CPython, from CPython.

``run_in_pyodide(request, wheel)`` starts ONE Node process (tests/pyodide/run.mjs) that loads
Pyodide from the cache .ci/pyodide.py filled, installs the xl_lstm wheel with micropip (which
resolves its dependencies offline, see run.mjs), writes only the test harness into Pyodide's
file system and answers the request; ``run_in_cpython(request)`` answers the same request in a
CPython subprocess with the environment xlwings Lite sets. Both return the parsed JSON.

The wheel: the file named by XL_LSTM_WHEEL (CI sets it to the wheel it built), or one built
with ``pip wheel`` (``build_wheel``). No pytest here: benchmarks/bench_pyodide.py uses it too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from xl_lstm.workbook.contract import INPUT_NAMES
from xl_lstm.workbook.xlsx import Book, CellRange, cell_name

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".pyodide"
RUN_MJS = Path(__file__).resolve().parent / "run.mjs"
MODULE = "tests.pyodide.lite"
# What Lite's environment gives xlwings: server-side decorators and xlwings' free noncommercial key.
LITE_ENV = {"XLWINGS_ON_SERVER": "true", "XLWINGS_LICENSE_KEY": "noncommercial"}
TEMPLATE = ROOT / "workbooks" / "lstm_template.xlsx"
READS = list(INPUT_NAMES)  # what the @script lstm_fit reads (the workbook contract's inputs)
WRITES = ["lstm_W", "lstm_b", "lstm_W_y", "lstm_b_y", "lstm_scaler"]  # what it writes


def missing() -> str | None:
    """Why Pyodide cannot run here (no node, cache not installed), or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (Node.js 18 or later; Debian: apt-get install nodejs npm)"
    record = CACHE / "installed.json"
    if not record.is_file():
        return f"the Pyodide runtime is not installed in {CACHE}: run python .ci/pyodide.py"
    if "index_wheels" not in installed_record():
        return f"{CACHE} was filled by an older .ci/pyodide.py (no micropip): run python .ci/pyodide.py"
    return None


def installed_record() -> dict[str, Any]:
    """.pyodide/installed.json: what .ci/pyodide.py installed (lock_wheels, index_wheels)."""
    return json.loads((CACHE / "installed.json").read_text(encoding="utf-8"))


def harness_files() -> dict[str, str]:
    """Repository path -> text of the test harness Pyodide needs (xl_lstm itself comes from the wheel)."""
    harness = [
        ROOT / "tests" / "__init__.py",
        ROOT / "tests" / "xlwings_driver.py",
        ROOT / "tests" / "pyodide" / "__init__.py",
        ROOT / "tests" / "pyodide" / "lite.py",
        ROOT / "tests" / "pyodide" / "main.py",
        ROOT / "benchmarks" / "timing.py",
    ]
    return {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in harness}


def given_wheel() -> Path | None:
    """The wheel XL_LSTM_WHEEL names (relative to the repository root), None when it is not set."""
    name = os.environ.get("XL_LSTM_WHEEL")
    if not name:
        return None
    path = (ROOT / name).resolve()
    if not path.is_file() or not path.name.startswith("xl_lstm-") or path.suffix != ".whl":
        raise FileNotFoundError(f"XL_LSTM_WHEEL={name}: no xl_lstm wheel there")
    return path


def build_wheel(folder: Path) -> Path:
    """``pip wheel --no-deps`` of the repository into folder; the one xl_lstm wheel made. It is
    built from a clean copy of what a wheel is made of (pyproject.toml, README.md, xl_lstm/):
    setuptools reuses a checkout's build/ folder, whose modules of an older tree it would pack."""
    src = folder / "src"
    shutil.copytree(ROOT / "xl_lstm", src / "xl_lstm", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(folder), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    wheels = sorted(folder.glob("xl_lstm-*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        raise RuntimeError(f"pip wheel of {ROOT} failed (exit code {proc.returncode}): {proc.stderr[-2000:]}")
    return wheels[0]


@cache
def default_wheel() -> Path:
    """XL_LSTM_WHEEL's wheel, or one built once per process into a temporary folder."""
    return given_wheel() or build_wheel(Path(tempfile.mkdtemp(prefix="xl_lstm-wheel-")))


def _run(cmd: list[str], stdin: str, env: dict[str, str], timeout: float, what: str) -> dict[str, Any]:
    proc = subprocess.run(
        cmd, input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit code {proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout)


def run_in_pyodide(request: dict[str, Any], wheel: Path | None = None, timeout: float = 900) -> dict[str, Any]:
    """{"seconds": {...}, "memory_mb": {...}, "python": ..., "installed": {...}, "response": handle(request)
    in Pyodide}, with xl_lstm installed from wheel (default: ``default_wheel()``)."""
    wheel = wheel or default_wheel()
    stdin = json.dumps({"wheel": str(wheel), "files": harness_files(), "module": MODULE, "request": request})
    out = _run(["node", str(RUN_MJS), str(CACHE)], stdin, dict(os.environ), timeout, "node tests/pyodide/run.mjs")
    out["response"] = json.loads(out.pop("response_json"))
    return out


def run_in_cpython(request: dict[str, Any], timeout: float = 900) -> dict[str, Any]:
    """handle(request) in a fresh CPython with Lite's environment (set before xlwings is imported)."""
    env = dict(os.environ, **LITE_ENV)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return _run([sys.executable, "-m", MODULE], json.dumps(request), env, timeout, f"python -m {MODULE}")


# ---- the workbook as xlwings Lite hands it to a script ----------------------------------------
def template_ranges() -> tuple[list[str], dict[str, tuple[CellRange, np.ndarray]]]:
    """The template's sheet names, and each named range lstm_fit touches with its numbers."""
    with Book(TEMPLATE) as book:
        return list(book.sheets), {name: (book.range(name), book.numbers(name)) for name in sorted({*READS, *WRITES})}


def lite_book(sheets: list[str], blocks: dict[str, tuple[CellRange, list[list[Any]]]]) -> dict[str, Any]:
    """The book JSON xlwings Lite builds ``xw.Book(json=...)`` from: each sheet's values from A1, the names.

    Only the named blocks are filled in; every other cell is empty (""), as Office.js sends it.
    """
    values = []
    for sheet in sheets:
        mine = [(rng, cells) for rng, cells in blocks.values() if rng.sheet == sheet]
        grid = [[""] * max([1, *(rng.c1 for rng, _ in mine)]) for _ in range(max([1, *(rng.r1 for rng, _ in mine)]))]
        for rng, cells in mine:
            for i, row in enumerate(cells):
                grid[rng.r0 - 1 + i][rng.c0 - 1 : rng.c1] = row
        values.append({"name": sheet, "values": grid, "pictures": [], "tables": []})
    names = [
        {
            "name": name,
            "sheet_index": sheets.index(rng.sheet),
            "address": f"{cell_name(rng.r0, rng.c0)}:{cell_name(rng.r1, rng.c1)}",
            "book_scope": True,
            "scope_sheet_name": None,
            "scope_sheet_index": None,
        }
        for name, (rng, _) in blocks.items()
    ]
    return {
        "client": "Office.js",
        "version": "0.37.8",
        "book": {"name": TEMPLATE.name, "active_sheet_index": 0, "selection": "A1"},
        "sheets": values,
        "names": names,
    }


def selection_book(sheets: dict[str, list[list[Any]]], selection: str, active: str | None = None) -> dict[str, Any]:
    """The book JSON of a workbook whose sheets hold ``sheets``' cells from A1 (name -> rows), with ``selection``
    selected on the ``active`` sheet (default: the first). Dates are given as Office.js sends a cell formatted
    as a date (``"2024-01-01T00:00:00.000Z"``), blanks as ""."""
    names = list(sheets)
    return {
        "client": "Office.js",
        "version": "0.37.8",
        "book": {"name": "sales.xlsx", "active_sheet_index": names.index(active or names[0]), "selection": selection},
        "sheets": [{"name": n, "values": rows, "pictures": [], "tables": []} for n, rows in sheets.items()],
        "names": [],
    }


SHEETS, RANGES = template_ranges()  # the template workbook, read with xl_lstm.workbook.xlsx
