"""Run a tests/pyodide/lite.py request in Pyodide (under Node) or on CPython, from CPython.

``run_in_pyodide(request)`` starts ONE Node process (tests/pyodide/run.mjs) that loads Pyodide,
numpy and xlwings from the cache .ci/pyodide.py filled, writes this package's source into
Pyodide's file system and answers the request; ``run_in_cpython(request)`` answers the same
request in a CPython subprocess with the environment xlwings Lite sets. Both return the
parsed JSON. No pytest here: benchmarks/bench_pyodide.py uses it too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from xl_lstm.contract import INPUT_NAMES
from xl_lstm.xlsx import Book, CellRange, cell_name

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
    if not (CACHE / "installed.json").is_file():
        return f"the Pyodide runtime is not installed in {CACHE}: run python .ci/pyodide.py"
    return None


def source_files() -> dict[str, str]:
    """Repository path -> text of what Pyodide needs: the installed package (code and data) and the harness."""
    package = [
        p
        for p in sorted((ROOT / "xl_lstm").rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in {".py", ".csv", ".typed"}
    ]
    harness = [
        ROOT / "tests" / "__init__.py",
        ROOT / "tests" / "xlwings_driver.py",
        ROOT / "tests" / "pyodide" / "__init__.py",
        ROOT / "tests" / "pyodide" / "lite.py",
        ROOT / "tests" / "pyodide" / "main.py",
        ROOT / "benchmarks" / "timing.py",
    ]
    return {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in [*package, *harness]}


def _run(cmd: list[str], stdin: str, env: dict[str, str], timeout: float, what: str) -> dict[str, Any]:
    proc = subprocess.run(
        cmd, input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit code {proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout)


def run_in_pyodide(request: dict[str, Any], timeout: float = 900) -> dict[str, Any]:
    """{"seconds": {...}, "memory_mb": {...}, "python": ..., "response": handle(request) in Pyodide}."""
    stdin = json.dumps({"files": source_files(), "module": MODULE, "request": request})
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


SHEETS, RANGES = template_ranges()  # the template workbook, read with xl_lstm.xlsx
