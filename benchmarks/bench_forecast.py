"""Forecast quality on real public series: xl_lstm against seasonal naive and exponential smoothing.

    python benchmarks/bench_forecast.py              # every series below, the fixed configuration
    python benchmarks/bench_forecast.py --seeds 5    # the same, xl_lstm's metrics as medians over 5 seeds
    python benchmarks/bench_forecast.py --quick      # two short series, few epochs: checks the script runs

Series that ship inside PyPI packages and load offline (DESIGN.md §3), chosen before
any result was seen and all counted in the medians:

    monthly   (season 12, hold-out 12)  xl_lstm's airline passengers (identical to pmdarima's
              load_airpassengers, so counted once), pmdarima wineind, statsmodels elnino (wide:
              one row a year, read row by row), statsmodels co2 (weekly: monthly means, the 5
              empty months interpolated)
    quarterly (season 4, hold-out 8)    statsmodels macrodata realgdp, cpi, unemp; pmdarima
              ausbeer (its trailing empty quarter dropped), woolyrnq, austres

pmdarima's series are skipped (with a note) when pmdarima is not installed.

Each series loses its last h points; every method sees only the rest and forecasts h
steps. Methods:
    seasonal naive   the last season repeated
    ETS              statsmodels ExponentialSmoothing, Holt-Winters with additive trend and
                     additive seasonality (AAA, the method behind Excel's FORECAST.ETS),
                     parameters by maximum likelihood; if it fails or forecasts a non-finite
                     number, additive trend without seasonality, then simple smoothing
                     (the "ETS" column says which was used)
    xl_lstm          fit + forecast with ONE configuration for every series, not tuned on
                     these series: hidden 8, log when the series is positive, first
                     differences and differences at the series' season length (its
                     frequency: 12 monthly, 4 quarterly), full-sequence BPTT, fit's other
                     defaults (400 epochs, Adam lr 0.01, early stopping on the last 15 %,
                     patience 60), seed 0
Metrics: sMAPE (%) and MASE (scaled by the seasonal naive's in-sample error on the
training part), from xl_lstm.metrics; cov80 is the share of the hold-out inside
xl_lstm's 80 % conformal interval. Goals (issue 5): beat seasonal naive on every series,
and match or beat ETS on the median.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # before NumPy, SciPy or torch load their thread pools

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

from xl_lstm.datasets import load_airpassengers  # noqa: E402
from xl_lstm.metrics import mase, smape  # noqa: E402
from xl_lstm.train import fit, forecast  # noqa: E402

LSTM_CONFIG = {"hidden": 8, "diff": True}  # plus log=True when the series is positive; nothing else changes


@dataclass(frozen=True)
class Series:
    name: str
    season: int
    horizon: int
    load: Callable[[], np.ndarray]


# ---- the series ---------------------------------------------------------------------------------
def _airline() -> np.ndarray:
    return load_airpassengers().to_numpy(dtype=float)


def _elnino() -> np.ndarray:
    from statsmodels.datasets import elnino

    wide = elnino.load_pandas().data  # YEAR, JAN..DEC
    return wide.drop(columns="YEAR").to_numpy(dtype=float).ravel()  # row by row: month order


def _co2() -> np.ndarray:
    from statsmodels.datasets import co2

    monthly = co2.load_pandas().data["co2"].resample("MS").mean()
    return monthly.interpolate("linear").to_numpy(dtype=float)


def _macro(column: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from statsmodels.datasets import macrodata

        return macrodata.load_pandas().data[column].to_numpy(dtype=float)

    return load


def _pmdarima(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from pmdarima import datasets

        y = np.asarray(getattr(datasets, f"load_{name}")(as_series=False), dtype=float)
        while y.size and np.isnan(y[-1]):  # ausbeer ends with an empty quarter
            y = y[:-1]
        if np.isnan(y).any():
            raise ValueError(f"pmdarima {name} has gaps inside the series")
        return y

    return load


MONTHLY, QUARTERLY = (12, 12), (4, 8)  # (season, hold-out)
ALL_SERIES = [
    Series("airline", *MONTHLY, _airline),
    Series("wineind", *MONTHLY, _pmdarima("wineind")),
    Series("elnino", *MONTHLY, _elnino),
    Series("co2", *MONTHLY, _co2),
    Series("realgdp", *QUARTERLY, _macro("realgdp")),
    Series("cpi", *QUARTERLY, _macro("cpi")),
    Series("unemp", *QUARTERLY, _macro("unemp")),
    Series("ausbeer", *QUARTERLY, _pmdarima("ausbeer")),
    Series("woolyrnq", *QUARTERLY, _pmdarima("woolyrnq")),
    Series("austres", *QUARTERLY, _pmdarima("austres")),
]
QUICK_SERIES = ["airline", "cpi"]


def _have_pmdarima() -> bool:
    try:
        import pmdarima  # noqa: F401
    except ImportError:
        return False
    return True


# ---- the methods --------------------------------------------------------------------------------
def seasonal_naive(train: np.ndarray, season: int, horizon: int) -> np.ndarray:
    last = train[-season:]
    return np.array([last[k % season] for k in range(horizon)])


def ets(train: np.ndarray, season: int, horizon: int) -> tuple[np.ndarray, str]:
    """Holt-Winters AAA; additive trend only, then simple smoothing, if a richer model fails."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    attempts = (
        ("AAA", {"trend": "add", "seasonal": "add", "seasonal_periods": season}),
        ("AAN", {"trend": "add"}),
        ("ANN", {}),
    )
    for label, kw in attempts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence chatter; a bad fit shows in the metrics
                res = ExponentialSmoothing(train, initialization_method="estimated", **kw).fit()
                pred = np.asarray(res.forecast(horizon), dtype=float)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            continue
        if np.all(np.isfinite(pred)):
            return pred, label
    raise RuntimeError("exponential smoothing failed in every form")


