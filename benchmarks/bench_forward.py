"""Forward pass: xl_lstm.run against torch.nn.LSTM, one thread, same run, same dtype.

    python benchmarks/bench_forward.py            # the three cases of issue 2
    python benchmarks/bench_forward.py --quick    # tiny sizes: checks the script runs

Prints the median time of each side, their ratio, the target, and xl_lstm's peak
memory (tracemalloc, which sees NumPy's allocations) next to the size of what it
returns plus one chunk of input projections. The machine is shared: trust
ratios measured in one run, not absolute times.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # before NumPy or torch load their thread pools

import argparse  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
from timing import median_seconds  # noqa: E402

import xl_lstm  # noqa: E402
from xl_lstm.lstm.engine import CHUNK_BYTES  # noqa: E402


@dataclass(frozen=True)
class Case:
    D: int
    H: int
    T: int
    B: int
    outputs: str  # what xl_lstm returns: "h" (like torch's output) or "last"
    repeats: int


def peak_bytes(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench(case: Case, dtype: type, torch) -> dict:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    lstm = torch.nn.LSTM(case.D, case.H).to(torch.float64 if dtype == np.float64 else torch.float32)
    params = xl_lstm.from_torch(lstm, dtype=dtype)
    X = rng.standard_normal((case.T, case.B, case.D)).astype(dtype)
    Xt = torch.from_numpy(X)

    def ours() -> object:
        return xl_lstm.run(params, X, outputs=case.outputs)

    def theirs() -> object:
        with torch.no_grad():
            return lstm(Xt)

    t_ours = median_seconds(ours, case.repeats, warm_up=True)
    t_torch = median_seconds(theirs, case.repeats, warm_up=True)
    itemsize = np.dtype(dtype).itemsize
    out_bytes = 2 * case.B * case.H * itemsize + (case.T * case.B * case.H * itemsize if case.outputs == "h" else 0)
    return {
        "ours": t_ours,
        "torch": t_torch,
        "peak": peak_bytes(ours),
        "budget": out_bytes + CHUNK_BYTES,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check that the script runs")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    if args.quick:
        cases = [Case(1, 8, 50, 1, "h", 2), Case(2, 8, 20, 4, "h", 2), Case(2, 8, 10, 300, "last", 2)]
    else:
        cases = [Case(1, 32, 10_000, 1, "h", 5), Case(4, 64, 1_000, 64, "h", 5), Case(4, 32, 100, 10_000, "last", 3)]
    print(f"numpy {np.__version__}, torch {torch.__version__}, one thread, medians")
    header = f"{'D':>2} {'H':>3} {'T':>6} {'B':>6} {'out':>4} {'dtype':>7} | {'ours ms':>9} {'torch ms':>9} {'ratio':>6} | {'peak MiB':>8} {'budget':>7}"
    print(header)
    print("-" * len(header))
    torch_f32 = {}
    for case in cases:
        for dtype in (np.float64, np.float32):
            r = bench(case, dtype, torch)
            if dtype == np.float32:
                torch_f32[case] = r["torch"]
            print(
                f"{case.D:>2} {case.H:>3} {case.T:>6} {case.B:>6} {case.outputs:>4} {np.dtype(dtype).name:>7} | "
                f"{r['ours'] * 1e3:>9.1f} {r['torch'] * 1e3:>9.1f} {r['ours'] / r['torch']:>6.2f} | "
                f"{r['peak'] / 2**20:>8.1f} {r['budget'] / 2**20:>7.1f}"
            )
            if dtype == np.float64:
                f64 = r["ours"]
        print(f"{'':>34}   ours f64 / torch f32: {f64 / torch_f32[case]:.2f}")
    print("targets: B=1 f64 <= 1.0x torch f64 and <= 3x torch f32; batched <= 1.0x torch same dtype;")
    print("         peak memory <= outputs + one chunk (the budget column)")


if __name__ == "__main__":
    main()
