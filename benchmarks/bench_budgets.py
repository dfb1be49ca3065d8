"""Peak memory of reading the largest tables the limits admit, each in a fresh process.

    python benchmarks/bench_budgets.py            # tables at the limits (a few minutes)
    python benchmarks/bench_budgets.py --quick    # 1/50 of the sizes: checks the script runs

Cases: the longest CSV of three columns admitted (unique_id, ds, y; unique values); a wide CSV
of as many cells as a long frame may hold values; a wide CSV of MAX_CELLS cells (read, then
refused by its values: the worst case); a CSV just under the text limit whose third line holds
120 M commas (the issue's 150 MB file is now refused by its size; this one is refused in one
line at line 3); a long CSV at the text limit whose every id holds a character beyond the BMP
(Python then keeps the text at 4 bytes a character). Each is read by ``read_panel`` in its own
process; the peak is that process's resident size (getrusage), pandas' import included. The
aim: under 1 GiB, whatever the table.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from xl_lstm.core.limits import MAX_CELLS, MAX_ROWS
from xl_lstm.tables.csv_column import MAX_BYTES

LONG_ROWS = min(MAX_ROWS, MAX_CELLS // 3) // 1000 * 1000  # rows of a long table of three columns the limits admit

_CHILD = """
import resource, sys, time
from xl_lstm.core.errors import LSTMError
from xl_lstm.tables.panel import read_panel
t = time.perf_counter()
try:
    said = read_panel(sys.argv[1]).source
except LSTMError as exc:
    said = "refused: " + str(exc)[:90]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{peak:.0f}|{time.perf_counter() - t:.1f}|{said}")
"""


def _long(path: Path, rows: int, mark: str = "") -> None:
    series = 1000
    with path.open("w", encoding="utf-8") as f:
        f.write("unique_id,ds,y\n")
        for i in range(series):
            uid = f"store{mark}_{i:05d}"
            f.writelines(
                f"{uid},{k + 1},{(k * 7919 + i * 104729) % 1000003 / 1000:.3f}\n" for k in range(rows // series)
            )


def _wide(path: Path, cells: int) -> None:
    rows = 1000
    columns = cells // rows - 1
    with path.open("w") as f:
        f.write("step," + ",".join(f"s{j}" for j in range(columns)) + "\n")
        for k in range(rows):
            f.write(f"{k + 1}," + ",".join(repr((k * columns + j) / 7) for j in range(columns)) + "\n")


def _wide_line(path: Path, commas: int) -> None:
    path.write_text("unique_id,ds,y\na,1,1\na,2" + "," * commas + "\na,3,3\n")


def _astral(path: Path, size: int) -> None:
    """MAX_ROWS long rows (fewer with --quick) of ``size`` bytes in all, each id holding an emoji."""
    rows = min(LONG_ROWS, size // 40)
    pad = max(0, size // rows - 30)
    with path.open("w", encoding="utf-8") as f:
        f.write("unique_id,ds,y\n")
        for i in range(1000):
            uid = f"\U0001f600{i:05d}" + "x" * pad
            f.writelines(f"{uid},{k + 1},{k % 997 + 0.5}\n" for k in range(rows // 1000))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1/50 of the sizes")
    scale = 50 if ap.parse_args().quick else 1
    cases = [
        (f"long CSV, {LONG_ROWS // scale:,} rows", _long, LONG_ROWS // scale),
        (f"wide CSV, {LONG_ROWS // scale:,} cells", _wide, LONG_ROWS // scale),
        (f"wide CSV, {MAX_CELLS // scale:,} cells", _wide, MAX_CELLS // scale),
        (f"a line of {120_000_000 // scale:,} commas", _wide_line, 120_000_000 // scale),
        (f"emoji ids, {MAX_BYTES // scale >> 20} MiB", _astral, MAX_BYTES // scale),
    ]
    print(f"{'case':<32} {'MiB file':>8} {'MiB peak':>8} {'s':>6}  result")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make, size in cases:
            path = Path(tmp) / "t.csv"
            make(path, size)
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True
            ).stdout
            peak, seconds, said = out.strip().split("|", 2)
            print(f"{name:<32} {path.stat().st_size / 2**20:8.0f} {peak:>8} {seconds:>6}  {said}")


if __name__ == "__main__":
    main()
