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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import LSTMError
from ..core.files import atomic_write, check_replaceable, clean_stale, write_target
from ..forecast.metrics import METRICS, error_metrics
from ..forecast.train import Epoch
from ..lstm.engine import run, step
from ..lstm.params import LSTMParams
from ..lstm.recursive import recursive_forecast
from .contract import INPUT_NAMES, MAX_STEPS, OUTPUT_NAMES, WorkbookModel, book_name, read_model, train_on
from .forecaster_book import AUTO_INPUT_NAMES, compute_forecaster_blocks, read_forecaster
from .patch import Blocks, patch_sheet, write_package
from .xlsx import Book, CellRange
from .xml import PKG_REL_NS

__all__ = ["RefreshResult", "refresh_file", "compute_blocks", "fit_workbook", "refresh_many", "refresh_outcome"]


@dataclass(frozen=True)
class RefreshResult:
    path: Path  # the file written
    steps: int  # T
    cells: int  # cells written
    seconds: float
    metrics: dict[str, float] | None = None  # the forecast's errors on the held-out actuals, when all are there
    notes: tuple[str, ...] = ()  # things done or seen beside the refresh (stale temporary files)


CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"


def _check_ranges(book: Book) -> None:
    """Every lstm_ name inside the sheet and within the cell budget, and the steps within
    MAX_STEPS, before any sheet is read."""
    for name in INPUT_NAMES + OUTPUT_NAMES:
        in_book = book_name(book.names, name)
        if in_book is not None:
            book.range(in_book)
    steps = book.range("lstm_series").shape[0]
    if steps > MAX_STEPS:
        raise LSTMError(f"{book.path}: lstm_series has {steps:,} rows (time steps), over the limit of {MAX_STEPS:,}")


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


def _refuse_missing(path: Path) -> None:
    """A path that is not a readable regular file: one line saying what it is."""
    if path.is_symlink() and not path.exists():
        raise LSTMError(f"{path}: is a symbolic link to {os.readlink(path)}, which does not exist")
    if not path.exists():
        hint = (
            " (names are taken literally: use --glob PATTERN to expand a pattern)"
            if any(ch in path.name for ch in "*?[")
            else ""
        )
        raise LSTMError(f"{path}: does not exist{hint}")
    if path.is_dir():
        raise LSTMError(f"{path}: is a folder, not a workbook")
    if not path.is_file():
        raise LSTMError(f"{path}: is not a regular file (a pipe or a device?)")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise LSTMError(f"{path}: not an .xlsx or .xlsm workbook")


def _refuse_unwritable(path: Path, named: Path | None = None) -> None:
    """An existing file we would replace: open in Excel, read-only, hard-linked or not ours to keep."""
    for lock in dict.fromkeys(p.with_name("~$" + p.name) for p in (named or path, path)):
        if lock.exists():
            raise LSTMError(f"{named or path}: is open in Excel (lock file {lock}); close it first")
    if not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222:  # root passes os.access: check the bits too
        raise LSTMError(f"{named or path}: is read-only; make it writable or use --output DIR")
    check_replaceable(path)


def _refuse_locked_folder(target: Path, named: Path) -> None:
    """The new file is renamed into the target's folder: that folder must be writable."""
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise LSTMError(f"{named}: its folder {target.parent} is not writable, so the file cannot be replaced")


