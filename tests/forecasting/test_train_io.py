"""Training's ways in and out: model files, workbooks (the command and the xlwings script), CSV forecasts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.conftest import ROOT, TEMPLATE, cli
from xl_lstm.core.errors import LSTMError
from xl_lstm.forecasting.model_io import load_model, save_model
from xl_lstm.forecasting.train import fit_one_lstm, forecast_one_lstm
from xl_lstm.lstm.recursive import recursive_forecast
from xl_lstm.scripts import fit_book
from xl_lstm.tables.datasets import load_airpassengers
from xl_lstm.workbook.contract import INPUT_NAMES, KEPT_NAMES, WorkbookModel, model_blocks, read_model
from xl_lstm.workbook.fit import fit_workbook, train_on
from xl_lstm.workbook.refresh import refresh_file
from xl_lstm.workbook.xlsx import Book, CellRange, column_letters

AIR = load_airpassengers().to_numpy()


@pytest.fixture(scope="module")
def model():
    return fit_one_lstm(AIR[:132], hidden=4, epochs=60, seed=1, log=True, diff=True)


# ---- model files ---------------------------------------------------------------------------------------
def test_a_saved_model_comes_back_the_same(model, tmp_path: Path) -> None:
    path = save_model(model, tmp_path / "m.npz")
    back = load_model(path)
    np.testing.assert_array_equal(back.params.W, model.params.W)
    np.testing.assert_array_equal(back.residuals, model.residuals)
    assert (back.log, back.diff, back.scaler.kind, back.epochs) == (
        model.log,
        model.diff,
        model.scaler.kind,
        model.epochs,
    )
    a, b = forecast_one_lstm(model, AIR[:132], 12), forecast_one_lstm(back, AIR[:132], 12)
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.upper[0.95], b.upper[0.95])


def test_model_files_refuse_what_is_not_one(model, tmp_path: Path) -> None:
    import xl_lstm as xl

    params_only = xl.save(model.params, tmp_path / "p.npz")
    with pytest.raises(LSTMError, match="not an xl_lstm model file"):
        load_model(params_only)
    np.testing.assert_array_equal(
        xl.load(save_model(model, tmp_path / "m.npz")).W, model.params.W
    )  # load() reads its weights
    (tmp_path / "junk.npz").write_text("junk")
    with pytest.raises(LSTMError, match="not an .npz file"):
        load_model(tmp_path / "junk.npz")
    with pytest.raises(LSTMError, match="must be a trained Model"):
        save_model(model.params, tmp_path / "x.npz")  # type: ignore[arg-type]


# ---- workbooks -----------------------------------------------------------------------------------------
def test_fit_workbook_writes_the_trained_weights_and_refreshes(tmp_path: Path, template_bytes: bytes) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(template_bytes)
    trained, result = fit_workbook(path, epochs=40, seed=2)
    assert_holds(path, trained)
    assert result.steps == 144


def assert_holds(path: Path, trained) -> WorkbookModel:  # type: ignore[no-untyped-def]
    """The workbook holds the trained model's blocks, and its forecast block was refreshed from them."""
    with Book(path) as book:
        stored = read_model(book)
        for name, block in model_blocks(trained).items():
            np.testing.assert_array_equal(book.numbers(name), block)
        fc = recursive_forecast(stored.params, stored.history, stored.horizon, stored.center, stored.scale)
        np.testing.assert_array_equal(book.numbers("lstm_forecast_formulas"), fc)  # refreshed with the new weights
    return stored


def test_a_model_with_transforms_cannot_go_into_a_workbook(model) -> None:
    with pytest.raises(LSTMError, match="fit without log, diff and season"):
        model_blocks(model)


def test_set_blocks_must_fit_their_ranges(tmp_path: Path, template_bytes: bytes) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(template_bytes)
    with pytest.raises(LSTMError, match="lstm_W is 16×5, cannot hold an array of shape"):
        refresh_file(path, set_blocks={"lstm_W": np.zeros((4, 2))})
    assert path.read_bytes() == template_bytes


