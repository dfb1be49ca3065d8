"""xl_lstm: an LSTM you can watch, gate by gate, from a spreadsheet.

The public API is small: weights (``LSTMParams``), the equations (``step``,
``run``), moving weights in and out of PyTorch, Keras, ONNX and ``.npz``, training
and forecasting (``fit``, ``forecast``; the automatic forecaster of many series
``fit_auto``, ``forecast_auto``), and refreshing workbooks (``refresh_file``).
The template workbook (which needs openpyxl) lives in ``xl_lstm.template``; tables of
many series (openpyxl, pyarrow) in ``xl_lstm.forecast_frame`` and ``xl_lstm.panel``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"

# name -> the module that defines it. Imported on first use (PEP 562), so that
# ``import xl_lstm.udfs`` (the worksheet functions, in Excel or in Pyodide) loads only
# the engine and what the functions need, not training, the refresh or pandas.
_WHERE = {
    "AutoConfig": "auto",
    "AutoModel": "auto",
    "fit_auto": "auto",
    "forecast_auto": "auto",
    "RunResult": "engine",
    "Step": "engine",
    "run": "engine",
    "sigmoid": "engine",
    "step": "engine",
    "LSTMError": "errors",
    "from_keras": "interop",
    "from_onnx": "interop",
    "from_torch": "interop",
    "load": "interop",
    "save": "interop",
    "to_keras": "interop",
    "to_onnx": "interop",
    "to_torch": "interop",
    "LSTMParams": "params",
    "init_params": "params",
    "stack": "params",
    "recursive_forecast": "recursive",
    "refresh_file": "refresh",
    "Epoch": "train",
    "FitConfig": "train",
    "Model": "train",
    "backtest": "train",
    "fit": "train",
    "forecast": "train",
    "load_model": "train",
    "save_model": "train",
}
__all__ = [
    "AutoConfig",
    "AutoModel",
    "fit_auto",
    "forecast_auto",
    "Epoch",
    "FitConfig",
    "LSTMError",
    "LSTMParams",
    "Model",
    "RunResult",
    "Step",
    "backtest",
    "fit",
    "forecast",
    "from_keras",
    "from_onnx",
    "from_torch",
    "init_params",
    "load",
    "load_model",
    "recursive_forecast",
    "refresh_file",
    "run",
    "save",
    "save_model",
    "sigmoid",
    "stack",
    "step",
    "to_keras",
    "to_onnx",
    "to_torch",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'xl_lstm' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and editors see
    from .auto import AutoConfig, AutoModel, fit_auto, forecast_auto
    from .engine import RunResult, Step, run, sigmoid, step
    from .errors import LSTMError
    from .interop import from_keras, from_onnx, from_torch, load, save, to_keras, to_onnx, to_torch
    from .params import LSTMParams, init_params, stack
    from .recursive import recursive_forecast
    from .refresh import refresh_file
    from .train import Epoch, FitConfig, Model, backtest, fit, forecast, load_model, save_model
