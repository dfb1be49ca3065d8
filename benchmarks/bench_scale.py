"""Series and workbooks per second on one process, two processes, and a 2-worker dask cluster,
and from those, an estimate for 1,000,000 series and 10,000 workbooks on 20 machines.

    python benchmarks/bench_scale.py            # 4,000 monthly series, 60 workbooks (a few minutes)
    python benchmarks/bench_scale.py --quick    # 200 series, 6 workbooks: checks the script runs

forecast: long Parquet files of 48 months per series; the model is the default's size (H=16,
3 members: what a series' forecast costs) fitted with fewer updates (--updates) on a sample
(--fit-sample), so that the fit, which runs once on the client whatever the cluster, does
not dominate the run. Three ways: one process (``forecast_files``), ``--scheduler local
--jobs 2`` (a LocalCluster of 2 processes), and ``dask scheduler`` + 2 ``dask worker``
processes (``--nthreads 1``) on 127.0.0.1. Each gives the seconds of its steps (read, fit,
forecast); series per second is of the forecast step.

refresh: copies of the template workbook with stale stored values; ``--jobs 1``, ``--jobs 2``
and the 2-worker cluster.

Memory: the peak resident size (getrusage) of each worker process, and of this process for
the single-process runs. The machine is shared (2 cores): trust the ratios more than the times.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xl_lstm.runs.batch import refresh_many
from xl_lstm.runs.cluster import connect, forecast_on_cluster, on_cluster, part_count
from xl_lstm.runs.panel_files import ManyForecast, forecast_files

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbooks" / "lstm_template.xlsx"
MONTHS = 48


def peak_rss() -> int:
    """This process's peak resident size in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    """CPU seconds this process has used (user + system)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class CpuMeter:
    """CPU seconds used by a cluster's workers (all of them) and its scheduler since the last read."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.last = self._now()

    def _now(self) -> tuple[float, float]:
        return sum(self.client.run(cpu_seconds).values()), self.client.run_on_scheduler(cpu_seconds)

    def read(self) -> tuple[float, float]:
        now = self._now()
        used = (now[0] - self.last[0], now[1] - self.last[1])
        self.last = now
        return used


def write_series(folder: Path, n: int, files: int = 4) -> int:
    """n seasonal monthly series, long, in ``files`` Parquet files; returns their bytes on disk."""
    rng = np.random.default_rng(0)
    t = np.arange(MONTHS)
    dates = pd.date_range("2020-01-01", periods=MONTHS, freq="MS")
    level = 100 * (1 + rng.uniform(0, 0.01, (n, 1))) ** t
    season = 1 + 0.3 * np.sin(2 * np.pi * (t + rng.integers(12, size=(n, 1))) / 12)
    y = level * season * np.exp(rng.normal(0, 0.03, (n, MONTHS)))
    ids = np.array([f"s{k:07d}" for k in range(n)], dtype=object)
    frame = pd.DataFrame({"unique_id": np.repeat(ids, MONTHS), "ds": np.tile(dates, n), "y": y.ravel()})
    folder.mkdir()
    for k, part in enumerate(np.array_split(np.arange(n), files)):
        rows = frame.iloc[part[0] * MONTHS : (part[-1] + 1) * MONTHS]
        rows.to_parquet(folder / f"series-{k}.parquet", index=False)
    return sum(f.stat().st_size for f in folder.iterdir())


def stale_books(folder: Path, n: int) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for k in range(n):
        shutil.copyfile(TEMPLATE, folder / f"book{k:04d}.xlsx")


@contextmanager
def dask_processes(folder: Path, workers: int = 2) -> Iterator[str]:
    """``dask scheduler`` and ``workers`` x ``dask worker --nthreads 1`` on 127.0.0.1; killed on leaving."""
    dask = shutil.which("dask")
    if dask is None:
        raise SystemExit("the dask command is missing: pip install 'xl_lstm[dask]'")
    file = folder / "scheduler.json"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    common = ["--host", "127.0.0.1", "--no-dashboard"]
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--port", "0", "--scheduler-file", str(file), *common],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    ]
    try:
        for _ in range(300):
            if file.exists():
                break
            time.sleep(0.1)
        for k in range(workers):
            argv = [dask, "worker", "--scheduler-file", str(file), "--nthreads", "1", "--name", f"w{k}", *common]
            procs.append(
                subprocess.Popen(
                    argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
                )
            )
        import json

        yield json.loads(file.read_text())["address"]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def worker_peaks(client: Any) -> list[int]:
    """Peak resident bytes of each worker process."""
    return sorted(client.run(peak_rss).values())


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def mib(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB"


def line(name: str, r: ManyForecast, n: int, memory: str) -> str:
    s = r.seconds
    return (
        f"{name:<34} read {s['read']:6.2f} s  fit {s['fit']:6.2f} s  forecast {s['forecast']:6.2f} s  "
        f"{n / s['forecast']:8,.0f} series/s  memory {memory}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 series and 6 workbooks, to check that the script runs")
    ap.add_argument("--series", type=int, default=4000)
    ap.add_argument("--workbooks", type=int, default=60)
    ap.add_argument("--updates", type=int, default=100, help="Adam steps per member of the fit (default run: 400)")
    ap.add_argument("--fit-sample", type=int, default=500)
    ap.add_argument("--machines", type=int, default=20, help="the estimate's machines")
    ap.add_argument("--cores", type=int, default=8, help="the estimate's cores per machine (one worker each)")
    ap.add_argument("--net-mbs", type=float, default=100.0, help="the estimate's network MB/s per machine")
    ap.add_argument("--fs-mbs", type=float, default=200.0, help="the estimate's shared file system MB/s in all")
    args = ap.parse_args()
    n, books = (200, 6) if args.quick else (args.series, args.workbooks)
    settings: dict[str, Any] = {"updates": args.updates, "hidden": 16, "members": 3}
    sample = args.fit_sample
    if args.quick:
        settings, sample = {"updates": 10, "hidden": 4, "members": 1}, 50

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data_bytes = write_series(folder / "data", n)
        frame_bytes = sum(pd.read_parquet(f).memory_usage(deep=True).sum() for f in (folder / "data").iterdir())
        print(
            f"forecast: {n:,} series x {MONTHS} months in 4 Parquet files, {data_bytes / 2**20:.1f} MiB on disk, "
            f"{frame_bytes / 2**20:.1f} MiB as pandas rows;\n  model {settings}, fitted on a sample of {sample} series"
        )

        one, _ = timed(lambda: forecast_files(folder / "data", sample=sample, **settings))
        print(line("one process", one, n, mib(peak_rss()) + " (this process)"))
        with connect("local", 2) as client:
            local = forecast_on_cluster(client, folder / "data", folder / "out-local", sample=sample, **settings)
            print(line("--scheduler local --jobs 2", local, n, " + ".join(mib(b) for b in worker_peaks(client))))
        (folder / "dask").mkdir()
        with dask_processes(folder / "dask") as address, connect(address) as client:
            meter = CpuMeter(client)
            time.sleep(2)
            idle = meter.read()[1] / 2  # the scheduler's CPU seconds per second doing nothing (heartbeats)
            parts = max(4, n // 100)  # many tasks, so that the scheduler's work per part shows
            start = time.perf_counter()
            cluster = forecast_on_cluster(
                client, folder / "data", folder / "out-cluster", sample=sample, partitions=parts, **settings
            )
            fc_cpu = meter.read()
            fc_cpu = (fc_cpu[0], max(0.0, fc_cpu[1] - idle * (time.perf_counter() - start)))
            peaks = worker_peaks(client)
            print(line("dask scheduler + 2 dask workers", cluster, n, " + ".join(mib(b) for b in peaks)))
            print(
                f"{'':<34} {parts} parts; CPU: workers {fc_cpu[0]:.2f} s ({fc_cpu[0] / n * 1e3:.2f} ms per series), "
                f"scheduler {fc_cpu[1]:.2f} s beyond its idle {idle * 1e3:.0f} ms/s"
            )
            fc_peak = max(peaks)

            book_size = TEMPLATE.stat().st_size
            print(f"\nrefresh: {books} copies of the template workbook ({book_size / 1024:.0f} KiB, 144 steps, H=4)")
            stale_books(folder / "books", books)
            sources = sorted(str(p) for p in (folder / "books").iterdir())
            meter.read()
            _, t_cluster = timed(lambda: refresh_many(sources, runner=on_cluster(client)))
            book_cpu = meter.read()
            book_cpu = (book_cpu[0], max(0.0, book_cpu[1] - idle * t_cluster))
            book_peak = max(worker_peaks(client))
        times = {}
        for jobs in (1, 2):
            stale_books(folder / "books", books)
            _, times[jobs] = timed(lambda jobs=jobs: refresh_many(sources, jobs=jobs))
        for name, t in (("--jobs 1", times[1]), ("--jobs 2", times[2]), ("dask scheduler + 2 dask workers", t_cluster)):
            print(f"{name:<34} {t:6.2f} s  {books / t:6.1f} workbooks/s")
        print(
            f"{'':<34} CPU of the cluster's run: workers {book_cpu[0]:.2f} s ({book_cpu[0] / books * 1e3:.0f} ms per "
            f"workbook), scheduler {book_cpu[1]:.2f} s"
        )
        print(f"memory per worker: {mib(book_peak)} peak (after the forecast's {mib(fc_peak)})")

    # ---- the estimate ----------------------------------------------------------------------------------
    workers = args.machines * args.cores
    per_series = fc_cpu[0] / n  # CPU seconds per series: read, shuffle, forecast, write
    sched_part = fc_cpu[1] / parts  # the scheduler's work grows with the tasks: with the parts
    big_parts = part_count(1_000_000, args.machines * args.cores)
    per_book, sched_book = book_cpu[0] / books, book_cpu[1] / books
    series_bytes = data_bytes / n
    big_n, big_books = 1_000_000, 10_000
    move = big_n * series_bytes * 2 / (args.machines * args.net_mbs * 1e6)  # read once, shuffled once
    fit = cluster.seconds["fit"] * (400 / settings["updates"])
    forecast = max(big_n * per_series / workers, big_parts * sched_part)
    books_cpu = max(big_books * per_book / workers, big_books * sched_book)
    books_io = big_books * book_size * 2 / (args.fs_mbs * 1e6)  # each workbook read and written once
    print(f"\nestimate on {args.machines} machines x {args.cores} cores ({workers} workers, --nthreads 1), assuming:")
    print(f"  cores as fast as these, and the CPU the 2-worker cluster used here per task: {per_series * 1e3:.2f} ms")
    print(f"  per series (read, shuffle, forecast, write) and {per_book * 1e3:.0f} ms per workbook, spread evenly;")
    print(
        f"  the one scheduler's CPU as here: {sched_part * 1e3:.0f} ms per part of the series ({big_parts:,} parts of"
    )
    print(f"  1,000 series), {sched_book * 1e3:.1f} ms per workbook; it does not spread, so the slower of the workers")
    print("  and the scheduler counts;")
    print(
        f"  {series_bytes:.0f} bytes per series of 48 months on disk, read and shuffled over {args.net_mbs:.0f} MB/s per machine;"
    )
    print(f"  the fit on the client, one core, on one sample of {sample} series with the default 400 updates:")
    print(
        f"  the fit measured here x {400 / settings['updates']:.0f}; the client holds the 1,000,000 ids and the sample only;"
    )
    print(f"  a shared file system of {args.fs_mbs:.0f} MB/s in all for the workbooks, each read and written once.")
    print(
        f"1,000,000 series: fit {fit:.0f} s + data {move:.0f} s + forecast {forecast:.0f} s "
        f"= about {fit + move + forecast:.0f} s"
    )
    print(
        f"10,000 workbooks: cores {books_cpu:.0f} s, file system {books_io:.0f} s "
        f"-> about {max(books_cpu, books_io):.0f} s (the slower of the two)"
    )


if __name__ == "__main__":
    main()
