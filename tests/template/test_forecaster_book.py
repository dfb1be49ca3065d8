"""The automatic forecaster in the template workbook: the same forecast as the Python API,
in LibreOffice's recalculation of the native formulas and through LSTM_FORECAST, refreshed
from whatever the workbook holds, and better than seasonal naive and ETS on the held-out year."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from functools import partial
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from tests.conftest import need_bench
from tests.libreoffice import recalculate
from tests.template.test_template import COMMITTED, block
from xl_lstm.core.errors import LSTMError
from xl_lstm.excel.sheet import forecast_table, lstm_sequence_table
from xl_lstm.forecasting.auto import fit_auto, forecast_auto
from xl_lstm.forecasting.metrics import smape
from xl_lstm.lstm.engine import run
from xl_lstm.lstm.params import LSTMParams
from xl_lstm.lstm.recursive import recursive_forecast
from xl_lstm.template.build import ZIP_TIME
from xl_lstm.template.example_model import STORED_FORECASTER, forecaster_model, history_digest
from xl_lstm.template.model import template_model
from xl_lstm.workbook.forecaster_book import AUTO_NAMES, compute_forecaster_blocks, read_forecaster
from xl_lstm.workbook.patch import Blocks, patch_sheet, repack
from xl_lstm.workbook.refresh import refresh_file
from xl_lstm.workbook.xlsx import Book

TEMPLATE_PAGE = (Path(__file__).resolve().parents[2] / "docs" / "template.md").read_text(encoding="utf-8")

M = template_model()
F = M.forecaster
T_H, N = M.history_steps, M.horizon
HISTORY, ACTUAL = M.raw[:T_H, 0], M.raw[T_H:, 0]
# the committed numbers against this machine's engine: with rtol 1e-12, an absolute floor for the
# small values another machine's rounding moves further (measured: 4.1e-15 on 0.00196, 2e-12 relative)
ANY_MACHINE = 1e-13


def numbers(wb: openpyxl.Workbook, name: str) -> np.ndarray:
    return block(wb, name).astype(float)


def test_the_template_page_lists_the_forecasters_names_as_the_code_has_them() -> None:
    rows = re.findall(r"^\| `(auto_\w+)` \| ([^|]+) \| (.+) \|$", TEMPLATE_PAGE, flags=re.M)
    assert {name: (shape.strip(), holds.strip()) for name, shape, holds in rows} == AUTO_NAMES


def test_the_shipped_forecaster_is_the_stored_one_and_the_workbook_forecasts_as_the_api_does() -> None:
    """The committed workbook's forecast and intervals are forecast_auto's for the stored model
    (to the 15 digits a sheet keeps of the weights)."""
    assert F is not None
    model = forecaster_model(HISTORY, N, 12)
    record = STORED_FORECASTER.read_text(encoding="utf-8")
    assert history_digest(HISTORY) in record
    api = forecast_auto(model, N, (0.8, 0.95)).forecasts["history"]
    wb = openpyxl.load_workbook(COMMITTED, data_only=True)
    book = numbers(wb, "auto_forecast_formulas")  # forecast | lo 80 | hi 80 | lo 95 | hi 95
    expected = np.stack([api.mean, api.lower[0.8], api.upper[0.8], api.lower[0.95], api.upper[0.95]], axis=1)
    np.testing.assert_allclose(book, expected, rtol=1e-9)
    np.testing.assert_allclose(numbers(wb, "auto_forecast_udf")[:, 0], api.mean, rtol=1e-9)


def test_libreoffice_recalculates_the_forecaster_as_the_refresh_stored_it(tmp_path: Path) -> None:
    """Every native-formula block of the forecaster, recalculated by LibreOffice, equals what
    the refresh (NumPy) stored; the LSTM_FORECAST cells need the add-in."""
    lo = openpyxl.load_workbook(recalculate(COMMITTED, tmp_path), data_only=True)
    stored = openpyxl.load_workbook(COMMITTED, data_only=True)
    names = ["auto_forecast_steps", "auto_forecast_formulas", "auto_naive", "auto_metrics"]
    names += [f"auto_states_{k + 1}" for k in range(3)]
    for name in names:
        np.testing.assert_allclose(numbers(lo, name), numbers(stored, name), rtol=1e-12, atol=1e-13, err_msg=name)
    transform = block(lo, "auto_transform")
    assert transform[0, 3] is None  # no change before the first step
    np.testing.assert_allclose(
        transform[1:].astype(float), block(stored, "auto_transform")[1:].astype(float), rtol=1e-12
    )
    for name in ["auto_forecast_udf_members"] + [f"auto_sequence_udf_{k + 1}" for k in range(3)]:
        assert all(isinstance(v, str) and v.startswith("#") for v in block(lo, name).ravel()), name


def test_each_member_sheet_shows_every_gate_of_its_lstm_as_the_engine_runs_it() -> None:
    """auto_states_k holds u | i f g C o h | y per step: over the history the engine's run of
    member k on the u it shows, then each y fed back as the next u; its LSTM_SEQUENCE block holds
    what the worksheet function gives on the ranges its array formula passes."""
    wb = openpyxl.load_workbook(COMMITTED, data_only=True)
    W, b, W_y, b_y = (numbers(wb, k) for k in ("auto_W", "auto_b", "auto_W_y", "auto_b_y"))
    K, H = W_y.shape
    for k in range(K):
        rows = slice(4 * H * k, 4 * H * (k + 1))
        p = LSTMParams(W[rows], b[rows, 0], W_y[k : k + 1], b_y[k])
        states = numbers(wb, f"auto_states_{k + 1}")  # (T_h - 1 + n - 1, 6H + 2)
        assert states.shape == (T_H - 2 + N, 6 * H + 2)
        u = states[:, 0]
        np.testing.assert_array_equal(u[: T_H - 1], numbers(wb, "auto_transform")[1:T_H, 3])
        np.testing.assert_allclose(u[T_H - 1 :], states[T_H - 2 : -1, -1], rtol=1e-15)  # y fed back
        ran = run(p, u[:, None], outputs="all")
        np.testing.assert_allclose(states[:, 1:-1], ran.table(), rtol=1e-12, atol=ANY_MACHINE)
        np.testing.assert_allclose(states[:, -1], np.asarray(ran.y)[:, 0], rtol=1e-12, atol=ANY_MACHINE)
        udf = lstm_sequence_table(u[: T_H - 1, None], W[rows], b[rows])
        np.testing.assert_allclose(numbers(wb, f"auto_sequence_udf_{k + 1}"), udf, rtol=1e-12, atol=ANY_MACHINE)


def test_lstm_forecast_gives_each_members_changes() -> None:
    """LSTM_FORECAST on the member's ranges (what the sheet's array formulas pass) gives û."""
    wb = openpyxl.load_workbook(COMMITTED, data_only=True)
    u = numbers(wb, "auto_transform")[1:T_H, 3:4]  # u of steps 2..T_h
    W, b, W_y, b_y = (numbers(wb, k) for k in ("auto_W", "auto_b", "auto_W_y", "auto_b_y"))
    H = W_y.shape[1]
    stored = numbers(wb, "auto_forecast_udf_members")
    for k in range(W_y.shape[0]):
        rows = slice(4 * H * k, 4 * H * (k + 1))
        u_hat = np.asarray(forecast_table(u, W[rows], b[rows], W_y[k : k + 1], b_y[k : k + 1], N), float)
        # the committed values against this machine's engine: another BLAS kernel moved 0.00196 by 4e-15
        np.testing.assert_allclose(u_hat[:, 0], stored[:, k], rtol=1e-12, atol=ANY_MACHINE)


@pytest.mark.bench
def test_the_workbook_forecast_beats_seasonal_naive_and_ets_on_the_held_out_year() -> None:
    """From the stored weights (the same numbers on any machine): sMAPE against seasonal naive,
    and against statsforecast's AutoETS fitted on the same history."""
    need_bench("statsforecast")
    from statsforecast.models import AutoETS

    wb = openpyxl.load_workbook(COMMITTED, data_only=True)
    ours, naive = numbers(wb, "auto_metrics")[0]
    assert ours < naive
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ets = AutoETS(season_length=12).forecast(y=HISTORY, h=N)["mean"]
    assert ours < smape(ACTUAL, ets)
    assert naive == pytest.approx(smape(ACTUAL, HISTORY[-12:]), rel=1e-12)


