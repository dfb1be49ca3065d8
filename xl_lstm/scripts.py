"""Training from an open workbook: a button in the template runs one of these.

    xlwings Lite:     lstm_fit is an @script; add a button for it in the Lite task pane.
    classic xlwings:  a macro button with
                      RunPython "import xl_lstm.scripts as s; s.lstm_fit_caller()"

Both read the series (lstm_history) and the model's size (lstm_W) from the defined
names, train with ``xl_lstm.train.fit`` and write lstm_W, lstm_b, lstm_W_y, lstm_b_y and
lstm_scaler back; the sheets then recompute every gate and the forecast themselves.
Imports only numpy, xlwings, the standard library and xl_lstm (Pyodide-safe).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xlwings as xw

from .errors import LSTMError
from .ranges import numbers
from .train import fit, workbook_blocks

__all__ = ["lstm_fit", "lstm_fit_caller", "fit_book"]


def _block(book: Any, name: str) -> Any:
    try:
        return book.names[name].refers_to_range
    except Exception:  # noqa: BLE001  xlwings raises differently per runtime for a missing name
        raise LSTMError(f"the workbook has no defined name {name}: is it made from the xl_lstm template?") from None


def _numbers(book: Any, name: str) -> np.ndarray:
    """A named block as numbers, checked as the worksheet functions check ranges (text, blanks, errors named by cell)."""
    return numbers(name, _block(book, name).options(ndim=2).value)


def fit_book(book: Any, *, epochs: int = 400, seed: int = 0) -> dict[str, np.ndarray]:
    """Train on the workbook's history and write the weights into it; returns what was written."""
    W = _numbers(book, "lstm_W")
    history = _numbers(book, "lstm_history")
    H = W.shape[0] // 4
    if history.ndim != 2 or history.shape[1] != 1:
        raise LSTMError(f"training from the workbook needs one input column (D=1), lstm_history is {history.shape}")
    model = fit(history[:, 0], hidden=H, epochs=epochs, seed=seed)
    blocks = workbook_blocks(model)
    for name, values in blocks.items():
        _block(book, name).value = values
    return blocks


@xw.script
def lstm_fit(book: xw.Book) -> None:
    """xlwings Lite: train the LSTM on this workbook's history and write its weights."""
    fit_book(book)


def lstm_fit_caller() -> None:
    """Classic xlwings (RunPython): the same for the workbook that called."""
    fit_book(xw.Book.caller())