def write_path(path: str | Path, output: str | Path | None = None) -> Path:
    """Where refreshing ``path`` writes, after every check that needs no reading: the file exists,
    is a workbook by name, and its target (itself, a symlink's target, or ``output``/name) may be replaced."""
    path = Path(path)
    _refuse_missing(path)
    if output is None:
        target = write_target(path)
        _refuse_unwritable(target, path)
        _refuse_locked_folder(target, path)
        return target
    if not Path(output).is_dir():
        raise LSTMError(f"{output}: no such folder for --output")
    target = Path(output) / path.name
    _refuse_locked_folder(write_target(target), target)
    if target.exists() and os.path.samefile(target, path):
        raise LSTMError(
            f"{path}: --output {output} is the file's own folder, so the copy would replace it; "
            "leave out --output to refresh in place"
        )
    if target.exists():
        _refuse_unwritable(write_target(target), target)
    return target


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
    Every path check (missing, a folder, open in Excel, read-only, hard-linked, another
    owner) comes before any reading; abandoned temporary files of earlier refreshes of the
    same file are removed first (``RefreshResult.notes`` says which).
    """
    start = time.perf_counter()
    path = Path(path)
    target = write_path(path, output)
    removed, left = clean_stale(write_target(target))
    notes = tuple(
        [f"{target}: removed {t.name}, left behind by an interrupted refresh" for t in removed]
        + [f"{target}: {t.name} belongs to a refresh in progress (or could not be removed); left alone" for t in left]
    )
    with Book(path) as book:
        _require_template_names(book)
        given = {k: np.asarray(v, dtype=float) for k, v in (set_blocks or {}).items()}
        for name, block in given.items():
            shape = book.range(name).shape
            if block.ndim != 2 or block.shape != shape:
                raise LSTMError(f"{path}: {name} is {shape[0]}×{shape[1]}, cannot hold an array of shape {block.shape}")
        _check_ranges(book)  # sizes before anything is read
        model = read_model(book, given)
        blocks: dict[str, np.ndarray] = {k: v.astype(object) for k, v in given.items()}
        blocks.update(compute_blocks(model))
        if all(n in book.names for n in AUTO_INPUT_NAMES):  # the forecaster of a one-series template
            held = book.numbers_of([n for n in AUTO_INPUT_NAMES if n not in given])  # each sheet read once
            f = read_forecaster({**held, **given}.__getitem__, str(path))
            blocks.update(compute_forecaster_blocks(f, model.series[:, 0], model.history.shape[0], model.season))
        per_sheet: dict[str, Blocks] = {}
        cells = 0
        for contract_name, block in blocks.items():
            in_book = book_name(book.names, contract_name)  # older workbooks: the former name
            if in_book is not None:
                rng = book.range(in_book)
                rows = _block_values(rng, block, in_book, path)
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
    metrics = blocks.get("lstm_metrics_udf")
    held_out = None if metrics is None else {str(k): float(v) for k, v in metrics}
    return RefreshResult(target, model.series.shape[0], cells, time.perf_counter() - start, held_out, notes)


def _without_calc_chain(
    book: Book, replaced: dict[str, Callable[[], bytes]]
) -> tuple[frozenset[str], dict[str, Callable[[], bytes]]]:
    """Formulas turned into values leave the calculation chain stale: drop it, its relationship and content type."""
    rels = book.without_elements(
        "xl/_rels/workbook.xml.rels",
        f"{PKG_REL_NS} Relationship",
        lambda a: a.get("Target", "").lstrip("/").removeprefix("xl/") == "calcChain.xml",
    )
    types = book.without_elements(
        "[Content_Types].xml", f"{CONTENT_TYPES_NS} Override", lambda a: a.get("PartName", "") == "/xl/calcChain.xml"
    )
    replaced = dict(replaced)
    replaced["xl/_rels/workbook.xml.rels"] = lambda: rels
    replaced["[Content_Types].xml"] = lambda: types
    return frozenset({"xl/calcChain.xml"}), replaced


# ---- training into a workbook -------------------------------------------------------------------
def fit_workbook(
    path: str | Path, *, seed: int = 0, epochs: int | None = None, on_epoch: Callable[[Epoch], None] | None = None
) -> tuple[Any, RefreshResult]:
    """Train on a template workbook's history with the workbook recipe (``contract.WORKBOOK_FIT``),
    write lstm_W, lstm_b, lstm_W_y, lstm_b_y and lstm_scaler, and refresh every block, in one
    atomic write. Returns the trained model and the refresh result.
    """
    path = Path(path)
    write_path(path)  # missing, locked, read-only, hard-linked: refused before training
    with Book(path) as book:
        _require_template_names(book)
        _check_ranges(book)
        model, blocks = train_on(book, seed=seed, epochs=epochs, on_epoch=on_epoch)
    return model, refresh_file(path, set_blocks=blocks)


# ---- many files ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """One file's result: a RefreshResult, or the one-line reason it was refused."""

    source: str
    result: RefreshResult | None
    error: str | None
    seconds: float


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def _folder_workbooks(folder: Path) -> list[str]:
    """A folder's .xlsx/.xlsm files (not its subfolders'), without Excel's ~$ lock files and hidden files."""
    return sorted(
        str(f)
        for f in folder.iterdir()
        if f.suffix.lower() in WORKBOOK_SUFFIXES and not f.name.startswith(("~$", ".")) and f.is_file()
    )


