"""Training from an open workbook: a button in the template runs one of these.

    xlwings Lite:     lstm_fit is an @script; add a button for it in the Lite task pane.
    classic xlwings:  a macro button with
                      RunPython "import xl_lstm.scripts as s; s.lstm_fit_caller()"
                      and, for your own data, select a header row and the rows under it
                      (dates and numbers) and run
                      RunPython "import xl_lstm.scripts as s; s.lstm_template_caller()"

    Forecast Sheet:   select a table (a header row, then dates and one or more value columns, or
                      unique_id, ds, y) and run lstm_forecast_sheet (Lite) or
                      RunPython "import xl_lstm.scripts as s; s.lstm_forecast_sheet_caller()"
                      (classic): the forecasts, intervals, held-out accuracy and a chart on a new
                      sheet (xl_lstm.excel.forecast_sheet).

Both read the workbook's model and history through the workbook contract
(``contract.read_model``), train with the workbook recipe (``contract.WORKBOOK_FIT``: the
same model ``xl-lstm fit`` and the template make) and write lstm_W, lstm_b, lstm_W_y,
lstm_b_y and lstm_scaler back; the sheets then recompute every gate and the forecast.
Imports only numpy, xlwings, the standard library and xl_lstm (Pyodide-safe).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xlwings as xw

from .workbook.blocks import check_places
from .workbook.contract import TRAINED_NAMES, XlwingsNames
from .workbook.fit import train_on

__all__ = [
    "fit_book",
    "lstm_fit",
    "lstm_fit_caller",
    "lstm_forecast_sheet",
    "lstm_forecast_sheet_caller",
    "lstm_template_caller",
    "template_from_selection",
]


def fit_book(book: Any, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Train on the workbook's history and write the weights into it; returns what was written."""
    names = XlwingsNames(book)
    check_places(TRAINED_NAMES, names.locate, names.path)  # no weight block over an input: before training
    _, blocks = train_on(names, seed=seed)
    for name, values in blocks.items():
        names.write(name, values)
    return blocks


@xw.script
def lstm_fit(book: xw.Book) -> None:
    """xlwings Lite: train the LSTM on this workbook's history and write its weights."""
    fit_book(book)


def lstm_fit_caller() -> None:
    """Classic xlwings (RunPython): the same for the workbook that called."""
    fit_book(xw.Book.caller())


def template_from_selection(book: Any, selection: Any) -> Path:
    """A new template workbook for the selected cells (a header row, then one row per step:
    dates and numbers), written beside ``book`` as NAME_lstm.xlsx (NAME_lstm2.xlsx, ... if taken)."""
    from .tables.series_file import series_from_table, table_from_cells
    from .template.build import write_template  # openpyxl: classic xlwings only, never in Pyodide

    source = f"{getattr(book, 'name', 'the workbook')}, {getattr(selection, 'address', 'the selection')}"
    cells = selection.options(ndim=2).value
    series = series_from_table(source, table_from_cells(source, cells), how="selected cells")
    folder, stem = Path(book.fullname).parent, Path(book.fullname).stem
    path = next(p for k in range(1, 1000) if not (p := folder / f"{stem}_lstm{k if k > 1 else ''}.xlsx").exists())
    return write_template(path, series=series)


def lstm_template_caller() -> None:
    """Classic xlwings (RunPython): a template workbook for the selected range, opened in Excel.

    xlwings Lite cannot write a file beside the workbook; there, use xl-lstm template --data.
    """
    book = xw.Book.caller()
    xw.Book(str(template_from_selection(book, book.selection)))


@xw.script
def lstm_forecast_sheet(book: xw.Book, horizon: int = 0, updates: int = 0, pretrained: bool = False) -> None:
    """xlwings Lite: forecast the selected table onto a new sheet, "Forecast Sheet" (Data → Forecast Sheet).

    horizon: steps ahead (0: from the dates' frequency); updates: training updates per LSTM (0: the default);
    pretrained: the LSTMs shipped with xl_lstm, nothing trained (seconds instead of minutes in the browser)."""
    from .excel.forecast_sheet import SheetSettings, run  # pandas and training: only when a sheet is made

    run(book, book.selection, SheetSettings.of(horizon, updates, pretrained))


def lstm_forecast_sheet_caller(horizon: int = 0, updates: int = 0, pretrained: bool = False) -> None:
    """Classic xlwings (RunPython): the same for the workbook that called, from its selection."""
    from .excel.forecast_sheet import SheetSettings, run

    book = xw.Book.caller()
    run(book, book.selection, SheetSettings.of(horizon, updates, pretrained))
