"""Keeping a trained one-LSTM model: an .npz file with its weights, scaler, transforms and residuals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import LSTMError
from .train import Model, Scaler


def save_model(model: Model, path: Any) -> Path:
    """Write a trained model (weights, scaler, transforms, residuals) to an .npz file, atomically."""
    from ..core.files import atomic_write
    from ..lstm.interop import MODEL_FORMAT, npz_path, params_arrays

    if not isinstance(model, Model):
        raise LSTMError(f"model must be a trained Model (from fit_one_lstm), got {type(model).__name__}")
    path = npz_path(path)
    arrays = {
        "format": np.array(MODEL_FORMAT),
        **params_arrays(model.params),
        "scaler_kind": np.array(model.scaler.kind),
        "scaler_center": model.scaler.center,
        "scaler_scale": model.scaler.scale,
        "log": np.array(model.log),
        "diff": np.array(model.diff),
        "season": np.array(model.season),
        "residuals": model.residuals,
        "losses": np.array([model.train_loss, model.val_loss, model.epochs]),
    }
    atomic_write(path, lambda fh: np.savez(fh, **arrays))  # type: ignore[arg-type]
    return path


def load_model(path: Any) -> Model:
    """Read a model written by save_model; anything else is one LSTMError line."""
    from ..lstm.interop import MODEL_FORMAT, params_from_arrays, read_npz

    path, data = read_npz(path)
    if str(data.get("format", "")) != MODEL_FORMAT:
        raise LSTMError(f"{path}: not an xl_lstm model file (format {str(data.get('format', 'missing'))!r})")
    params = params_from_arrays(path, data)
    try:
        scaler = Scaler(
            str(data["scaler_kind"]), np.asarray(data["scaler_center"], float), np.asarray(data["scaler_scale"], float)
        )
        losses = np.asarray(data["losses"], float)
        return Model(
            params,
            scaler,
            bool(data["log"]),
            bool(data["diff"]),
            np.asarray(data["residuals"], float),
            float(losses[0]),
            float(losses[1]),
            int(losses[2]),
            int(data.get("season", 0)),
        )
    except (KeyError, ValueError, IndexError, TypeError) as exc:
        raise LSTMError(f"{path}: a model file with a missing or damaged field ({exc})") from None
