"""The template workbook: weights, inputs and every gate per row, with and without Python.

``build_template`` makes an openpyxl Workbook; ``template_bytes`` saves it in memory and
stores every formula's value in one pass over the package, with fixed timestamps;
``write_template`` writes those bytes atomically, so the committed
``workbooks/lstm_template.xlsx`` can be compared with what this code makes.

Sheets: Guide (``guide``), Weights, Inputs, States (=LSTM_STEP per row), States (formulas)
(the same numbers from native spreadsheet formulas), Forecast (``sheets``), Charts
(``charts``), the forecaster's sheets for one series (``forecaster_sheets``), xlwings.conf.
The defined names in ``Layout.names`` (``layout``) are the contract that the batch refresh
and users' own workbooks rely on. The model and its training are in ``model``.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from ..core.errors import LSTMError
from ..core.files import atomic_write, seen
from ..core.locks import refuse_open
from ..forecasting.train import Epoch
from ..workbook.blocks import compute_blocks, place_blocks
from ..workbook.forecaster_book import compute_forecaster_blocks
from ..workbook.patch import patch_sheet, repack
from ..workbook.xlsx import CellRange, parse_range
from .charts import charts_sheet
from .forecaster_sheets import add_forecaster_sheets
from .guide import guide_sheet
from .layout import Layout
from .model import TemplateModel, template_model, workbook_model
from .sheets import conf_sheet, forecast_sheet, inputs_sheet, states_sheet, weights_sheet

__all__ = ["build_template", "check_target", "template_book", "template_bytes", "write_template"]

FIXED_TIME = "2026-01-01T00:00:00Z"  # docProps timestamps, so the file is reproducible
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # every zip member's date, for the same reason


def build_template(
    hidden: int = 4,
    inputs: int = 1,
    steps: int | None = None,
    series: Any = None,
    seed: int = 0,
    train_epochs: int | None = None,
    on_epoch: Callable[[Epoch], None] | None = None,
) -> tuple[Workbook, Layout]:
    """The template workbook for H units, D inputs and T steps, and where its blocks are."""
    return template_book(template_model(hidden, inputs, steps, series, seed, train_epochs, on_epoch))


def template_book(m: TemplateModel) -> tuple[Workbook, Layout]:
    """The template workbook of a model (``template_model``), and where its blocks are."""
    lay = Layout(m.params.hidden_size, m.params.input_size, m.raw.shape[0], m.horizon)
    wb = Workbook()
    guide = wb.active
    weights_sheet(wb, lay, m)
    inputs_sheet(wb, lay, m)
    states_sheet(wb, lay, native=False)
    states_sheet(wb, lay, native=True)
    forecast_sheet(wb, lay, m)
    charts_sheet(wb, lay, m)
    if m.forecaster is not None:
        add_forecaster_sheets(wb, lay, m, m.forecaster)
    conf_sheet(wb)
    wb.active = guide  # type: ignore[assignment]
    guide_sheet(wb, lay, m)  # last, so it can list every defined name
    wb.properties.creator = "xl_lstm"
    return wb, lay


def template_bytes(
    hidden: int = 4,
    inputs: int = 1,
    steps: int | None = None,
    series: Any = None,
    seed: int = 0,
    train_epochs: int | None = None,
    on_epoch: Callable[[Epoch], None] | None = None,
    *,
    model: TemplateModel | None = None,
) -> bytes:
    """The template as .xlsx bytes, with every formula's value already stored.

    ``model`` (from ``template_model``) is used as it is instead of making one from the
    other arguments. openpyxl cannot store a formula's value, so the workbook is saved
    once in memory and one pass over its zip writes every block's numbers into the sheet
    XML (``compute_blocks`` and ``compute_forecaster_blocks``, as the refresh computes them)
    and fixes the timestamps: a reader that does not recalculate (pandas, LibreOffice's
    default, Excel without the add-in) sees numbers; ``fullCalcOnLoad`` is off, since
    nothing is stale.
    """
    m = model if model is not None else template_model(hidden, inputs, steps, series, seed, train_epochs, on_epoch)
    wb, lay = template_book(m)
    wb.calculation.fullCalcOnLoad = False
    buf = io.BytesIO()
    wb.save(buf)
    blocks = compute_blocks(workbook_model(m))
    if m.forecaster is not None:
        blocks.update(compute_forecaster_blocks(m.forecaster, m.raw[:, 0], m.history_steps, m.season))

    def locate(name: str) -> tuple[str, CellRange] | None:
        return (name, parse_range(lay.names[name])) if name in lay.names else None

    per_sheet, _ = place_blocks(blocks, locate, "the template")
    parts = {ws.title: ws.path.lstrip("/") for ws in wb.worksheets}  # where save put each sheet
    change: dict[str, Callable[[bytes], bytes]] = {"docProps/core.xml": _fixed_times}
    for sheet, values in per_sheet.items():
        change[parts[sheet]] = partial(patch_sheet, values=values, where=parts[sheet])
    return repack(buf.getvalue(), change, ZIP_TIME)


def _fixed_times(core: bytes) -> bytes:
    """docProps/core.xml with the created and modified times fixed, so the file is reproducible."""
    return re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_TIME.encode(), core)


def check_target(path: Path, force: bool) -> None:
    """Refuse a target before any work: not .xlsx, a missing folder, an existing file without
    ``force``, or a file open in Excel or LibreOffice (its owner file beside it)."""
    if path.suffix.lower() != ".xlsx":
        raise LSTMError(f"{path}: the template is an .xlsx workbook; give a name ending in .xlsx")
    if not path.parent.is_dir():
        raise LSTMError(f"{path}: folder {path.parent} does not exist")
    refuse_open(path)
    if path.exists() and not force:
        raise LSTMError(f"{path} already exists; use --force to replace it")
    if path.is_dir():
        raise LSTMError(f"{path}: is a folder")


def write_template(
    path: str | os.PathLike[str],
    hidden: int = 4,
    inputs: int = 1,
    steps: int | None = None,
    *,
    force: bool = False,
    seed: int = 0,
    series: Any = None,
    train_epochs: int | None = None,
    on_epoch: Callable[[Epoch], None] | None = None,
    model: TemplateModel | None = None,
) -> Path:
    """Write a fresh template to ``path`` (.xlsx) atomically; refuse to overwrite unless ``force``.

    ``model`` (from ``template_model``) is written as it is, instead of one made from the
    other arguments. Every check on the path comes before the work (training, building).
    """
    path = Path(path)
    check_target(path, force)
    before = seen(path)  # absent, or the file --force replaces: another writer meanwhile is refused, not overwritten
    data = template_bytes(hidden, inputs, steps, series, seed, train_epochs, on_epoch, model=model)
    atomic_write(path, lambda fh: fh.write(data), expect=before, what="template")
    return path
