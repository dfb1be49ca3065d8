"""Training into a workbook: the workbook recipe (``contract.WORKBOOK_FIT``) on its history.

``train_on`` trains on any ``NamedRanges`` (the byte-exact reader, an open xlwings Book)
and returns the blocks to write; ``fit_workbook`` writes them into a template file and
refreshes every block, in one atomic write (``xl-lstm fit``, the demo).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..forecasting.train import Epoch, Model, fit_lagged, fit_one_lstm
from .contract import TRAINED_NAMES, WORKBOOK_FIT, NamedRanges, model_blocks, read_model, workbook_epochs

if TYPE_CHECKING:
    from .refresh import RefreshResult

__all__ = ["fit_workbook", "train_on"]


def train_on(
    source: NamedRanges, *, seed: int = 0, epochs: int | None = None, on_epoch: Callable[[Epoch], None] | None = None
) -> tuple[Model, dict[str, np.ndarray]]:
    """Train on a workbook's history with ``WORKBOOK_FIT`` (H from its lstm_W) for ``epochs``
    passes (None: ``workbook_epochs`` of its length); the model and its blocks."""
    current = read_model(source)
    D, H = current.params.input_size, current.params.hidden_size
    passes = workbook_epochs(current.history.shape[0]) if epochs is None else epochs
    settings: dict[str, Any] = {"hidden": H, "seed": seed, "epochs": passes}
    if D == 1:
        model = fit_one_lstm(current.history[:, 0], WORKBOOK_FIT, on_epoch=on_epoch, **settings)
    else:  # the series and its D-1 lags, as the sheets lay them out
        model = fit_lagged(current.history, WORKBOOK_FIT, on_epoch=on_epoch, **settings)
    return model, model_blocks(model)


def fit_workbook(
    path: str | Path, *, seed: int = 0, epochs: int | None = None, on_epoch: Callable[[Epoch], None] | None = None
) -> tuple[Any, RefreshResult]:
    """Train on a template workbook's history with the workbook recipe (``contract.WORKBOOK_FIT``),
    write lstm_W, lstm_b, lstm_W_y, lstm_b_y and lstm_scaler, and refresh every block, in one
    atomic write. Returns the trained model and the refresh result.

    The file's lock is held from before it is read until the weights are written, and they
    are written only if the file is still the one trained on: a refresh or an edit saved
    meanwhile is never overwritten by weights trained on the older data, nor the reverse.
    """
    # the file machinery loads here only: the xlwings scripts import train_on, in Pyodide too
    from ..core.files import seen
    from ..core.locks import write_lock
    from .paths import write_path
    from .refresh import check_layout, check_ranges, refresh_file, require_template_names
    from .xlsx import Book

    path = Path(path)
    target = write_path(path)  # missing, locked, read-only, hard-linked: refused before training
    with write_lock(target, "fit"):
        before = seen(target)
        with Book(path) as book:
            require_template_names(book)
            check_ranges(book)
            check_layout(book, TRAINED_NAMES)  # an output over an input: refused before training
            model, blocks = train_on(book, seed=seed, epochs=epochs, on_epoch=on_epoch)
        return model, refresh_file(path, set_blocks=blocks, expect=before)
