"""Batch refresh against a plain openpyxl load-and-save of the same workbook, same run.

    python benchmarks/bench_refresh.py           # a template workbook with 10,000 time steps
    python benchmarks/bench_refresh.py --quick   # 200 steps: checks the script runs

The workbook is the template (H=4, D=1) over a synthetic monthly series of T steps.
Prints the median seconds of each side, the ratio (target ≤ 0.5: the refresh only
touches its own cells), and the refresh's peak memory (tracemalloc) next to the
workbook's size. The machine is shared: trust the ratio, not absolute times.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import openpyxl
from timing import median_seconds

from xl_lstm.template.build import template_bytes
from xl_lstm.workbook.refresh import refresh_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 steps, to check that the script runs")
    args = ap.parse_args()
    T, repeats = (200, 1) if args.quick else (10_000, 3)
    t = np.arange(T)
    series = 100 + 10 * np.sin(2 * np.pi * t / 12) + 0.01 * t
    with tempfile.TemporaryDirectory() as folder:
        src = Path(folder) / "big.xlsx"
        src.write_bytes(template_bytes(series=series, train_epochs=0))
        ours_path, theirs_path = Path(folder) / "ours.xlsx", Path(folder) / "theirs.xlsx"

        def ours() -> None:
            shutil.copyfile(src, ours_path)
            refresh_file(ours_path)

        def theirs() -> None:
            openpyxl.load_workbook(src).save(theirs_path)

        copy = median_seconds(lambda: shutil.copyfile(src, ours_path), repeats)
        t_ours = median_seconds(ours, repeats) - copy
        t_theirs = median_seconds(theirs, repeats)
        shutil.copyfile(src, ours_path)
        tracemalloc.start()
        refresh_file(ours_path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        size = src.stat().st_size
    print(f"template workbook, T={T} steps, H=4, D=1: {size / 2**20:.1f} MiB on disk; median of {repeats}")
    print(f"{'xl-lstm refresh':<28} {t_ours:>8.2f} s")
    print(f"{'openpyxl load + save':<28} {t_theirs:>8.2f} s")
    print(f"ratio refresh / openpyxl: {t_ours / t_theirs:.2f}  (target <= 0.5)")
    print(f"refresh peak memory: {peak / 2**20:.0f} MiB (tracemalloc)")


if __name__ == "__main__":
    main()
