"""Batch refresh against a plain openpyxl load-and-save of the same workbook, same run.

    python benchmarks/bench_refresh.py           # the largest template the limits admit (3,703 steps)
    python benchmarks/bench_refresh.py --quick   # 200 steps: checks the script runs

The workbook is the template (H=4, D=1) over a synthetic monthly series of T steps, T the
most the template's cell budget admits (``template.model.MAX_CELLS``; it was 10,000 steps,
43 MiB, before that budget was set to what fits in 1 GB).
Prints the median seconds of each side and their ratio (target <= 0.2: the refresh only
touches its own cells), and the refresh's peak memory (tracemalloc) against the
workbook's size on disk (target <= 4: it streams each sheet from the old package to
the new one). Both references are measured in the same run; a missed target prints
FAIL and exits 1. The machine is shared: trust the ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import openpyxl
from timing import median_seconds

from xl_lstm.template.build import template_bytes
from xl_lstm.template.model import MAX_CELLS, step_cells
from xl_lstm.workbook.refresh import refresh_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 steps, to check that the script runs")
    args = ap.parse_args()
    T, repeats = (200, 1) if args.quick else (MAX_CELLS // step_cells(4, 1), 3)  # H=4, D=1
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
    time_ratio, memory_ratio = t_ours / t_theirs, peak / size
    print(f"refresh peak memory: {peak / 2**20:.0f} MiB (tracemalloc)")
    failed = [
        label
        for label, ratio, target in (
            ("time, refresh / openpyxl load + save", time_ratio, TIME_TARGET),
            ("memory, refresh peak / size on disk", memory_ratio, MEMORY_TARGET),
        )
        if not _report(label, ratio, target)
    ]
    if failed and args.quick:
        print(f"(--quick: {T} steps are too few for the targets, which are for the full size)")
    elif failed:
        print(f"FAIL: {'; '.join(failed)}")
        sys.exit(1)


TIME_TARGET, MEMORY_TARGET = 0.2, 4.0


def _report(label: str, ratio: float, target: float) -> bool:
    ok = ratio <= target
    print(f"{label}: {ratio:.2f}  (target <= {target:g}) {'ok' if ok else 'FAIL'}")
    return ok


if __name__ == "__main__":
    main()
