"""xl_lstm: an LSTM you can watch, gate by gate, from a spreadsheet.

The public API is small: weights (``LSTMParams``), the equations (``step``,
``run``), moving weights in and out of PyTorch, Keras, ONNX and ``.npz``, the automatic
forecaster (``fit``, ``forecast``: a series, a list, a mapping or a DataFrame in, one
``Forecasts`` out), the single hand-set LSTM (``fit_one_lstm``, ``forecast_one_lstm``), and
refreshing workbooks (``refresh_file``). The template workbook (which needs openpyxl) lives in
``xl_lstm.template.build``; reading tables (openpyxl, pyarrow) in ``xl_lstm.tables.panel``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .core.version import __version__ as __version__  # re-exported: xl_lstm.__version__

# name -> the module that defines it. Imported on first use (PEP 562), so that
# ``import xl_lstm.udfs`` (the worksheet functions, in Excel or in Pyodide) loads only
# the engine and what the functions need, not training, the refresh or pandas.
_WHERE = {
    "AutoConfig": "forecasting.auto",
    "AutoModel": "forecasting.auto",
    "Fitted": "forecasting.panels",
    "Forecasts": "forecasting.panels",
    "fit": "forecasting.panels",
    "forecast": "forecasting.panels",
    "RunResult": "lstm.engine",
    "Step": "lstm.engine",
    "run": "lstm.engine",
    "sigmoid": "lstm.engine",
    "step": "lstm.engine",
    "LSTMError": "core.errors",
    "from_keras": "lstm.interop",
    "from_onnx": "lstm.interop",
    "from_torch": "lstm.interop",
    "load": "lstm.interop",
    "save": "lstm.interop",
    "to_keras": "lstm.interop",
    "to_onnx": "lstm.interop",
    "to_torch": "lstm.interop",
    "LSTMParams": "lstm.params",
    "init_params": "lstm.params",
    "stack": "lstm.params",
    "recursive_forecast": "lstm.recursive",
    "refresh_file": "workbook.refresh",
    "Epoch": "forecasting.train",
    "FitConfig": "forecasting.train",
    "Model": "forecasting.train",
    "backtest": "forecasting.backtest",
    "fit_one_lstm": "forecasting.train",
    "forecast_one_lstm": "forecasting.train",
    "load_model": "forecasting.model_io",
    "save_model": "forecasting.model_io",
}
__all__ = [
    "AutoConfig",
    "AutoModel",
    "Fitted",
    "Forecasts",
    "Epoch",
    "FitConfig",
    "LSTMError",
    "LSTMParams",
    "Model",
    "RunResult",
    "Step",
    "backtest",
    "fit",
    "fit_one_lstm",
    "forecast",
    "forecast_one_lstm",
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
    from .core.errors import LSTMError
    from .forecasting.auto import AutoConfig, AutoModel
    from .forecasting.backtest import backtest
    from .forecasting.model_io import load_model, save_model
    from .forecasting.panels import Fitted, Forecasts, fit, forecast
    from .forecasting.train import Epoch, FitConfig, Model, fit_one_lstm, forecast_one_lstm
    from .lstm.engine import RunResult, Step, run, sigmoid, step
    from .lstm.interop import from_keras, from_onnx, from_torch, load, save, to_keras, to_onnx, to_torch
    from .lstm.params import LSTMParams, init_params, stack
    from .lstm.recursive import recursive_forecast
    from .workbook.refresh import refresh_file
