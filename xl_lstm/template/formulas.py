"""The LSTM's equations as native spreadsheet formulas (SUMPRODUCT, EXP, TANH), one function per equation.

``sigmoid``, ``tanh``, ``cell_state`` and ``hidden_state`` are the formula text of σ, tanh,
C = f·C(t-1) + i·g and h = o·tanh(C), without the leading "=": the States (formulas) and
Forecast sheets and the forecaster's LSTM sheets write the same equations with them.
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter

from ..lstm.params import QUANTITIES
from .layout import Layout, ref

__all__ = ["cell_state", "hidden_state", "native_row", "sigmoid", "sum_product_head", "tanh"]


def sigmoid(z: str) -> str:
    """σ(z) = 1 / (1 + e^-z)."""
    return f"1/(1+EXP(-({z})))"


def tanh(z: str) -> str:
    return f"TANH({z})"


def cell_state(f: str, c_prev: str, i: str, g: str) -> str:
    """C = f × C(t-1) + i × g."""
    return f"{f}*{c_prev}+{i}*{g}"


def hidden_state(o: str, c: str) -> str:
    """h = o × tanh(C)."""
    return f"{o}*{tanh(c)}"


def _preactivation(lay: Layout, gate: int, unit: int, h_prev: str, x: str) -> str:
    """z = W_row · [h_{t-1}, x_t] + b_row, as two SUMPRODUCTs and the bias cell."""
    r = lay.w_row + gate * lay.H + unit
    w_h = ref("Weights", r, 2, r, 1 + lay.H)
    w_x = ref("Weights", r, 2 + lay.H, r, 1 + lay.H + lay.D)
    return f"SUMPRODUCT({w_h},{h_prev})+SUMPRODUCT({w_x},{x})+{ref('Weights', r, lay.b_col)}"


def native_row(ws: Any, lay: Layout, row: int, prev_row: int, x_range: str, prev_sheet: str = "") -> None:
    """Write i, f, g, C, o, h for one step as native formulas (prev row may be on another sheet)."""
    H = lay.H
    h_prev = ref(prev_sheet, prev_row, lay.block_col("h"), prev_row, lay.block_col("h") + H - 1, absolute=False)
    for j in range(H):
        cell = {q: get_column_letter(lay.block_col(q) + j) + str(row) for q in QUANTITIES}
        c_prev = ref(prev_sheet, prev_row, lay.block_col("C") + j, absolute=False)
        ws[cell["i"]] = "=" + sigmoid(_preactivation(lay, 0, j, h_prev, x_range))
        ws[cell["f"]] = "=" + sigmoid(_preactivation(lay, 1, j, h_prev, x_range))
        ws[cell["g"]] = "=" + tanh(_preactivation(lay, 2, j, h_prev, x_range))
        ws[cell["C"]] = "=" + cell_state(cell["f"], c_prev, cell["i"], cell["g"])
        ws[cell["o"]] = "=" + sigmoid(_preactivation(lay, 3, j, h_prev, x_range))
        ws[cell["h"]] = "=" + hidden_state(cell["o"], cell["C"])


def sum_product_head(lay: Layout, d: int, h_row: str) -> str:
    """y_d = W_y[d] · h + b_y[d]."""
    r = lay.head_row + d
    return f"SUMPRODUCT({ref('Weights', r, 2, r, 1 + lay.H)},{h_row})+{ref('Weights', r, lay.b_col)}"
