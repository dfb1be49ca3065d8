"""The Excel functions through xlwings' own converter, default and error code.

Calling a UDF directly skips xlwings: on Linux ``@xw.func`` / ``@xw.arg`` are inert.
Here every call goes through ``xlwings.server.custom_functions_call`` (what xlwings
Lite and xlwings Server run) as an Office.js payload, in ONE subprocess for the
whole module (see tests/xlwings_driver.py): single cells as [[v]], blank cells as
None, omitted arguments as None, Excel errors as Excel.ErrorCellValue dicts.
The registration Excel sees comes from ``custom_functions_meta``.

The subprocess needs only XLWINGS_LICENSE_KEY=noncommercial (xlwings' free key,
set by the driver), so these tests run everywhere, CI included; they never skip.
"""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

import xl_lstm as xl
from tests.xlwings_driver import payload, run_payloads, xl_error
from xl_lstm import udfs
from xl_lstm.forecasting.metrics import METRICS, error_metrics
from xl_lstm.lstm.recursive import recursive_forecast

H = 3
RNG = np.random.default_rng(7)
P1 = xl.init_params(1, H, seed=4, output_size=1)  # D=1, with a head
P2 = xl.init_params(2, H, seed=9, output_size=2)  # D=2, with a head
X1 = RNG.standard_normal((6, 1))  # (T, 1)
X2 = RNG.standard_normal((5, 2))  # (T, 2)
H0, C0 = RNG.uniform(-0.9, 0.9, H), RNG.uniform(-1.5, 1.5, H)
ACTUAL, PREDICTED, HISTORY = RNG.uniform(1, 9, 8), RNG.uniform(1, 9, 8), RNG.uniform(1, 9, 20)
UDFS = {
    "lstm_step": "LSTM_STEP",
    "lstm_sequence": "LSTM_SEQUENCE",
    "lstm_forecast": "LSTM_FORECAST",
    "lstm_metrics": "LSTM_METRICS",
    "lstm_init": "LSTM_INIT",
}


def grid(a) -> list[list]:
    """A range's cells as Office.js sends them: a 2-D list (a 1-D array becomes a column)."""
    a = np.asarray(a, dtype=float)
    return (a.reshape(-1, 1) if a.ndim == 1 else a).tolist()


def across(a) -> list[list]:
    """A 1-D array as one row of cells."""
    return [list(map(float, a))]


W1, B1 = grid(P1.W), grid(P1.b)
W2, B2 = grid(P2.W), across(P2.b)
W_BAD_TEXT = [r[:] for r in W1]
W_BAD_TEXT[2][1] = "abc"
W_BAD_BOOL = [r[:] for r in W1]
W_BAD_BOOL[5][3] = True


def with_cell(cells: list[list], r: int, c: int, value) -> list[list]:
    out = [list(row) for row in cells]
    out[r][c] = value
    return out


