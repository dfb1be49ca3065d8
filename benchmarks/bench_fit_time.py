"""Time to fit and forecast one series with the automatic forecaster, and to make a template from one.

    python benchmarks/bench_fit_time.py              # airline (144 months) and co2 (526 months)
    python benchmarks/bench_fit_time.py --template   # also `xl-lstm template --data` on co2
    python benchmarks/bench_fit_time.py --quick      # airline with 5 updates: checks the script runs

fit_auto + forecast_auto with the defaults, and with the shipped pretrained members
(``start="pretrained"``: nothing trained), horizon 12, season 12, one thread, as CPU seconds
(user + system, this process) and wall seconds: the machine may be shared, and CPU time is
what a busy machine leaves comparable. co2 is statsmodels' weekly series as monthly means
(the ``ten`` set of bench_forecast.py); without statsmodels it is skipped, with a note.
``--template`` runs the CLI on co2 written to a CSV and reports the child process's CPU time
(its own forecaster and the small template LSTM's passes (206 over co2's 514 months, the workbook recipe), plus the workbook).
Targets (the speed issue): 144 values <= 1 s, 526 values <= 3 s, the template <= 10 s of CPU.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # before NumPy loads its thread pool

import argparse  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from xl_lstm.forecasting.auto import fit_auto, forecast_auto  # noqa: E402
from xl_lstm.tables.datasets import load_airpassengers  # noqa: E402

TARGETS = {"airline": 1.0, "co2": 3.0}  # CPU seconds
TEMPLATE_TARGET = 10.0


def co2() -> np.ndarray | None:
    try:
        from statsmodels.datasets import co2 as data
    except ImportError:
        print("note: statsmodels is not installed; co2 is skipped")
        return None
    return np.asarray(data.load_pandas().data["co2"].resample("MS").mean().interpolate().to_numpy(float))


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def fit_forecast(y: np.ndarray, settings: dict[str, int]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of fit_auto + forecast_auto on y."""
    c0, w0 = cpu(), time.perf_counter()
    forecast_auto(fit_auto(y, 12, season=12, **settings))
    return cpu() - c0, time.perf_counter() - w0


def template_seconds(y: np.ndarray) -> tuple[float, float]:
    """(child CPU seconds, wall seconds) of `python -m xl_lstm template OUT --data CSV --force`."""
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "series.csv"
        months = np.arange(np.datetime64("1958-03"), np.datetime64("1958-03") + y.size)
        csv.write_text("month,value\n" + "".join(f"{m},{float(v)!r}\n" for m, v in zip(months, y, strict=True)))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w0 = time.perf_counter()
        cmd = [sys.executable, "-m", "xl_lstm", "template", str(Path(tmp) / "t.xlsx"), "--data", str(csv), "--force"]
        subprocess.run(cmd, check=True, capture_output=True, cwd=tmp)  # cwd: not a checkout's xl_lstm
        wall = time.perf_counter() - w0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="airline with 5 updates: checks the script runs")
    ap.add_argument("--template", action="store_true", help="also time `xl-lstm template --data` on co2")
    args = ap.parse_args()
    settings = {"updates": 5} if args.quick else {}
    cases = [("airline", load_airpassengers().to_numpy(dtype=float))]
    if not args.quick:
        y = co2()
        if y is not None:
            cases.append(("co2", y))
    print(f"numpy {np.__version__}, one thread; fit_auto + forecast_auto, horizon 12, season 12")
    print(f"{'series':<20} {'values':>6} | {'CPU s':>6} {'wall s':>6} | target (CPU)")
    for name, y in cases:
        fit_forecast(y[:40], {"updates": 2})  # imports and first calls, not timed
        for label, changes in (("", {}), (", pretrained", {"start": "pretrained"})):
            c, w = fit_forecast(y, {**settings, **changes})
            verdict = "" if args.quick else f"<= {TARGETS[name]:g} s {'met' if c <= TARGETS[name] else 'NOT met'}"
            print(f"{name + label:<20} {y.size:>6} | {c:>6.2f} {w:>6.2f} | {verdict}")
    if args.template and len(cases) > 1:
        c, w = template_seconds(cases[1][1])
        print(
            f"xl-lstm template --data co2: {c:.1f} s CPU, {w:.1f} s wall; target <= {TEMPLATE_TARGET:g} s CPU "
            f"{'met' if c <= TEMPLATE_TARGET else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
