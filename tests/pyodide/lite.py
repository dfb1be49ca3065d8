"""What xlwings Lite does with xl_lstm, as one request: run inside Pyodide and on CPython alike.

Inside Pyodide, tests/pyodide/run.mjs imports this module and awaits ``handle(request)``; on
CPython, ``python -m tests.pyodide.lite`` (XLWINGS_ON_SERVER=true and XLWINGS_LICENSE_KEY set
by the caller, see runner.py) reads the request on stdin and prints the response, so the
two runtimes run the same code and the test compares what they return.

A request may hold:

- ``"calls"``: Office.js payloads (tests/xlwings_driver.py) -> ``{"results": [...], "meta": ...}``
  through ``xlwings.server.custom_functions_call`` and ``custom_functions_meta``;
- ``"scripts"``: ``[{"name": "lstm_fit", "book": <book JSON>, "args": [...]}]`` -> per script the
  actions it queued on the ``xw.Book(json=...)`` (what Lite sends back to Excel) and its seconds, or
  ``{"raised": ..., "actions": [...]}`` (what it queued before), run through
  ``xlwings.server.custom_scripts_call`` as Lite runs an @script (``args``: the script's arguments
  after the book, as App Mode's form sends them; optional);
- ``"bench"``: ``{"T": 1000, "H": 32, "calls": 20}`` -> microseconds per call of LSTM_STEP and
  LSTM_SEQUENCE: the engine alone, the function cold (result cache cleared) and cached, and
  the same through custom_functions_call.

Functions and scripts are looked up in tests/pyodide/main.py, the main.py README tells Lite
users to write (Lite hands its main module to these same xlwings calls). Imports only the
standard library at module level: xlwings must be imported after the caller has set
XLWINGS_ON_SERVER.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any


def versions() -> dict[str, Any]:
    import numpy
    import xlwings

    return {
        "python": platform.python_version(),
        "platform": sys.platform,
        "numpy": numpy.__version__,
        "xlwings": xlwings.__version__,
        "on_server": bool(xlwings.on_server),
    }


async def calls(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    import xlwings.server

    from tests.pyodide import main
    from tests.xlwings_driver import call_all

    return {"results": await call_all(payloads, main), "meta": xlwings.server.custom_functions_meta(main)}


async def scripts(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each script against a Book built from Lite's book JSON; the actions it queued for Excel."""
    import xlwings as xw
    import xlwings.server

    from tests.pyodide import main as module

    results = []
    for run in runs:
        book = xw.Book(json=run["book"])
        t0 = time.perf_counter()
        try:
            await xlwings.server.custom_scripts_call(
                module, run["name"], typehint_to_value={xw.Book: book}, args=run.get("args")
            )
        except Exception as exc:  # noqa: BLE001  (reported, not fatal: the test decides)
            results.append({"raised": f"{type(exc).__name__}: {exc}", "actions": book.json()["actions"]})
            continue
        results.append({"actions": book.json()["actions"], "seconds": time.perf_counter() - t0})
    return {"results": results, "meta": xlwings.server.custom_scripts_meta(module)}


async def _median_us(fn: Callable[[], Awaitable[Any]], repeats: int, before: Callable[[], None] | None) -> float:
    """Median microseconds of ``await fn()``; ``before`` (not timed) runs ahead of each call."""
    times = []
    for _ in range(repeats):
        if before:
            before()
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2] * 1e6


async def bench(T: int, H: int, calls: int) -> list[dict[str, Any]]:
    """Per function: engine, cold and cached calls of the UDF, and both through custom_functions_call."""
    import numpy as np
    import xlwings.server

    import xl_lstm as xl
    from tests.xlwings_driver import payload
    from xl_lstm import udfs

    rng = np.random.default_rng(0)
    params = xl.init_params(1, H, seed=0)
    X = rng.standard_normal((T, 1))  # (T, 1)
    h, c = rng.uniform(-1, 1, (1, H)), rng.uniform(-1, 1, (1, H))
    # What xlwings hands the UDF after udfs' converters: 2-D object arrays, blanks as None.
    W, b, X_obj = params.W.astype(object), params.b[:, None].astype(object), X.astype(object)
    W_cells, b_cells = params.W.tolist(), params.b[:, None].tolist()

    async def sync(fn: Callable[[], Any]) -> Any:
        return fn()

    cases = [
        (
            "LSTM_STEP",
            lambda: udfs.lstm_step(X_obj[:1], h.astype(object), c.astype(object), W, b),
            lambda: xl.step(params, X[0], h[0], c[0]),
            payload("lstm_step", X[:1].tolist(), h.tolist(), c.tolist(), W_cells, b_cells),
        ),
        (
            f"LSTM_SEQUENCE T={T}",
            lambda: udfs.lstm_sequence(X_obj, W, b, None, None, "all"),
            lambda: xl.run(params, X, outputs="all"),
            payload("lstm_sequence", X.tolist(), W_cells, b_cells, None, None, [["all"]]),
        ),
    ]
    rows = []
    for name, udf, engine, data in cases:
        lite = lambda data=data: xlwings.server.custom_functions_call(data, udfs)  # noqa: E731
        first = await lite()
        if len(first[0]) == 1:  # one cell: an error message, not 6H columns
            raise RuntimeError(f"{name}: {first}")
        row = {
            "function": name,
            "engine": await _median_us(lambda engine=engine: sync(engine), calls, None),
            "cold": await _median_us(lambda udf=udf: sync(udf), calls, udfs.CACHE.clear),
        }
        udf()
        row["cached"] = await _median_us(lambda udf=udf: sync(udf), calls, None)
        row["lite_cold"] = await _median_us(lite, calls, udfs.CACHE.clear)
        await lite()
        row["lite_cached"] = await _median_us(lite, calls, None)
        rows.append(row)
    return rows


async def handle(request: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"versions": versions()}
    if "calls" in request:
        response["calls"] = await calls(request["calls"])
    if "scripts" in request:
        response["scripts"] = await scripts(request["scripts"])
    if "bench" in request:
        response["bench"] = await bench(**request["bench"])
    return response


if __name__ == "__main__":
    sys.stdout.write(json.dumps(asyncio.run(handle(json.load(sys.stdin)))))