# name -> (payload, what the engine says the result must be)
GOOD = {
    "step-first-row": (payload("lstm_step", [[0.4]], None, None, W1, B1), xl.step(P1, [0.4]).row()[None]),
    "step-states-row-and-column": (
        payload("lstm_step", [[-1.2]], across(H0), grid(C0), W1, across(P1.b)),
        xl.step(P1, [-1.2], H0, C0).row()[None],
    ),
    "step-integer-cell": (payload("lstm_step", [[2]], None, None, W1, B1), xl.step(P1, [2.0]).row()[None]),
    "step-blank-state-cells": (
        payload("lstm_step", [[0.4]], [[None] * H], [[None] * H], W1, B1),
        xl.step(P1, [0.4]).row()[None],
    ),
    "step-empty-string-state-cells": (
        payload("lstm_step", [[0.4]], [[""] * H], [[""] * H], W1, B1),
        xl.step(P1, [0.4]).row()[None],
    ),
    "step-two-inputs-as-a-row": (
        payload("lstm_step", across(X2[0]), None, None, W2, B2),
        xl.step(P2, X2[0]).row()[None],
    ),
    "step-two-inputs-as-a-column": (
        payload("lstm_step", grid(X2[0]), None, None, W2, B2),
        xl.step(P2, X2[0]).row()[None],
    ),
    "sequence-optional-args-none": (
        payload("lstm_sequence", grid(X1), W1, B1, None, None, None),
        xl.run(P1, X1).table(),
    ),
    "sequence-optional-args-left-out": (payload("lstm_sequence", grid(X1), W1, B1), xl.run(P1, X1).table()),
    "sequence-row-is-one-series": (payload("lstm_sequence", across(X1[:, 0]), W1, B1), xl.run(P1, X1).table()),
    "sequence-two-inputs": (payload("lstm_sequence", grid(X2), W2, B2), xl.run(P2, X2).table()),
    "sequence-start-states-and-h": (
        payload("lstm_sequence", grid(X1), W1, B1, across(H0), grid(C0), [["h"]]),
        xl.run(P1, X1, H0, C0).h,
    ),
    "sequence-outputs-c,h": (
        payload("lstm_sequence", grid(X1), W1, B1, None, None, [["c,h"]]),
        np.hstack([xl.run(P1, X1).c, xl.run(P1, X1).h]),
    ),
    "sequence-outputs-C H": (
        payload("lstm_sequence", grid(X1), W1, B1, None, None, [["C H"]]),
        np.hstack([xl.run(P1, X1).c, xl.run(P1, X1).h]),
    ),
    "sequence-outputs-all": (payload("lstm_sequence", grid(X1), W1, B1, None, None, [["all"]]), xl.run(P1, X1).table()),
    "sequence-whole-column-none-rows": (
        payload("lstm_sequence", grid(X1) + [[None]] * 30, W1, B1 + [[None]] * 5),
        xl.run(P1, X1).table(),
    ),
    "sequence-whole-column-empty-string-rows": (
        payload("lstm_sequence", grid(X1) + [[""]] * 30, W1, B1 + [[""]] * 5),
        xl.run(P1, X1).table(),
    ),
    "forecast-scaled": (
        payload("lstm_forecast", grid(X1), W1, B1, grid(P1.W_y), [[0.0]], [[4]], [[0.5, 2.0]]),
        recursive_forecast(P1, X1, 4, 0.5, 2.0),
    ),
    "forecast-no-scale-blank-b_y": (
        payload("lstm_forecast", grid(X1), W1, B1, grid(P1.W_y), None, [[3]], None),
        recursive_forecast(P1, X1, 3),
    ),
    "forecast-scale-left-out": (
        payload("lstm_forecast", grid(X1), W1, B1, grid(P1.W_y), None, [[1]]),
        recursive_forecast(P1, X1, 1),
    ),
    "forecast-two-inputs": (
        payload("lstm_forecast", grid(X2), W2, B2, grid(P2.W_y), across(P2.b_y), [[3]], [[0.1, -0.2], [1.5, 0.5]]),
        recursive_forecast(P2, X2, 3, [0.1, -0.2], [1.5, 0.5]),
    ),
    "init": (
        payload("lstm_init", [[2]], [[3]], [[7]]),
        np.hstack([xl.init_params(2, 3, seed=7).W, xl.init_params(2, 3, seed=7).b[:, None]]),
    ),
    "init-seed-omitted": (
        payload("lstm_init", [[1]], [[2]], None),
        np.hstack([xl.init_params(1, 2).W, xl.init_params(1, 2).b[:, None]]),
    ),
}

METRIC_CALLS = {
    "metrics-all-args": (
        payload("lstm_metrics", grid(ACTUAL), across(PREDICTED), [[2]], grid(HISTORY)),
        error_metrics(ACTUAL, PREDICTED, 2, HISTORY),
    ),
    "metrics-defaults": (
        payload("lstm_metrics", grid(ACTUAL), grid(PREDICTED), None, None),
        error_metrics(ACTUAL, PREDICTED),
    ),
    "metrics-zero-actual": (
        payload("lstm_metrics", [[0.0], [2.0], [4.0]], [[1.0], [2.0], [3.0]]),
        error_metrics([0.0, 2.0, 4.0], [1.0, 2.0, 3.0]),
    ),
}

