"""A maintainer's command: retrain the shipped example's weights and forecaster and store them.

    python -m xl_lstm.template.retrain

Rewrites ``xl_lstm/data/template_model.json`` and ``forecaster_model.json`` from the airline
history (see ``example_model``); then regenerate the committed template with
``xl-lstm template workbooks/lstm_template.xlsx --force``.
"""

from __future__ import annotations

from .example_model import retrain_stored, retrain_stored_forecaster
from .model import TRAIN_EPOCHS, template_model

if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    m = template_model(train_epochs=0)
    print(retrain_stored(m.raw[: m.history_steps, 0], 4, TRAIN_EPOCHS, 0))
    print(retrain_stored_forecaster(m.raw[: m.history_steps, 0], m.horizon, m.season))
