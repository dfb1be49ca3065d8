"""Where everything goes in a template: cell references, every block's position and the defined names.

``Layout.names`` collects each defined name as ``define_name`` adds it: the contract that the
batch refresh and users' own workbooks rely on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName

from ..lstm.params import QUANTITIES

__all__ = ["Layout", "define_name", "quantity_col", "ref"]


def ref(sheet: str, r0: int, c0: int, r1: int | None = None, c1: int | None = None, absolute: bool = True) -> str:
    """'Sheet'!$B$3:$F$18 (1-based rows and columns)."""
    d = "$" if absolute else ""
    a = f"{d}{get_column_letter(c0)}{d}{r0}"
    if r1 is not None and c1 is not None and (r1, c1) != (r0, c0):
        a += f":{d}{get_column_letter(c1)}{d}{r1}"
    return f"{quote_sheetname(sheet)}!{a}" if sheet else a


def quantity_col(first_col: int, H: int, q: str) -> int:
    """The first of quantity q's H columns in a row of i | f | g | C | o | h (H each) from ``first_col``."""
    return first_col + QUANTITIES.index(q) * H


@dataclass(frozen=True)
class Layout:
    """Cell positions of every block, from H, D, T and the horizon (1-based rows/columns)."""

    H: int
    D: int
    T: int
    horizon: int
    names: dict[str, str] = field(default_factory=dict, compare=False)

    # Weights sheet
    @property
    def w_row(self) -> int:  # first row of W
        return 4

    @property
    def b_col(self) -> int:  # b sits one empty column right of W
        return 2 + self.H + self.D + 1

    @property
    def head_row(self) -> int:  # first row of W_y
        return self.w_row + 4 * self.H + 3

    @property
    def scaler_row(self) -> int:  # the center row; the scale row is below it
        return self.head_row + self.D + 3

    # Inputs sheet: t | month | raw (D) | scaled (D), one row per step from row 4
    first_row: int = 4

    @property
    def raw_col(self) -> int:
        return 3

    @property
    def x_col(self) -> int:
        return 3 + self.D

    # States sheets: t | x (D) | i f g C o h (H each); row 4 holds t = 0, steps from row 5
    @property
    def gate_col(self) -> int:
        return 2 + self.D

    def block_col(self, q: str) -> int:
        return quantity_col(self.gate_col, self.H, q)

    @property
    def state_row0(self) -> int:
        return 4

    def state_row(self, t: int) -> int:
        return self.state_row0 + t

    # Forecast sheet: native block k = 1..horizon from row 5
    @property
    def fc_row0(self) -> int:
        return 5

    @property
    def fc_y_col(self) -> int:  # scaled head output, D columns, after t | x (D) | 6H gates
        return self.gate_col + 6 * self.H

    @property
    def fc_value_col(self) -> int:  # unscaled forecast, D columns
        return self.fc_y_col + self.D

    @property
    def fc_side_col(self) -> int:  # month | actual | LSTM_FORECAST (D)
        return self.fc_value_col + self.D + 1


def define_name(wb: Workbook, lay: Layout, name: str, target: str) -> None:
    """Define ``name`` as ``target`` (a reference from ``ref``) in the workbook and record it in ``lay.names``."""
    wb.defined_names[name] = DefinedName(name, attr_text=target)
    lay.names[name] = target
