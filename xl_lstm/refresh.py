"""Batch refresh: recompute the LSTM blocks of template-contract workbooks, losing nothing.

For a workbook with the template's defined names (README: "Defined names"), read
the weights, head, scaler and series, recompute every states, forecast and metrics
block with the engine, and store the numbers in those cells: formula cells keep
their formulas and get current cached values (or, with ``values_only``, become plain
numbers). Only those cells' XML changes; every other part of the file is copied as
it was. The file is replaced atomically.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._io import atomic_write
from ._xml import MAX_ROW, PKG_REL_NS
from .engine import run, step
from .errors import LSTMError
from .metrics import METRICS, error_metrics
from .params import LSTMParams
from .recursive import recursive_forecast
from .xlsx import MAX_RANGE_CELLS, Blocks, Book, CellRange, patch_sheet, write_package

__all__ = ["RefreshResult", "refresh_file", "compute_blocks", "INPUT_NAMES", "OUTPUT_NAMES"]

INPUT_NAMES = ("lstm_W", "lstm_b", "lstm_W_y", "lstm_b_y", "lstm_scaler", "lstm_series", "lstm_history",
               "lstm_horizon", "lstm_season")
OUTPUT_NAMES = ("lstm_inputs", "lstm_states_inputs", "lstm_states_formulas_inputs", "lstm_states",
                "lstm_states_formulas", "lstm_forecast", "lstm_forecast_formulas", "lstm_forecast_steps",
                "lstm_actuals", "lstm_metrics", "lstm_metrics_formulas")


@dataclass(frozen=True)
class RefreshResult:
    path: Path  # the file written
    steps: int  # T
    cells: int  # cells written
    seconds: float
    metrics: dict[str, float] | None = None  # the forecast's errors on the held-out actuals, when all are there


@dataclass(frozen=True)
class Model:
    params: LSTMParams
    center: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)
    series: np.ndarray  # (T, D) raw
    history: np.ndarray  # (T_h, D) raw
    horizon: int
    season: int


CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
MAX_STEPS = 100_000  # rows of lstm_series: time steps the refresh computes
MAX_HORIZON = 10_000  # lstm_horizon: forecast steps, each fed back as the next input


def _whole(path: Path, name: str, v: np.ndarray, low: int, high: int) -> int:
    if v.shape != (1, 1) or v[0, 0] != int(v[0, 0]) or v[0, 0] < low:
        raise LSTMError(f"{path}: {name} must be one cell holding a whole number ≥ {low}, got {v.ravel()[:3]}")
    if v[0, 0] > high:
        raise LSTMError(f"{path}: {name} is {int(v[0, 0]):,}, over the limit of {high:,}")
    return int(v[0, 0])


def _shape(path: Path, name: str, got: tuple[int, int], want: tuple[int, int], why: str) -> None:
    if got != want:
        raise LSTMError(f"{path}: {name} must be {want[0]}×{want[1]} ({why}), got {got[0]}×{got[1]}")


def _check_work(path: Path, what: str, rows: int, cols: int) -> None:
    """Refuse a block the model would make before making it: it must fit the cell budget."""
    if rows * cols > MAX_RANGE_CELLS:
        raise LSTMError(f"{path}: {what} would be {rows:,}×{cols:,} = {rows * cols:,} cells, "
                        f"over the limit of {MAX_RANGE_CELLS:,}")


def _check_ranges(book: Book) -> None:
    """Every lstm_ name inside the sheet and within the cell budget, and the steps within
    MAX_STEPS, before any sheet is read."""
    for name in INPUT_NAMES + OUTPUT_NAMES:
        if name in book.names:
            book.range(name)
    steps = book.range("lstm_series").shape[0]
    if steps > MAX_STEPS:
        raise LSTMError(f"{book.path}: lstm_series has {steps:,} rows (time steps), over the limit of {MAX_STEPS:,}")


def read_model(book: Book, given: dict[str, np.ndarray] | None = None) -> Model:
    """Weights, head, scaler and series from the defined names, with shapes checked against each other.

    ``given`` replaces some blocks' contents (new weights from training) before the checks.
    Every size is checked before it is read or computed with: the ranges against the
    cell budget, the steps, the horizon, and the blocks the model will make. Each sheet
    is read once for all the names on it.
    """
    path = book.path
    _check_ranges(book)
    given = {k: np.asarray(v, dtype=float) for k, v in (given or {}).items()}
    got = book.numbers_of([n for n in INPUT_NAMES if n not in given])
    got.update(given)
    b = got["lstm_b"]
    if 1 not in b.shape or b.size % 4:
        raise LSTMError(f"{path}: lstm_b must be one column of 4H cells, got {b.shape[0]}×{b.shape[1]}")
    H = b.size // 4
    W = got["lstm_W"]
    if W.shape[0] != 4 * H or W.shape[1] <= H:
        raise LSTMError(f"{path}: lstm_W must be 4H×(H+D) with H={H} (from lstm_b), got {W.shape[0]}×{W.shape[1]}")
    D = W.shape[1] - H
    W_y, b_y = got["lstm_W_y"], got["lstm_b_y"]
    _shape(path, "lstm_W_y", W_y.shape, (D, H), f"D×H with D={D}, H={H}")
    _shape(path, "lstm_b_y", b_y.shape, (D, 1), f"D×1 with D={D}")
    scaler = got["lstm_scaler"]
    _shape(path, "lstm_scaler", scaler.shape, (2, D), f"center and scale rows, D={D}")
    if np.any(scaler[1] == 0):
        raise LSTMError(f"{path}: lstm_scaler's scale row holds 0: it divides the data")
    series, history = got["lstm_series"], got["lstm_history"]
    if series.shape[1] != D or history.shape[1] != D:
        raise LSTMError(f"{path}: lstm_series and lstm_history must have D={D} columns, got {series.shape[1]} and {history.shape[1]}")
    horizon = _whole(path, "lstm_horizon", got["lstm_horizon"], 1, MAX_HORIZON)
    season = _whole(path, "lstm_season", got["lstm_season"], 1, MAX_ROW)
    _check_work(path, "the states table (steps × 6H)", series.shape[0], 6 * H)
    _check_work(path, "the forecast steps (horizon × (2D + 6H))", horizon, 2 * D + 6 * H)
    params = LSTMParams(W, b.ravel(), W_y, b_y.ravel())
    return Model(params, scaler[0], scaler[1], series, history, horizon, season)


def compute_blocks(m: Model) -> dict[str, np.ndarray]:
    """Every output block's values by defined name (object arrays; None = leave the cell alone)."""
    p = m.params
    x = (m.series - m.center) / m.scale  # (T, D)
    table = run(p, x, outputs="all").table()  # (T, 6H)
    n, T_h = m.horizon, m.history.shape[0]
    fc = recursive_forecast(p, m.history, n, m.center, m.scale)  # (n, D)
    actual = m.series[T_h : T_h + n, :1]  # (≤ n, 1)
    blocks: dict[str, np.ndarray] = {
        "lstm_inputs": x, "lstm_states_inputs": x, "lstm_states_formulas_inputs": x,
        "lstm_states": table, "lstm_states_formulas": table,
        "lstm_forecast": fc, "lstm_forecast_formulas": fc,
        "lstm_forecast_steps": _forecast_steps(p, (m.history - m.center) / m.scale, n),
        "lstm_actuals": actual,
    }
    if actual.shape[0] == n:
        metrics = error_metrics(actual[:, 0], fc[:, 0], m.season, m.history[:, 0])
        values = [metrics[k] for k in METRICS]
        blocks["lstm_metrics"] = np.array([[k, v] for k, v in zip(METRICS, values, strict=True)], dtype=object)
        blocks["lstm_metrics_formulas"] = np.array(values, dtype=float)[:, None]
    return {k: np.asarray(v, dtype=object) for k, v in blocks.items()}


