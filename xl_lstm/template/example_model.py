"""The trained model the template workbook ships with, stored as data.

Training is deterministic for one machine and one BLAS build, not across them. Another
CPU (or another kernel of the same OpenBLAS) sums the matrix products in another order,
the last digits of the gradients differ, and 800 epochs of Adam grow those differences
into weights that differ in the second digit (measured on the airline history: up to
0.055 in W between OpenBLAS's SkylakeX and Sandybridge kernels, with training losses
within 2 % of each other). So the shipped template is generated from weights trained
once and stored in ``data/template_model.json``: the same numbers on every machine.
Whether training still does its job is checked by what it reaches (loss and held-out
error, in the tests), never bit for bit.

    python -m xl_lstm.template.retrain      retrain with the recipe and rewrite the file
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.files import write_record
from ..lstm.params import LSTMParams

if TYPE_CHECKING:
    from ..forecasting.auto import AutoModel
    from ..forecasting.train import Epoch

__all__ = [
    "STORED",
    "STORED_FORECASTER",
    "TrainedWeights",
    "forecaster_model",
    "one_step_loss",
    "retrain_stored",
    "retrain_stored_forecaster",
    "trained_weights",
]

STORED = Path(__file__).parents[1] / "data" / "template_model.json"  # xl_lstm/data
STORED_FORECASTER = Path(__file__).parents[1] / "data" / "forecaster_model.json"


@dataclass(frozen=True)
class TrainedWeights:
    """What a template holds of a trained model: the LSTM and head, and the scaler."""

    params: LSTMParams  # W (4H, H+1), b (4H,), W_y (1, H), b_y (1,)
    center: np.ndarray  # (1,)
    scale: np.ndarray  # (1,)


def recipe(hidden: int, epochs: int, seed: int) -> dict[str, Any]:
    """Every training setting the template uses: the workbook recipe with this H, epochs and seed."""
    from ..workbook.contract import WORKBOOK_FIT

    return dataclasses.asdict(WORKBOOK_FIT.changed(hidden=hidden, epochs=epochs, seed=seed))


def history_digest(history: np.ndarray) -> str:
    """sha256 of the history's float64 values (little-endian), naming the data a model saw."""
    return hashlib.sha256(np.ascontiguousarray(history, dtype="<f8").tobytes()).hexdigest()


def digits15(a: Any) -> np.ndarray:
    """Round to 15 significant digits, the precision spreadsheets keep and show, so the
    numbers in a workbook and the numbers the engine uses are the same numbers."""
    return np.vectorize(lambda v: float(f"{v:.15g}"), otypes=[float])(np.asarray(a, float))


def trained_weights(
    history: np.ndarray, hidden: int, epochs: int, seed: int, on_epoch: Callable[[Epoch], None] | None = None
) -> TrainedWeights:
    """The stored weights when they were trained by this recipe on this history; else train now
    (reporting each epoch to ``on_epoch``; without it, the result is kept for repeated builds)."""
    stored = _stored(STORED)
    if stored is not None and stored[0] == (recipe(hidden, epochs, seed), history_digest(history)):
        return stored[1]
    if on_epoch is not None:
        return _fit(_key(history), hidden, epochs, seed, on_epoch)
    return _train(_key(history), hidden, epochs, seed)


def _key(history: np.ndarray) -> tuple[bytes, int]:
    """A history as a hashable cache key: its float64 bytes and its number of columns (0: one series)."""
    h = np.ascontiguousarray(history, dtype=np.float64)
    return h.tobytes(), (0 if h.ndim == 1 else h.shape[1])


@functools.lru_cache(maxsize=8)
def _train(history: tuple[bytes, int], hidden: int, epochs: int, seed: int) -> TrainedWeights:
    """``_fit``, kept for repeated builds (the tests build the same templates many times)."""
    return _fit(history, hidden, epochs, seed, None)


def _fit(
    history: tuple[bytes, int], hidden: int, epochs: int, seed: int, on_epoch: Callable[[Epoch], None] | None
) -> TrainedWeights:
    """The same training as xl-lstm fit (whole history, fixed epochs), rounded to a sheet's 15 digits.

    One series trains with ``fit_one_lstm``; a table of the series and its lags with ``fit_lagged``.
    """
    from ..forecasting.train import fit_lagged, fit_one_lstm
    from ..workbook.contract import WORKBOOK_FIT

    data, columns = history
    values = np.frombuffer(data, dtype=np.float64)
    config = WORKBOOK_FIT.changed(hidden=hidden, epochs=epochs, seed=seed)
    if columns:
        model = fit_lagged(values.reshape(-1, columns), config, on_epoch=on_epoch)
    else:
        model = fit_one_lstm(values, config, on_epoch=on_epoch)
    p = model.params
    params = LSTMParams(digits15(p.W), digits15(p.b), digits15(p.W_y), digits15(p.b_y))
    return TrainedWeights(params, digits15(model.scaler.center), digits15(model.scaler.scale))


