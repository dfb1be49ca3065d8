"""Training from an open workbook: a button in the template runs one of these.

    xlwings Lite:     lstm_fit is an @script; add a button for it in the Lite task pane.
    classic xlwings:  a macro button with
                      RunPython "import xl_lstm.scripts as s; s.lstm_fit_caller()"

Both read the workbook's model and history through the workbook contract
(``contract.read_model``), train with the workbook recipe (``contract.WORKBOOK_FIT``: the
same model ``xl-lstm fit`` and the template make) and write lstm_W, lstm_b, lstm_W_y,
lstm_b_y and lstm_scaler back; the sheets then recompute every gate and the forecast.
Imports only numpy, xlwings, the standard library and xl_lstm (Pyodide-safe).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xlwings as xw

from .contract import XlwingsNames, train_on

__all__ = ["lstm_fit", "lstm_fit_caller", "fit_book"]


def fit_book(book: Any, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Train on the workbook's history and write the weights into it; returns what was written."""
    names = XlwingsNames(book)
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