def _forecast_steps(p: LSTMParams, history: np.ndarray, n: int) -> np.ndarray:
    """The native recursion block: per row k, x fed back | i f g C o h | y (scaled); row 0 is the warm state."""
    H, D = p.hidden_size, p.input_size
    warm = run(p, history, outputs="last")
    h, c = warm.h_n[-1], warm.c_n[-1]
    out = np.full((n, 2 * D + 6 * H), None, dtype=object)
    y = p.W_y @ h + p.b_y  # type: ignore[operator]
    out[0, D + 3 * H : D + 4 * H], out[0, D + 5 * H : D + 6 * H], out[0, D + 6 * H :] = c, h, y
    for k in range(1, n):
        s = step(p, y, h, c)
        h, c = s.h, s.c
        out[k, :D], out[k, D : D + 6 * H] = y, s.row()
        y = p.W_y @ h + p.b_y  # type: ignore[operator]
        out[k, D + 6 * H :] = y
    return out


def _block_values(rng: CellRange, block: np.ndarray, name: str, path: Path) -> list[list[Any]]:
    """A block as rows of Python values (floats, text, None to skip), checked against its range."""
    rows, cols = rng.shape
    if block.shape[0] > rows or block.shape[1] != cols:
        raise LSTMError(
            f"{path}: {name} is {rows}×{cols} but the model gives {block.shape[0]}×{block.shape[1]} "
            "(do its shape and the weights' H and D agree?)"
        )
    return [[v if v is None or isinstance(v, str) else float(v) for v in row] for row in block.tolist()]


