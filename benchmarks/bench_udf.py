"""Excel functions, Python side: time per call of LSTM_STEP and LSTM_SEQUENCE.

    python benchmarks/bench_udf.py [--quick]

Arguments are what xlwings hands over after the conversion declared in xl_lstm.udfs
(np.array, ndim=2, dtype=object, blanks as None): 2-D object arrays of floats.
"cold" clears the result cache before every call; "cached" repeats an unchanged
call (a recalculation with nothing changed). "engine" is xl_lstm.step / run doing
the same work with no sheet layer. Excel's own per-call overhead (COM: ms) is
not included.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402

import numpy as np  # noqa: E402
from timing import median_seconds  # noqa: E402

import xl_lstm as xl  # noqa: E402
from xl_lstm import udfs  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, to check that the script runs")
    args = ap.parse_args()
    T, H, calls = (50, 4, 5) if args.quick else (1000, 32, 50)
    rng = np.random.default_rng(0)
    params = xl.init_params(1, H, seed=0)
    W, b = params.W.astype(object), params.b[:, None].astype(object)  # (4H, H+1), a 4H×1 column
    X = rng.standard_normal((T, 1))  # a T×1 column
    h, c = rng.uniform(-1, 1, (1, H)), rng.uniform(-1, 1, (1, H))
    X_obj = X.astype(object)
    x_t, h_prev, c_prev = X_obj[:1], h.astype(object), c.astype(object)

    cases = [
        ("LSTM_STEP", lambda: udfs.lstm_step(x_t, h_prev, c_prev, W, b), lambda: xl.step(params, X[0], h[0], c[0])),
        (
            f"LSTM_SEQUENCE T={T}",
            lambda: udfs.lstm_sequence(X_obj, W, b, None, None, "all"),
            lambda: xl.run(params, X, outputs="all"),
        ),
    ]
    print(f"H={H}, D=1, one thread, median of {calls} calls, microseconds per call")
    print(f"{'function':<22} {'engine':>10} {'cold':>10} {'cached':>10} {'cold/engine':>12} {'cached/engine':>14}")
    for name, udf, engine in cases:
        t_engine = median_seconds(engine, calls)
        t_cold = median_seconds(udf, calls, before=udfs.CACHE.clear)
        udf()
        t_cached = median_seconds(udf, calls)
        assert not isinstance(udf(), str), udf()
        print(
            f"{name:<22} {t_engine * 1e6:>10.1f} {t_cold * 1e6:>10.1f} {t_cached * 1e6:>10.1f} "
            f"{t_cold / t_engine:>12.2f} {t_cached / t_engine:>14.3f}"
        )


if __name__ == "__main__":
    main()