def test_retraining_here_reaches_what_the_stored_forecaster_reaches() -> None:
    """Training is not bit-exact across machines: retrained here, the forecaster still beats
    seasonal naive on the held-out year, within 3 sMAPE points of the stored one."""
    stored = forecast_auto(forecaster_model(HISTORY, N, 12), N).forecasts["history"].mean
    fresh = forecast_auto(fit_auto({"history": HISTORY}, N, seasons={"history": 12}), N).forecasts["history"].mean
    assert smape(ACTUAL, fresh) < smape(ACTUAL, HISTORY[-12:])
    assert abs(smape(ACTUAL, fresh) - smape(ACTUAL, stored)) < 3


def test_the_refresh_recomputes_the_forecaster_from_what_the_workbook_holds(tmp_path: Path) -> None:
    """Change the damping in the workbook: the refresh's forecast follows it, as computed from
    the workbook's own numbers."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(COMMITTED.read_bytes())
    with Book(path) as book:
        settings = book.numbers("auto_settings").copy()
        before = read_forecaster(book.numbers, str(path))
    settings[0, 4] = 0.5
    refresh_file(path, set_blocks={"auto_settings": settings})
    with Book(path) as book:
        after = read_forecaster(book.numbers, str(path))
        got = book.numbers("auto_forecast_formulas")
    assert after.damping == 0.5 and before.damping != 0.5
    want = compute_forecaster_blocks(after, M.raw[:, 0], T_H, M.season)["auto_forecast_formulas"].astype(float)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    old = compute_forecaster_blocks(before, M.raw[:, 0], T_H, M.season)["auto_forecast_formulas"].astype(float)
    assert not np.allclose(got, old)


def test_the_refresh_follows_the_weight_of_thetas_line_in_the_workbook(tmp_path: Path) -> None:
    """The shipped forecaster mixes in Theta's line (validation chose a weight above 0); set the
    weight to 0 in the workbook and the refresh's forecast is the LSTMs' alone, to the digit."""
    assert F is not None and F.weight > 0
    path = tmp_path / "book.xlsx"
    path.write_bytes(COMMITTED.read_bytes())
    with Book(path) as book:
        settings = book.numbers("auto_settings").copy()
    settings[0, 8] = 0.0
    refresh_file(path, set_blocks={"auto_settings": settings})
    with Book(path) as book:
        after = read_forecaster(book.numbers, str(path))
        got, steps = book.numbers("auto_forecast_formulas"), book.numbers("auto_forecast_steps")
    assert after.weight == 0
    K = len(F.members)
    ys = steps[:, 2 + 2 * K : 2 + 3 * K]  # ŷ per member: now EXP(d̂ + s)
    np.testing.assert_allclose(ys, np.exp(steps[:, 2 + K : 2 + 2 * K] + steps[:, 1:2]), rtol=1e-12)
    np.testing.assert_allclose(got[:, 0], np.median(ys, axis=1), rtol=1e-12)
    shipped = numbers(openpyxl.load_workbook(COMMITTED, data_only=True), "auto_forecast_formulas")
    assert not np.allclose(got[:, 0], shipped[:, 0])


def test_a_workbook_made_before_thetas_line_still_refreshes_without_it(tmp_path: Path) -> None:
    """Before Theta's line a workbook held 6 settings, 4 transform columns (no ℓ) and 2+3K
    forecast steps (no θ): the refresh reads it as weight 0 and fills those blocks without the
    line's columns; the same narrow blocks beside a weight above 0 are refused in one line."""
    K = len(F.members)
    model_sheet, last_step = "'Forecaster model'", 4 + N
    older = {
        "auto_settings": f"{model_sheet}!$B$5:$G$5",
        "auto_transform": f"Transforms!$D$4:$G${3 + M.raw.shape[0]}",
        "auto_forecast_steps": f"Forecaster!$C$5:${openpyxl.utils.get_column_letter(2 + 2 + 3 * K)}${last_step}",
    }
    path = tmp_path / "old.xlsx"
    path.write_bytes(_with_names(COMMITTED.read_bytes(), older))
    refresh_file(path)
    with Book(path) as book:
        f = read_forecaster(book.numbers, str(path))
    wb = openpyxl.load_workbook(path, data_only=True)
    got = {name: block(wb, name)[1:].astype(float) for name in ("auto_transform",)}  # u starts at step 2
    got |= {name: numbers(wb, name) for name in ("auto_forecast_steps", "auto_forecast_formulas")}
    assert f.weight == 0 and f.prep.theta == (1.0, 0.0)
    want = compute_forecaster_blocks(f, M.raw[:, 0], T_H, M.season)
    assert got["auto_transform"].shape[1] == 4 and got["auto_forecast_steps"].shape[1] == 2 + 3 * K
    np.testing.assert_allclose(got["auto_transform"], want["auto_transform"][1:, :4].astype(float), rtol=1e-12)
    for name in ("auto_forecast_steps", "auto_forecast_formulas"):
        np.testing.assert_allclose(got[name], want[name][:, : got[name].shape[1]].astype(float), rtol=1e-12)

    mixed = tmp_path / "mixed.xlsx"  # 9 settings (the line weighted) but the older, narrow transform
    mixed.write_bytes(_with_names(COMMITTED.read_bytes(), {"auto_transform": older["auto_transform"]}))
    before = mixed.read_bytes()
    with pytest.raises(LSTMError) as info:
        refresh_file(mixed)
    message = str(info.value)
    assert "\n" not in message and "auto_transform is 4 columns wide, without Theta's line" in message
    assert mixed.read_bytes() == before