@functools.lru_cache(maxsize=2)
def _stored(path: Path) -> tuple[tuple[dict[str, Any], str], TrainedWeights] | None:
    """(recipe, history digest) and the weights of the stored file; None if there is none."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    W, b, W_y, b_y = (np.array(data[k], dtype=float) for k in ("W", "b", "W_y", "b_y"))
    params = LSTMParams(W, b, W_y, b_y)
    weights = TrainedWeights(params, np.array(data["center"], float), np.array(data["scale"], float))
    return (data["recipe"], data["history_sha256"]), weights


def one_step_loss(weights: TrainedWeights, history: np.ndarray) -> float:
    """Mean squared one-step-ahead error of the weights on the scaled history (training's loss)."""
    from ..forecasting.bptt import sequence_loss

    x = (np.asarray(history, float)[:, None] - weights.center) / weights.scale  # (T, 1)
    return sequence_loss(weights.params, x[:-1], x[1:])


def retrain_stored(history: np.ndarray, hidden: int, epochs: int, seed: int, path: Path = STORED) -> Path:
    """Train with the recipe on this machine and store the result (with the machine named)."""
    w = _train(_key(history), hidden, epochs, seed)
    record = {
        "about": "The template's trained weights (xl_lstm/template/example_model.py); rewrite with python -m xl_lstm.template.retrain",
        "recipe": recipe(hidden, epochs, seed),
        "history_sha256": history_digest(history),
        "W": w.params.W.tolist(),
        "b": w.params.b.tolist(),
        "W_y": np.asarray(w.params.W_y).tolist(),
        "b_y": np.asarray(w.params.b_y).tolist(),
        "center": w.center.tolist(),
        "scale": w.scale.tolist(),
        "one_step_loss": one_step_loss(w, history),
        "made_with": {
            "numpy": np.__version__,
            "blas": _blas(),
            "machine": platform.machine(),
            "python": platform.python_version(),
        },
    }
    write_record(path, record)
    _stored.cache_clear()
    return path


# ---- the template's forecaster (xl_lstm.forecasting.auto), stored the same way ---------------------------------------
def forecaster_model(
    history: np.ndarray, horizon: int, season: int | None, on_epoch: Callable[[Epoch], None] | None = None
) -> AutoModel:
    """The forecaster a template of one series holds: ``fit_auto`` with its defaults on the
    history, for ``horizon`` steps; the stored one when it was made from this history."""
    from ..forecasting.auto import AutoConfig, AutoModel, SeriesPrep
    from ..forecasting.theta import ThetaLine

    stored = _stored_forecaster(STORED_FORECASTER)
    key = _forecaster_key(history, horizon, season, AutoConfig())
    if stored is not None and stored["key"] == key and "prep" in stored:
        members = tuple(
            LSTMParams(
                np.array(m["W"], float), np.array(m["b"], float), np.array(m["W_y"], float), np.array(m["b_y"], float)
            )
            for m in stored["members"]
        )
        errors = np.array([[np.nan if v is None else v for v in row] for row in stored["errors"]], float)
        kept = stored["prep"]
        prep = SeriesPrep(**{**kept, "indices": np.array(kept["indices"], float), "theta": ThetaLine(*kept["theta"])})
        scores = {(float(phi), float(w)): float(v) for phi, w, v in stored["scores"]}
        return AutoModel(
            AutoConfig(),
            members,
            float(stored["damping"]),
            {"history": history},
            {"history": prep},
            errors,
            scores,
            float(stored["weight"]),
        )
    if on_epoch is not None:
        return _fit_forecaster(_key(history), horizon, season, on_epoch)
    return _train_forecaster(_key(history), horizon, season)


def _forecaster_key(history: np.ndarray, horizon: int, season: int | None, config: Any) -> dict[str, Any]:
    settings = {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(config).items()}
    return {"config": settings, "history_sha256": history_digest(history), "horizon": horizon, "season": season}


@functools.lru_cache(maxsize=8)
def _train_forecaster(history: tuple[bytes, int], horizon: int, season: int | None) -> AutoModel:
    return _fit_forecaster(history, horizon, season, None)


def _fit_forecaster(
    history: tuple[bytes, int], horizon: int, season: int | None, on_epoch: Callable[[Epoch], None] | None
) -> AutoModel:
    from ..forecasting.auto import fit_auto

    values = np.frombuffer(history[0], dtype=np.float64)
    return fit_auto({"history": values}, horizon, seasons={"history": season} if season else None, on_epoch=on_epoch)


@functools.lru_cache(maxsize=2)
def _stored_forecaster(path: Path) -> dict[str, Any] | None:
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


def retrain_stored_forecaster(
    history: np.ndarray, horizon: int, season: int | None, path: Path = STORED_FORECASTER
) -> Path:
    """Train the template's forecaster on this machine and store it (with the machine named)."""
    from ..forecasting.auto import AutoConfig
    from ..forecasting.pretrained import members_record

    model = _train_forecaster(_key(history), horizon, season)
    record = {
        "about": "The template's forecaster (xl_lstm/template/example_model.py); rewrite with python -m xl_lstm.template.retrain",
        "key": _forecaster_key(history, horizon, season, AutoConfig()),
        "damping": model.damping,
        "weight": model.weight,
        # the transforms too: σ, scale and the indices are sums, rounded by NumPy's SIMD paths
        # differently on another machine, and the workbook must hold the same numbers everywhere
        "prep": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in vars(model.preps["history"]).items()},
        "scores": [[phi, w, v] for (phi, w), v in model.scores.items()],  # φ, Theta's weight, validation error
        "errors": [[None if not np.isfinite(v) else float(v) for v in row] for row in model.errors],
        "members": members_record(model.members),
        "made_with": {
            "numpy": np.__version__,
            "blas": _blas(),
            "machine": platform.machine(),
            "python": platform.python_version(),
        },
    }
    write_record(path, record)
    _stored_forecaster.cache_clear()
    return path


def _blas() -> list[str]:
    """The BLAS library and kernel in use, when threadpoolctl is installed to tell."""
    try:
        import threadpoolctl  # type: ignore[import-not-found]
    except ImportError:
        return ["unknown (install threadpoolctl to record it)"]
    return [
        f"{d.get('internal_api')} {d.get('version')} {d.get('architecture')}" for d in threadpoolctl.threadpool_info()
    ]
