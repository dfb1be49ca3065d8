"""xl_lstm: an LSTM you can watch, gate by gate, from a spreadsheet.

The public API is small: weights (``LSTMParams``), the equations (``step``,
``run``), and moving weights in and out of PyTorch, Keras, ONNX and ``.npz``.
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

__version__ = "0.1.0"

__all__ = [
    "LSTMError",
    "LSTMParams",
    "RunResult",
    "Step",
    "from_keras",
    "from_onnx",
    "from_torch",
    "init_params",
    "load",
    "run",
    "save",
    "sigmoid",
    "stack",
    "step",
    "to_keras",
    "to_onnx",
    "to_torch",
]
