"""The forecaster's sheets in a template workbook: the model, the transforms, one sheet per
member LSTM, and the forecast with its intervals, in native formulas and with =LSTM_FORECAST.

The names and what they hold are in ``xl_lstm.workbook.forecaster_book``; the refresh fills the
stored values from there. Sheets:

    Forecaster model   auto_settings, auto_levels, auto_widths, auto_indices, auto_W, auto_b, auto_W_y, auto_b_y
    Transforms         t | label | y | a | s | d | u | ℓ  (auto_transform: a..ℓ)
    LSTM k             step | u fed in | i f g C o h (H each) | y, from step 1 (row 6; row 5 holds the zero state);
                       then the history's i..h again from =LSTM_SEQUENCE (auto_sequence_udf_k)   (``member_sheets``)
    Forecaster         k | label | φ^k | s | û, d̂, ŷ per member | θ | forecast | lo/hi per level | actual | seasonal naive
                       | the bounds stacked for the chart (auto_bands); the metrics, the chart with the bands,
                       then (on a page of its own) the same from =LSTM_FORECAST
    LSTM charts        each member's four gates and C with h over its steps, after the LSTM k sheets (``member_sheets``)

Where each block sits: ``forecaster_layout``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import AreaChart, LineChart, Reference
from openpyxl.chart.legend import LegendEntry
from openpyxl.chart.series import SeriesLabel
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.pagebreak import Break

from ..lstm.params import GATES
from ..workbook.forecaster_book import BookForecaster, band_order, compute_forecaster_blocks
from .charts import CHART_ROWS, CHARTS_ON_SHEET, axis_range, chart_anchor, style_chart
from .forecaster_layout import FORECASTER, MODEL, TRANSFORMS, ForecasterLayout
from .layout import Layout, define_name, ref
from .member_sheets import member_charts_sheet, member_sheet
from .model import TemplateModel
from .styles import (
    BOLD,
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

__all__ = ["ForecasterLayout", "add_forecaster_sheets"]


def _setting(col: int) -> str:
    return ref(MODEL, ForecasterLayout.settings_row, col)


LOG, UNIT, SEASON, SIGMA, PHI, SCALE, ALPHA, DRIFT, WEIGHT = (_setting(c) for c in range(2, 11))


def add_forecaster_sheets(wb: Workbook, lay: Layout, m: TemplateModel, f: BookForecaster) -> ForecasterLayout:
    """Add the forecaster's four kinds of sheets after the template's own."""
    fl = ForecasterLayout(
        len(f.members), f.members[0].hidden_size, f.horizon, f.levels.size, f.prep.season, lay.T, m.history_steps
    )
    _model_sheet(wb, lay, fl, f)
    _transforms_sheet(wb, lay, fl, m)
    for k in range(fl.K):
        member_sheet(wb, lay, fl, k)
    member_charts_sheet(wb, fl)
    _forecast_sheet(wb, lay, fl, m, f)
    return fl


def _model_sheet(wb: Workbook, lay: Layout, fl: ForecasterLayout, f: BookForecaster) -> None:
    ws = wb.create_sheet(MODEL)
    sheet_title(
        ws,
        "The forecaster: transforms, damping, interval widths and its LSTMs' weights",
        "Chosen by xl_lstm.forecasting.auto on the history (validation, never fixed by hand); see sheet Guide.",
    )
    p = f.prep
    for c, (text, value) in enumerate(
        zip(
            ("log", "unit", "season", "σ", "damping φ", "scale", "Theta's α", "drift", "weight w"),
            (1.0 if p.log else 0.0, p.unit, p.season, p.sigma, f.damping, p.step_error, *p.theta, f.weight),
            strict=True,
        ),
        start=2,
    ):
        header(ws, fl.settings_row - 1, c, text)
        put(ws, fl.settings_row, c, float(value))
    define_name(wb, lay, "auto_settings", ref(MODEL, fl.settings_row, 2, fl.settings_row, 10))
    put(ws, fl.levels_row, 1, "level").font = BOLD
    for q, level in enumerate(f.levels):
        put(ws, fl.levels_row, 2 + q, float(level))
        header(ws, fl.widths_row - 1, 2 + q, f"half-width {round(level * 100)}%")
    define_name(wb, lay, "auto_levels", ref(MODEL, fl.levels_row, 2, fl.levels_row, 1 + fl.L))
    header(ws, fl.widths_row - 1, 1, "k")
    for k in range(fl.n):
        put(ws, fl.widths_row + k, 1, k + 1)
        for q in range(fl.L):
            put(ws, fl.widths_row + k, 2 + q, float(f.widths[k, q]))
    define_name(wb, lay, "auto_widths", ref(MODEL, fl.widths_row, 2, fl.widths_row + fl.n - 1, 1 + fl.L))
    header(ws, fl.widths_row - 1, fl.indices_col, "season index")
    for j, v in enumerate(p.indices):
        put(ws, fl.widths_row + j, fl.indices_col, float(v))
    define_name(
        wb, lay, "auto_indices", ref(MODEL, fl.widths_row, fl.indices_col, fl.widths_row + fl.m - 1, fl.indices_col)
    )

    H = fl.H
    for j in range(H):
        header(ws, fl.w_row - 1, 2 + j, f"h{j + 1}")
        header(ws, fl.head_row - 1, 2 + j, f"h{j + 1}")
    header(ws, fl.w_row - 1, 2 + H, "u")
    header(ws, fl.w_row - 1, fl.b_col, "b")
    header(ws, fl.head_row - 1, fl.b_col, "b_y")
    for k, member in enumerate(f.members):
        for gate, g in enumerate(GATES):
            for j in range(H):
                r = fl.weight_row(k, gate, j)
                put(ws, r, 1, f"LSTM {k + 1} {g}{j + 1}")
                for c in range(H + 1):
                    put(ws, r, 2 + c, float(member.W[gate * H + j, c]))
                put(ws, r, fl.b_col, float(member.b[gate * H + j]))
        put(ws, fl.head_row + k, 1, f"LSTM {k + 1} head")
        for c in range(H):
            put(ws, fl.head_row + k, 2 + c, float(member.W_y[0, c]))  # type: ignore[index]
        put(ws, fl.head_row + k, fl.b_col, float(member.b_y[0]))  # type: ignore[index]
    last_w = fl.w_row + 4 * H * fl.K - 1
    define_name(wb, lay, "auto_W", ref(MODEL, fl.w_row, 2, last_w, 2 + H))
    define_name(wb, lay, "auto_b", ref(MODEL, fl.w_row, fl.b_col, last_w, fl.b_col))
    define_name(wb, lay, "auto_W_y", ref(MODEL, fl.head_row, 2, fl.head_row + fl.K - 1, 1 + H))
    define_name(wb, lay, "auto_b_y", ref(MODEL, fl.head_row, fl.b_col, fl.head_row + fl.K - 1, fl.b_col))
    number_format(ws, fl.widths_row, 2, fl.widths_row + max(fl.n, fl.m) - 1, fl.indices_col, "0.0000")
    number_format(ws, fl.w_row, 2, fl.head_row + fl.K - 1, fl.b_col, "0.0000")
    fit_columns(ws, rows=(fl.settings_row - 1, fl.widths_row - 1, fl.w_row - 1, fl.head_row - 1), labels=(1,))
    print_setup(ws, label_columns=1)


def _transforms_sheet(wb: Workbook, lay: Layout, fl: ForecasterLayout, m: TemplateModel) -> None:
    ws = wb.create_sheet(TRANSFORMS)
    sheet_title(
        ws,
        "Transforms: what the forecaster's LSTMs read",
        "a = LN(y) (or y / unit), s = the season's index, d = a - s, u = (d - previous d) / σ, "
        "ℓ = α·d + (1 - α)·previous ℓ; settings on sheet Forecaster model.",
    )
    r0 = fl.first_row
    for c, text in enumerate(("t", m.about.period, m.about.name, "a", "s", "d", "u", "ℓ"), start=1):
        header(ws, r0 - 1, c, text)
    indices = lay.names["auto_indices"]
    for t in range(fl.T):
        r = r0 + t
        put(ws, r, 1, t + 1)
        text_cell(ws, r, 2, m.labels[t])
        formula_at(ws, r, 3, f"={ref('Inputs', lay.first_row + t, lay.raw_col, absolute=False)}")
        formula_at(ws, r, 4, f"=IF({LOG}=1,LN(C{r}),C{r}/{UNIT})")
        formula_at(ws, r, 5, f"=INDEX({indices},MOD(A{r}-1,{SEASON})+1)")
        formula_at(ws, r, 6, f"=D{r}-E{r}")
        if t:
            formula_at(ws, r, 7, f"=(F{r}-F{r - 1})/{SIGMA}")
        formula_at(ws, r, 8, f"={ALPHA}*F{r}+(1-{ALPHA})*H{r - 1}" if t else f"=F{r}")
    define_name(wb, lay, "auto_transform", ref(TRANSFORMS, r0, 4, r0 + fl.T - 1, 8))
    number_format(ws, r0, 4, r0 + fl.T - 1, 8, "0.0000")
    fit_columns(ws, rows=(r0 - 1,), labels=(2,))
    ws.freeze_panes = ws.cell(row=r0, column=3)
    print_setup(ws, header_rows=(r0 - 1, r0 - 1), label_columns=2)


def _forecast_sheet(wb: Workbook, lay: Layout, fl: ForecasterLayout, m: TemplateModel, f: BookForecaster) -> None:
    ws = wb.create_sheet(FORECASTER)
    K, n, L = fl.K, fl.n, fl.L
    sheet_title(
        ws,
        f"Forecaster: {n} {m.about.period}s after the history, the median of {K} LSTMs, with intervals",
        "d̂ = previous d̂ + σ·φ^k·û;  θ = last ℓ + drift·(k - 1 + (1 - (1 - α)^n)/α) (Theta's line);  "
        "ŷ = EXP((1 - w)·d̂ + w·θ + s) (or (…)·unit);  forecast = MEDIAN(ŷ);  "
        "interval = forecast ± half-width · scale. Below: the same from =LSTM_FORECAST.",
    )
    r0, last = 5, 5 + n - 1
    chart_row = last + 6  # the chart under the metrics, then the LSTM_FORECAST table on a page of its own
    u0 = chart_row + CHART_ROWS + 2
    col = {"u": 5, "d": 5 + K, "y": 5 + 2 * K, "θ": 5 + 3 * K, "fc": 6 + 3 * K}
    actual_col, naive_col = col["fc"] + 1 + 2 * L, col["fc"] + 2 + 2 * L
    band_col = naive_col + 1  # auto_bands: 2L columns, what the chart stacks
    heads = ["k", m.about.period, "φ^k", "s"]
    heads += [f"û {j + 1}" for j in range(K)] + [f"d̂ {j + 1}" for j in range(K)] + [f"ŷ {j + 1}" for j in range(K)]
    heads += ["θ"]
    heads += ["forecast"] + [f"{side} {round(q * 100)}%" for q in f.levels for side in ("lower", "upper")]
    heads += ["actual", "seasonal naive"]
    bounds = band_order(f.levels)  # the bounds from the bottom up
    bound_names = [heads[col["fc"] + 2 * q + side] for q, side in bounds]
    heads += [f"{'from' if b == 0 else 'to'} {name}" for b, name in enumerate(bound_names)]
    for c, text in enumerate(heads, start=1):
        header(ws, r0 - 1, c, text)
    put(
        ws, r0 - 2, band_col, "For the chart: the intervals stacked, the lowest bound, then the gap up to each next"
    ).font = BOLD
    for c, text in enumerate(heads[: col["fc"]], start=1):
        header(ws, u0 - 1, c, text.replace("û", "û (LSTM_FORECAST)") if text.startswith("û") else text)
    d_last = ref(TRANSFORMS, fl.first_row + fl.T_h - 1, 6)
    level_last = ref(TRANSFORMS, fl.first_row + fl.T_h - 1, 8)
    indices = lay.names["auto_indices"]
    letter = get_column_letter
    for k in range(1, n + 1):
        r, ru = r0 + k - 1, u0 + k - 1
        for row in (r, ru):
            put(ws, row, 1, k)
            text_cell(ws, row, 2, m.labels[fl.T_h + k - 1])
        formula_at(ws, r, 3, f"={PHI}^A{r}")
        formula_at(ws, r, 4, f"=INDEX({indices},MOD({fl.T_h}+A{r}-1,{SEASON})+1)")
        theta = f"{letter(col['θ'])}{r}"
        formula_at(ws, r, col["θ"], f"={level_last}+{DRIFT}*(A{r}-1+(1-(1-{ALPHA})^{fl.T_h})/{ALPHA})")
        formula_at(ws, ru, 3, f"=C{r}")
        formula_at(ws, ru, 4, f"=D{r}")
        formula_at(ws, ru, col["θ"], f"={theta}")
        for j in range(K):
            formula_at(ws, r, col["u"] + j, f"={ref(f'LSTM {j + 1}', fl.u_hat_row(k), fl.y_col, absolute=False)}")
        for row in (r, ru):
            for j in range(K):
                u, d = (f"{letter(col[q] + j)}{row}" for q in ("u", "d"))
                prev = d_last if k == 1 else f"{letter(col['d'] + j)}{row - 1}"
                formula_at(ws, row, col["d"] + j, f"={prev}+{SIGMA}*C{row}*{u}")
                mixed = f"(1-{WEIGHT})*{d}+{WEIGHT}*{theta}+D{row}"
                formula_at(ws, row, col["y"] + j, f"=IF({LOG}=1,EXP({mixed}),({mixed})*{UNIT})")
            ys = f"{letter(col['y'])}{row}:{letter(col['y'] + K - 1)}{row}"
            formula_at(ws, row, col["fc"], f"=MEDIAN({ys})")
        fc = f"{letter(col['fc'])}{r}"
        for q in range(L):
            w = ref(MODEL, fl.widths_row + k - 1, 2 + q)
            formula_at(ws, r, col["fc"] + 1 + 2 * q, f"={fc}-{w}*{SCALE}")
            formula_at(ws, r, col["fc"] + 2 + 2 * q, f"={fc}+{w}*{SCALE}")
        t = fl.T_h + k - 1  # 0-based step of the actual
        formula_at(ws, r, actual_col, f"={ref('Inputs', lay.first_row + t, lay.raw_col, absolute=False)}")
        t_naive = fl.T_h - m.season + (k - 1) % m.season
        formula_at(ws, r, naive_col, f"={ref('Inputs', lay.first_row + t_naive, lay.raw_col, absolute=False)}")
        cells = [f"{letter(col['fc'] + 1 + 2 * q + side)}{r}" for q, side in bounds]
        for b, cell in enumerate(cells):
            formula_at(ws, r, band_col + b, f"={cell}" if b == 0 else f"={cell}-{cells[b - 1]}")
    u_last = u0 + n - 1
    u_hist = ref(TRANSFORMS, fl.first_row + 1, 7, fl.first_row + fl.T_h - 1, 7)
    for j in range(K):
        w0, w1 = fl.weight_row(j, 0, 0), fl.weight_row(j, 3, fl.H - 1)
        args = ",".join(
            [
                u_hist,
                ref(MODEL, w0, 2, w1, 2 + fl.H),
                ref(MODEL, w0, fl.b_col, w1, fl.b_col),
                ref(MODEL, fl.head_row + j, 2, fl.head_row + j, 1 + fl.H),
                ref(MODEL, fl.head_row + j, fl.b_col),
                str(n),
            ]
        )
        formula_at(
            ws,
            u0,
            col["u"] + j,
            ArrayFormula(ref("", u0, col["u"] + j, u_last, col["u"] + j, absolute=False), f"=LSTM_FORECAST({args})"),
        )
    define_name(wb, lay, "auto_forecast_steps", ref(FORECASTER, r0, 3, last, col["fc"] - 1))
    define_name(wb, lay, "auto_forecast_formulas", ref(FORECASTER, r0, col["fc"], last, col["fc"] + 2 * L))
    define_name(wb, lay, "auto_naive", ref(FORECASTER, r0, naive_col, last, naive_col))
    define_name(wb, lay, "auto_bands", ref(FORECASTER, r0, band_col, last, band_col + 2 * L - 1))
    define_name(wb, lay, "auto_forecast_udf_members", ref(FORECASTER, u0, col["u"], u_last, col["u"] + K - 1))
    define_name(wb, lay, "auto_forecast_udf_steps", ref(FORECASTER, u0, col["d"], u_last, col["y"] + K - 1))
    define_name(wb, lay, "auto_forecast_udf", ref(FORECASTER, u0, col["fc"], u_last, col["fc"]))
    for top, bottom in ((r0, last), (u0, u_last)):
        for c0, c1, fmt in ((3, col["y"] - 1, "0.0000"), (col["y"], naive_col + (2 * L if top == r0 else 0), "0.0")):
            number_format(ws, top, c0, bottom, c1, fmt)
        number_format(ws, top, col["θ"], bottom, col["θ"], "0.0000")  # θ is of d, as d̂ is

    # metrics: the forecast against seasonal naive on the held-out actuals
    mr = last + 3
    header(ws, mr - 1, 2, "metric")
    header(ws, mr - 1, 3, "forecast")
    header(ws, mr - 1, 4, "seasonal naive")
    a = ref("", r0, actual_col, last, actual_col, absolute=False)
    hist_first, hist_last, s = lay.first_row, lay.first_row + fl.T_h - 1, m.season
    lagged = ref("Inputs", hist_first, lay.raw_col, hist_last - s, lay.raw_col)
    later = ref("Inputs", hist_first + s, lay.raw_col, hist_last, lay.raw_col)
    for c, pcol in ((3, col["fc"]), (4, naive_col)):
        p = ref("", r0, pcol, last, pcol, absolute=False)
        smape = f"=100*SUMPRODUCT(2*ABS({a}-{p})/(ABS({a})+ABS({p})))/{n}"
        formula_at(ws, mr, c, smape).number_format = "0.00"
        mase = f"=(SUMPRODUCT(ABS({a}-{p}))/{n})/(SUMPRODUCT(ABS({later}-{lagged}))/{fl.T_h - s})"
        formula_at(ws, mr + 1, c, mase).number_format = "0.000"
    put(ws, mr, 2, "sMAPE (%)").font = BOLD
    put(ws, mr + 1, 2, "MASE").font = BOLD
    define_name(wb, lay, "auto_metrics", ref(FORECASTER, mr, 3, mr + 1, 4))
    fit_columns(ws, rows=(r0 - 1, u0 - 1, mr - 1), labels=(2,))
    ws.freeze_panes = ws.cell(row=r0, column=3)
    ws.row_breaks.append(Break(id=u0 - 2))
    print_setup(ws, label_columns=2)
    band = compute_forecaster_blocks(f, m.raw[:, 0], fl.T_h, m.season)["auto_forecast_formulas"].astype(float)
    y_range = axis_range(np.concatenate([band.ravel(), m.raw[fl.T_h :, 0]]), pad=0.05)  # the bands and the actuals
    _band_chart(ws, m, f.levels, r0, last, band_col, (naive_col, actual_col, col["fc"]), f"A{chart_row}", y_range)
    if "Charts" in wb.sheetnames:  # and under the LSTM's charts, after its forecast chart
        at = chart_anchor(wb["Charts"], CHARTS_ON_SHEET - 1)
        _band_chart(ws, m, f.levels, r0, last, band_col, (naive_col, actual_col, col["fc"]), at, y_range, wb["Charts"])


BAND_BLUE = "2171B5"  # the intervals' bands: tints of one blue, the narrowest darkest


def _band_chart(
    ws: Any,
    m: TemplateModel,
    levels: np.ndarray,
    r0: int,
    r1: int,
    band_col: int,
    line_cols: tuple[int, int, int],
    at: str,
    y_range: tuple[float, float],
    on: Any = None,
) -> None:
    """The intervals (``levels``) as shaded bands, and over them seasonal naive, the actuals and the
    forecast (``line_cols``), over the forecast's dates (data on ``ws``, the chart on ``on``, default ``ws``).

    The bands are a stacked area chart of ``auto_bands`` (from ``band_col``): the lowest bound
    without fill, then each gap up to the next bound in the colour of the narrowest interval it
    lies in; the legend names each interval once.
    """
    L = levels.size
    widest_first = sorted(range(L), key=lambda q: -float(levels[q]))
    shade = {q: tint(BAND_BLUE, 0.8 - 0.35 * rank / max(L - 1, 1)) for rank, q in enumerate(widest_first)}
    bands = AreaChart(grouping="stacked")
    style_chart(bands, f"Forecast of {m.about.name} with intervals", m.about.unit, y_range)
    for b in range(2 * L):
        bands.add_data(Reference(ws, min_col=band_col + b, min_row=r0, max_row=r1))
        series = bands.series[-1]
        series.graphicalProperties.line.noFill = True
        if b == 0:
            series.graphicalProperties.noFill = True  # the base: up to the lowest bound, not drawn
            continue
        q = widest_first[min(b, 2 * L - b) - 1]  # the gap's interval: the narrowest around it
        series.tx = SeriesLabel(v=f"{round(float(levels[q]) * 100)}% interval")
        series.graphicalProperties.solidFill = shade[q]
    bands.legend.legendEntry = [LegendEntry(idx=b, delete=True) for b in (0, *range(L + 1, 2 * L))]
    lines = LineChart()
    for c in line_cols:
        lines.add_data(Reference(ws, min_col=c, min_row=r0 - 1, max_row=r1), titles_from_data=True)
    for series, colour in zip(lines.series, ("A6A6A6", "000000", "D62728"), strict=True):  # naive, actual, forecast
        series.smooth = False
        series.graphicalProperties.line.solidFill = colour
        series.graphicalProperties.line.width = 28000 if colour == "D62728" else 19050
    for part in (bands, lines):
        part.set_categories(Reference(ws, min_col=2, min_row=r0, max_row=r1))
    bands += lines  # one plot area: the lines over the bands
    bands.x_axis.title = m.about.period
    (on or ws).add_chart(bands, at)