class FakeRange:
    """What xlwings' Range gives the script: .options(...).value to read, .value = ... to write,
    and where it is (.sheet.name, .address)."""

    def __init__(self, value: np.ndarray, where: CellRange) -> None:
        self.value = value
        self.sheet = SimpleNamespace(name=where.sheet)
        self.address = f"${column_letters(where.c0)}${where.r0}:${column_letters(where.c1)}${where.r1}"

    def options(self, *args: object, **kwargs: object) -> FakeRange:
        return self


class FakeName:
    def __init__(self, value: np.ndarray, where: CellRange) -> None:
        self.refers_to_range = FakeRange(value, where)


def fake_book() -> tuple[SimpleNamespace, dict[str, FakeName]]:
    """The template as the xlwings script sees it: its defined names, their values and places."""
    with Book(TEMPLATE) as book:
        kept = [n for n in KEPT_NAMES if n in book.names and n not in INPUT_NAMES]
        names = {n: FakeName(book.numbers(n), book.range(n)) for n in (*INPUT_NAMES, *kept)}
    return SimpleNamespace(names=names), names


def test_the_xlwings_script_trains_and_writes_the_blocks() -> None:
    """The button trains exactly what xl-lstm fit trains (one recipe), and writes it through the names."""
    with Book(TEMPLATE) as book:
        _, expected = train_on(book, seed=0)  # what xl-lstm fit writes
    fake, names = fake_book()
    written = fit_book(fake, seed=0)
    for name, block in expected.items():
        np.testing.assert_array_equal(names[name].refers_to_range.value, block)
        np.testing.assert_array_equal(written[name], block)
    del names["lstm_W"]
    with pytest.raises(LSTMError, match="no defined name lstm_W"):
        fit_book(fake)


def test_the_xlwings_script_refuses_weights_over_an_input_before_training() -> None:
    """lstm_b pointed at lstm_series' cells: writing the weights would destroy the series."""
    fake, names = fake_book()
    series = names["lstm_series"].refers_to_range
    before = np.array(series.value, copy=True)
    names["lstm_b"].refers_to_range.sheet, names["lstm_b"].refers_to_range.address = series.sheet, series.address
    with pytest.raises(LSTMError, match=r"output block lstm_b \(.*\) overlaps input block lstm_series"):
        fit_book(fake)
    np.testing.assert_array_equal(series.value, before)


