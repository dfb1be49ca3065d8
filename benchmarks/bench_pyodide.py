"""Excel functions where xlwings Lite runs them: Pyodide (WebAssembly, under Node) next to CPython.

    python .ci/pyodide.py                       # once: Pyodide 0.27.7, micropip and the wheels xl_lstm needs into .pyodide/
    python benchmarks/bench_pyodide.py [--quick] [--hidden H] [--steps T] [--calls N]

Microseconds per call of LSTM_STEP and LSTM_SEQUENCE (T steps, D=1, H hidden units), the same
code in both runtimes (tests/pyodide/lite.py): "engine" is xl_lstm.step / run alone; "cold" the
worksheet function with its result cache cleared, "cached" an unchanged repeat (a recalculation
with nothing changed); "lite cold" / "lite cached" the same through
xlwings.server.custom_functions_call, the converter xlwings Lite runs on every call, from an
Office.js payload. Then the @script lstm_fit on the template workbook's history (400 passes),
and what loading Pyodide costs (seconds, Node's resident memory). Medians; one thread.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.pyodide.runner

from tests.pyodide import runner  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and no training, to check that the script runs")
    ap.add_argument("--hidden", type=int, default=32, help="H (default 32, as benchmarks/bench_udf.py)")
    ap.add_argument("--steps", type=int, default=1000, help="T of LSTM_SEQUENCE (default 1000)")
    ap.add_argument("--calls", type=int, default=10, help="calls per median (default 10)")
    args = ap.parse_args()
    why = runner.missing()
    if why:
        print(f"bench_pyodide: {why}", file=sys.stderr)
        return 1
    bench = {"T": 50, "H": 4, "calls": 3} if args.quick else {"T": args.steps, "H": args.hidden, "calls": args.calls}
    request: dict = {"bench": bench}
    if not args.quick:
        book = runner.lite_book(runner.SHEETS, {n: (rng, a.tolist()) for n, (rng, a) in runner.RANGES.items()})
        request["scripts"] = [{"name": "lstm_fit", "book": book}]
    node = runner.run_in_pyodide(request)
    answers = {"Pyodide": node["response"], "CPython": runner.run_in_cpython(request)}

    columns = ["engine", "cold", "cached", "lite_cold", "lite_cached"]
    print(f"H={bench['H']}, D=1, median of {bench['calls']} calls, microseconds per call")
    for runtime, answer in answers.items():
        v = answer["versions"]
        print(f"  {runtime}: Python {v['python']} ({v['platform']}), numpy {v['numpy']}, xlwings {v['xlwings']}")
    print(f"{'function':<22} {'runtime':<8}" + "".join(f"{c.replace('_', ' '):>13}" for c in columns))
    for i, row in enumerate(answers["Pyodide"]["bench"]):
        for runtime, answer in answers.items():
            r = answer["bench"][i]
            print(f"{r['function']:<22} {runtime:<8}" + "".join(f"{r[c]:>13.0f}" for c in columns))
        ratio = [answers["Pyodide"]["bench"][i][c] / answers["CPython"]["bench"][i][c] for c in columns]
        print(f"{row['function']:<22} {'ratio':<8}" + "".join(f"{x:>13.2f}" for x in ratio))
    if "scripts" in request:
        fits = {rt: a["scripts"]["results"][0] for rt, a in answers.items()}
        for runtime, fit in fits.items():
            if "raised" in fit:
                print(f"lstm_fit ({runtime}): {fit['raised']}", file=sys.stderr)
                return 1
        print(
            "lstm_fit on the template's 132 months, 400 passes, s: "
            + ", ".join(f"{rt} {fit['seconds']:.2f}" for rt, fit in fits.items())
        )
    print(
        "Pyodide start, s: "
        + ", ".join(f"{k} {v:.2f}" for k, v in node["seconds"].items() if k != "request")
        + f"; Node resident memory {node['memory_mb']['rss']:.0f} MB (WebAssembly heap {node['memory_mb']['wasm_heap']:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