def _require_template_names(book: Book) -> None:
    missing = [n for n in INPUT_NAMES if n not in book.names]
    if missing:
        raise LSTMError(
            f"{book.path}: missing defined name(s) {', '.join(missing)}: not a workbook made from the xl_lstm template"
        )


def _refuse_unwritable(path: Path) -> None:
    lock = path.with_name("~$" + path.name)
    if lock.exists():
        raise LSTMError(f"{path}: is open in Excel (lock file {lock.name}); close it first")
    if not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222:  # root passes os.access: check the bits too
        raise LSTMError(f"{path}: is read-only; make it writable or use --output DIR")


def refresh_file(
    path: str | Path,
    *,
    values_only: bool = False,
    output: str | Path | None = None,
    set_blocks: dict[str, np.ndarray] | None = None,
) -> RefreshResult:
    """Refresh one workbook in place (or write the refreshed copy into folder ``output``).

    ``set_blocks`` writes new contents into input blocks first (e.g. trained lstm_W, lstm_b,
    lstm_W_y, lstm_b_y, lstm_scaler), in the same atomic write as the refresh.
    """
    start = time.perf_counter()
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise LSTMError(f"{path}: not an .xlsx or .xlsm workbook")
    target = path if output is None else Path(output) / path.name
    if output is None:
        _refuse_unwritable(path)
    elif not Path(output).is_dir():
        raise LSTMError(f"{output}: no such folder for --output")
    elif target.resolve() == path.resolve():
        raise LSTMError(f"{path}: --output {output} is the file's own folder, so the copy would replace it; "
                        "leave out --output to refresh in place")
    with Book(path) as book:
        _require_template_names(book)
        given = {k: np.asarray(v, dtype=float) for k, v in (set_blocks or {}).items()}
        for name, block in given.items():
            shape = book.range(name).shape
            if block.ndim != 2 or block.shape != shape:
                raise LSTMError(f"{path}: {name} is {shape[0]}×{shape[1]}, cannot hold an array of shape {block.shape}")
        model = read_model(book, given)
        blocks: dict[str, np.ndarray] = {k: v.astype(object) for k, v in given.items()}
        blocks.update(compute_blocks(model))
        per_sheet: dict[str, Blocks] = {}
        cells = 0
        for name, block in blocks.items():
            if name in book.names:
                rng = book.range(name)
                rows = _block_values(rng, block, name, path)
                per_sheet.setdefault(rng.sheet, Blocks()).add(rng.r0, rng.c0, rows)
                cells += sum(v is not None for row in rows for v in row)
        def patched(sheet: str, values: Blocks) -> Callable[[], bytes]:
            def make() -> bytes:
                part = book.sheets[sheet]
                xml = book.read(part)
                book.forget(part)
                return patch_sheet(xml, values, keep_formulas=not values_only, where=book.where(part))

            return make

        replaced = {book.sheets[sheet]: patched(sheet, values) for sheet, values in per_sheet.items()}
        drop: frozenset[str] = frozenset()
        if values_only and "xl/calcChain.xml" in book.zip.namelist():
            drop, replaced = _without_calc_chain(book, replaced)
        atomic_write(target, lambda fh: write_package(book.zip, replaced, fh, drop))
    metrics = blocks.get("lstm_metrics")
    held_out = None if metrics is None else {str(k): float(v) for k, v in metrics}
    return RefreshResult(target, model.series.shape[0], cells, time.perf_counter() - start, held_out)


def _without_calc_chain(
    book: Book, replaced: dict[str, Callable[[], bytes]]
) -> tuple[frozenset[str], dict[str, Callable[[], bytes]]]:
    """Formulas turned into values leave the calculation chain stale: drop it, its relationship and content type."""
    rels = book.without_elements("xl/_rels/workbook.xml.rels", f"{PKG_REL_NS} Relationship",
                                 lambda a: a.get("Target", "").lstrip("/").removeprefix("xl/") == "calcChain.xml")
    types = book.without_elements("[Content_Types].xml", f"{CONTENT_TYPES_NS} Override",
                                  lambda a: a.get("PartName", "") == "/xl/calcChain.xml")
    replaced = dict(replaced)
    replaced["xl/_rels/workbook.xml.rels"] = lambda: rels
    replaced["[Content_Types].xml"] = lambda: types
    return frozenset({"xl/calcChain.xml"}), replaced