# name -> (payload, the exact line the cell must show)
BAD = {
    "text-in-W": (
        payload("lstm_step", [[0.4]], None, None, W_BAD_TEXT, B1),
        "LSTM_STEP: W: the cell at row 3, column 2 holds text 'abc', not a number",
    ),
    "TRUE-in-W": (
        payload("lstm_step", [[0.4]], None, None, W_BAD_BOOL, B1),
        "LSTM_STEP: W: the cell at row 6, column 4 holds TRUE, not a number",
    ),
    "error-value-as-x_t": (
        payload("lstm_step", [[xl_error("#N/A")]], None, None, W1, B1),
        "LSTM_STEP: x_t: the cell at row 1, column 1 holds the error #N/A",
    ),
    "error-value-in-X": (
        payload("lstm_sequence", with_cell(grid(X1), 3, 0, xl_error("#DIV/0!")), W1, B1),
        "LSTM_SEQUENCE: X: the cell at row 4, column 1 holds the error #DIV/0!",
    ),
    "error-value-in-h_prev": (
        payload("lstm_step", [[0.4]], [[0.1, xl_error("#VALUE!"), 0.2]], None, W1, B1),
        "LSTM_STEP: h_prev: the cell at row 1, column 2 holds the error #VALUE!",
    ),
    "number-as-text-in-actual": (
        payload("lstm_metrics", [[1.0], ["12.5"]], [[1.0], [2.0]]),
        (
            "LSTM_METRICS: actual: the cell at row 2, column 1 holds the number '12.5' stored as text; "
            "convert it to a number"
        ),
    ),
    "blank-inside-X": (
        payload("lstm_sequence", with_cell(grid(X1), 2, 0, None), W1, B1),
        "LSTM_SEQUENCE: X: the cell at row 3, column 1 is empty",
    ),
    "empty-string-inside-X": (
        payload("lstm_sequence", with_cell(grid(X1), 2, 0, ""), W1, B1),
        "LSTM_SEQUENCE: X: the cell at row 3, column 1 is empty",
    ),
    "wrong-W-shape": (
        payload("lstm_step", [[0.4]], None, None, [r[:3] for r in W1], B1),
        "LSTM_STEP: W must be 4H×(H+D) = 12×4 (H=3 from b's 12 numbers, D=1 from x_t), got 12×3",
    ),
    "blank-b": (payload("lstm_step", [[0.4]], None, None, W1, None), "LSTM_STEP: b is empty: expected numbers"),
    "h_prev-too-short": (
        payload("lstm_step", [[0.4]], [[0.1, 0.2]], None, W1, B1),
        "LSTM_STEP: h_prev must have 3 numbers, got 2",
    ),
    "unknown-outputs": (
        payload("lstm_sequence", grid(X1), W1, B1, None, None, [["h,z"]]),
        "LSTM_SEQUENCE: outputs must be all or names from i, f, g, c, o, h (e.g. c,h); got 'h,z'",
    ),
    "outputs-an-error-value": (
        payload("lstm_sequence", grid(X1), W1, B1, None, None, [[xl_error("#N/A")]]),
        "LSTM_SEQUENCE: outputs holds the error #N/A: expected text such as all, h or c,h",
    ),
    "horizon-a-whole-sheet": (
        payload("lstm_forecast", grid(X1), W1, B1, grid(P1.W_y), None, [[1_048_576]]),
        "LSTM_FORECAST: horizon must be at most 10,000 steps (the budget of one call), got 1,048,576",
    ),
    "outputs-as-a-number": (
        payload("lstm_sequence", grid(X1), W1, B1, None, None, [[2]]),
        "LSTM_SEQUENCE: outputs must be text such as all, h or c,h; got 2",
    ),
    "horizon-not-whole": (
        payload("lstm_forecast", grid(X1), W1, B1, grid(P1.W_y), None, [[2.5]]),
        "LSTM_FORECAST: horizon must be a whole number ≥ 1, got 2.5",
    ),
    "horizon-blank": (
        payload("lstm_forecast", grid(X1), W1, B1, grid(P1.W_y), None, None),
        "LSTM_FORECAST: horizon is empty: expected numbers",
    ),
    "metrics-counts-differ": (
        payload("lstm_metrics", [[1.0], [2.0]], [[1.0]]),
        "LSTM_METRICS: predicted must have as many cells as actual (2), got 1",
    ),
    "init-hidden-block": (
        payload("lstm_init", [[1]], [[2, 3]]),
        "LSTM_INIT: hidden must be a single cell, got 1×2 cells",
    ),
    "init-inputs-FALSE": (
        payload("lstm_init", [[False]], [[2]]),
        "LSTM_INIT: inputs: the cell at row 1, column 1 holds FALSE, not a number",
    ),
}

REPEAT = GOOD["sequence-outputs-all"][0]  # sent once more at the end: a cache hit through xlwings
ORDER = [*GOOD, *METRIC_CALLS, *BAD, "repeat"]


@pytest.fixture(scope="module")
def server() -> dict:
    """Every payload of this module through xlwings.server in one subprocess, by name, plus the meta."""
    payloads = [
        *(p for p, _ in GOOD.values()),
        *(p for p, _ in METRIC_CALLS.values()),
        *(p for p, _ in BAD.values()),
        REPEAT,
    ]
    out = run_payloads(payloads)
    return {"results": dict(zip(ORDER, out["results"], strict=True)), "meta": out["meta"]}


