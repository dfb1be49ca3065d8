"""``--scheduler``: the forecast and the refresh on a real dask.distributed cluster of this machine.

Each cluster is the programs a user starts: ``dask scheduler`` and two ``dask worker``
processes (one thread each) on 127.0.0.1, always killed at the end. ``xl-lstm`` runs as a
subprocess against them, and its outputs are compared with the single machine's, exactly:
the same numbers, the same workbooks, the same refusals. The kill tests kill a worker by
its pid while it holds a half-done write (tests/cluster_slow_writes.py makes each write
wait before its rename, in those workers only) and check that nothing is lost or left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, TEMPLATE, cli, need, need_program
from tests.forecasting.test_auto import seasonal_panel
from tests.workbook.test_refresh import _with_part
from xl_lstm.workbook import patch

FAST = ["--updates", "20", "--members", "1", "--hidden", "4"]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
START_SECONDS = 30


# ---- a cluster of real processes -------------------------------------------------------------------
Workers = list[subprocess.Popen[bytes]]


@contextmanager
def dask_cluster(
    folder: Path, *, slow_writes: float | None = None, cwd: Path | None = None
) -> Iterator[tuple[str, Workers, Path]]:
    """``dask scheduler`` and two ``dask worker --nthreads 1 --no-nanny`` on 127.0.0.1 (started in
    the folder ``cwd``, if given): (address, the workers' processes, marks folder); every process
    group killed on leaving, whatever happened."""
    dask = need_program("dask", "distributed")
    distributed = need("distributed")
    need("dask.dataframe")
    folder.mkdir()
    marks = folder / "marks"
    marks.mkdir()
    env = dict(ENV)
    preload: list[str] = []
    if slow_writes is not None:
        env |= {"XL_LSTM_TEST_MARKS": str(marks), "XL_LSTM_TEST_WRITE_SECONDS": str(slow_writes)}
        preload = ["--preload", str(ROOT / "tests" / "cluster_slow_writes.py")]
    file = folder / "scheduler.json"
    procs: list[subprocess.Popen[bytes]] = []

    def start(*argv: str, log: str) -> subprocess.Popen[bytes]:
        with open(folder / log, "wb") as out:
            proc = subprocess.Popen(
                [dask, *argv], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=cwd
            )
        procs.append(proc)
        return proc

    try:
        common = ["--host", "127.0.0.1", "--no-dashboard"]
        start("scheduler", "--port", "0", "--scheduler-file", str(file), *common, log="scheduler.log")
        deadline = time.monotonic() + START_SECONDS
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert file.exists(), (folder / "scheduler.log").read_text()
        workers = [
            start(
                "worker",
                "--scheduler-file",
                str(file),
                "--nthreads",
                "1",
                "--no-nanny",
                "--name",
                f"w{k}",
                *common,
                *preload,
                log=f"worker{k}.log",
            )  # fmt: skip
            for k in (1, 2)
        ]
        with distributed.Client(scheduler_file=str(file), timeout=START_SECONDS) as client:
            client.wait_for_workers(2, timeout=START_SECONDS)
            address = client.scheduler.address
        yield address, workers, marks
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with dask_cluster(tmp_path_factory.mktemp("cluster") / "dask") as (address, _, _):
        yield address


def xl_lstm(*argv: str) -> subprocess.CompletedProcess[str]:
    return cli(*argv, env=ENV, timeout=120)


def read_parts(folder: Path, suffix: str = ".parquet") -> pd.DataFrame:
    parts = sorted(folder.glob(f"part-*{suffix}"))
    frames = [
        pd.read_parquet(p) if suffix == ".parquet" else pd.read_csv(p, float_precision="round_trip") for p in parts
    ]
    return sorted_rows(pd.concat(frames, ignore_index=True))


def sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns[:2])).reset_index(drop=True)


def refused_lines(stderr: str) -> list[str]:
    """The lines saying what was refused (not the bar, the choices or the notes)."""
    return sorted(
        line for line in stderr.splitlines() if line.startswith("xl-lstm: ") and not line.startswith("xl-lstm: chose")
    )


# ---- data -------------------------------------------------------------------------------------------
def monthly(n_series: int, n: int = 48) -> pd.DataFrame:
    dates = pd.date_range("2020-01-01", periods=n, freq="MS")
    return pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": dates, "y": y}) for k, y in seasonal_panel(n_series, n).items()],
        ignore_index=True,
    )


def split_files(folder: Path, n_series: int = 30) -> Path:
    """One table in four files: each series' first two years in a Parquet file and the rest in a
    CSV file, a constant series in a file of its own, and a file with a bad number."""
    folder.mkdir()
    df = monthly(n_series)
    df[df["ds"] < "2022-01-01"].to_parquet(folder / "a.parquet", index=False)
    later = df[df["ds"] >= "2022-01-01"].copy()
    later["ds"] = later["ds"].dt.strftime("%Y-%m-%d")
    later.to_csv(folder / "b.csv", index=False)
    flat = monthly(1).assign(unique_id="flat", y=5.0)
    flat.to_parquet(folder / "c.parquet", index=False)
    (folder / "d.csv").write_text("unique_id,ds,y\nq,2020-01-01,1\nq,2020-02-01,oops\nq,2020-03-01,3\n")
    return folder


# ---- forecast ---------------------------------------------------------------------------------------
def test_a_table_forecast_on_the_cluster_is_the_single_machine_forecast(cluster: str, tmp_path: Path) -> None:
    data = tmp_path / "sales.parquet"
    monthly(24).rename(columns={"unique_id": "shop", "ds": "month", "y": "sales"}).to_parquet(data, index=False)
    one = xl_lstm("forecast", str(data), "--horizon", "6", "--output", str(tmp_path / "one.parquet"), *FAST)
    assert one.returncode == 0, one.stderr
    parts = tmp_path / "parts"
    many = xl_lstm("forecast", str(data), "--horizon", "6", "--scheduler", cluster, "--output", str(parts), *FAST)
    assert many.returncode == 0, many.stderr
    assert many.stdout.strip().startswith(f"wrote {parts}: 144 forecasts of 24 series in ")
    assert "forecast 4/4 parts" in many.stderr  # two parts per worker; the closing line, as stderr is no terminal
    want = sorted_rows(pd.read_parquet(tmp_path / "one.parquet"))
    assert list(want.columns) == ["shop", "month", "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    pd.testing.assert_frame_equal(read_parts(parts), want, check_exact=True)  # the same numbers, bit for bit
    chose = [line for line in many.stderr.splitlines() if line.startswith("xl-lstm: chose")]
    assert chose and chose == [line for line in one.stderr.splitlines() if line.startswith("xl-lstm: chose")]


def test_many_files_on_the_cluster_are_the_single_machine_forecast_with_the_same_refusals(
    cluster: str, tmp_path: Path
) -> None:
    data = split_files(tmp_path / "data")
    sample = ["--fit-sample", "12"]  # the model fitted on 12 series (chosen the same way), sent to the workers
    one = xl_lstm("forecast", str(data), "--output", str(tmp_path / "one.parquet"), *sample, *FAST)
    assert one.returncode == 1, one.stderr  # written, but something was refused
    assert one.stdout.strip() == f"wrote {tmp_path / 'one.parquet'}: 360 forecasts of 30 series; 2 refused (said above)"
    parts = tmp_path / "parts"
    many = xl_lstm("forecast", str(data), "--scheduler", cluster, "--output", str(parts), "--csv", *sample, *FAST)
    assert many.returncode == 1, many.stderr
    assert many.stdout.strip().endswith("; 2 refused (said above)") and "360 forecasts of 30 series" in many.stdout
    assert "xl-lstm: chose: 12 series:" in many.stderr
    refused = refused_lines(many.stderr)
    assert refused == refused_lines(one.stderr) and len(refused) == 2, many.stderr
    assert "d.csv" in refused[0] and "oops" in refused[0]  # the file, once
    assert "series 'flat' is constant" in refused[1]  # the series, once
    want = sorted_rows(pd.read_parquet(tmp_path / "one.parquet"))
    got = read_parts(parts)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["unique_id"].nunique() == 30 and "flat" not in set(got["unique_id"])
    csv = read_parts(parts, ".csv")  # dates as ISO text, numbers as they round-trip
    np.testing.assert_array_equal(csv[["forecast", "lo-95", "hi-95"]].to_numpy(), want[["forecast", "lo-95", "hi-95"]])
    assert list(csv["ds"].iloc[:2]) == ["2024-01-01", "2024-02-01"]
    assert sorted(p.name for p in parts.iterdir() if not p.name.startswith("part-")) == []  # no temporary files


def test_the_cluster_run_refuses_what_it_cannot_do_in_one_line(cluster: str, tmp_path: Path) -> None:
    data = tmp_path / "sales.parquet"
    monthly(3).to_parquet(data, index=False)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.txt").write_text("x")
    for argv, message in [
        (["--scheduler", cluster], "give --output DIR"),
        (["--scheduler", cluster, "--output", str(tmp_path / "full")], "is not empty"),
        (["--scheduler", cluster, "--output", str(tmp_path / "o"), "--jobs", "2"], "--jobs sets the workers"),
        (["--output", str(tmp_path / "o.csv"), "--csv"], "--csv is for a cluster"),
    ]:
        proc = xl_lstm("forecast", str(data), *argv)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


def test_without_dask_the_scheduler_option_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "sales.parquet"
    monthly(3).to_parquet(data, index=False)
    code = (
        "import sys; sys.modules['distributed'] = None\n"  # as if distributed were not installed
        "from xl_lstm.cli.main import main\n"
        f"raise SystemExit(main(['forecast', {str(data)!r}, '--scheduler', 'local', '--output', {str(tmp_path / 'o')!r}]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, check=False)
    assert proc.returncode == 2
    assert proc.stderr == "xl-lstm: --scheduler needs dask.distributed: pip install 'xl_lstm[dask]'\n"


# ---- refresh ----------------------------------------------------------------------------------------
def stale_workbook(k: int) -> bytes:
    """The template with weight W[0, 1] set to 0.1 k: its stored states and forecasts are now stale."""
    edit = lambda xml: patch.patch_sheet(xml, {(5, 3): 0.1 * k}, keep_formulas=False)  # noqa: E731
    return _with_part(TEMPLATE.read_bytes(), "xl/worksheets/sheet2.xml", edit)  # the Weights sheet


def workbooks(folder: Path, n: int, bad: bool = True) -> Path:
    folder.mkdir()
    for k in range(n):
        (folder / f"book{k:02d}.xlsx").write_bytes(stale_workbook(k))
    if bad:
        (folder / "broken.xlsx").write_bytes(b"not a workbook")
    return folder


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def summary_rows(stdout: str) -> list[tuple[str, str, str]]:
    """The summary table without its times: (file name, steps, status)."""
    rows = [line.split() for line in stdout.splitlines()[1:-1]]
    return [(Path(r[0]).name, r[1], r[3]) for r in rows]


def test_refresh_on_the_cluster_is_the_single_machine_refresh(cluster: str, tmp_path: Path) -> None:
    here, there = workbooks(tmp_path / "here", 6), workbooks(tmp_path / "there", 6)
    one = xl_lstm("refresh", str(here))
    many = xl_lstm("refresh", str(there), "--scheduler", cluster)
    assert one.returncode == many.returncode == 1, many.stderr
    assert summary_rows(many.stdout) == summary_rows(one.stdout)
    assert many.stdout.splitlines()[-1] == one.stdout.splitlines()[-1] == "6 of 7 refreshed"
    assert "\r" not in many.stderr  # not a terminal: no progress bar
    errors = [line for line in many.stderr.splitlines() if line.startswith("xl-lstm:")]
    assert len(errors) == 1 and "broken.xlsx" in errors[0]
    for k in range(6):
        name = f"book{k:02d}.xlsx"
        stale = tmp_path / "stale.xlsx"
        stale.write_bytes(stale_workbook(k))
        assert parts_of(there / name) == parts_of(here / name) != parts_of(stale)


# ---- a worker killed mid-run ------------------------------------------------------------------------
def kill_mid_write(proc: subprocess.Popen[str], worker: subprocess.Popen[bytes], marks: Path) -> None:
    """Wait until ``worker`` holds a written, not yet renamed temporary file; then SIGKILL it by its pid
    (and reap it at once, as its parent would: a zombie still counts as a live process)."""
    deadline = time.monotonic() + 60
    while not (marks / f"{worker.pid}.writing").exists():
        assert proc.poll() is None, "the run ended before the worker was caught writing"
        assert time.monotonic() < deadline, "the worker never wrote"
        time.sleep(0.02)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def run_killing_a_worker(argv: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    with dask_cluster(folder, slow_writes=0.4) as (address, workers, marks):
        proc = subprocess.Popen(
            [sys.executable, "-m", "xl_lstm", *argv, "--scheduler", address],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        try:
            kill_mid_write(proc, workers[0], marks)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert [w.poll() for w in workers] == [-signal.SIGKILL, None]  # one killed, one still working
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_a_worker_killed_mid_refresh_loses_nothing(tmp_path: Path) -> None:
    here, there = workbooks(tmp_path / "here", 10, bad=False), workbooks(tmp_path / "there", 10, bad=False)
    one = xl_lstm("refresh", str(here))
    assert one.returncode == 0, one.stderr
    many = run_killing_a_worker(["refresh", str(there)], tmp_path / "dask")
    assert many.returncode == 0, many.stderr
    assert many.stdout.splitlines()[-1] == "10 of 10 refreshed" and summary_rows(many.stdout) == summary_rows(
        one.stdout
    )
    for k in range(10):
        name = f"book{k:02d}.xlsx"
        assert parts_of(there / name) == parts_of(here / name)
    assert sorted(p.name for p in there.iterdir()) == sorted(p.name for p in here.iterdir())  # no temporary file
    assert "left behind by an interrupted refresh" in many.stderr  # the retry removed the killed write's file


def test_a_worker_killed_mid_forecast_loses_nothing(tmp_path: Path) -> None:
    data = split_files(tmp_path / "data", n_series=40)
    one = xl_lstm("forecast", str(data), "--output", str(tmp_path / "one.parquet"), *FAST)
    parts = tmp_path / "parts"
    argv = ["forecast", str(data), "--output", str(parts), "--partitions", "8", *FAST]
    many = run_killing_a_worker(argv, tmp_path / "dask")
    assert many.returncode == 1 and "480 forecasts of 40 series in 8 parts; 2 refused" in many.stdout, many.stderr
    assert refused_lines(many.stderr) == refused_lines(one.stderr)
    pd.testing.assert_frame_equal(read_parts(parts), sorted_rows(pd.read_parquet(tmp_path / "one.parquet")))
    assert sorted(p.name for p in parts.iterdir()) == [f"part-{k:05d}.parquet" for k in range(8)]  # nothing else


# ---- relative paths: the client's files, never a worker's ------------------------------------------
def same_names(folder: Path, decoy_y: float | None = None) -> Path:
    """A folder holding book.xlsx (stale) and data/sales.parquet; the decoy's series are other ones."""
    folder.mkdir()
    (folder / "book.xlsx").write_bytes(stale_workbook(3 if decoy_y is None else 7))
    (folder / "data").mkdir()
    table = (
        monthly(4) if decoy_y is None else monthly(2).assign(unique_id=lambda d: "decoy-" + d["unique_id"].astype(str))
    )
    table.to_parquet(folder / "data" / "sales.parquet", index=False)
    return folder


def test_relative_paths_name_the_clients_files_not_those_of_a_worker_started_elsewhere(tmp_path: Path) -> None:
    here = same_names(tmp_path / "client")
    there = same_names(tmp_path / "worker", decoy_y=1.0)  # the workers' own folder: same names, other files
    decoy = {p.relative_to(there): p.read_bytes() for p in there.rglob("*") if p.is_file()}
    want = tmp_path / "want.xlsx"
    want.write_bytes(stale_workbook(3))
    assert xl_lstm("refresh", str(want)).returncode == 0
    with dask_cluster(tmp_path / "dask", cwd=there) as (address, _, _):
        refreshed = cli("refresh", "book.xlsx", "--scheduler", address, cwd=here, env=ENV, timeout=120)
        forecast = cli(
            "forecast", "data", "--scheduler", address, "--output", "parts", *FAST, cwd=here, env=ENV, timeout=120
        )
    assert refreshed.returncode == 0 and refreshed.stdout.splitlines()[-1] == "1 of 1 refreshed", refreshed.stderr
    assert parts_of(here / "book.xlsx") == parts_of(want)  # the client's book is the one refreshed
    assert forecast.returncode == 0 and "48 forecasts of 4 series" in forecast.stdout, forecast.stderr
    ids = set(read_parts(here / "parts")["unique_id"])
    assert ids == set(monthly(4)["unique_id"])  # fitted and forecast on the client's data/, written beside it
    assert {p.relative_to(there): p.read_bytes() for p in there.rglob("*") if p.is_file()} == decoy  # untouched


def test_a_worker_that_cannot_see_the_clients_file_says_so_naming_the_path_and_the_worker(tmp_path: Path) -> None:
    from xl_lstm.runs.cluster import read_seen, refresh_seen, worker_name

    missing = str(tmp_path / "elsewhere" / "book.xlsx")
    for line in (refresh_seen(missing, False, None).error, read_seen(missing).error):
        assert line is not None and line.startswith(f"{missing}: the worker {worker_name()} cannot see")
        assert "does not exist" not in line and "\n" not in line


def test_a_worker_that_cannot_see_the_parts_folder_refuses_the_part_in_one_line(tmp_path: Path) -> None:
    from xl_lstm.runs.cluster import forecast_and_write, worker_name
    from xl_lstm.runs.panel_files import Plan

    folder = str(tmp_path / "not-here")
    plan = Plan("data", "MS", [], {}, {}, [])
    done = forecast_and_write(monthly(1), b"", 3, 6, (0.8,), plan, folder, csv=False)
    assert (done.series, done.paths) == (0, [])
    assert done.refused == {
        "part 3": f"{folder}: the worker {worker_name()} cannot see this path of the client's; "
        "the workers must see the client's files at the same paths (a shared file system)"
    }
