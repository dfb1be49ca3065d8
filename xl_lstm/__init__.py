"""xl_lstm: an LSTM you can watch, gate by gate, from a spreadsheet.

The public API is small: weights (``LSTMParams``), the equations (``step``,
``run``), moving weights in and out of PyTorch, Keras, ONNX and ``.npz``, training
and forecasting (``fit``, ``forecast``), and refreshing workbooks (``refresh_file``).
The template workbook (which needs openpyxl) lives in ``xl_lstm.template``.
"""

from .engine import RunResult, Step, run, sigmoid, step
from .errors import LSTMError
from .interop import (
    from_keras,
    from_onnx,
    from_torch,
    load,
    save,
    to_keras,
    to_onnx,
    to_torch,
)
from .params import LSTMParams, init_params, stack
from .recursive import recursive_forecast
from .refresh import refresh_file
from .train import Model, backtest, fit, forecast, load_model, save_model

__version__ = "0.1.0"

__all__ = [
    "LSTMError",
    "LSTMParams",
    "Model",
    "RunResult",
    "Step",
    "backtest",
    "from_keras",
    "from_onnx",
    "fit",
    "forecast",
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
