"""Where the forecaster's blocks sit in a template: its sheets' names and every block's cells."""

from __future__ import annotations

from dataclasses import dataclass

from .layout import quantity_col

__all__ = ["FORECASTER", "MEMBER_CHARTS", "MODEL", "TRANSFORMS", "ForecasterLayout"]

MODEL, TRANSFORMS, MEMBER_CHARTS, FORECASTER = "Forecaster model", "Transforms", "LSTM charts", "Forecaster"


@dataclass(frozen=True)
class ForecasterLayout:
    """Cell positions of the forecaster's blocks (1-based)."""

    K: int  # members
    H: int  # units per member
    n: int  # horizon
    L: int  # levels
    m: int  # season of the transforms
    T: int  # steps of the series
    T_h: int  # history steps

    settings_row = 5  # B..J: log, unit, season, σ, φ, scale, α, drift, weight
    levels_row = 8
    widths_row = 11  # rows widths_row..+n-1, columns B..B+L-1; indices in column L+3

    @property
    def indices_col(self) -> int:
        return self.L + 3

    @property
    def w_row(self) -> int:  # first row of auto_W
        return self.widths_row + max(self.n, self.m) + 2

    @property
    def b_col(self) -> int:
        return self.H + 4

    @property
    def head_row(self) -> int:
        return self.w_row + 4 * self.H * self.K + 2

    def weight_row(self, member: int, gate: int, unit: int) -> int:
        return self.w_row + (member * 4 + gate) * self.H + unit

    # Transforms: rows 4..3+T; columns t, label, y, a, s, d, u, ℓ
    first_row = 4

    # LSTM k: row 3 the quantities' names, row 4 the headers, row 5 the zero state, rows 6.. the
    # steps; columns step | u | i f g C o h (H each) | y, then after an empty column the same
    # i..h of the history from =LSTM_SEQUENCE
    state_row0 = 5

    def block_col(self, q: str) -> int:  # the first of quantity q's H columns
        return quantity_col(3, self.H, q)

    @property
    def y_col(self) -> int:
        return 3 + 6 * self.H

    @property
    def udf_col(self) -> int:  # the first column of the LSTM_SEQUENCE block
        return self.y_col + 2

    @property
    def state_rows(self) -> int:
        return self.T_h - 1 + self.n - 1

    def u_hat_row(self, k: int) -> int:  # the row of member sheets whose y is û_k (k = 1..n)
        return self.state_row0 + self.T_h - 2 + k
