"""The main job (`xl-lstm demo`), the shipped series, and the benchmark script."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import xl_lstm as xl
from xl_lstm.cli import main
from xl_lstm.datasets import load_airpassengers


def test_airpassengers_is_box_jenkins_series_g() -> None:
    s = load_airpassengers()
    assert len(s) == 144
    assert str(s.index[0]) == "1949-01" and str(s.index[-1]) == "1960-12"
    # Published facts of the series: first and last values, yearly peaks, total.
    assert s.iloc[0] == 112 and s.iloc[-1] == 432
    assert s.max() == 622 and str(s.idxmax()) == "1960-07"
    assert s.sum() == 40363


def test_demo_prints_the_engines_last_states(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--hidden", "3", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    printed = {line.split()[0]: np.array(line.split()[1:], float) for line in out.splitlines() if line[:3] in ("h_T", "C_T")}
    x = load_airpassengers().to_numpy()
    r = xl.run(xl.init_params(1, 3, seed=7), ((x - x.mean()) / x.std())[:, None], outputs="last")
    np.testing.assert_allclose(printed["h_T"], r.h_n[-1], atol=5e-7)
    np.testing.assert_allclose(printed["C_T"], r.c_n[-1], atol=5e-7)


@pytest.mark.parametrize("argv", [["demo", "--hidden", "0"], ["demo", "--hidden", "x"], ["bogus"], []])
def test_cli_refuses_bad_options_in_one_line(argv: list[str]) -> None:
    proc = subprocess.run(check=False, args=[sys.executable, "-m", "xl_lstm", *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