def lstm(
    train: np.ndarray, horizon: int, season: int, seed: int, epochs: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
    extra = {} if epochs is None else {"epochs": epochs}
    t0 = time.perf_counter()
    model = fit(train, log=bool(np.all(train > 0)), season=season, seed=seed, **LSTM_CONFIG, **extra)
    res = forecast(model, train, horizon, levels=(0.8,))
    return res.mean, res.lower[0.8], res.upper[0.8], model.epochs, time.perf_counter() - t0


# ---- the table ----------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="two short series and few epochs, to check that the script runs"
    )
    ap.add_argument("--seeds", type=int, default=1, help="xl_lstm seeds 0..N-1; its metrics are medians over them")
    args = ap.parse_args()
    epochs = 20 if args.quick else None
    seeds = list(range(max(1, args.seeds)))

    series = [s for s in ALL_SERIES if not args.quick or s.name in QUICK_SERIES]
    if not _have_pmdarima():
        skipped = [s.name for s in series if s.load.__qualname__.startswith("_pmdarima")]
        series = [s for s in series if s.name not in skipped]
        if skipped:
            print(f"note: pmdarima is not installed; skipped {', '.join(skipped)}")
    elif not args.quick:
        from pmdarima.datasets import load_airpassengers as pm_air

        same = np.array_equal(np.asarray(pm_air(as_series=False), float), _airline())
        print(
            f"pmdarima load_airpassengers {'is' if same else 'is NOT'} identical to xl_lstm's airline series"
            f"{': counted once' if same else ' (only the shipped copy is used)'}"
        )

    import statsmodels

    print(
        f"numpy {np.__version__}, statsmodels {statsmodels.__version__}, one thread; xl_lstm: "
        f"{LSTM_CONFIG} + log when positive + season lag, seeds {seeds[0]}..{seeds[-1]}"
        f"{'' if epochs is None else f', epochs {epochs}'}"
    )
    multi = len(seeds) > 1
    header = (
        f"{'series':<9} {'m':>2} {'n':>4} {'h':>2} | {'snaive':>6} {'MASE':>5} | {'ETS':>6} {'MASE':>5} {'form':>4} | "
        f"{'xl_lstm':>7} {'MASE':>5} {'cov80':>5} {'epochs':>6} {'fit s':>5}"
        + (f" | {'sMAPE min-max':>13}" if multi else "")
    )
    print("sMAPE (%) and MASE on the hold-out; lower is better")
    print(header)
    print("-" * len(header))
    rows = []
    for s in series:
        y = s.load()
        train, test = y[: -s.horizon], y[-s.horizon :]
        row = {"name": s.name}
        for method, pred in (("snaive", seasonal_naive(train, s.season, s.horizon)), ("ets", None)):
            if method == "ets":
                pred, row["ets_form"] = ets(train, s.season, s.horizon)
            row[f"{method}_smape"] = smape(test, pred)
            row[f"{method}_mase"] = mase(test, pred, season=s.season, history=train)
        runs = [lstm(train, s.horizon, s.season, seed, epochs) for seed in seeds]
        sm_runs = [smape(test, r[0]) for r in runs]
        row["lstm_smape"] = statistics.median(sm_runs)
        row["lstm_mase"] = statistics.median(mase(test, r[0], season=s.season, history=train) for r in runs)
        cov = statistics.median(float(np.mean((test >= r[1]) & (test <= r[2]))) for r in runs)
        ep = statistics.median(r[3] for r in runs)
        secs = statistics.median(r[4] for r in runs)
        rows.append(row)
        print(
            f"{s.name:<9} {s.season:>2} {y.size:>4} {s.horizon:>2} | {row['snaive_smape']:>6.2f} {row['snaive_mase']:>5.2f} | "
            f"{row['ets_smape']:>6.2f} {row['ets_mase']:>5.2f} {row['ets_form']:>4} | "
            f"{row['lstm_smape']:>7.2f} {row['lstm_mase']:>5.2f} {cov:>5.2f} {ep:>6.0f} {secs:>5.1f}"
            + (f" | {min(sm_runs):>6.2f}-{max(sm_runs):<6.2f}" if multi else "")
        )
    print("-" * len(header))
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0] if k.endswith(("smape", "mase"))}
    print(
        f"{'median':<9} {'':>2} {'':>4} {'':>2} | {med['snaive_smape']:>6.2f} {med['snaive_mase']:>5.2f} | "
        f"{med['ets_smape']:>6.2f} {med['ets_mase']:>5.2f} {'':>4} | {med['lstm_smape']:>7.2f} {med['lstm_mase']:>5.2f}"
    )

    print("goals:")
    for metric, label in (("smape", "sMAPE"), ("mase", "MASE")):
        losers = [r["name"] for r in rows if not r[f"lstm_{metric}"] < r[f"snaive_{metric}"]]
        wins = len(rows) - len(losers)
        print(
            f"  beat seasonal naive on every series ({label}): {'yes' if not losers else 'NO'} "
            f"({wins} of {len(rows)}{'; not on ' + ', '.join(losers) if losers else ''})"
        )
    for metric, label in (("smape", "sMAPE"), ("mase", "MASE")):
        ratio = med[f"lstm_{metric}"] / med[f"ets_{metric}"]
        print(
            f"  match or beat ETS on the median ({label}): {'yes' if ratio <= 1.0 else 'NO'} "
            f"(xl_lstm / ETS = {ratio:.2f})"
        )
        beat = sum(r[f"lstm_{metric}"] < r[f"ets_{metric}"] for r in rows)
        print(f"    xl_lstm beats ETS on {beat} of {len(rows)} series ({label})")


if __name__ == "__main__":
    main()
