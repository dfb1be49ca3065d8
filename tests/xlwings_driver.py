"""Excel custom-function calls through xlwings' own server code, for the tests.

``run_payloads(payloads)`` starts ONE subprocess that runs this file as a script:
with XLWINGS_ON_SERVER=true set before xlwings is first imported, the plain
``@xw.func`` decorators of ``xl_lstm.udfs`` become the Office.js ones, and
``xlwings.server.custom_functions_call`` applies the same argument converters,
defaults and result conversion as xlwings Lite and xlwings Server.
XLWINGS_LICENSE_KEY=noncommercial is xlwings' free key for noncommercial use: a
test-only environment variable, always available, so these tests never skip.

The script reads a JSON list of payloads on stdin and prints one JSON object:
``{"results": [...], "meta": custom_functions_meta(xl_lstm.udfs)}``. Each result is
``{"value": <what xlwings hands back to Excel>, "warnings": [...]}``, or
``{"raised": "Type: message"}`` when the call raised.

Payloads look like what the Office.js add-in posts: ``func_name`` is the Python
name (custom_functions_call does ``getattr(module, func_name)``), ``args`` holds a
2-D list per parameter (None for an omitted argument), and an Excel error cell is
an ``Excel.ErrorCellValue`` dict, built by ``xl_error``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

ERROR_TYPES = {
    "#DIV/0!": "Div0",
    "#N/A": "NotAvailable",
    "#NAME?": "Name",
    "#NULL!": "Null",
    "#NUM!": "Num",
    "#REF!": "Ref",
    "#VALUE!": "Value",
}


def xl_error(text: str) -> dict[str, str]:
    """An Excel error cell as Office.js hands it to a custom function (Excel.ErrorCellValue)."""
    return {"type": "Error", "basicType": "Error", "basicValue": text, "errorType": ERROR_TYPES[text]}


def payload(func_name: str, *args: Any) -> dict[str, Any]:
    """One custom-function call as the Office.js add-in posts it."""
    return {"func_name": func_name, "args": list(args), "version": "dev", "client": "Office.js", "runtime": "1.4"}


def run_payloads(payloads: list[dict[str, Any]], timeout: float = 120) -> dict[str, Any]:
    """Run every payload in one subprocess; returns {"results": [...], "meta": {...}}."""
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve())],
        input=json.dumps(payloads),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"xlwings driver failed ({proc.returncode}):\n{proc.stderr}")
    out = json.loads(proc.stdout)
    if len(out["results"]) != len(payloads):
        raise RuntimeError(f"driver returned {len(out['results'])} results for {len(payloads)} payloads")
    return out


async def call_all(payloads: list[dict[str, Any]], module: Any) -> list[dict[str, Any]]:
    """Each payload through ``xlwings.server.custom_functions_call``, awaited one by one.

    Shared with the Pyodide test (tests/pyodide/lite.py), where the event loop is the
    JavaScript one and the calls must be awaited rather than run with asyncio.run.
    """
    import warnings

    import xlwings.server

    results: list[dict[str, Any]] = []
    for data in payloads:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = await xlwings.server.custom_functions_call(data, module)
            except Exception as exc:  # noqa: BLE001  (reported, not fatal: the test decides)
                results.append({"raised": f"{type(exc).__name__}: {exc}"})
                continue
        results.append({"value": value, "warnings": [f"{w.category.__name__}: {w.message}" for w in caught]})
    return results


def _main() -> None:
    import asyncio

    import xlwings  # first import of xlwings in this process: XLWINGS_ON_SERVER applies
    import xlwings.server

    from xl_lstm import udfs

    if not xlwings.on_server:
        raise SystemExit("XLWINGS_ON_SERVER=true was not in effect when xlwings was imported")

    results = asyncio.run(call_all(json.load(sys.stdin), udfs))
    meta = xlwings.server.custom_functions_meta(udfs)
    sys.stdout.write(json.dumps({"results": results, "meta": meta}))


if __name__ == "__main__":
    _main()
