"""The numbers of a template workbook's output blocks: what its sheets compute, by the engine.

Given the model a workbook holds (``contract.read_model``, or the template's own model),
``compute_blocks`` makes every states, forecast and metrics block by defined name;
``place_blocks`` puts blocks where their names are, sheet by sheet, for the patcher: the
refresh, ``fit`` and the template write them into the cells the same way, and only after
``check_overlaps``: no block written covers a cell of another block, written or kept (a
defined name pointed at the wrong cells would otherwise overwrite the raw series).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..core.errors import LSTMError
from ..forecasting.metrics import METRICS, error_metrics
from ..lstm.engine import run
from ..lstm.params import LSTMParams
from ..lstm.recursive import advance, recursive_forecast
from .contract import KEPT_NAMES, WorkbookModel
from .forecaster_book import AUTO_INPUT_NAMES
from .patch import Blocks
from .xlsx import CellRange, cell_name

__all__ = ["block_values", "check_overlaps", "check_places", "compute_blocks", "place_blocks"]


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


def _common(a: CellRange, b: CellRange) -> str | None:
    """The first cell two ranges share (sheet names compared as Excel does, without case), or None."""
    if a.sheet.casefold() != b.sheet.casefold():
        return None
    r, c = max(a.r0, b.r0), max(a.c0, b.c0)
    return cell_name(r, c) if r <= min(a.r1, b.r1) and c <= min(a.c1, b.c1) else None


def check_overlaps(written: dict[str, CellRange], kept: dict[str, CellRange], where: Any) -> None:
    """Refuse blocks to be written that overlap each other or a kept block (an input), in one line naming both."""
    names = list(written)
    for i, a in enumerate(names):
        others = [(b, written[b], "output") for b in names[i + 1 :]] + [(b, r, "input") for b, r in kept.items()]
        for b, rb, kind in others:
            cell = _common(written[a], rb)
            if cell is not None:
                raise LSTMError(
                    f"{where}: output block {a} ({written[a]}) overlaps {kind} block {b} ({rb}) at "
                    f"{rb.sheet}!{cell}; writing it would overwrite {b}, so nothing is written "
                    f"(point {a} at cells of its own)"
                )


def _tolerant(locate: Callable[[str], tuple[str, CellRange] | None], name: str) -> tuple[str, CellRange] | None:
    """A kept name's range; one that points at no cells (``#REF!``, a deleted sheet) has none to overwrite."""
    try:
        return locate(name)
    except LSTMError:
        return None


def check_places(
    written: Iterable[str], locate: Callable[[str], tuple[str, CellRange] | None], where: Any
) -> dict[str, tuple[str, CellRange]]:
    """``check_overlaps`` for the contract names ``written``, against every kept name's range
    (``KEPT_NAMES``, the forecaster's inputs) that is not itself written; where each written one is."""
    found = {name: hit for name in written if (hit := locate(name)) is not None}
    kept = dict(hit for name in KEPT_NAMES + AUTO_INPUT_NAMES if name not in found and (hit := _tolerant(locate, name)))
    check_overlaps({in_book: rng for in_book, rng in found.values()}, kept, where)
    return found


def place_blocks(
    blocks: dict[str, np.ndarray], locate: Callable[[str], tuple[str, CellRange] | None], where: Any
) -> tuple[dict[str, Blocks], int]:
    """The blocks by sheet, each at its range, and the number of cells they set.

    ``locate`` gives a contract name's name in the workbook and its range (None: not there).
    First, ``check_places``: no block overlaps another or a kept block.
    """
    found = check_places(blocks, locate, where)
    per_sheet: dict[str, Blocks] = {}
    cells = 0
    for contract_name, block in blocks.items():
        if contract_name in found:
            in_book, rng = found[contract_name]
            rows = block_values(rng, block, in_book, where)
            per_sheet.setdefault(rng.sheet, Blocks()).add(rng.r0, rng.c0, rows)
            cells += sum(v is not None for row in rows for v in row)
    return per_sheet, cells
