"""Refresh one workbook: recompute the LSTM blocks of a template-contract workbook, losing nothing.

For a workbook with the template's defined names (README: "Defined names"), read
the weights, head, scaler and series, recompute every states, forecast and metrics
block with the engine, and store the numbers in those cells: formula cells keep
their formulas and get current cached values (or, with ``values_only``, become plain
numbers). Only those cells' XML changes; every other part of the file is copied as
it was. The file is replaced atomically, under the write discipline of ``core.files``: the
target's lock is held from before the file is read until the rename, and the rename happens
only if the target is still the file that was read.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..core.errors import LSTMError
from ..core.files import Seen, atomic_write, clean_stale, seen
from ..core.locks import write_lock
from .blocks import check_places, compute_blocks, place_blocks
from .contract import INPUT_NAMES, MAX_STEPS, OUTPUT_NAMES, book_name, read_model
from .forecaster_book import (
    AUTO_INPUT_NAMES,
    AUTO_NAMES,
    compute_forecaster_blocks,
    member_columns,
    older_columns,
    read_forecaster,
)
from .patch import Blocks, Streamed, patch_stream, write_package
from .paths import write_path
from .xlsx import Book, CellRange
from .xml import PKG_REL_NS

__all__ = ["RefreshResult", "check_layout", "check_ranges", "refresh_file", "require_template_names"]


@dataclass(frozen=True)
class RefreshResult:
    path: Path  # the file written
    steps: int  # T
    cells: int  # cells written
    seconds: float
    metrics: dict[str, float] | None = None  # the forecast's errors on the held-out actuals, when all are there
    notes: tuple[str, ...] = ()  # things done or seen beside the refresh (stale temporary files)


_MEMBER = re.compile(r"auto_(states|sequence_udf)_[0-9]+")  # member k's blocks (AUTO_NAMES: auto_states_k, ...)
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"


def check_ranges(book: Book) -> None:
    """Every lstm_ name inside the sheet and within the cell budget, and the steps within
    MAX_STEPS, before any sheet is read."""
    for name in INPUT_NAMES + OUTPUT_NAMES:
        in_book = book_name(book.names, name)
        if in_book is not None:
            book.range(in_book)
    steps = book.range("lstm_series").shape[0]
    if steps > MAX_STEPS:
        raise LSTMError(f"{book.path}: lstm_series has {steps:,} rows (time steps), over the limit of {MAX_STEPS:,}")


def check_layout(book: Book, writes: Iterable[str] = ()) -> None:
    """Before any sheet is read: no block a refresh (and ``writes``, e.g. trained weights) would
    write overlaps another or a kept block (``blocks.check_places``), so ``fit`` refuses before training."""
    auto = [n for n in book.names if n not in AUTO_INPUT_NAMES and (n in AUTO_NAMES or _MEMBER.fullmatch(n))]

    def locate(contract_name: str) -> tuple[str, CellRange] | None:
        in_book = book_name(book.names, contract_name)
        return None if in_book is None else (in_book, book.range(in_book))

    check_places([*writes, *OUTPUT_NAMES, *auto], locate, book.path)


def require_template_names(book: Book) -> None:
    missing = [n for n in INPUT_NAMES if n not in book.names]
    if missing:
        raise LSTMError(
            f"{book.path}: missing defined name(s) {', '.join(missing)}: not a workbook made from the xl_lstm template"
        )


def refresh_file(
    path: str | Path,
    *,
    values_only: bool = False,
    output: str | Path | None = None,
    set_blocks: dict[str, np.ndarray] | None = None,
    expect: Seen | None = None,
) -> RefreshResult:
    """Refresh one workbook in place (or write the refreshed copy into folder ``output``).

    ``set_blocks`` writes new contents into input blocks first (e.g. trained lstm_W, lstm_b,
    lstm_W_y, lstm_b_y, lstm_scaler), in the same atomic write as the refresh.
    Every path check (missing, a folder, open in Excel, read-only, hard-linked, another
    owner) comes before any reading; abandoned temporary files of earlier refreshes of the
    same file are removed first (``RefreshResult.notes`` says which). The target's lock is
    held throughout (another xl-lstm writing it: refused), and the file is replaced only if
    it is still what was read (``expect``: what a caller such as ``fit`` read before this).
    """
    start = time.perf_counter()
    path = Path(path)
    target = write_path(path, output)
    with write_lock(target, "refresh"):
        return _refresh_locked(path, target, values_only, set_blocks, expect or seen(target), start)


def _refresh_locked(
    path: Path,
    target: Path,
    values_only: bool,
    set_blocks: dict[str, np.ndarray] | None,
    before: Seen,
    start: float,
) -> RefreshResult:
    """``refresh_file``'s work, with the target's lock held and ``before`` what the target was."""
    removed, left = clean_stale(target)
    notes = tuple(
        [f"{target}: removed {t.name}, left behind by an interrupted refresh" for t in removed]
        + [f"{target}: {t.name} belongs to a refresh in progress (or could not be removed); left alone" for t in left]
    )
    with Book(path) as book:
        require_template_names(book)
        given = {k: np.asarray(v, dtype=float) for k, v in (set_blocks or {}).items()}
        for name, block in given.items():
            shape = book.range(name).shape
            if block.ndim != 2 or block.shape != shape:
                raise LSTMError(f"{path}: {name} is {shape[0]}×{shape[1]}, cannot hold an array of shape {block.shape}")
        check_ranges(book)  # sizes before anything is read
        check_layout(book, given)
        model = read_model(book, given)
        blocks: dict[str, np.ndarray] = {k: v.astype(object) for k, v in given.items()}
        blocks.update(compute_blocks(model))
        if all(n in book.names for n in AUTO_INPUT_NAMES):  # the forecaster of a one-series template
            held = book.numbers_of([n for n in AUTO_INPUT_NAMES if n not in given])  # each sheet read once
            f = read_forecaster({**held, **given}.__getitem__, str(path))
            blocks.update(compute_forecaster_blocks(f, model.series[:, 0], model.history.shape[0], model.season))
            for name in [n for n in blocks if n.startswith("auto_") and n in book.names]:
                width, where = book.range(name).shape[1], f"{path}: {name}"
                if name.startswith("auto_states_"):
                    blocks[name] = member_columns(blocks[name], width, where)
                blocks[name] = older_columns(name, blocks[name], width, f, where)

        def locate(contract_name: str) -> tuple[str, CellRange] | None:
            in_book = book_name(book.names, contract_name)  # older workbooks: the former name
            return None if in_book is None else (in_book, book.range(in_book))

        per_sheet, cells = place_blocks(blocks, locate, path)

        def patched(sheet: str, values: Blocks) -> Streamed:
            part = book.sheets[sheet]  # streamed from the package to the new one, never whole
            return Streamed(
                lambda write: patch_stream(
                    book.chunks(part), write, values, keep_formulas=not values_only, where=book.where(part)
                )
            )

        replaced: dict[str, Callable[[], bytes] | Streamed] = {
            book.sheets[sheet]: patched(sheet, values) for sheet, values in per_sheet.items()
        }
        drop: frozenset[str] = frozenset()
        if values_only and "xl/calcChain.xml" in book.zip.namelist():
            drop, replaced = _without_calc_chain(book, replaced)

        def write(fh: BinaryIO) -> None:
            write_package(book.zip, replaced, fh, drop)
            book.close()  # before the rename: Windows cannot replace a file that is still open

        atomic_write(target, write, expect=before, what="refresh")
    metrics = blocks.get("lstm_metrics_udf")
    held_out = None if metrics is None else {str(k): float(v) for k, v in metrics}
    return RefreshResult(target, model.series.shape[0], cells, time.perf_counter() - start, held_out, notes)


def _without_calc_chain(
    book: Book, replaced: dict[str, Callable[[], bytes] | Streamed]
) -> tuple[frozenset[str], dict[str, Callable[[], bytes] | Streamed]]:
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
