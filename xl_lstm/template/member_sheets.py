"""The forecaster's LSTMs in a template: one sheet per member with its i, f, g, C, o, h and y per
step in native formulas (and the history's again from =LSTM_SEQUENCE), and the sheet LSTM charts
that draws each member's gates and memory."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula

from ..lstm.params import GATES, QUANTITIES
from .charts import StateRows, add_gate_charts
from .forecaster_layout import MEMBER_CHARTS, MODEL, TRANSFORMS, ForecasterLayout
from .formulas import cell_state, hidden_state, sigmoid, tanh
from .layout import Layout, define_name, ref
from .sheets import heat_maps, quantity_headers
from .styles import BOLD, fit_columns, formula_at, header, number_format, print_setup, put, sheet_title

__all__ = ["member_charts_sheet", "member_sheet"]


def _z(fl: ForecasterLayout, k: int, gate: int, j: int, h_prev: str, x: str) -> str:
    """z = W_h · h_(t-1) + W_u u_t + b for member k's gate row."""
    r = fl.weight_row(k, gate, j)
    w_h = ref(MODEL, r, 2, r, 1 + fl.H)
    return f"SUMPRODUCT({w_h},{h_prev})+{ref(MODEL, r, 2 + fl.H)}*{x}+{ref(MODEL, r, fl.b_col)}"


def member_sheet(wb: Workbook, lay: Layout, fl: ForecasterLayout, k: int) -> None:
    """Member k's i, f, g, C, o, h and y per step in native formulas, each gate in its own cell,
    and beside them the history's from one =LSTM_SEQUENCE array formula."""
    name = f"LSTM {k + 1}"
    ws = wb.create_sheet(name)
    sheet_title(
        ws,
        f"LSTM {k + 1} of {fl.K}: its gates and states over the changes u, then its forecast fed back",
        f"Steps to {fl.T_h - 1}: u from sheet Transforms; after them each y is fed back as the next u. "
        "y predicts the next u. Weights on sheet Forecaster model.",
    )
    r0, H = fl.state_row0, fl.H
    header(ws, r0 - 1, 1, "step")
    header(ws, r0 - 1, 2, "u")
    quantity_headers(ws, fl.block_col("i"), H, r0 - 2)
    header(ws, r0 - 1, fl.y_col, "y")
    put(ws, r0, 1, 0)
    for q in ("C", "h"):
        for j in range(H):
            put(ws, r0, fl.block_col(q) + j, 0.0)
    for i in range(1, fl.state_rows + 1):
        _member_row(ws, fl, k, r0 + i, i)
    last = r0 + fl.state_rows
    define_name(wb, lay, f"auto_states_{k + 1}", ref(name, r0 + 1, 2, last, fl.y_col))
    number_format(ws, r0 + 1, 2, last, fl.y_col, "0.0000")
    heat_maps(ws, fl.block_col("i"), H, r0 + 1, last)
    _sequence_block(wb, lay, ws, fl, k)
    fit_columns(ws, rows=(r0 - 1,))
    ws.freeze_panes = ws.cell(row=r0 + 1, column=3)
    ws.print_area = ref("", 1, 1, last, fl.y_col)  # the native block; the LSTM_SEQUENCE copy would double the pages
    print_setup(ws, header_rows=(r0 - 2, r0 - 1), label_columns=1)


