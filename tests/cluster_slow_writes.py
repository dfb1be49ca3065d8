"""Preloaded into the `dask worker` processes of tests/runs/test_cluster.py's kill tests, and only there
(``dask worker --preload tests/cluster_slow_writes.py``): every file xl_lstm writes atomically
(a refreshed workbook, a part of the forecasts) stays ``XL_LSTM_TEST_WRITE_SECONDS`` in its
temporary file, whole but not yet renamed, and says so by a file ``<pid>.writing`` in the
folder ``XL_LSTM_TEST_MARKS``. The test kills a worker while it holds such a file: the
worst moment, a temporary file on disk and the task not done.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import xl_lstm.runs.panel_files
import xl_lstm.workbook.refresh
from xl_lstm.core.files import atomic_write

MARKS = Path(os.environ["XL_LSTM_TEST_MARKS"])
SECONDS = float(os.environ["XL_LSTM_TEST_WRITE_SECONDS"])


def slow_atomic_write(path: Path, write: Callable[[BinaryIO], object], **how: Any) -> None:
    def write_then_wait(fh: BinaryIO) -> None:
        write(fh)
        fh.flush()
        mark = MARKS / f"{os.getpid()}.writing"
        mark.write_text(str(path))
        time.sleep(SECONDS)
        mark.unlink()

    atomic_write(path, write_then_wait, **how)  # how: atomic_write's own keywords (expect=, what=)


xl_lstm.workbook.refresh.atomic_write = slow_atomic_write  # type: ignore[assignment]
xl_lstm.runs.panel_files.atomic_write = slow_atomic_write  # type: ignore[assignment]