# ---- training into a workbook -------------------------------------------------------------------
def fit_workbook(path: str | Path, *, epochs: int = 800, seed: int = 0, progress: bool = False) -> tuple[Any, RefreshResult]:
    """Train on a template workbook's history (lstm_history), write lstm_W, lstm_b, lstm_W_y,
    lstm_b_y and lstm_scaler, and refresh every block, in one atomic write.

    The workbook already holds its own test (the months after lstm_history), so the
    whole history trains (no validation tail) for a fixed number of epochs.
    Returns the trained model and the refresh result.
    """
    from .train import fit, workbook_blocks

    with Book(path) as book:
        _require_template_names(book)
        current = read_model(book)
    D, H = current.params.input_size, current.params.hidden_size
    if D != 1:
        raise LSTMError(f"{path}: fit trains on one input column (D=1); this workbook has D={D}")
    model = fit(current.history[:, 0], hidden=H, epochs=epochs, seed=seed, val_fraction=0.0, progress=progress)
    return model, refresh_file(path, set_blocks=workbook_blocks(model))


# ---- many files ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """One file's result: a RefreshResult, or the one-line reason it was refused."""

    source: str
    result: RefreshResult | None
    error: str | None
    seconds: float


def expand(paths: list[str]) -> list[str]:
    """Files, folders (their .xlsx/.xlsm files) and globs, in order, each once."""
    import glob

    out: list[str] = []
    for text in paths:
        p = Path(text)
        if p.is_dir():
            found = sorted(str(f) for f in p.iterdir() if f.suffix.lower() in (".xlsx", ".xlsm") and not f.name.startswith(("~$", ".")))
        elif any(ch in text for ch in "*?["):
            found = sorted(glob.glob(text, recursive=True))
        else:
            found = [text]
        out += [f for f in found if f not in out]
    return out


def _one(source: str, values_only: bool, output: str | None) -> Outcome:
    start = time.perf_counter()
    try:
        result = refresh_file(source, values_only=values_only, output=output)
        return Outcome(source, result, None, time.perf_counter() - start)
    except LSTMError as exc:
        return Outcome(source, None, str(exc), time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001  a bug of ours: still one line, and the other files go on
        detail = " ".join(str(exc).split())[:200]
        return Outcome(source, None, f"{source}: unexpected {type(exc).__name__}: {detail} (please report this)",
                       time.perf_counter() - start)


def refresh_many(sources: list[str], *, values_only: bool = False, output: str | None = None, jobs: int = 1,
                 on_done: Any = None) -> list[Outcome]:
    """Refresh every file, ``jobs`` at a time in worker processes; one file's failure does not stop the rest.

    ``on_done(outcome, done, total)`` is called as each file finishes (a progress bar).
    Outcomes come back in the order of ``sources``.
    """
    total, done, outcomes = len(sources), 0, {}
    if jobs <= 1 or total <= 1:
        for s in sources:
            outcomes[s] = _one(s, values_only, output)
            done += 1
            if on_done:
                on_done(outcomes[s], done, total)
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_one, s, values_only, output): s for s in sources}
            for fut in as_completed(futures):
                outcomes[futures[fut]] = fut.result()
                done += 1
                if on_done:
                    on_done(outcomes[futures[fut]], done, total)
    return [outcomes[s] for s in sources]


def summary_table(outcomes: list[Outcome]) -> str:
    """file | steps | time | status, one row per file."""
    rows = [("file", "steps", "time", "status")]
    for o in outcomes:
        steps = str(o.result.steps) if o.result else "-"
        status = "ok" if o.result else "failed"
        rows.append((o.source, steps, f"{o.seconds:.2f}s", status))
    widths = [max(len(r[k]) for r in rows) for k in range(4)]
    lines = ["  ".join(cell.ljust(w) if k in (0, 3) else cell.rjust(w)
                       for k, (cell, w) in enumerate(zip(r, widths, strict=True))).rstrip() for r in rows]
    ok = sum(1 for o in outcomes if o.result)
    lines.append(f"{ok} of {len(outcomes)} refreshed")
    return "\n".join(lines)