def value(server: dict, name: str):
    """The value xlwings handed back for one named payload; it must not have raised or warned."""
    res = server["results"][name]
    assert "raised" not in res, f"{name}: custom_functions_call raised {res['raised']}"
    assert res["warnings"] == [], f"{name}: warned {res['warnings']}"
    return res["value"]


@pytest.mark.parametrize("name", list(GOOD))
def test_results_equal_the_engine(server: dict, name: str) -> None:
    """Cells spilled through xlwings are the engine's numbers, exactly (JSON floats round-trip)."""
    cells = value(server, name)
    expected = GOOD[name][1]
    assert isinstance(cells, list) and all(isinstance(r, list) for r in cells)
    assert all(isinstance(v, float) for r in cells for v in r), cells
    np.testing.assert_array_equal(np.array(cells), expected)


@pytest.mark.parametrize("name", list(METRIC_CALLS))
def test_metrics_table_through_xlwings(server: dict, name: str) -> None:
    """LSTM_METRICS spills names and values; an undefined metric (NaN) arrives as Excel's #NUM!."""
    cells = value(server, name)
    expected = METRIC_CALLS[name][1]
    assert [r[0] for r in cells] == list(METRICS)
    for metric, got in cells:
        want = expected[metric]
        if np.isnan(want):
            assert got == {"type": "Error", "errorType": "Num"}, (metric, got)
        else:
            assert got == want, (metric, got, want)
    if name == "metrics-zero-actual":
        assert isinstance(cells[2][1], dict)  # MAPE with an actual of 0


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_one_line_of_text(server: dict, name: str) -> None:
    """Bad cells come back as a single cell holding one line "FUNC: ...", never as a raise."""
    cells = value(server, name)
    assert isinstance(cells, list) and len(cells) == 1 and len(cells[0]) == 1, cells
    assert cells[0][0] == BAD[name][1]


def test_a_repeated_call_through_xlwings_is_unchanged(server: dict) -> None:
    """The cached (read-only) result converts back to the same cells as the first call."""
    assert value(server, "repeat") == value(server, "sequence-outputs-all")


# ---- registration: what Excel shows ----------------------------------------------------
def test_metadata_lists_every_function(server: dict) -> None:
    """custom_functions_meta registers exactly the five functions, by their Excel names."""
    functions = server["meta"]["functions"]
    assert sorted(f["id"] for f in functions) == sorted(UDFS.values())
    assert sorted(f["name"] for f in functions) == sorted(UDFS.values())
    for f in functions:
        assert f["result"] == {"dimensionality": "matrix", "type": "any"}
        assert not f["options"].get("volatile", False), f"{f['name']} must not be volatile"


@pytest.mark.parametrize("py_name", list(UDFS))
def test_metadata_parameters_follow_the_signature(server: dict, py_name: str) -> None:
    """Every Python parameter is registered, in order, optional exactly when it has a default."""
    meta = next(f for f in server["meta"]["functions"] if f["id"] == UDFS[py_name])
    sig = inspect.signature(getattr(udfs, py_name)).parameters
    assert [p["name"] for p in meta["parameters"]] == list(sig)
    for p in meta["parameters"]:
        has_default = sig[p["name"]].default is not inspect.Parameter.empty
        assert p.get("optional", False) is has_default, p
        assert p["dimensionality"] == "matrix"


def _arg_docs(py_name: str) -> dict[str, str]:
    """The doc= of each @xw.arg("name", ..., doc=...) above a function in udfs.py, read from its source."""
    tree = ast.parse(Path(udfs.__file__).read_text(encoding="utf-8"))
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == py_name)
    docs = {}
    for deco in func.decorator_list:
        if isinstance(deco, ast.Call) and ast.unparse(deco.func) == "xw.arg":
            doc = next(k.value for k in deco.keywords if k.arg == "doc")
            docs[deco.args[0].value] = doc.value if isinstance(doc, ast.Constant) else getattr(udfs, doc.id)
    return docs


