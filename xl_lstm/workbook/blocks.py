"""The numbers of a template workbook's output blocks: what its sheets compute, by the engine.

Given the model a workbook holds (``contract.read_model``, or the template's own model),
``compute_blocks`` makes every states, forecast and metrics block by defined name;
``place_blocks`` puts blocks where their names are, sheet by sheet, for the patcher: the
refresh and the template write them into the cells the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.errors import LSTMError
from ..forecasting.metrics import METRICS, error_metrics
from ..lstm.engine import run
from ..lstm.params import LSTMParams
from ..lstm.recursive import advance, recursive_forecast
from .contract import WorkbookModel
from .patch import Blocks
from .xlsx import CellRange

__all__ = ["block_values", "compute_blocks", "place_blocks"]


def compute_blocks(m: WorkbookModel) -> dict[str, np.ndarray]:
    """Every output block's values by defined name (object arrays; None = leave the cell alone)."""
    p = m.params
    x = (m.series - m.center) / m.scale  # (T, D)
    table = run(p, x, outputs="all").table()  # (T, 6H)
    n, T_h = m.horizon, m.history.shape[0]
    fc = recursive_forecast(p, m.history, n, m.center, m.scale)  # (n, D)
    actual = m.series[T_h : T_h + n, :1]  # (≤ n, 1)
    blocks: dict[str, np.ndarray] = {
        "lstm_inputs": x,
        "lstm_states_inputs": x,
        "lstm_states_formulas_inputs": x,
        "lstm_states": table,
        "lstm_states_formulas": table,
        "lstm_forecast_udf": fc,
        "lstm_forecast_formulas": fc,
        "lstm_forecast_steps": _forecast_steps(p, (m.history - m.center) / m.scale, n),
        "lstm_actuals": actual,
    }
    if actual.shape[0] == n:
        metrics = error_metrics(actual[:, 0], fc[:, 0], m.season, m.history[:, 0])
        values = [metrics[k] for k in METRICS]
        blocks["lstm_metrics_udf"] = np.array([[k, v] for k, v in zip(METRICS, values, strict=True)], dtype=object)
        blocks["lstm_metrics_formulas"] = np.array(values, dtype=float)[:, None]
    return {k: np.asarray(v, dtype=object) for k, v in blocks.items()}


def _forecast_steps(p: LSTMParams, history: np.ndarray, n: int) -> np.ndarray:
    """The native recursion block: per row k, x fed back | i f g C o h | y (scaled); row 0 is the warm state."""
    H, D = p.hidden_size, p.input_size
    warm = run(p, history, outputs="last")
    h, c = warm.h_n, warm.c_n  # (1, H): the workbook's LSTM has one layer
    out = np.full((n, 2 * D + 6 * H), None, dtype=object)
    y = p.W_y @ h[-1] + p.b_y  # type: ignore[operator]
    out[0, D + 3 * H : D + 4 * H], out[0, D + 5 * H : D + 6 * H], out[0, D + 6 * H :] = c[-1], h[-1], y
    for k in range(1, n):
        x = y
        h, c, y, s = advance(p, x, h, c)  # the recursion of recursive_forecast, gates kept
        out[k, :D], out[k, D : D + 6 * H], out[k, D + 6 * H :] = x, s.row(), y
    return out


def block_values(rng: CellRange, block: np.ndarray, name: str, where: Any) -> list[list[Any]]:
    """A block as rows of Python values (floats, text, None to skip), checked against its range."""
    rows, cols = rng.shape
    if block.shape[0] > rows or block.shape[1] != cols:
        raise LSTMError(
            f"{where}: {name} is {rows}×{cols} but the model gives {block.shape[0]}×{block.shape[1]} "
            "(do its shape and the weights' H and D agree?)"
        )
    return [[v if v is None or isinstance(v, str) else float(v) for v in row] for row in block.tolist()]


def place_blocks(
    blocks: dict[str, np.ndarray], locate: Callable[[str], tuple[str, CellRange] | None], where: Any
) -> tuple[dict[str, Blocks], int]:
    """The blocks by sheet, each at its range, and the number of cells they set.

    ``locate`` gives a contract name's name in the workbook and its range (None: not there).
    """
    per_sheet: dict[str, Blocks] = {}
    cells = 0
    for contract_name, block in blocks.items():
        found = locate(contract_name)
        if found is not None:
            in_book, rng = found
            rows = block_values(rng, block, in_book, where)
            per_sheet.setdefault(rng.sheet, Blocks()).add(rng.r0, rng.c0, rows)
            cells += sum(v is not None for row in rows for v in row)
    return per_sheet, cells
