"""The template workbook: weights, inputs and every gate per row, with and without Python.

``build_template`` makes an openpyxl Workbook; ``write_template`` saves it atomically
and reproducibly (fixed timestamps), so the committed ``workbooks/lstm_template.xlsx``
can be compared with what this code makes.

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
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from ..core.errors import LSTMError
from ..core.files import atomic_write
from ..forecasting.train import Epoch
from .charts import charts_sheet
from .forecaster_sheets import add_forecaster_sheets
from .guide import guide_sheet
from .layout import Layout
from .model import TRAIN_EPOCHS, template_model
from .sheets import conf_sheet, forecast_sheet, inputs_sheet, states_sheet, weights_sheet

__all__ = ["build_template", "check_target", "template_bytes", "write_template"]

FIXED_TIME = "2026-01-01T00:00:00Z"  # docProps timestamps, so the file is reproducible


def build_template(
    hidden: int = 4,
    inputs: int = 1,
    steps: int | None = None,
    series: Any = None,
    seed: int = 0,
    train_epochs: int = TRAIN_EPOCHS,
    on_epoch: Callable[[Epoch], None] | None = None,
) -> tuple[Workbook, Layout]:
    """The template workbook for H units, D inputs and T steps, and where its blocks are."""
    m = template_model(hidden, inputs, steps, series, seed, train_epochs, on_epoch)
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


# ---- reproducible, atomic writing ------------------------------------------------
def _reproducible(data: bytes) -> bytes:
    """The same bytes for the same workbook: fixed timestamps in docProps and in the zip."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_TIME.encode(), body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def template_bytes(
    hidden: int = 4,
    inputs: int = 1,
    steps: int | None = None,
    series: Any = None,
    seed: int = 0,
    train_epochs: int = TRAIN_EPOCHS,
    on_epoch: Callable[[Epoch], None] | None = None,
) -> bytes:
    """The template as .xlsx bytes, with every formula's value already stored.

    The stored values come from the batch refresh, so a reader that does not
    recalculate (pandas, LibreOffice's default, Excel without the add-in opening a
    refreshed copy) sees numbers; ``fullCalcOnLoad`` is off, since nothing is stale.
    """
    wb, _ = build_template(hidden, inputs, steps, series, seed, train_epochs, on_epoch)
    wb.calculation.fullCalcOnLoad = False
    buf = io.BytesIO()
    wb.save(buf)
    return _reproducible(_with_values(buf.getvalue()))


def _with_values(data: bytes) -> bytes:
    from ..workbook.refresh import refresh_file  # the refresh reads and writes the package without openpyxl

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "template.xlsx"
        path.write_bytes(data)
        refresh_file(path)
        return path.read_bytes()


def check_target(path: Path, force: bool) -> None:
    """Refuse a target before any work: not .xlsx, a missing folder, an existing file without
    ``force``, or a file open in Excel (its ``~$`` lock file beside it)."""
    if path.suffix.lower() != ".xlsx":
        raise LSTMError(f"{path}: the template is an .xlsx workbook; give a name ending in .xlsx")
    if not path.parent.is_dir():
        raise LSTMError(f"{path}: folder {path.parent} does not exist")
    lock = path.with_name("~$" + path.name)
    if lock.exists():
        raise LSTMError(f"{path}: is open in Excel (lock file {lock.name}); close it first")
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
    train_epochs: int = TRAIN_EPOCHS,
    on_epoch: Callable[[Epoch], None] | None = None,
) -> Path:
    """Write a fresh template to ``path`` (.xlsx) atomically; refuse to overwrite unless ``force``.

    Every check on the path comes before the work (training, building, refreshing).
    """
    path = Path(path)
    check_target(path, force)
    data = template_bytes(hidden, inputs, steps, series, seed, train_epochs, on_epoch)
    atomic_write(path, lambda fh: fh.write(data))
    return path
