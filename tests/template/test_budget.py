"""A template over its cell budget is refused before any work, with a --steps the parser takes."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from xl_lstm.core.errors import LSTMError
from xl_lstm.template.model import MAX_CELLS, template_model


def test_a_template_over_its_cells_is_refused_before_training_with_steps_that_fit() -> None:
    series = np.sin(np.arange(10_000) / 7.0) + 2.0  # over the budget: about 6,460,000 cells
    start = time.perf_counter()
    with pytest.raises(LSTMError) as info:
        template_model(4, 1, None, series, 0, 800)  # 800 epochs of training, were it not refused first
    assert time.perf_counter() - start < 5  # refused before training (minutes) or building
    message = str(info.value)
    assert "\n" not in message and f"{MAX_CELLS:,}" in message and "1 GB" in message, message
    suggested = int(re.search(r"--steps (\d+) or fewer", message).group(1))  # digits alone: argparse takes them
    # a step's cells: Inputs (t, label, value, x), both States sheets (t, x, 6H at H=4), Transforms
    # (t, label, y, a, s, d, u), and each of the forecaster's 3 LSTM sheets of 16 units: step, u,
    # 6·16 native cells, y and the 6·16 cells of its LSTM_SEQUENCE block
    per_step = (4 + 2 * (2 + 6 * 4)) + 7 + 3 * (3 + 12 * 16)
    assert suggested * per_step <= MAX_CELLS < (suggested + 1) * per_step
