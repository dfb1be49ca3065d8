"""Keeping a trained one-LSTM model: an .npz file with its weights, scaler, transforms and residuals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..core.checks import shape_str
from ..core.errors import LSTMError
from ..core.limits import MAX_ROWS
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


SCALER_KINDS = ("standard", "robust", "minmax")  # Scaler.fit's kinds
MODEL_KEYS = frozenset(
    {"format", "W_0", "b_0", "W_y", "b_y", "scaler_kind", "scaler_center", "scaler_scale"}
    | {"log", "diff", "season", "residuals", "losses"}
)
MAX_SEASON = MAX_ROWS  # a season longer than any series a table may hold cannot have been fitted


def load_model(path: Any) -> Model:
    """Read a model written by save_model, every field checked as strictly as ``load`` checks the
    weights (type, shape, range, finiteness, agreement with the weights; no unknown field): a
    damaged field would otherwise move the forecast silently (a negative season, a log flag read
    from text) or fail far from its cause (a zero scale). Anything wrong is one LSTMError line
    naming the file and the field."""
    from ..lstm.interop import MODEL_FORMAT, params_from_arrays, read_npz

    path, data = read_npz(path)
    if str(data.get("format", "")) != MODEL_FORMAT:
        raise LSTMError(f"{path}: not an xl_lstm model file (format {str(data.get('format', 'missing'))!r})")
    unknown = sorted(set(data) - MODEL_KEYS)
    if unknown:
        raise LSTMError(f"{path}: has field {unknown[0]!r}, which no xl_lstm model file holds")
    missing = sorted(MODEL_KEYS - {"season"} - set(data))  # season: absent in files of older versions (0)
    if missing:
        raise LSTMError(f"{path}: field {missing[0]!r} is missing")
    params = params_from_arrays(path, data)
    D = params.input_size
    if params.output_size != D:
        raise LSTMError(f"{path}: field 'W_y' must give {D} outputs (one per input), got {params.output_size}")
    train_loss, val_loss, epochs = _losses(path, data["losses"])
    return Model(
        params,
        Scaler(
            _kind(path, data["scaler_kind"]),
            _vector(path, "scaler_center", data["scaler_center"], D),
            _positive_vector(path, "scaler_scale", data["scaler_scale"], D),
        ),
        _flag(path, "log", data["log"]),
        _flag(path, "diff", data["diff"]),
        _residuals(path, data["residuals"]),
        train_loss,
        val_loss,
        epochs,
        _season(path, data.get("season", np.array(0))),
    )


def _bad(path: Path, field: str, expected: str, got: np.ndarray) -> LSTMError:
    shown = repr(got.item()) if got.ndim == 0 else f"{got.dtype} of shape {shape_str(got.shape)}"
    return LSTMError(f"{path}: field {field!r} must be {expected}, got {shown}"[:300])


def _flag(path: Path, field: str, value: np.ndarray) -> bool:
    if value.dtype != np.bool_ or value.shape != ():
        raise _bad(path, field, "True or False", value)
    return bool(value)


def _kind(path: Path, value: np.ndarray) -> str:
    if value.dtype.kind != "U" or value.shape != () or str(value) not in SCALER_KINDS:
        raise _bad(path, "scaler_kind", " or ".join(SCALER_KINDS), value)
    return str(value)


def _season(path: Path, value: np.ndarray) -> int:
    if value.dtype.kind not in "iu" or value.shape != () or not 0 <= int(value) <= MAX_SEASON:
        raise _bad(path, "season", f"a whole number from 0 (none) to {MAX_SEASON}", value)
    return int(value)


def _vector(path: Path, field: str, value: np.ndarray, length: int) -> np.ndarray:
    if value.dtype.kind != "f" or value.shape != (length,):
        raise _bad(path, field, f"{length} float numbers (one per input)", value)
    if not np.isfinite(value).all():
        raise LSTMError(f"{path}: field {field!r} must be finite numbers, got {value.tolist()}"[:300])
    return np.asarray(value, float)


def _positive_vector(path: Path, field: str, value: np.ndarray, length: int) -> np.ndarray:
    out = _vector(path, field, value, length)
    if np.any(out <= 0):
        raise LSTMError(f"{path}: field {field!r} must be numbers > 0 (a spread), got {out.tolist()}"[:300])
    return out


def _residuals(path: Path, value: np.ndarray) -> np.ndarray:
    """Backtest errors (origins, k): NaN where an origin had fewer than k values ahead, never ±inf."""
    if value.dtype.kind != "f" or value.ndim != 2:
        raise _bad(path, "residuals", "a 2-D array of float numbers (origins × steps ahead)", value)
    if np.isinf(value).any():
        raise LSTMError(f"{path}: field 'residuals' must be finite numbers (or NaN: no value), it holds ±inf")
    return np.asarray(value, float)


def _losses(path: Path, value: np.ndarray) -> tuple[float, float, int]:
    """train loss and validation loss (≥ 0, or NaN: not known, none held out), epochs (a whole number ≥ 0)."""
    if value.dtype.kind != "f" or value.shape != (3,):
        raise _bad(path, "losses", "3 float numbers (train loss, validation loss, epochs)", value)
    train, val, epochs = (float(v) for v in value)
    if not all(np.isnan(v) or (np.isfinite(v) and v >= 0) for v in (train, val)):
        raise LSTMError(f"{path}: field 'losses' must hold losses ≥ 0, got {train!r} and {val!r}")
    if not (np.isfinite(epochs) and epochs >= 0 and epochs == int(epochs)):
        raise LSTMError(f"{path}: field 'losses' must end with the epochs, a whole number ≥ 0, got {epochs!r}")
    return train, val, int(epochs)