# ---- the commands ----------------------------------------------------------------------------------------
def test_cli_fit_reports_and_writes(tmp_path: Path, template_bytes: bytes) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(template_bytes)
    proc = cli("fit", str(path), "--epochs", "30", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("held out MAE ") and proc.stderr == ""
    assert path.read_bytes() != template_bytes


def test_cli_forecast_prints_a_table_with_intervals(tmp_path: Path) -> None:
    proc = cli(
        "forecast",
        str(ROOT / "xl_lstm" / "data" / "airpassengers.csv"),
        "--horizon",
        "6",
        "--updates",
        "30",
        "--quiet",
        "--levels",
        "80,95",
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert rows[0] == ["month", "forecast", "lo-80", "hi-80", "lo-95", "hi-95"] and len(rows) == 7
    assert [r[0] for r in rows[1:]] == [f"1961-{m:02d}-01" for m in range(1, 7)]  # the months after Dec 1960
    table = np.array([r[1:] for r in rows[1:]], float)
    assert (
        np.all(table[:, 3] <= table[:, 1]) and np.all(table[:, 1] <= table[:, 0]) and np.all(table[:, 0] <= table[:, 2])
    )
    out = tmp_path / "f.csv"
    assert (
        cli(
            "forecast",
            "-",
            "--horizon",
            "3",
            "--updates",
            "10",
            "--quiet",
            "--output",
            str(out),
            stdin="\n".join(str(v) for v in AIR[:40]),
        ).returncode
        == 0
    )
    assert out.read_text().splitlines()[0].startswith("step,forecast,lo-80,hi-80")


@pytest.mark.parametrize(
    "csv, args, message",
    [
        ("month,y\n1,1\n2,oops\n3,3\n", ["--column", "y"], "line 3, column 'y' holds text 'oops', not a number"),
        ("month,y\n1,1\n2,\n3,3\n", ["--column", "y"], "series 'y' has a gap at step 2 (line 3, column 'y' is empty)"),
        ("a,b\nx,y\n", [], "line 2, column 'a' holds text 'x', not a number"),
        ("month,y\n1,1\n", ["--column", "z"], "no column 'z'"),
        ("y\n" + "5\n" * 20, [], "constant"),
        ("y\n1\n2\n3\n", [], "has 3 values; the forecaster needs at least 5"),
        ("y\n" + "\n".join(str(v) for v in range(1, 30)), ["--levels", "eighty"], "--levels must be percentages"),
    ],
    ids=["text", "gap", "no-number-column", "missing-column", "constant", "short", "levels"],
)
def test_cli_forecast_refuses_bad_data_in_one_line(tmp_path: Path, csv: str, args: list[str], message: str) -> None:
    data = tmp_path / "d.csv"
    data.write_text(csv)
    proc = cli("forecast", str(data), "--updates", "5", "--quiet", *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_cli_fit_refuses_a_workbook_that_is_not_a_template(tmp_path: Path) -> None:
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"nope")
    proc = cli("fit", str(bad), "--quiet")
    assert proc.returncode == 2 and "not an .xlsx workbook" in proc.stderr and len(proc.stderr.splitlines()) == 1


# ---- backtest ------------------------------------------------------------------------------------------
def test_backtest_refits_at_each_origin_and_scores_all_forecasts() -> None:
    from xl_lstm.forecasting.backtest import backtest
    from xl_lstm.forecasting.metrics import error_metrics

    kwargs = dict(hidden=4, epochs=20, seed=3, diff=True)
    r = backtest(AIR, horizon=6, origins=2, season=12, **kwargs)
    assert r.origins == [132, 138]
    for row, o in enumerate(r.origins):  # each origin: a model fitted on what came before it only
        np.testing.assert_array_equal(
            r.forecasts[row], forecast_one_lstm(fit_one_lstm(AIR[:o], **kwargs), AIR[:o], 6, levels=()).mean
        )
        np.testing.assert_array_equal(r.actuals[row], AIR[o : o + 6])
    assert r.metrics == error_metrics(r.actuals.ravel(), r.forecasts.ravel(), 12, AIR[:132])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(horizon=0), "horizon must be a whole number"),
        (dict(horizon=50, origins=3), "too short for 3 origins of 50 steps"),
        (dict(horizon=6, season=0), "season must be a whole number"),
    ],
)
def test_backtest_refuses_bad_settings(kwargs: dict, message: str) -> None:
    from xl_lstm.forecasting.backtest import backtest

    with pytest.raises(LSTMError, match=message):
        backtest(AIR, **kwargs)


# ---- seasonal differencing --------------------------------------------------------------------------------
def test_seasonal_differencing_undoes_itself_in_the_forecast(tmp_path: Path) -> None:
    """With season=m the model sees y_t - y_{t-m}; a forecast of zero differences is seasonal naive."""
    import dataclasses

    noise = np.random.default_rng(0).normal(0, 0.1, 48)
    y = 10 + np.tile([1.0, 3.0, 2.0, 5.0], 12) + np.arange(48) * 0.5 + noise  # (48,) seasonal, with a trend
    model = fit_one_lstm(y, hidden=3, epochs=5, season=4, diff=True)
    zero = dataclasses.replace(
        model, params=model.params.with_head(np.zeros((1, 3)), [-model.scaler.center[0] / model.scaler.scale[0]])
    )
    fc = forecast_one_lstm(
        zero, y, 8, levels=()
    ).mean  # every transformed forecast is 0: no change on the season before's change
    expected = list(y)
    for _ in range(8):
        expected.append(expected[-1] + (expected[-4] - expected[-5]))
    np.testing.assert_allclose(fc, expected[48:], rtol=1e-12)
    back = load_model(save_model(model, tmp_path / "m.npz"))
    assert back.season == 4
    with pytest.raises(LSTMError, match="fit without log, diff and season"):
        model_blocks(dataclasses.replace(model, diff=False))
    with pytest.raises(LSTMError, match="too short for its differencing"):
        fit_one_lstm(y[:12], season=6)
    with pytest.raises(LSTMError, match="season must be a whole number"):
        fit_one_lstm(y, season=-1)


