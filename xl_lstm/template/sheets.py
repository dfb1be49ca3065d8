"""The template's sheets of numbers and formulas: Weights, Inputs, States, States (formulas),
Forecast and xlwings.conf, each with its defined names."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula

from ..lstm.params import GATES, QUANTITIES
from .formulas import native_row, sum_product_head
from .layout import Layout, define_name, quantity_col, ref
from .model import TemplateModel
from .styles import (
    BOLD,
    GATE_COLOURS,
    TINTS,
    fill,
    fit_columns,
    formula_at,
    header,
    number_format,
    print_setup,
    put,
    sheet_title,
    text_cell,
    tint,
)

__all__ = [
    "QUANTITY_NAMES",
    "conf_sheet",
    "forecast_sheet",
    "heat_maps",
    "inputs_sheet",
    "quantity_headers",
    "states_sheet",
    "weights_sheet",
]


def weights_sheet(wb: Workbook, lay: Layout, m: TemplateModel) -> None:
    ws = wb.create_sheet("Weights")
    H, D, p = lay.H, lay.D, m.params
    sheet_title(
        ws,
        "Weights:  z = W · [h(t-1), x(t)] + b",
        "Rows: gate blocks i, f, g, o, one row per unit. Columns: h first, then x.",
    )
    r0 = lay.w_row
    header(ws, r0 - 1, 1, "gate, unit")
    for j in range(H):
        header(ws, r0 - 1, 2 + j, f"h{j + 1}")
    for d in range(D):
        header(ws, r0 - 1, 2 + H + d, f"x{d + 1}")
    header(ws, r0 - 1, lay.b_col, "b")
    for k, q in enumerate(GATES):
        for j in range(H):
            r = r0 + k * H + j
            label = put(ws, r, 1, f"{q}{j + 1}")
            label.fill, label.font = fill(TINTS[q]), BOLD
            for c, v in enumerate(p.W[k * H + j], start=2):
                put(ws, r, c, float(v))
            put(ws, r, lay.b_col, float(p.b[k * H + j]))
    number_format(ws, r0, 2, r0 + 4 * H - 1, lay.b_col, "0.0000")
    define_name(wb, lay, "lstm_W", ref("Weights", r0, 2, r0 + 4 * H - 1, 1 + H + D))
    define_name(wb, lay, "lstm_b", ref("Weights", r0, lay.b_col, r0 + 4 * H - 1, lay.b_col))

    hr = lay.head_row
    put(ws, hr - 2, 1, "Output head:  y = W_y · h + b_y  (predicts the next scaled input)").font = BOLD
    header(ws, hr - 1, 1, "output")
    for j in range(H):
        header(ws, hr - 1, 2 + j, f"h{j + 1}")
    header(ws, hr - 1, lay.b_col, "b_y")
    for d in range(D):
        put(ws, hr + d, 1, f"y{d + 1}").font = BOLD
        for j in range(H):
            put(ws, hr + d, 2 + j, float(p.W_y[d, j]))  # type: ignore[index]
        put(ws, hr + d, lay.b_col, float(p.b_y[d]))  # type: ignore[index]
    number_format(ws, hr, 2, hr + D - 1, lay.b_col, "0.0000")
    define_name(wb, lay, "lstm_W_y", ref("Weights", hr, 2, hr + D - 1, 1 + H))
    define_name(wb, lay, "lstm_b_y", ref("Weights", hr, lay.b_col, hr + D - 1, lay.b_col))

    sr = lay.scaler_row
    put(ws, sr - 2, 1, "Scaler:  x = (value - center) / scale").font = BOLD
    for d in range(D):
        header(ws, sr - 1, 2 + d, f"x{d + 1}")
    for k, (label, vec) in enumerate((("center", m.center), ("scale", m.scale))):
        put(ws, sr + k, 1, label).font = BOLD
        for d in range(D):
            put(ws, sr + k, 2 + d, float(vec[d])).number_format = "0.000"
    define_name(wb, lay, "lstm_scaler", ref("Weights", sr, 2, sr + 1, 1 + D))
    fit_columns(ws, rows=(r0 - 1, hr - 1, sr - 1))
    ws.freeze_panes = ws.cell(row=r0, column=2)
    print_setup(ws, header_rows=(r0 - 1, r0 - 1), label_columns=1)


def inputs_sheet(wb: Workbook, lay: Layout, m: TemplateModel) -> None:
    ws = wb.create_sheet("Inputs")
    D, r0 = lay.D, lay.first_row
    about = m.about
    sheet_title(ws, about.title, f"{about.note} x = (value - center) / scale with the scaler on sheet Weights.")
    header(ws, r0 - 1, 1, "t")
    header(ws, r0 - 1, 2, about.period)
    for d in range(D):
        header(ws, r0 - 1, lay.raw_col + d, about.name if d == 0 else f"lag {d}")
        header(ws, r0 - 1, lay.x_col + d, f"x{d + 1}")
    center_row = lay.scaler_row
    for t in range(lay.T):
        r = r0 + t
        put(ws, r, 1, t + 1)
        text_cell(ws, r, 2, m.labels[t])
        for d in range(D):
            put(ws, r, lay.raw_col + d, float(m.raw[t, d]))
            raw = get_column_letter(lay.raw_col + d) + str(r)
            center = ref("Weights", center_row, 2 + d)
            scale = ref("Weights", center_row + 1, 2 + d)
            formula_at(ws, r, lay.x_col + d, f"=({raw}-{center})/{scale}").number_format = "0.0000"
    last = r0 + lay.T - 1
    define_name(wb, lay, "lstm_series", ref("Inputs", r0, lay.raw_col, last, lay.raw_col + D - 1))
    define_name(wb, lay, "lstm_inputs", ref("Inputs", r0, lay.x_col, last, lay.x_col + D - 1))
    define_name(wb, lay, "lstm_history", ref("Inputs", r0, lay.raw_col, last - lay.horizon, lay.raw_col + D - 1))
    fit_columns(ws, rows=(r0 - 1,), labels=(2,))
    ws.freeze_panes = ws.cell(row=r0, column=3)
    print_setup(ws, header_rows=(r0 - 1, r0 - 1), label_columns=2)


QUANTITY_NAMES = {
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "C": "cell state C",
    "o": "output gate o",
    "h": "hidden state h",
}


def quantity_headers(ws: Any, first_col: int, H: int, names_row: int) -> None:
    """The six quantities' names (``QUANTITY_NAMES``) in ``names_row``, each merged over its H columns
    and tinted in its colour, and i1..h(H) in the row under them; the quantities side by side in
    the order i, f, g, C, o, h from ``first_col`` (the States sheets and the forecaster's LSTM sheets)."""
    for q in QUANTITIES:
        c0 = quantity_col(first_col, H, q)
        header(ws, names_row, c0, QUANTITY_NAMES[q], TINTS[q])
        if H > 1:
            ws.merge_cells(start_row=names_row, start_column=c0, end_row=names_row, end_column=c0 + H - 1)
        for j in range(H):
            header(ws, names_row + 1, c0 + j, f"{q}{j + 1}", TINTS[q])


def heat_maps(ws: Any, first_col: int, H: int, r0: int, r1: int) -> None:
    """A colour scale per quantity over rows r0..r1, white at its least to its colour at its most;
    the quantities side by side as ``quantity_headers`` heads them."""
    for q in QUANTITIES:
        c0 = quantity_col(first_col, H, q)
        span = f"{get_column_letter(c0)}{r0}:{get_column_letter(c0 + H - 1)}{r1}"
        ws.conditional_formatting.add(
            span,
            ColorScaleRule(
                start_type="min", start_color="FFFFFF", end_type="max", end_color=tint(GATE_COLOURS[q], 0.35)
            ),
        )


def _states_header(ws: Any, lay: Layout) -> None:
    header(ws, 3, 1, "t")
    for d in range(lay.D):
        header(ws, 3, 2 + d, f"x{d + 1}")
    quantity_headers(ws, lay.gate_col, lay.H, 2)
    # t = 0: the starting state, zeros
    r = lay.state_row0
    put(ws, r, 1, 0)
    for q in ("C", "h"):
        for j in range(lay.H):
            put(ws, r, lay.block_col(q) + j, 0.0)


def _states_rows(ws: Any, lay: Layout, native: bool) -> None:
    H, D = lay.H, lay.D
    for t in range(1, lay.T + 1):
        r, prev = lay.state_row(t), lay.state_row(t - 1)
        put(ws, r, 1, t)
        for d in range(D):
            formula_at(ws, r, 2 + d, f"={ref('Inputs', lay.first_row + t - 1, lay.x_col + d, absolute=False)}")
        x = ref("", r, 2, r, 1 + D, absolute=False)
        if native:
            native_row(ws, lay, r, prev, x)
        else:
            h_prev = ref("", prev, lay.block_col("h"), prev, lay.block_col("h") + H - 1, absolute=False)
            c_prev = ref("", prev, lay.block_col("C"), prev, lay.block_col("C") + H - 1, absolute=False)
            span = ref("", r, lay.gate_col, r, lay.gate_col + 6 * H - 1, absolute=False)
            formula_at(ws, r, lay.gate_col, ArrayFormula(span, f"=LSTM_STEP({x},{h_prev},{c_prev},lstm_W,lstm_b)"))


def states_sheet(wb: Workbook, lay: Layout, native: bool) -> None:
    name = "States (formulas)" if native else "States"
    ws = wb.create_sheet(name)
    how = (
        "native formulas only (SUMPRODUCT, EXP, TANH), no Python needed"
        if native
        else "=LSTM_STEP(x, h above, C above, lstm_W, lstm_b) over 6H cells"
    )
    sheet_title(ws, f"{name}: one row per time step; {how}")  # no note: row 2 holds the gates' names
    _states_header(ws, lay)
    _states_rows(ws, lay, native)
    r0, r1 = lay.state_row(1), lay.state_row(lay.T)
    number_format(ws, r0, 2, r1, lay.gate_col + 6 * lay.H - 1, "0.0000")
    heat_maps(ws, lay.gate_col, lay.H, r0, r1)
    block = ref(name, r0, lay.gate_col, r1, lay.gate_col + 6 * lay.H - 1)
    inputs = ref(name, r0, 2, r1, 1 + lay.D)
    if native:
        define_name(wb, lay, "lstm_states_formulas", block)
        define_name(wb, lay, "lstm_states_formulas_inputs", inputs)
    else:
        define_name(wb, lay, "lstm_states", block)
        define_name(wb, lay, "lstm_states_inputs", inputs)
        r = lay.state_row0
        define_name(wb, lay, "lstm_h0", ref(name, r, lay.block_col("h"), r, lay.block_col("h") + lay.H - 1))
        define_name(wb, lay, "lstm_c0", ref(name, r, lay.block_col("C"), r, lay.block_col("C") + lay.H - 1))
    fit_columns(ws, rows=(3,))  # row 2: the note in A2 runs over; the gates' names span their columns
    ws.freeze_panes = ws.cell(row=r0 - 1, column=lay.gate_col)
    print_setup(ws, header_rows=(2, 3), label_columns=1)


def forecast_sheet(wb: Workbook, lay: Layout, m: TemplateModel) -> None:
    ws = wb.create_sheet("Forecast")
    H, D, n = lay.H, lay.D, lay.horizon
    T_h = m.history_steps
    sheet_title(
        ws,
        f"Forecast: {n} {m.about.period}s after the history (steps 1..{T_h}), against the held-out actuals",
        "Left: the recursion in native formulas (each forecast fed back as the next input). Right: the same with =LSTM_FORECAST.",
    )
    r0 = lay.fc_row0
    # native recursion: row k = 1 takes the warm state from States (formulas) at t = T_h
    header(ws, r0 - 1, 1, "k")
    for d in range(D):
        header(ws, r0 - 1, 2 + d, f"x{d + 1} fed back")
        header(ws, r0 - 1, lay.fc_y_col + d, f"y{d + 1} (scaled)")
        header(ws, r0 - 1, lay.fc_value_col + d, "forecast" if D == 1 else f"forecast {d + 1}")
    for q in QUANTITIES:
        for j in range(H):
            header(ws, r0 - 1, lay.block_col(q) + j, f"{q}{j + 1}", TINTS[q])
    warm = lay.state_row(T_h)
    for k in range(n):
        r = r0 + k
        put(ws, r, 1, k + 1)  # steps ahead, 1..n as on sheet Forecaster
        if k == 0:
            for q in ("C", "h"):
                for j in range(H):
                    src = ref("States (formulas)", warm, lay.block_col(q) + j, absolute=False)
                    formula_at(ws, r, lay.block_col(q) + j, f"={src}")
        else:
            for d in range(D):
                formula_at(ws, r, 2 + d, f"={get_column_letter(lay.fc_y_col + d)}{r - 1}")
            native_row(ws, lay, r, r - 1, ref("", r, 2, r, 1 + D, absolute=False))
        h_row = ref("", r, lay.block_col("h"), r, lay.block_col("h") + H - 1, absolute=False)
        for d in range(D):
            y = get_column_letter(lay.fc_y_col + d) + str(r)
            formula_at(ws, r, lay.fc_y_col + d, f"={sum_product_head(lay, d, h_row)}")
            center = ref("Weights", lay.scaler_row, 2 + d)
            scale = ref("Weights", lay.scaler_row + 1, 2 + d)
            formula_at(ws, r, lay.fc_value_col + d, f"={y}*{scale}+{center}")
    last = r0 + n - 1
    number_format(ws, r0, 2, last, lay.fc_value_col - 1, "0.0000")
    number_format(ws, r0, lay.fc_value_col, last, lay.fc_value_col + D - 1, "0.0")
    define_name(
        wb, lay, "lstm_forecast_formulas", ref("Forecast", r0, lay.fc_value_col, last, lay.fc_value_col + D - 1)
    )
    define_name(wb, lay, "lstm_forecast_steps", ref("Forecast", r0, 2, last, lay.fc_value_col - 1))

    # side table: month | actual | LSTM_FORECAST
    s = lay.fc_side_col
    for c, text in enumerate((m.about.period, "actual", "LSTM_FORECAST"), start=s):
        header(ws, r0 - 1, c, text)
    for k in range(n):
        r, t = r0 + k, T_h + k  # 0-based step index of the actual
        text_cell(ws, r, s, m.labels[t])
        formula_at(ws, r, s + 1, f"={ref('Inputs', lay.first_row + t, lay.raw_col, absolute=False)}")
    formula_at(
        ws,
        r0,
        s + 2,
        ArrayFormula(
            ref("", r0, s + 2, last, s + 1 + D, absolute=False),
            "=LSTM_FORECAST(lstm_history,lstm_W,lstm_b,lstm_W_y,lstm_b_y,lstm_horizon,lstm_scaler)",
        ),
    )
    number_format(ws, r0, s + 1, last, s + 1 + D, "0.0")
    define_name(wb, lay, "lstm_actuals", ref("Forecast", r0, s + 1, last, s + 1))
    define_name(wb, lay, "lstm_forecast_udf", ref("Forecast", r0, s + 2, last, s + 1 + D))

    # settings and metrics below the side table
    mr = last + 3
    put(ws, mr, s, "horizon").font = BOLD
    put(ws, mr, s + 1, n)
    define_name(wb, lay, "lstm_horizon", ref("Forecast", mr, s + 1))
    put(ws, mr + 1, s, "season").font = BOLD
    put(ws, mr + 1, s + 1, m.season)
    define_name(wb, lay, "lstm_season", ref("Forecast", mr + 1, s + 1))
    tr = mr + 3
    header(ws, tr - 1, s, "metric")
    header(ws, tr - 1, s + 1, "formulas")
    header(ws, tr - 1, s + 2, "LSTM_METRICS")
    a = ref("", r0, s + 1, last, s + 1)  # actual
    p = ref("", r0, lay.fc_value_col, last, lay.fc_value_col)  # forecast (native)
    hist_first, hist_last = lay.first_row, lay.first_row + T_h - 1
    m_ = m.season
    lagged = ref("Inputs", hist_first, lay.raw_col, hist_last - m_, lay.raw_col)
    later = ref("Inputs", hist_first + m_, lay.raw_col, hist_last, lay.raw_col)
    native = {
        "MAE": f"=SUMPRODUCT(ABS({a}-{p}))/{n}",
        "RMSE": f"=SQRT(SUMPRODUCT(({a}-{p})^2)/{n})",
        "MAPE": f"=100*SUMPRODUCT(ABS({a}-{p})/ABS({a}))/{n}",
        "sMAPE": f"=100*SUMPRODUCT(2*ABS({a}-{p})/(ABS({a})+ABS({p})))/{n}",
        "MASE": f"={get_column_letter(s + 1)}{tr}/(SUMPRODUCT(ABS({later}-{lagged}))/{T_h - m_})",
    }
    for k, formula in enumerate(native.values()):
        formula_at(ws, tr + k, s + 1, formula).number_format = "0.000"
    formula_at(
        ws,
        tr,
        s + 2,
        ArrayFormula(
            ref("", tr, s + 2, tr + 4, s + 3, absolute=False),
            f"=LSTM_METRICS(lstm_actuals,{ref('', r0, s + 2, last, s + 2)},lstm_season,{ref('Inputs', hist_first, lay.raw_col, hist_last, lay.raw_col)})",
        ),
    )
    for k, metric in enumerate(native):
        put(ws, tr + k, s, metric + (" (%)" if "MAPE" in metric else "")).font = BOLD
    define_name(wb, lay, "lstm_metrics_formulas", ref("Forecast", tr, s + 1, tr + 4, s + 1))
    define_name(wb, lay, "lstm_metrics_udf", ref("Forecast", tr, s + 2, tr + 4, s + 3))
    fit_columns(ws, rows=(r0 - 1, tr - 1), labels=(s,))
    ws.freeze_panes = ws.cell(row=r0, column=2)
    print_setup(ws, header_rows=(r0 - 1, r0 - 1), label_columns=1)


def conf_sheet(wb: Workbook) -> None:
    ws = wb.create_sheet("xlwings.conf")
    put(ws, 1, 1, "UDF Modules")
    put(ws, 1, 2, "xl_lstm.udfs")
    fit_columns(ws, rows=(1,))
    print_setup(ws)