def _member_row(ws: Any, fl: ForecasterLayout, k: int, r: int, step: int) -> None:
    """One step of member k in row r: u (from Transforms, or the y above fed back), each unit's
    i, f, g, o from its weights, C and h from those cells, and the head's y."""
    H, letter = fl.H, get_column_letter
    put(ws, r, 1, step)
    if step <= fl.T_h - 1:  # u of step + 1
        formula_at(ws, r, 2, f"={ref(TRANSFORMS, fl.first_row + step, 7, absolute=False)}")
    else:
        formula_at(ws, r, 2, f"={letter(fl.y_col)}{r - 1}")
    h_prev = ref("", r - 1, fl.block_col("h"), r - 1, fl.block_col("h") + H - 1, absolute=False)
    x = f"$B{r}"
    for j in range(H):
        cell = {q: f"{letter(fl.block_col(q) + j)}{r}" for q in QUANTITIES}
        z = {g: _z(fl, k, gate, j, h_prev, x) for gate, g in enumerate(GATES)}
        for q in ("i", "f", "o"):
            formula_at(ws, r, fl.block_col(q) + j, "=" + sigmoid(z[q]))
        formula_at(ws, r, fl.block_col("g") + j, "=" + tanh(z["g"]))
        c_prev = f"{letter(fl.block_col('C') + j)}{r - 1}"
        formula_at(ws, r, fl.block_col("C") + j, "=" + cell_state(cell["f"], c_prev, cell["i"], cell["g"]))
        formula_at(ws, r, fl.block_col("h") + j, "=" + hidden_state(cell["o"], cell["C"]))
    head = fl.head_row + k
    h_row = ref("", r, fl.block_col("h"), r, fl.block_col("h") + H - 1, absolute=False)
    w_y = ref(MODEL, head, 2, head, 1 + H)
    formula_at(ws, r, fl.y_col, f"=SUMPRODUCT({w_y},{h_row})+{ref(MODEL, head, fl.b_col)}")


def _sequence_block(wb: Workbook, lay: Layout, ws: Any, fl: ForecasterLayout, k: int) -> None:
    """The history's i, f, g, C, o, h of member k again, from one =LSTM_SEQUENCE array formula over
    its u and its rows of auto_W and auto_b (``auto_sequence_udf_k``), right of the native block."""
    r0, H, c0 = fl.state_row0, fl.H, fl.udf_col
    first, last = r0 + 1, r0 + fl.T_h - 1
    put(
        ws,
        2,
        c0,
        f"The history's rows again from one =LSTM_SEQUENCE(u, LSTM {k + 1}'s W, b), the worksheet function (needs xlwings)",
    ).font = BOLD
    quantity_headers(ws, c0, H, r0 - 2)
    w0, w1 = fl.weight_row(k, 0, 0), fl.weight_row(k, 3, H - 1)
    args = ",".join(
        [
            ref("", first, 2, last, 2),
            ref(MODEL, w0, 2, w1, 2 + H),
            ref(MODEL, w0, fl.b_col, w1, fl.b_col),
        ]
    )
    span = ref("", first, c0, last, c0 + 6 * H - 1, absolute=False)
    formula_at(ws, first, c0, ArrayFormula(span, f"=LSTM_SEQUENCE({args})"))
    define_name(wb, lay, f"auto_sequence_udf_{k + 1}", ref(ws.title, first, c0, last, c0 + 6 * H - 1))
    number_format(ws, first, c0, last, c0 + 6 * H - 1, "0.0000")
    heat_maps(ws, c0, H, first, last)


def member_charts_sheet(wb: Workbook, fl: ForecasterLayout) -> None:
    """The sheet LSTM charts: each member's four gates and its memory over its steps, five charts a member."""
    ws = wb.create_sheet(MEMBER_CHARTS)
    sheet_title(
        ws,
        f"LSTM charts: the gates and the memory of each of the forecaster's {fl.K} LSTMs",
        f"Data: sheets LSTM 1..{fl.K}, one line per unit ({fl.H}) in its quantity's colour; h on the right axis.",
    )
    r0 = fl.state_row0 + 1
    at = 0
    for k in range(fl.K):
        src = StateRows(wb[f"LSTM {k + 1}"], fl.block_col("i"), fl.H, r0 - 2, r0, r0 + fl.state_rows - 1)
        at = add_gate_charts(ws, src, at, f"LSTM {k + 1}: ", legend=False)
    print_setup(ws)
