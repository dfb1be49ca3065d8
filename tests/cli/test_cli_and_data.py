"""The main job (`xl-lstm demo`), the shipped series, and the benchmark script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xl_lstm as xl
from xl_lstm.cli.main import main
from xl_lstm.forecasting.train import fit_one_lstm
from xl_lstm.lstm.recursive import recursive_forecast
from xl_lstm.tables.datasets import load_airpassengers
from xl_lstm.template.model import template_model
from xl_lstm.workbook.contract import model_blocks, read_model
from xl_lstm.workbook.xlsx import Book

TEMPLATE = Path(__file__).resolve().parents[2] / "workbooks" / "lstm_template.xlsx"


def test_airpassengers_is_box_jenkins_series_g() -> None:
    s = load_airpassengers()
    assert len(s) == 144
    assert str(s.index[0]) == "1949-01" and str(s.index[-1]) == "1960-12"
    # Published facts of the series: first and last values, yearly peaks, total.
    assert s.iloc[0] == 112 and s.iloc[-1] == 432
    assert s.max() == 622 and str(s.idxmax()) == "1960-07"
    assert s.sum() == 40363


def test_demo_writes_trains_refreshes_and_forecasts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The main job: a template workbook for the airline series, trained, refreshed, its forecast printed."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()}
    path = tmp_path / "lstm_demo.xlsx"
    assert Path(lines["wrote"][0]) == path
    m = template_model()
    trained = fit_one_lstm(m.raw[: m.history_steps, 0], hidden=4, epochs=800, seed=0, val_fraction=0.0)
    with Book(path) as book:
        stored = read_model(book)
        for name, block in model_blocks(trained).items():
            np.testing.assert_array_equal(book.numbers(name), block)  # the trained weights are in the file
    np.testing.assert_array_equal(stored.series, m.raw)
    fc = recursive_forecast(stored.params, m.raw[: m.history_steps], m.horizon, stored.center, stored.scale)[:, 0]
    np.testing.assert_allclose(np.array(lines["lstm"], float), fc, atol=0.05)
    with Book(path) as book:  # the forecaster's forecast and widest band, as the workbook holds them
        auto = book.numbers("auto_forecast_formulas")
    np.testing.assert_allclose(np.array(lines["forecast"], float), auto[:, 0], atol=0.05)
    np.testing.assert_allclose(np.array(lines["lo-95"], float), auto[:, 3], atol=0.05)
    ours, naive = (float(v.rstrip("%")) for v in (lines["errors"][2], lines["errors"][-3]))
    assert ours < naive  # the forecaster beats seasonal naive on the held-out year
    np.testing.assert_array_equal(np.array(lines["actual"], float), m.raw[m.history_steps :, 0])
    r = xl.run(stored.params, (m.raw - stored.center) / stored.scale, outputs="last")
    np.testing.assert_allclose(np.array(lines["h_T"], float), r.h_n[-1], atol=5e-7)
    np.testing.assert_allclose(np.array(lines["C_T"], float), r.c_n[-1], atol=5e-7)


@pytest.mark.parametrize("argv", [["demo", "--hidden", "0"], ["demo", "--hidden", "x"], ["bogus"], []])
def test_cli_refuses_bad_options_in_one_line(argv: list[str]) -> None:
    proc = subprocess.run(check=False, args=[sys.executable, "-m", "xl_lstm", *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_version_and_the_one_name_of_the_output_option(capsys: pytest.CaptureFixture[str]) -> None:
    """`--version` says the package's version; every command writes to --output (demo also takes
    its old --out); one-series and table forecasts name their bounds alike (lo-80, hi-80)."""
    from xl_lstm.cli.main import build_parser

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"xl-lstm {xl.__version__}\n"
    parser = build_parser()
    for flag in ("--output", "--out"):
        assert parser.parse_args(["demo", flag, "mine.xlsx"]).output == "mine.xlsx"
    for command in (["forecast", "data.csv"], ["refresh", "a.xlsx"]):
        assert parser.parse_args([*command, "--output", "x"]).output == "x"
    fit_help = parser._subparsers._group_actions[0].choices["fit"].format_help()  # type: ignore[union-attr]
    assert "BOOK.xlsx" in fit_help and "made by `xl-lstm template`" in " ".join(fit_help.split())


@pytest.mark.parametrize("extra", [[], ["--inputs", "3"]])
def test_a_series_too_short_for_a_template_is_one_line_naming_the_file(tmp_path: Path, extra: list[str]) -> None:
    data = tmp_path / "three.csv"
    data.write_text("month,sales\n2020-01,1\n2020-02,2\n2020-03,3\n")
    proc = subprocess.run(
        [sys.executable, "-m", "xl_lstm", "template", str(tmp_path / "t.xlsx"), "--data", str(data), *extra],
        check=False,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and proc.stdout == "" and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("xl-lstm: three.csv, column 'sales'") and "3 values" in proc.stderr
    assert "a template needs at least 8 steps" in proc.stderr and "shape" not in proc.stderr
    assert not (tmp_path / "t.xlsx").exists()