def expand(paths: list[str], patterns: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The files to refresh, in order, each once.

    ``paths`` are taken literally (a name such as ``a[1].xlsx`` is that file, never a
    pattern; the shell has already expanded what it was asked to): a file as itself, a
    folder as its .xlsx/.xlsm files, not recursing. ``patterns`` are globs expanded here
    (``**`` recurses), for ``--glob``. A file reached twice (by two spellings or a symbolic
    link) is refreshed once, under its first name. A missing path stays in the list, so its
    refresh says it does not exist.
    """
    import glob

    found: list[str] = []
    for text in paths:
        p = Path(text)
        found += _folder_workbooks(p) if p.is_dir() else [text]
    for pattern in patterns:
        found += sorted(f for f in glob.glob(pattern, recursive=True) if Path(f).suffix.lower() in WORKBOOK_SUFFIXES)
    out: dict[str, str] = {}
    for f in found:
        out.setdefault(os.path.realpath(f) if os.path.exists(f) else f, f)
    return list(out.values())


def check_outputs(sources: list[str], output: str | None) -> None:
    """Refuse, before any work, two sources that would be written to the same file of --output DIR."""
    if output is None:
        return
    seen: dict[str, str] = {}
    for s in sources:
        name = Path(s).name
        if name in seen:
            raise LSTMError(
                f"{Path(output) / name}: both {seen[name]} and {s} would be written to it; "
                "refresh them into different --output folders"
            )
        seen[name] = s


def refresh_outcome(source: str, values_only: bool, output: str | None) -> Outcome:
    """Refresh one file, as a task: every failure is its Outcome's one line, never an exception."""
    start = time.perf_counter()
    try:
        result = refresh_file(source, values_only=values_only, output=output)
        return Outcome(source, result, None, time.perf_counter() - start)
    except LSTMError as exc:
        return Outcome(source, None, str(exc), time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001  a bug of ours: still one line, and the other files go on
        detail = " ".join(str(exc).split())[:200]
        return Outcome(
            source,
            None,
            f"{source}: unexpected {type(exc).__name__}: {detail} (please report this)",
            time.perf_counter() - start,
        )


def _refused_paths(sources: list[str], output: str | None) -> dict[str, Outcome]:
    """Every file whose path checks fail (missing, locked, read-only, ...), found before any work."""
    refused = {}
    for s in sources:
        try:
            write_path(s, output)
        except LSTMError as exc:
            refused[s] = Outcome(s, None, str(exc), 0.0)
    return refused


Runner = Callable[[list[str], bool, "str | None"], Iterable[Outcome]]


def in_turn(todo: list[str], values_only: bool, output: str | None) -> Iterator[Outcome]:
    """Refresh the files one after another, here."""
    for s in todo:
        yield refresh_outcome(s, values_only, output)


def in_processes(jobs: int) -> Runner:
    """Refresh the files ``jobs`` at a time in worker processes of this machine, yielding each as it finishes."""

    def run(todo: list[str], values_only: bool, output: str | None) -> Iterator[Outcome]:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(refresh_outcome, s, values_only, output) for s in todo]
            for fut in as_completed(futures):
                yield fut.result()

    return run


def refresh_many(
    sources: list[str],
    *,
    values_only: bool = False,
    output: str | None = None,
    jobs: int = 1,
    on_done: Any = None,
    runner: Runner | None = None,
) -> list[Outcome]:
    """Refresh every file, ``jobs`` at a time in worker processes; one file's failure does not stop the rest.

    ``on_done(outcome, done, total)`` is called as each file finishes (a progress bar).
    Outcomes come back in the order of ``sources``. Before any work: two sources that would
    be written to the same ``output`` file refuse the whole run (an LSTMError), and every
    file's path checks run, so those refusals come first. ``runner`` refreshes the files that
    pass them elsewhere (``xl_lstm.runs.cluster.on_cluster``), yielding each Outcome as it finishes.
    """
    check_outputs(sources, output)
    outcomes = _refused_paths(sources, output)
    total, done = len(sources), 0
    for o in outcomes.values():
        done += 1
        if on_done:
            on_done(o, done, total)
    todo = [s for s in sources if s not in outcomes]
    if runner is None:
        runner = in_processes(jobs) if jobs > 1 and len(todo) > 1 else in_turn
    for o in runner(todo, values_only, output):
        outcomes[o.source] = o
        done += 1
        if on_done:
            on_done(o, done, total)
    return [outcomes[s] for s in sources]


def summary_table(outcomes: list[Outcome]) -> str:
    """file | steps | time | status, one row per file."""
    rows = [("file", "steps", "time", "status")]
    for o in outcomes:
        steps = str(o.result.steps) if o.result else "-"
        status = "ok" if o.result else "failed"
        rows.append((o.source, steps, f"{o.seconds:.2f}s", status))
    widths = [max(len(r[k]) for r in rows) for k in range(4)]
    lines = [
        "  ".join(
            cell.ljust(w) if k in (0, 3) else cell.rjust(w) for k, (cell, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]
    ok = sum(1 for o in outcomes if o.result)
    lines.append(f"{ok} of {len(outcomes)} refreshed")
    return "\n".join(lines)