@pytest.mark.parametrize(
    "text, levels",
    [("80,95", (0.8, 0.95)), ("0.8,0.95", (0.8, 0.95)), ("90", (0.9,)), ("0.5", (0.5,))],
)
def test_levels_are_percentages_or_fractions(text: str, levels: tuple[float, ...]) -> None:
    from xl_lstm.cli.forecast import parse_levels

    assert parse_levels(text) == pytest.approx(levels)


@pytest.mark.parametrize("text", ["0.8,95", "100", "0", "150", "-5"])
def test_levels_that_mean_nothing_are_refused(text: str) -> None:
    from xl_lstm.cli.forecast import parse_levels

    with pytest.raises(LSTMError, match="--levels must be percentages between 1 and 100"):
        parse_levels(text)


def test_the_selection_script_makes_a_template_for_the_selected_cells(tmp_path: Path) -> None:
    """Classic xlwings: select a header and the rows below (dates, numbers), run the script, get a workbook."""
    import datetime as dt

    import openpyxl

    from xl_lstm.scripts import template_from_selection
    from xl_lstm.template.example_model import digits15

    months = [dt.datetime(2015 + k // 12, 1 + k % 12, 1) for k in range(48)]  # Excel hands dates over as datetimes
    cells = [["month", "visitors"]] + [[d, 100.0 + 10 * np.sin(2 * np.pi * k / 12) + k] for k, d in enumerate(months)]
    cells += [[None, None]] * 3  # a selection reaching past the data

    class Selection:
        address = "$A$1:$B$52"

        def options(self, *args: object, **kwargs: object) -> Selection:
            return self

        value = cells

    class Workbook:
        name, fullname = "tourism.xlsx", str(tmp_path / "tourism.xlsx")

    first = template_from_selection(Workbook(), Selection())
    second = template_from_selection(Workbook(), Selection())
    assert (first.name, second.name) == ("tourism_lstm.xlsx", "tourism_lstm2.xlsx")  # never replaces a file
    wb = openpyxl.load_workbook(first, data_only=True)
    assert wb["Inputs"]["A1"].value == "Inputs: visitors" and wb["Inputs"]["B4"].value == "2015-01"
    assert "tourism.xlsx, $A$1:$B$52, column 'visitors', dates from 'month' (monthly)" in wb["Inputs"]["A2"].value
    with Book(first) as book:
        model = read_model(book)
    np.testing.assert_array_equal(model.series[:, 0], digits15([row[1] for row in cells[1:49]]))  # a sheet's 15 digits
    assert (model.horizon, model.season) == (12, 12)
    Selection.value = [["month", "visitors"], [months[0], 1.0], [None, None], [months[2], 3.0]]
    with pytest.raises(LSTMError, match="row 3 is blank; every row must be one step"):
        template_from_selection(Workbook(), Selection())


def test_fit_trains_a_template_with_lags(tmp_path: Path) -> None:
    """xl-lstm fit on a template whose inputs are the series and 2 lags (D=3): trained, written, refreshed."""
    from xl_lstm.forecasting.bptt import sequence_loss
    from xl_lstm.template.build import template_bytes as build_template_bytes

    path = tmp_path / "lags.xlsx"
    path.write_bytes(build_template_bytes(hidden=2, inputs=3, steps=40, train_epochs=0))  # untrained: init + ridge head
    with Book(path) as book:
        before = read_model(book)
    trained, result = fit_workbook(path, seed=0, epochs=200)
    after = assert_holds(path, trained)
    assert after.params.input_size == after.params.output_size == 3 and result.steps == 40

    def loss(m) -> float:  # type: ignore[no-untyped-def]  # one-step error on the scaled history, every column
        x = (m.history - m.center) / m.scale
        return sequence_loss(m.params, x[:-1], x[1:])

    assert loss(after) < 0.5 * loss(before)