@pytest.mark.parametrize("py_name", list(UDFS))
def test_metadata_descriptions_come_from_the_docs(server: dict, py_name: str) -> None:
    """Excel's help is the docstring and each parameter's @xw.arg(doc=...), never a placeholder."""
    meta = next(f for f in server["meta"]["functions"] if f["id"] == UDFS[py_name])
    assert meta["description"].strip() and meta["description"] == getattr(udfs, py_name).__doc__
    docs = _arg_docs(py_name)
    for p in meta["parameters"]:
        assert p["description"].strip(), p
        assert p["description"] == docs.get(p["name"]), f"{p['name']}: registered {p['description']!r}"
        if p.get("optional"):  # Excel shows [name]; the help should say what leaving it out means
            assert "optional" in p["description"].lower() or "blank" in p["description"].lower(), p


# ---- Pyodide: the UDF module's imports --------------------------------------------------
ALLOWED = {"numpy", "pandas", "xlwings", "xl_lstm"}
PACKAGE = Path(xl.__file__).resolve().parent


def _module_file(name: str) -> Path | None:
    """The source file of an xl_lstm module name, or None if it is not a module of ours."""
    parts = name.split(".")
    if parts[0] != "xl_lstm":
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _runs(tree: ast.Module) -> list[ast.AST]:
    """Every node of the file except the bodies of ``if TYPE_CHECKING:``, which never run."""
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for stmt in node.body
        for n in ast.walk(stmt)
    }
    return [n for n in ast.walk(tree) if id(n) not in skipped]


def _imports(module: str, path: Path) -> set[str]:
    """Absolute names of every module an xl_lstm source file imports (anywhere it can run,
    function bodies included; not the type checkers' ``if TYPE_CHECKING:`` blocks)."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _runs(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names if _module_file(f"{target}.{alias.name}"))
    # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
    for name in list(found):
        parts = name.split(".")
        found.update(".".join(parts[:k]) for k in range(1, len(parts)))
    return found


def test_udf_module_imports_only_what_pyodide_has() -> None:
    """xl_lstm.udfs and every xl_lstm module it pulls in, transitively, import only
    numpy, pandas, xlwings, xl_lstm and the standard library (xlwings Lite runs Pyodide)."""
    seen: set[str] = set()
    todo = ["xl_lstm", "xl_lstm.udfs"]  # importing xl_lstm.udfs runs xl_lstm/__init__.py too
    top_level: dict[str, str] = {}
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for name in _imports(module, _module_file(module)):
            if _module_file(name):
                todo.append(name)
            elif not name.startswith("xl_lstm"):
                top_level.setdefault(name.split(".")[0], module)
    assert {
        "xl_lstm.udfs",
        "xl_lstm.excel.sheet",
        "xl_lstm.excel.ranges",
        "xl_lstm.lstm.engine",
        "xl_lstm.core.checks",
    } <= seen
    assert "xl_lstm.lstm.interop" not in seen  # the public API's other names load on first use, not here
    assert {"numpy", "xlwings"} <= set(top_level)
    foreign = {
        name: by for name, by in top_level.items() if name not in ALLOWED and name not in sys.stdlib_module_names
    }
    assert foreign == {}, f"modules Pyodide may lack, imported by: {foreign}"


# ---- a whole column (A:A) through the converters --------------------------------------------
WHOLE_COLUMN = r"""
import asyncio, json, sys, time
import xlwings.server
from xl_lstm import udfs
calls, out = json.load(sys.stdin), []
for data in calls:
    start = time.perf_counter()
    value = asyncio.run(xlwings.server.custom_functions_call(data, udfs))
    out.append({"seconds": time.perf_counter() - start, "value": value, "hits": udfs.CACHE.hits})
print(json.dumps(out))
"""


def test_a_whole_column_is_fast_and_a_repeat_is_a_cache_hit() -> None:
    """A:A (1,048,576 rows, 144 filled, the rest blank as Office.js sends them) through
    custom_functions_call: trailing blanks go before any per-cell work (xlwings' own cleaning
    cost ~100 µs a cell on CPython: 102 s a call), and the same call again is a cache hit."""
    import json
    import os
    import subprocess

    from tests.conftest import ROOT

    x = np.sin(np.arange(144) / 3)
    column = [[float(v)] for v in x] + [[None]] * (1_048_576 - 144)
    call = payload("lstm_sequence", column, W1, B1, None, None, [["h"]])
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", WHOLE_COLUMN],
        input=json.dumps([call, call]),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    first, again = json.loads(proc.stdout)
    np.testing.assert_array_equal(np.array(first["value"]), xl.run(P1, x[:, None]).h)
    assert first["seconds"] < 10 and again["seconds"] < 10, (first["seconds"], again["seconds"])
    assert (first["hits"], again["hits"]) == (0, 1) and again["value"] == first["value"]