def test_a_workbook_with_an_impossible_forecaster_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(COMMITTED.read_bytes())
    with Book(path) as book:
        settings = book.numbers("auto_settings").copy()
    settings[0, 4] = 1.5  # φ > 1
    with pytest.raises(Exception, match=r"auto_settings holds an impossible value: season 12, σ .*, φ 1.5"):
        refresh_file(path, set_blocks={"auto_settings": settings})
    assert path.read_bytes() == COMMITTED.read_bytes()  # nothing written


@pytest.mark.parametrize(("column", "value", "words"), [(6, 0.0, "Theta's α 0 (0 < α ≤ 1)"), (8, 1.5, "weight 1.5")])
def test_an_impossible_theta_line_in_the_workbook_is_refused_in_one_line(
    tmp_path: Path, column: int, value: float, words: str
) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(COMMITTED.read_bytes())
    with Book(path) as book:
        settings = book.numbers("auto_settings").copy()
    settings[0, column] = value
    with pytest.raises(LSTMError) as info:
        refresh_file(path, set_blocks={"auto_settings": settings})
    assert "\n" not in str(info.value) and words in str(info.value)
    assert path.read_bytes() == COMMITTED.read_bytes()  # nothing written


def _with_names(data: bytes, change: dict[str, str | None]) -> bytes:
    """The package with defined names pointed elsewhere (None: removed), in xl/workbook.xml."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/workbook.xml":
                text = body.decode()
                for name, target in change.items():
                    pattern = rf'<definedName name="{name}"[^>]*>[^<]*</definedName>'
                    assert re.search(pattern, text), name
                    new = "" if target is None else f'<definedName name="{name}">{target}</definedName>'
                    text = re.sub(pattern, lambda _, new=new: new, text)
                body = text.encode()
            dst.writestr(info, body)
    return out.getvalue()


def test_an_older_workbook_whose_members_show_u_c_h_y_still_refreshes(tmp_path: Path) -> None:
    """A workbook made before the member sheets showed the gates has auto_states_k 2H+2 wide
    (u, C, h, y) and no auto_sequence_udf_k: the refresh writes those four quantities there."""
    H, rows = F.members[0].hidden_size, T_H - 2 + N
    narrow = f"'LSTM 1'!$B$6:${openpyxl.utils.get_column_letter(1 + 2 * H + 2)}${5 + rows}"
    path = tmp_path / "old.xlsx"
    path.write_bytes(_with_names(COMMITTED.read_bytes(), {"auto_states_1": narrow, "auto_sequence_udf_1": None}))
    wide = numbers(openpyxl.load_workbook(COMMITTED, data_only=True), "auto_states_1")  # u | i f g C o h | y
    with Book(path) as book:
        assert book.range("auto_states_1").shape == (rows, 2 * H + 2)
    refresh_file(path)
    with Book(path) as book:
        got = book.numbers("auto_states_1")
    C, h = wide[:, 1 + 3 * H : 1 + 4 * H], wide[:, 1 + 5 * H : 1 + 6 * H]
    np.testing.assert_allclose(got, np.hstack([wide[:, :1], C, h, wide[:, -1:]]), rtol=1e-12, atol=ANY_MACHINE)


def test_a_member_block_of_another_width_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "odd.xlsx"
    path.write_bytes(_with_names(COMMITTED.read_bytes(), {"auto_states_2": "'LSTM 2'!$B$6:$K$147"}))
    before = path.read_bytes()
    with pytest.raises(LSTMError) as info:
        refresh_file(path)
    message = str(info.value)
    assert "\n" not in message and "auto_states_2 is 10 columns wide" in message and "6H+2 = 98" in message
    assert path.read_bytes() == before  # nothing written


def test_the_guides_experiment_on_lstm_1_works_by_recalculation(tmp_path: Path) -> None:
    """The Guide's experiment on the forecaster: LSTM 1's forget-gate biases set to -10 on sheet
    Forecaster model (only those cells changed, every stored value left as it was) and a full
    recalculation by LibreOffice: on sheet LSTM 1 f goes to 0 and C to i × g, and LSTM 1's û on
    sheet Forecaster moves to what the engine computes with those biases."""
    guide = " ".join(str(c.value) for c in openpyxl.load_workbook(COMMITTED)["Guide"]["A"] if c.value)
    assert "Set LSTM 1's forget-gate biases (rows LSTM 1 f1 to f16, column b) to -10" in guide
    H = F.members[0].hidden_size
    with Book(COMMITTED) as book:
        b = book.range("auto_b")
        part = book.sheets[b.sheet]
    values = Blocks()
    values.add(b.r0 + H, b.c0, [[-10.0]] * H)  # member 1's rows f1..fH: the second of its four gate blocks
    path = tmp_path / "experiment.xlsx"
    path.write_bytes(repack(COMMITTED.read_bytes(), {part: partial(patch_sheet, values=values)}, ZIP_TIME))
    lo = openpyxl.load_workbook(recalculate(path, tmp_path), data_only=True)
    stored = openpyxl.load_workbook(COMMITTED, data_only=True)
    states = numbers(lo, "auto_states_1")  # u | i f g C o h | y
    i, f, g, C = (states[:, 1 + q * H : 1 + (q + 1) * H] for q in range(4))
    assert f.max() < 0.05 and numbers(stored, "auto_states_1")[:, 1 + H : 1 + 2 * H].max() > 0.5
    assert np.abs(C - i * g).max() < 0.05
    member = F.members[0]
    forgetful = LSTMParams(member.W, np.r_[member.b[:H], np.full(H, -10.0), member.b[2 * H :]], member.W_y, member.b_y)
    u_hat = recursive_forecast(forgetful, numbers(lo, "auto_transform")[1:T_H, 3:4], N)[:, 0]
    got = numbers(lo, "auto_forecast_steps")[:, 2]  # û of LSTM 1, after φ^k and s
    np.testing.assert_allclose(got, u_hat, rtol=1e-9)
    assert not np.allclose(got, numbers(stored, "auto_forecast_steps")[:, 2])


def test_the_refresh_recomputes_every_members_gates(tmp_path: Path) -> None:
    """LSTM 1's forget-gate biases changed through the refresh: its states and its LSTM_SEQUENCE
    block are recomputed from them (f near 0), LSTM 2's are left as they were."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(COMMITTED.read_bytes())
    H = F.members[0].hidden_size
    with Book(path) as book:
        b = book.numbers("auto_b").copy()
        before = {name: book.numbers(name) for name in ("auto_states_1", "auto_states_2", "auto_sequence_udf_1")}
    b[H : 2 * H] = -10.0
    refresh_file(path, set_blocks={"auto_b": b})
    with Book(path) as book:
        after = {name: book.numbers(name) for name in before}
    assert before["auto_states_1"][:, 1 + H : 1 + 2 * H].max() > 0.5
    assert after["auto_states_1"][:, 1 + H : 1 + 2 * H].max() < 0.05
    np.testing.assert_allclose(after["auto_sequence_udf_1"], after["auto_states_1"][: T_H - 1, 1:-1], rtol=1e-12)
    # LSTM 2's block is recomputed too, by this machine's rounding: to ANY_MACHINE, not bit for bit
    np.testing.assert_allclose(after["auto_states_2"], before["auto_states_2"], rtol=1e-12, atol=ANY_MACHINE)
