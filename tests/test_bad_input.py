"""Bad input is normal input: every public entry point answers it with one clear line.

The project's rule (docs/excel-functions.md, docs/python-api.md): a malformed range, a wrong shape, text in a number
cell, an empty cell, NaN, a corrupt or hostile file each get one ``LSTMError`` (a
ValueError) whose message is a single line naming the argument, what was expected and
what came; never another exception, a warning, a traceback in a cell or a silent NaN.

- ``test_bad_call_is_refused_in_one_line``: a table of bad calls to every public function,
  each with the words its message must hold (the argument, and the position of a bad
  element: ``[1, 2]`` as NumPy counts, ``row 2, column 3`` as a spreadsheet reader does).
- Worksheet ranges as Excel hands them over: each bad cell named by row, column and what
  it holds; trailing blank rows and columns dropped; a blank inside the data refused.
- ``load``/``save`` against missing, damaged, foreign and hostile files.
- Property tests that throw arbitrary garbage at each argument of the main entry points
  (the other arguments valid): the call returns a result free of NaN (except the NaN the
  metrics document) or raises a one-line LSTMError, and nothing else.
"""

from __future__ import annotations

import dataclasses
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xl_lstm as xl
from xl_lstm import LSTMError
from xl_lstm.excel import ranges, sheet
from xl_lstm.forecasting import metrics
from xl_lstm.lstm.recursive import recursive_forecast

# ---- valid arguments that the bad ones replace -----------------------------------------
P = xl.init_params(2, 3, output_size=2, seed=1)  # D=2, H=3, O=2: W (12, 5), b (12,)
W, B = P.W, P.b
X = np.random.default_rng(0).uniform(-1, 1, (5, 2))  # (T, D)
TORCH, KERAS, ONNX = xl.to_torch(P), xl.to_keras(P), xl.to_onnx(P)
ACTUAL, PREDICTED = [3.0, 5.0, 4.0, 6.0], [2.5, 5.5, 4.0, 7.0]
OPEN = xl.LSTMParams(np.zeros((8, 3)), np.full(8, 5.0))  # D=1, H=2, every gate open: h ≈ 0.75 whatever the input


def put(array: Any, index: tuple[int, ...], value: Any) -> np.ndarray:
    """A copy of ``array`` as an object array, with ``value`` at ``index``."""
    out = np.array(array, dtype=object)
    out[index] = value
    return out


def message_of(call: Callable[[], Any]) -> str:
    """The message of the LSTMError that ``call`` raises, with warnings turned into errors.

    Fails if anything else is raised, if a warning is issued, or if the message is
    empty or longer than one line.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(LSTMError) as info:
            call()
    text = str(info.value)
    assert text.strip(), "an empty message"
    assert "\n" not in text and "\r" not in text, f"a message of more than one line: {text!r}"
    return text


def case(name: str, call: Callable[[], Any], *parts: str) -> Any:
    return pytest.param(call, parts, id=name)


# ---- the table of bad calls ------------------------------------------------------------------
CASES = [
    # LSTMParams(W, b, W_y, b_y, upper, dtype)
    case("LSTMParams-W-text", lambda: xl.LSTMParams("weights", B), "W", "text 'weights'"),
    case("LSTMParams-W-None", lambda: xl.LSTMParams(None, B), "W", "missing"),
    case("LSTMParams-W-dict", lambda: xl.LSTMParams({"W": 1}, B), "W", "numbers", "{'W': 1}"),
    case(
        "LSTMParams-W-text-element",
        lambda: xl.LSTMParams(put(W, (1, 2), "x"), B),
        "W",
        "'x'",
        "[1, 2]",
        "row 2, column 3",
    ),
    case(
        "LSTMParams-W-None-element",
        lambda: xl.LSTMParams(put(W, (1, 2), None), B),
        "W",
        "None",
        "[1, 2]",
        "row 2, column 3",
    ),
    case("LSTMParams-W-dict-element", lambda: xl.LSTMParams(put(W, (0, 4), {}), B), "W", "{}", "[0, 4]"),
    case(
        "LSTMParams-W-nan",
        lambda: xl.LSTMParams(put(W, (3, 1), np.nan).astype(float), B),
        "W",
        "nan",
        "[3, 1]",
        "row 4, column 2",
    ),
    case("LSTMParams-W-inf", lambda: xl.LSTMParams(put(W, (0, 0), np.inf).astype(float), B), "W", "inf", "[0, 0]"),
    case("LSTMParams-W--inf", lambda: xl.LSTMParams(put(W, (11, 4), -np.inf).astype(float), B), "W", "-inf", "[11, 4]"),
    case("LSTMParams-W-huge-int", lambda: xl.LSTMParams(put(W, (2, 2), 10**400), B), "W", "fit in a float", "[2, 2]"),
    case(
        "LSTMParams-W-too-large-for-float32",
        lambda: xl.LSTMParams(put(W, (2, 3), 1e300).astype(float), B, dtype="float32"),
        "W",
        "float32",
        "[2, 3]",
    ),
    case("LSTMParams-W-complex", lambda: xl.LSTMParams(W + 1j, B), "W", "complex"),
    case("LSTMParams-W-empty", lambda: xl.LSTMParams([], B), "W", "4H×(H+D)"),
    case("LSTMParams-W-ragged", lambda: xl.LSTMParams([[1, 2], [3]], B), "W", "rectangular"),
    case("LSTMParams-W-ragged-deep", lambda: xl.LSTMParams([[1, [2, 3]], [4, 5]], B), "W", "rectangular"),
    case("LSTMParams-W-3d", lambda: xl.LSTMParams(W[:, :, None], B), "W", "4H×(H+D)", "12×5×1"),
    case("LSTMParams-W-rows-not-4H", lambda: xl.LSTMParams(W[:10], B), "W", "10 rows"),
    case("LSTMParams-W-no-input-columns", lambda: xl.LSTMParams(W[:, :3], B), "W", "D ≥ 1", "12×3"),
    case("LSTMParams-b-wrong-length", lambda: xl.LSTMParams(W, B[:5]), "b", "12 numbers", "got 5"),
    case("LSTMParams-b-block", lambda: xl.LSTMParams(W, B.reshape(3, 4)), "b", "12 numbers", "3×4"),
    case("LSTMParams-b-nan", lambda: xl.LSTMParams(W, put(B, (2,), np.nan).astype(float)), "b", "nan", "[2]", "item 3"),
    case("LSTMParams-b-text-element", lambda: xl.LSTMParams(W, put(B, (7,), "#N/A")), "b", "'#N/A'", "[7]", "item 8"),
    case("LSTMParams-dtype-int8", lambda: xl.LSTMParams(W, B, dtype="int8"), "dtype", "float64 or float32", "int8"),
    case("LSTMParams-dtype-unknown", lambda: xl.LSTMParams(W, B, dtype="float99"), "dtype", "float99"),
    case("LSTMParams-upper-int", lambda: xl.LSTMParams(W, B, upper=5), "upper", "pairs", "int"),
    case("LSTMParams-upper-None", lambda: xl.LSTMParams(W, B, upper=None), "upper", "NoneType"),
    case("LSTMParams-upper-not-a-pair", lambda: xl.LSTMParams(W, B, upper=[W]), "upper", "layer 2"),
    case("LSTMParams-upper-wrong-shape", lambda: xl.LSTMParams(W, B, upper=[(W, B)]), "layer 2 W", "12×6", "12×5"),
    case("LSTMParams-W_y-wrong-H", lambda: xl.LSTMParams(W, B, np.ones((2, 4))), "W_y", "H=3", "2×4"),
    case("LSTMParams-W_y-text", lambda: xl.LSTMParams(W, B, "head"), "W_y", "text"),
    case("LSTMParams-b_y-without-W_y", lambda: xl.LSTMParams(W, B, None, [1.0]), "b_y", "W_y"),
    case(
        "LSTMParams-b_y-wrong-length", lambda: xl.LSTMParams(W, B, np.ones((2, 3)), [1.0]), "b_y", "2 numbers", "got 1"
    ),
    # sigmoid(z)
    case("sigmoid-text", lambda: xl.sigmoid("z"), "z", "text 'z'"),
    case("sigmoid-None", lambda: xl.sigmoid(None), "z", "missing"),
    case("sigmoid-dict", lambda: xl.sigmoid({}), "z", "numbers"),
    case("sigmoid-text-element", lambda: xl.sigmoid([0.0, "a"]), "z", "'a'", "[1]", "item 2"),
    case("sigmoid-None-element", lambda: xl.sigmoid([[0.0], [None]]), "z", "None", "[1, 0]", "row 2, column 1"),
    case("sigmoid-ragged", lambda: xl.sigmoid([[1, 2], [3]]), "z", "rectangular"),
    # init_params(input_size, hidden_size, output_size, num_layers, seed, forget_bias, dtype)
    case("init_params-input_size-zero", lambda: xl.init_params(0, 3), "input_size", "≥ 1", "got 0"),
    case("init_params-hidden_size-negative", lambda: xl.init_params(2, -1), "hidden_size", "got -1"),
    case("init_params-input_size-bool", lambda: xl.init_params(True, 3), "input_size", "True"),
    case("init_params-hidden_size-float", lambda: xl.init_params(2, 3.0), "hidden_size", "3.0"),
    case("init_params-input_size-text", lambda: xl.init_params("2", 3), "input_size", "'2'"),
    case("init_params-input_size-None", lambda: xl.init_params(None, 3), "input_size", "None"),
    case("init_params-num_layers-zero", lambda: xl.init_params(2, 3, num_layers=0), "num_layers", "got 0"),
    case("init_params-output_size-zero", lambda: xl.init_params(2, 3, output_size=0), "output_size", "got 0"),
    case("init_params-output_size-bool", lambda: xl.init_params(2, 3, output_size=True), "output_size", "True"),
    case("init_params-seed-negative", lambda: xl.init_params(2, 3, seed=-1), "seed", "≥ 0", "-1"),
    case("init_params-seed-text", lambda: xl.init_params(2, 3, seed="x"), "seed", "'x'"),
    case("init_params-seed-float", lambda: xl.init_params(2, 3, seed=1.5), "seed", "1.5"),
    case("init_params-forget_bias-text", lambda: xl.init_params(2, 3, forget_bias="one"), "forget_bias", "'one'"),
    case("init_params-forget_bias-nan", lambda: xl.init_params(2, 3, forget_bias=float("nan")), "forget_bias", "nan"),
    case("init_params-dtype-int8", lambda: xl.init_params(2, 3, dtype="int8"), "dtype", "int8"),
    # stack(layers, W_y, b_y, dtype)
    case("stack-empty", lambda: xl.stack([]), "layers", "none"),
    case("stack-None", lambda: xl.stack(None), "layers", "NoneType"),
    case("stack-text", lambda: xl.stack("Wb"), "layers", "str"),
    case("stack-not-pairs", lambda: xl.stack([(W, B), W]), "layers", "layer 2", "pair"),
    case("stack-wrong-upper-layer", lambda: xl.stack([(W, B), (W, B)]), "layer 2 W", "12×6"),
    case("stack-dtype-int8", lambda: xl.stack([(W, B)], dtype="int8"), "dtype", "int8"),
    # step(params, x_t, h_prev, c_prev, layer)
    case("step-params-dict", lambda: xl.step({"W": W, "b": B}, X[0]), "params", "LSTMParams", "dict"),
    case("step-params-None", lambda: xl.step(None, X[0]), "params", "NoneType"),
    case("step-x_t-text", lambda: xl.step(P, "1, 2"), "x_t", "text"),
    case("step-x_t-None", lambda: xl.step(P, None), "x_t", "missing"),
    case("step-x_t-dict", lambda: xl.step(P, {"x": 1}), "x_t", "numbers"),
    case("step-x_t-text-element", lambda: xl.step(P, [1.0, "a"]), "x_t", "'a'", "[1]", "item 2"),
    case("step-x_t-None-element", lambda: xl.step(P, [None, 1.0]), "x_t", "None", "[0]", "item 1"),
    case("step-x_t-nan", lambda: xl.step(P, [1.0, np.nan]), "x_t", "nan", "[1]"),
    case("step-x_t-inf", lambda: xl.step(P, [np.inf, 1.0]), "x_t", "inf", "[0]"),
    case(
        "step-x_t-batch-nan",
        lambda: xl.step(P, put(np.zeros((3, 2)), (2, 1), np.nan).astype(float)),
        "x_t",
        "[2, 1]",
        "row 3, column 2",
    ),
    case("step-x_t-empty", lambda: xl.step(P, []), "x_t", "D=2"),
    case("step-x_t-ragged", lambda: xl.step(P, [[1, 2], [3]]), "x_t", "rectangular"),
    case("step-x_t-wrong-D", lambda: xl.step(P, [1.0, 2.0, 3.0]), "x_t", "D=2", "got 3"),
    case("step-x_t-3d", lambda: xl.step(P, np.zeros((1, 1, 2))), "x_t", "1×1×2"),
    case("step-x_t-complex", lambda: xl.step(P, [1j, 0]), "x_t", "complex"),
    case("step-h_prev-wrong-length", lambda: xl.step(P, X[0], [0.0, 0.0]), "h_prev", "H=3", "got 2"),
    case("step-h_prev-text", lambda: xl.step(P, X[0], "zeros"), "h_prev", "text"),
    case("step-h_prev-batch-mismatch", lambda: xl.step(P, np.zeros((2, 2)), np.zeros((4, 3))), "h_prev", "2×3", "4×3"),
    case("step-c_prev-nan", lambda: xl.step(P, X[0], None, [0.0, 0.0, np.nan]), "c_prev", "nan", "[2]", "item 3"),
    case("step-c_prev-dict", lambda: xl.step(P, X[0], None, {}), "c_prev", "numbers"),
    case("step-layer-out-of-range", lambda: xl.step(P, X[0], layer=1), "layer", "0..0", "got 1"),
    case("step-layer-text", lambda: xl.step(P, X[0], layer="0"), "layer", "'0'"),
    case("step-layer-bool", lambda: xl.step(P, X[0], layer=True), "layer", "True"),
    case("step-overflow", lambda: xl.step(P, [1e308, -1e308]), "x_t", "overflow", "rescale"),
    case("step-h_prev-overflow", lambda: xl.step(P, X[0], [1e308, 0.0, 0.0]), "h_prev", "overflow"),
    # run(params, X, h0, c0, outputs, dtype, chunk_bytes, batch_tile)
    case("run-params-text", lambda: xl.run("params", X), "params", "LSTMParams", "str"),
    case("run-X-text", lambda: xl.run(P, "1 2 3"), "X", "text"),
    case("run-X-None", lambda: xl.run(P, None), "X", "missing"),
    case("run-X-dict-of-arrays", lambda: xl.run(P, {"X": X}), "X", "numbers", "a dict"),
    case("run-X-text-element", lambda: xl.run(P, put(X, (1, 1), "x")), "X", "'x'", "[1, 1]", "row 2, column 2"),
    case("run-X-None-element", lambda: xl.run(P, put(X, (4, 0), None)), "X", "None", "[4, 0]", "row 5, column 1"),
    case("run-X-nan", lambda: xl.run(P, put(X, (2, 1), np.nan).astype(float)), "X", "nan", "[2, 1]", "row 3, column 2"),
    case(
        "run-X-inf-in-batch",
        lambda: xl.run(P, put(np.zeros((2, 3, 2)), (1, 2, 0), np.inf).astype(float)),
        "X",
        "inf",
        "[1, 2, 0]",
    ),
    case("run-X-empty", lambda: xl.run(P, []), "X", "T, B ≥ 1"),
    case("run-X-no-steps", lambda: xl.run(P, np.zeros((0, 2))), "X", "0×2"),
    case("run-X-empty-batch", lambda: xl.run(P, np.zeros((4, 0, 2))), "X", "4×0×2"),
    case("run-X-ragged", lambda: xl.run(P, [[1, 2], [3]]), "X", "rectangular"),
    case("run-X-wrong-D", lambda: xl.run(P, np.zeros((4, 3))), "X", "D=2", "4×3"),
    case("run-X-4d", lambda: xl.run(P, np.zeros((1, 1, 1, 2))), "X", "1×1×1×2"),
    case("run-X-single-number", lambda: xl.run(P, 1.0), "X", "a single number"),
    case("run-X-overflow", lambda: xl.run(P, [[1e308, -1e308]]), "X", "overflow", "rescale"),
    case("run-X-too-large-for-float32", lambda: xl.run(P, [[1e300, 0.0]], dtype="float32"), "X", "float32", "[0, 0]"),
    case("run-h0-wrong-length", lambda: xl.run(P, X, [0.0, 0.0]), "h0", "3 numbers", "got 2"),
    case("run-h0-overflow", lambda: xl.run(P, X, [1e308, 0.0, 0.0]), "h0", "overflow"),
    case("run-c0-text", lambda: xl.run(P, X, None, "zeros"), "c0", "text"),
    case("run-c0-None-element", lambda: xl.run(P, X, None, [0.0, None, 0.0]), "c0", "None", "[1]"),
    case("run-outputs-unknown", lambda: xl.run(P, X, outputs="gates"), "outputs", "'gates'"),
    case("run-outputs-None", lambda: xl.run(P, X, outputs=None), "outputs", "None"),
    case("run-dtype-int8", lambda: xl.run(P, X, dtype="int8"), "dtype", "int8"),
    case("run-chunk_bytes-zero", lambda: xl.run(P, X, chunk_bytes=0), "chunk_bytes", "got 0"),
    case("run-chunk_bytes-bool", lambda: xl.run(P, X, chunk_bytes=True), "chunk_bytes", "True"),
    case("run-batch_tile-negative", lambda: xl.run(P, X, batch_tile=-1), "batch_tile", "-1"),
    case("run-batch_tile-float", lambda: xl.run(P, X, batch_tile=2.0), "batch_tile", "2.0"),
    case("RunResult.table-without-gates", lambda: xl.run(P, X, outputs="h").table(), "table()", 'outputs="all"'),
    case("RunResult.table-last-only", lambda: xl.run(P, X, outputs="last").table(), "table()"),
    # PyTorch
    case("from_torch-None", lambda: xl.from_torch(None), "state", "state_dict", "NoneType"),
    case("from_torch-list", lambda: xl.from_torch([W, B]), "state", "list"),
    case("from_torch-empty", lambda: xl.from_torch({}), "state_dict", "weight_ih_l0"),
    case("from_torch-text-tensor", lambda: xl.from_torch({**TORCH, "weight_ih_l0": "w"}), "weight_ih_l0", "text"),
    case(
        "from_torch-nan-tensor",
        lambda: xl.from_torch({**TORCH, "weight_hh_l0": put(TORCH["weight_hh_l0"], (0, 2), np.nan).astype(float)}),
        "weight_hh_l0",
        "nan",
        "[0, 2]",
    ),
    case(
        "from_torch-ragged-tensor",
        lambda: xl.from_torch({**TORCH, "weight_ih_l0": [[1, 2], [3]]}),
        "weight_ih_l0",
        "rectangular",
    ),
    case("from_torch-1d-weight", lambda: xl.from_torch({**TORCH, "weight_ih_l0": np.zeros(12)}), "weight_ih_l0", "2-D"),
    case(
        "from_torch-wrong-hh",
        lambda: xl.from_torch({**TORCH, "weight_hh_l0": np.zeros((12, 4))}),
        "weight_hh_l0",
        "4H×H",
        "12×4",
    ),
    case(
        "from_torch-no-hh",
        lambda: xl.from_torch({k: v for k, v in TORCH.items() if k != "weight_hh_l0"}),
        "weight_hh_l0",
    ),
    case(
        "from_torch-bias-wrong-length",
        lambda: xl.from_torch({**TORCH, "bias_ih_l0": np.zeros(5)}),
        "bias_ih_l0",
        "12",
        "got 5",
    ),
    case("from_torch-bias-None", lambda: xl.from_torch({**TORCH, "bias_hh_l0": None}), "bias_hh_l0", "missing"),
    case(
        "from_torch-biases-sum-overflows",
        lambda: xl.from_torch({**TORCH, "bias_ih_l0": np.full(12, 1e308), "bias_hh_l0": np.full(12, 1e308)}),
        "bias_ih_l0 + bias_hh_l0",
        "overflow",
        "[0]",
    ),
    case(
        "from_torch-bidirectional",
        lambda: xl.from_torch({**TORCH, "weight_ih_l0_reverse": np.zeros((12, 2))}),
        "bidirectional",
    ),
    case("from_torch-prefix-int", lambda: xl.from_torch(TORCH, prefix=0), "prefix", "int"),
    case("from_torch-prefix-unknown", lambda: xl.from_torch(TORCH, prefix="lstm."), "lstm.weight_ih_l0"),
    case("from_torch-head-missing", lambda: xl.from_torch(TORCH, head_prefix="head."), "head_prefix", "head.weight"),
    case(
        "from_torch-head-wrong-H",
        lambda: xl.from_torch({**TORCH, "head.weight": np.zeros((1, 7))}, head_prefix="head."),
        "W_y",
        "H=3",
        "1×7",
    ),
    case("from_torch-dtype-unknown", lambda: xl.from_torch(TORCH, dtype="float99"), "dtype", "float99"),
    case("from_torch-dtype-int8", lambda: xl.from_torch(TORCH, dtype="int8"), "dtype", "int8"),
    case("to_torch-params-dict", lambda: xl.to_torch(TORCH), "params", "LSTMParams", "dict"),
    case(
        "to_torch-head_prefix-without-head",
        lambda: xl.to_torch(xl.init_params(1, 2), head_prefix="head."),
        "head_prefix",
        "W_y",
    ),
    # Keras
    case("from_keras-None", lambda: xl.from_keras(None), "weights", "get_weights()"),
    case("from_keras-text", lambda: xl.from_keras("weights.h5"), "weights", "get_weights()"),
    case("from_keras-dict", lambda: xl.from_keras({"kernel": KERAS[0]}), "weights", "get_weights()"),
    case("from_keras-empty", lambda: xl.from_keras([]), "weights", "get_weights()"),
    case("from_keras-None-array", lambda: xl.from_keras([None, KERAS[1]]), "weights[0]", "missing"),
    case("from_keras-text-array", lambda: xl.from_keras([KERAS[0], "r"]), "weights[1]", "text"),
    case("from_keras-ragged-array", lambda: xl.from_keras([[[1, 2], [3]], KERAS[1]]), "weights[0]", "rectangular"),
    case(
        "from_keras-nan",
        lambda: xl.from_keras([KERAS[0], KERAS[1], put(KERAS[2], (5,), np.nan).astype(float)]),
        "weights[2]",
        "nan",
        "[5]",
        "item 6",
    ),
    case("from_keras-not-an-lstm", lambda: xl.from_keras([KERAS[0][:, :4], KERAS[1]]), "weights", "D×4H", "2×4"),
    case("from_keras-extra-arrays", lambda: xl.from_keras(KERAS + [np.zeros(2)]), "weights", "Dense"),
    case("from_keras-dense-wrong-H", lambda: xl.from_keras(KERAS[:3] + [np.zeros((4, 1)), np.zeros(1)]), "W_y", "H=3"),
    case("from_keras-dtype-int8", lambda: xl.from_keras(KERAS, dtype="int8"), "dtype", "int8"),
    case("to_keras-params-None", lambda: xl.to_keras(None), "params", "NoneType"),
    # ONNX
    case("from_onnx-W-None", lambda: xl.from_onnx(None, ONNX["R"]), "W", "missing"),
    case("from_onnx-R-text", lambda: xl.from_onnx(ONNX["W"], "R"), "R", "text"),
    case("from_onnx-R-dict", lambda: xl.from_onnx(ONNX["W"], {}), "R", "numbers"),
    case("from_onnx-R-empty", lambda: xl.from_onnx(ONNX["W"], np.zeros((1, 0, 0))), "R", "4H, H"),
    case("from_onnx-R-4d", lambda: xl.from_onnx(ONNX["W"], ONNX["R"][None]), "R", "num_directions"),
    case(
        "from_onnx-R-bidirectional",
        lambda: xl.from_onnx(np.zeros((2, 12, 2)), np.zeros((2, 12, 3))),
        "R",
        "num_directions=2",
    ),
    case("from_onnx-W-wrong-rows", lambda: xl.from_onnx(ONNX["W"][:, :8], ONNX["R"]), "W", "1×12×?", "1×8×2"),
    case("from_onnx-W-ragged", lambda: xl.from_onnx([[1, 2], [3]], ONNX["R"]), "W", "rectangular"),
    case(
        "from_onnx-W-text-element",
        lambda: xl.from_onnx(put(ONNX["W"], (0, 3, 1), "w"), ONNX["R"]),
        "W",
        "'w'",
        "[0, 3, 1]",
    ),
    case("from_onnx-B-wrong-length", lambda: xl.from_onnx(ONNX["W"], ONNX["R"], np.zeros((1, 5))), "B", "1×24", "1×5"),
    case(
        "from_onnx-B-nan",
        lambda: xl.from_onnx(ONNX["W"], ONNX["R"], put(ONNX["B"], (0, 9), np.nan).astype(float)),
        "B",
        "nan",
        "[0, 9]",
    ),
    case(
        "from_onnx-B-halves-sum-overflows",
        lambda: xl.from_onnx(ONNX["W"], ONNX["R"], np.full((1, 24), -1e308)),
        "B",
        "overflow",
    ),
    case(
        "from_onnx-P-not-zero", lambda: xl.from_onnx(ONNX["W"], ONNX["R"], ONNX["B"], np.ones((1, 9))), "P", "peephole"
    ),
    case(
        "from_onnx-P-wrong-length",
        lambda: xl.from_onnx(ONNX["W"], ONNX["R"], ONNX["B"], np.zeros((1, 4))),
        "P",
        "1×9",
        "1×4",
    ),
    case("from_onnx-W_y-text", lambda: xl.from_onnx(ONNX["W"], ONNX["R"], W_y="head"), "W_y", "text"),
    case("from_onnx-dtype-unknown", lambda: xl.from_onnx(ONNX["W"], ONNX["R"], dtype="float99"), "dtype", "float99"),
    case("from_onnx-dtype-int8", lambda: xl.from_onnx(ONNX["W"], ONNX["R"], dtype="int8"), "dtype", "int8"),
    case("to_onnx-params-text", lambda: xl.to_onnx("model.onnx"), "params", "str"),
    case("to_onnx-two-layers", lambda: xl.to_onnx(xl.init_params(1, 2, num_layers=2)), "2", "layer"),
    # save / load (files: see test_load_refuses_damaged_foreign_and_hostile_files)
    case("save-params-dict", lambda: xl.save({"W": W}, "p.npz"), "params", "dict"),
    case("save-path-None", lambda: xl.save(P, None), "path", "None"),
    case("save-path-int", lambda: xl.save(P, 3), "path", "3"),
    case("load-path-None", lambda: xl.load(None), "path", "None"),
    case("load-path-bytes", lambda: xl.load(b"p.npz"), "path", "b'p.npz'"),
    # recursive_forecast(params, history, horizon, center, scale)
    case("forecast-params-dict", lambda: recursive_forecast({}, X, 3), "params", "dict"),
    case("forecast-no-head", lambda: recursive_forecast(xl.init_params(2, 3), X, 3), "head", "W_y"),
    case(
        "forecast-head-O-not-D",
        lambda: recursive_forecast(xl.init_params(2, 3, output_size=1), X, 3),
        "W_y",
        "O = D = 2",
        "got 1",
    ),
    case("forecast-horizon-zero", lambda: recursive_forecast(P, X, 0), "horizon", "≥ 1", "got 0"),
    case("forecast-horizon-negative", lambda: recursive_forecast(P, X, -2), "horizon", "-2"),
    case("forecast-horizon-bool", lambda: recursive_forecast(P, X, True), "horizon", "True"),
    case("forecast-horizon-float", lambda: recursive_forecast(P, X, 3.0), "horizon", "3.0"),
    case("forecast-horizon-text", lambda: recursive_forecast(P, X, "3"), "horizon", "'3'"),
    case("forecast-horizon-None", lambda: recursive_forecast(P, X, None), "horizon", "None"),
    case("forecast-horizon-beyond-memory", lambda: recursive_forecast(P, X, 10**30), "horizon", "too large"),
    case("forecast-history-text", lambda: recursive_forecast(P, "history", 3), "history", "text"),
    case("forecast-history-None", lambda: recursive_forecast(P, None, 3), "history", "missing"),
    case(
        "forecast-history-text-element",
        lambda: recursive_forecast(P, put(X, (3, 0), "x"), 3),
        "history",
        "'x'",
        "[3, 0]",
        "row 4, column 1",
    ),
    case(
        "forecast-history-None-element",
        lambda: recursive_forecast(P, put(X, (0, 1), None), 3),
        "history",
        "None",
        "[0, 1]",
    ),
    case(
        "forecast-history-nan",
        lambda: recursive_forecast(P, put(X, (1, 1), np.nan).astype(float), 3),
        "history",
        "nan",
        "[1, 1]",
    ),
    case("forecast-history-empty", lambda: recursive_forecast(P, [], 3), "history", "T ≥ 1"),
    case("forecast-history-ragged", lambda: recursive_forecast(P, [[1, 2], [3]], 3), "history", "rectangular"),
    case("forecast-history-wrong-D", lambda: recursive_forecast(P, np.zeros((4, 3)), 3), "history", "D=2", "4×3"),
    case("forecast-history-too-large", lambda: recursive_forecast(P, [[1e308, -1e308]], 3), "history", "overflow"),
    case("forecast-center-text", lambda: recursive_forecast(P, X, 3, "mean"), "center", "text"),
    case("forecast-center-nan", lambda: recursive_forecast(P, X, 3, np.nan), "center", "nan"),
    case(
        "forecast-center-wrong-length", lambda: recursive_forecast(P, X, 3, [0.0, 0.0, 0.0]), "center", "D=2", "got 3"
    ),
    case("forecast-scale-zero", lambda: recursive_forecast(P, X, 3, 0.0, [1.0, 0.0]), "scale", "must not be 0"),
    case("forecast-scale-None", lambda: recursive_forecast(P, X, 3, 0.0, None), "scale", "missing"),
    case("forecast-scale-block", lambda: recursive_forecast(P, X, 3, 0.0, np.ones((2, 2))), "scale", "2×2"),
    case(
        "forecast-scale-too-small",
        lambda: recursive_forecast(P, 1e300 * X, 3, 0.0, 1e-300),
        "scale",
        "too small",
        "[0, 0] (row 1, column 1) of history",
    ),
    case(
        "forecast-head-overflows",
        lambda: recursive_forecast(OPEN.with_head([[1.7e308, 1.7e308]]), [[0.0]], 3),
        "head",
        "W_y",
        "overflow",
    ),
    case(
        "forecast-unscaled-overflows",
        lambda: recursive_forecast(OPEN.with_head([[1e308, 1e308]]), [[0.0]], 3, 0.0, 1e10),
        "forecast 1 step ahead",
        "overflow",
        "scale",
    ),
    # ranges: numbers(name, value), vector_or_none(name, value, length), whole_number(name, value, low, default)
    case("numbers-None", lambda: ranges.numbers("X", None), "X", "empty"),
    case("numbers-all-blank", lambda: ranges.numbers("X", [[None, ""], ["", None]]), "X", "empty"),
    case("numbers-3d", lambda: ranges.numbers("X", np.zeros((2, 2, 2))), "X", "2-D", "3 dimensions"),
    case("numbers-ragged", lambda: ranges.numbers("X", [[1.0, 2.0], [3.0]]), "X", "row 1, column 1", "list"),
    case(
        "numbers-nested-cell", lambda: ranges.numbers("X", [[1.0, [2.0]], [3.0, 4.0]]), "X", "row 1, column 2", "list"
    ),
    case("numbers-dict-cell", lambda: ranges.numbers("X", {"a": 1}), "X", "row 1, column 1", "dict"),
    case("numbers-huge-int-cell", lambda: ranges.numbers("X", [[1, 10**400]]), "X", "row 1, column 2", "too large"),
    case("numbers-complex-cell", lambda: ranges.numbers("X", [[1.0], [2j]]), "X", "row 2, column 1", "complex"),
    case("numbers-bytes-cell", lambda: ranges.numbers("X", [[b"1"]]), "X", "row 1, column 1", "bytes"),
    case(
        "vector_or_none-block",
        lambda: ranges.vector_or_none("h0", [[1.0, 2.0], [3.0, 4.0]], 4),
        "h0",
        "row or a column",
        "2×2",
    ),
    case(
        "vector_or_none-wrong-length", lambda: ranges.vector_or_none("h0", [[1.0, 2.0]], 3), "h0", "3 numbers", "got 2"
    ),
    case(
        "vector_or_none-blank-inside",
        lambda: ranges.vector_or_none("h0", [[1.0, None, 3.0]], 3),
        "h0",
        "row 1, column 2",
        "is empty",
    ),
    case(
        "vector_or_none-text",
        lambda: ranges.vector_or_none("c0", [["x"], [1.0]], 2),
        "c0",
        "row 1, column 1",
        "text 'x'",
    ),
    case("whole_number-fraction", lambda: ranges.whole_number("season", 2.5, low=1), "season", "whole number", "2.5"),
    case("whole_number-zero", lambda: ranges.whole_number("season", 0, low=1), "season", "≥ 1", "got 0"),
    case("whole_number-negative", lambda: ranges.whole_number("seed", -1, low=0), "seed", "≥ 0", "-1"),
    case("whole_number-TRUE", lambda: ranges.whole_number("season", True, low=1), "season", "holds TRUE"),
    case("whole_number-text", lambda: ranges.whole_number("season", "twelve", low=1), "season", "text 'twelve'"),
    case("whole_number-number-as-text", lambda: ranges.whole_number("season", "12", low=1), "season", "stored as text"),
    case("whole_number-blank-no-default", lambda: ranges.whole_number("horizon", None, low=1), "horizon", "empty"),
    case(
        "whole_number-two-cells", lambda: ranges.whole_number("season", [[1, 2]], low=1), "season", "single cell", "1×2"
    ),
    case("whole_number-nan", lambda: ranges.whole_number("season", np.nan, low=1), "season", "nan"),
    case("whole_number-huge", lambda: ranges.whole_number("season", 1e300, low=1), "season", "1e+300"),
]


def _metric_cases() -> list[Any]:
    """The same bad pairs for every metric (each takes actual and predicted first)."""
    out = []
    for fn in (metrics.mae, metrics.rmse, metrics.mape, metrics.smape, metrics.mase, metrics.error_metrics):
        n = fn.__name__
        out += [
            case(f"{n}-actual-text", lambda fn=fn: fn("3, 5, 4", PREDICTED), "actual", "text"),
            case(f"{n}-actual-None", lambda fn=fn: fn(None, PREDICTED), "actual", "missing"),
            case(f"{n}-actual-dict", lambda fn=fn: fn({"a": 1}, PREDICTED), "actual", "numbers"),
            case(f"{n}-predicted-None", lambda fn=fn: fn(ACTUAL, None), "predicted", "missing"),
            case(
                f"{n}-actual-text-element",
                lambda fn=fn: fn(put(ACTUAL, (1,), "x"), PREDICTED),
                "actual",
                "'x'",
                "[1]",
                "item 2",
            ),
            case(
                f"{n}-predicted-None-element",
                lambda fn=fn: fn(ACTUAL, put(PREDICTED, (3,), None)),
                "predicted",
                "None",
                "[3]",
                "item 4",
            ),
            case(
                f"{n}-predicted-nan",
                lambda fn=fn: fn(ACTUAL, put(PREDICTED, (2,), np.nan).astype(float)),
                "predicted",
                "nan",
                "[2]",
            ),
            case(
                f"{n}-actual-inf",
                lambda fn=fn: fn(put(ACTUAL, (0,), -np.inf).astype(float), PREDICTED),
                "actual",
                "-inf",
                "[0]",
            ),
            case(f"{n}-empty", lambda fn=fn: fn([], []), "actual", "empty"),
            case(f"{n}-actual-ragged", lambda fn=fn: fn([[1, 2], [3]], PREDICTED), "actual", "rectangular"),
            case(f"{n}-sizes-differ", lambda fn=fn: fn(ACTUAL, PREDICTED[:3]), "predicted", "(4)", "got 3"),
        ]
        if fn is not metrics.smape:  # sMAPE is a ratio of at most 2: it never overflows
            out.append(
                case(
                    f"{n}-overflow",
                    lambda fn=fn: fn([1.7e308, -1.7e308], [-1.7e308, 1.7e308]),
                    "actual and predicted",
                    "overflow",
                )
            )
    return out


def _seasonal_cases() -> list[Any]:
    return [
        case("mase-season-zero", lambda: metrics.mase(ACTUAL, PREDICTED, 0), "season", "≥ 1", "got 0"),
        case("mase-season-bool", lambda: metrics.mase(ACTUAL, PREDICTED, True), "season", "True"),
        case("mase-season-float", lambda: metrics.mase(ACTUAL, PREDICTED, 1.0), "season", "1.0"),
        case("mase-season-text", lambda: metrics.mase(ACTUAL, PREDICTED, "1"), "season", "'1'"),
        case(
            "mase-season-longer-than-actual",
            lambda: metrics.mase(ACTUAL, PREDICTED, 4),
            "actual",
            "season = 4",
            "got 4",
        ),
        case("mase-history-text", lambda: metrics.mase(ACTUAL, PREDICTED, 1, "history"), "history", "text"),
        case(
            "mase-history-nan", lambda: metrics.mase(ACTUAL, PREDICTED, 1, [1.0, np.nan, 2.0]), "history", "nan", "[1]"
        ),
        case(
            "mase-history-too-short",
            lambda: metrics.mase(ACTUAL, PREDICTED, 2, [1.0, 2.0]),
            "history",
            "season = 2",
            "got 2",
        ),
        case("error_metrics-season-negative", lambda: metrics.error_metrics(ACTUAL, PREDICTED, -1), "season", "-1"),
        case(
            "mase-history-one-number",
            lambda: metrics.mase(ACTUAL, PREDICTED, 1, [5.0]),
            "history",
            "season = 1",
            "got 1",
        ),
        case("mase-season-zero", lambda: metrics.mase(ACTUAL, PREDICTED, 0, [1.0, 2.0]), "season", "got 0"),
        case(
            "mase-history-overflow",
            lambda: metrics.mase(ACTUAL, PREDICTED, 1, [1.7e308, -1.7e308]),
            "history",
            "overflow",
        ),
    ]


# ---- worksheet functions: ranges as Excel hands them over (2-D object arrays) ---------------
S = xl.init_params(1, 2, output_size=1, seed=2)  # D=1, H=2: W (8, 3), b (8,), W_y (1, 2)


def cells(values: Any) -> np.ndarray:
    """A worksheet range as xlwings delivers it: a 2-D object array of Python numbers."""
    return np.array(np.atleast_2d(np.asarray(values, dtype=float)).tolist(), dtype=object)


SW, SB = cells(S.W), cells(S.b[:, None])
SERIES = cells([[0.2], [-0.1], [0.4], [0.3], [-0.2], [0.1]])  # T=6, D=1
SHEET = {  # function -> (the function, valid arguments by name)
    "lstm_step_row": (
        sheet.lstm_step_row,
        {"x_t": cells([[0.5]]), "h_prev": cells([[0.1, -0.2]]), "c_prev": cells([[0.3], [0.0]]), "W": SW, "b": SB},
    ),
    "lstm_sequence_table": (
        sheet.lstm_sequence_table,
        {"X": SERIES, "W": SW, "b": SB, "h0": cells([[0.1, -0.2]]), "c0": cells([[0.3, 0.0]]), "outputs": "c,h"},
    ),
    "forecast_table": (
        sheet.forecast_table,
        {
            "history": SERIES,
            "W": SW,
            "b": SB,
            "W_y": cells(S.W_y),
            "b_y": cells([[0.05]]),
            "horizon": cells([[3]]),
            "scale": cells([[0.1, 2.0]]),
        },
    ),
    "metrics_table": (
        sheet.metrics_table,
        {
            "actual": cells([[3], [5], [4], [6]]),
            "predicted": cells([[2.5], [5.5], [4], [7]]),
            "season": cells([[2]]),
            "history": cells([[1], [2], [3], [2], [4]]),
        },
    ),
    "init_table": (sheet.init_table, {"inputs": cells([[1]]), "hidden": cells([[2]]), "seed": cells([[7]])}),
}


def call_sheet(function: str, **changes: Any) -> Any:
    """Call a worksheet function with its valid arguments, some of them replaced."""
    fn, args = SHEET[function]
    return fn(**{**args, **changes})


def sheet_case(name: str, function: str, changes: dict[str, Any], *parts: str) -> Any:
    return case(f"{function}-{name}", lambda: call_sheet(function, **changes), *parts)


SHEET_CASES = [
    sheet_case("x_t-blank", "lstm_step_row", {"x_t": None}, "x_t", "empty"),
    sheet_case("x_t-block", "lstm_step_row", {"x_t": cells([[1, 2], [3, 4]])}, "x_t", "2×2"),
    sheet_case("h_prev-wrong-length", "lstm_step_row", {"h_prev": cells([[0, 0, 0]])}, "h_prev", "2 numbers", "got 3"),
    sheet_case(
        "c_prev-block", "lstm_step_row", {"c_prev": cells([[0, 0], [0, 0]])}, "c_prev", "row or a column", "2×2"
    ),
    sheet_case("W-wrong-shape", "lstm_step_row", {"W": cells([[1, 2]])}, "W", "8×3", "H=2", "D=1", "got 1×2"),
    sheet_case("W-blank", "lstm_step_row", {"W": None}, "W", "empty"),
    sheet_case("b-not-4H", "lstm_step_row", {"b": cells([[1, 2, 3]])}, "b", "4H", "got 3"),
    sheet_case("b-block", "lstm_step_row", {"b": cells(np.zeros((2, 4)))}, "b", "2×4"),
    sheet_case("overflow", "lstm_step_row", {"x_t": cells([[1e308]])}, "x_t", "overflow"),
    sheet_case("X-blank", "lstm_sequence_table", {"X": None}, "X", "empty"),
    sheet_case("X-columns-not-D", "lstm_sequence_table", {"X": cells(np.zeros((4, 3)))}, "W", "D=3", "X's columns"),
    sheet_case("h0-wrong-length", "lstm_sequence_table", {"h0": cells([[0.0]])}, "h0", "2 numbers", "got 1"),
    sheet_case("outputs-unknown", "lstm_sequence_table", {"outputs": "h,z"}, "outputs", "'h,z'"),
    sheet_case("outputs-number", "lstm_sequence_table", {"outputs": 5.0}, "outputs", "5.0"),
    sheet_case("X-overflow", "lstm_sequence_table", {"X": cells([[1e308], [0.0]])}, "X", "overflow", "rescale"),
    sheet_case("h0-overflow", "lstm_sequence_table", {"h0": cells([[1e308, 0.0]])}, "h0", "overflow"),
    sheet_case("W_y-missing", "forecast_table", {"W_y": None}, "W_y", "empty"),
    sheet_case("W_y-wrong-H", "forecast_table", {"W_y": cells([[1, 2, 3]])}, "W_y", "H=2", "1×3"),
    sheet_case(
        "W_y-two-outputs", "forecast_table", {"W_y": cells(np.ones((2, 2))), "b_y": None}, "W_y", "O = D = 1", "got 2"
    ),
    sheet_case("b_y-wrong-length", "forecast_table", {"b_y": cells([[1, 2]])}, "b_y", "got 2"),
    sheet_case("horizon-zero", "forecast_table", {"horizon": cells([[0]])}, "horizon", "≥ 1", "got 0"),
    sheet_case("horizon-fraction", "forecast_table", {"horizon": cells([[2.5]])}, "horizon", "2.5"),
    sheet_case("horizon-blank", "forecast_table", {"horizon": None}, "horizon", "empty"),
    sheet_case(
        "horizon-beyond-the-budget", "forecast_table", {"horizon": cells([[2e6]])}, "horizon", "10,000", "2,000,000"
    ),
    sheet_case("horizon-beyond-2^53", "forecast_table", {"horizon": cells([[1e300]])}, "horizon", "2^53", "1e+300"),
    sheet_case("scale-wrong-shape", "forecast_table", {"scale": cells([[1, 2, 3]])}, "scale", "1×3"),
    sheet_case("scale-zero", "forecast_table", {"scale": cells([[0.0, 0.0]])}, "scale", "must not be 0"),
    sheet_case("scale-too-small", "forecast_table", {"scale": cells([[0.0, 1e-320]])}, "scale", "too small"),
    sheet_case("sizes-differ", "metrics_table", {"predicted": cells([[1], [2], [3]])}, "predicted", "(4)", "got 3"),
    sheet_case("season-zero", "metrics_table", {"season": cells([[0]])}, "season", "≥ 1", "got 0"),
    sheet_case(
        "season-longer-than-history", "metrics_table", {"season": cells([[5]])}, "history", "season = 5", "got 5"
    ),
    sheet_case(
        "season-longer-than-actual", "metrics_table", {"season": cells([[4]]), "history": None}, "actual", "season = 4"
    ),
    sheet_case(
        "overflow",
        "metrics_table",
        {"actual": cells([[1.7e308], [-1.7e308]]), "predicted": cells([[-1.7e308], [1.7e308]])},
        "actual and predicted",
        "overflow",
    ),
    sheet_case("inputs-zero", "init_table", {"inputs": cells([[0]])}, "inputs", "≥ 1", "got 0"),
    sheet_case("hidden-negative", "init_table", {"hidden": cells([[-1]])}, "hidden", "-1"),
    sheet_case("seed-fraction", "init_table", {"seed": cells([[2.5]])}, "seed", "2.5"),
    sheet_case("too-large-for-a-sheet", "init_table", {"hidden": cells([[2000]])}, "hidden=2000", "too large"),
    case("parse_outputs-number", lambda: sheet.parse_outputs(2), "outputs", "text", "2"),
    case("parse_outputs-list", lambda: sheet.parse_outputs(["h"]), "outputs", "['h']"),
    case("parse_outputs-unknown-name", lambda: sheet.parse_outputs("c, x"), "outputs", "'c, x'"),
    case("parse_outputs-only-separators", lambda: sheet.parse_outputs(" ; "), "outputs", "' ; '"),
]


@pytest.mark.parametrize(("call", "parts"), CASES + _metric_cases() + _seasonal_cases() + SHEET_CASES)
def test_bad_call_is_refused_in_one_line(call: Callable[[], Any], parts: tuple[str, ...]) -> None:
    """The call raises LSTMError (no other exception, no warning) in one line holding every part."""
    text = message_of(call)
    for part in parts:
        assert part in text, f"{part!r} missing from the message: {text}"


# ---- one bad cell in any range argument ---------------------------------------------------------
BAD_CELLS = [  # what a cell holds, how the message must describe it
    ("#N/A", "holds the error #N/A"),
    ("#DIV/0!", "holds the error #DIV/0!"),
    ("#VALUE!", "holds the error #VALUE!"),
    ("#REF!", "holds the error #REF!"),
    ("#NAME?", "holds the error #NAME?"),
    ("#NUM!", "holds the error #NUM!"),
    ("#NULL!", "holds the error #NULL!"),
    ("#SPILL!", "holds the error #SPILL!"),
    ("12.5", "holds the number '12.5' stored as text"),
    ("-3", "holds the number '-3' stored as text"),
    ("1,234.5", "holds the number '1,234.5' stored as text"),
    ("abc", "holds text 'abc', not a number"),
    (" ", "holds text ' ', not a number"),
    (True, "holds TRUE, not a number"),
    (False, "holds FALSE, not a number"),
    (float("nan"), "holds nan, not a finite number"),
    (float("-inf"), "holds -inf, not a finite number"),
    (None, "is empty"),
    ("", "is empty"),
]


def _is_blank(value: Any) -> bool:
    return value is None or value == ""


# Every (range argument, bad cell) pair, except a blank in a one-cell range: that is a blank
# argument (its default, or "is empty"), not a blank inside data.
BAD_CELL_CASES = [
    pytest.param(function, arg, value, description, id=f"{function}-{arg}-{value!r}")
    for function, (_, args) in SHEET.items()
    for arg, valid in args.items()
    if isinstance(valid, np.ndarray)
    for value, description in BAD_CELLS
    if not (_is_blank(value) and valid.size == 1)
]


@pytest.mark.parametrize(("function", "arg", "value", "description"), BAD_CELL_CASES)
def test_a_bad_cell_is_named_by_row_column_and_content(function: str, arg: str, value: Any, description: str) -> None:
    """One bad cell in one range argument: the message names the argument, the cell and what it holds.

    The bad cell is the range's last cell (so positions are counted right), except a blank,
    which goes first: a blank last cell is a trailing blank, which is dropped.
    """
    valid = SHEET[function][1][arg]
    rows, cols = valid.shape
    r, c = (0, 0) if _is_blank(value) else (rows - 1, cols - 1)
    text = message_of(lambda: call_sheet(function, **{arg: put(valid, (r, c), value)}))
    assert f"{arg}: the cell at row {r + 1}, column {c + 1} {description}" in text, text


@pytest.mark.parametrize("function", list(SHEET))
def test_trailing_blank_rows_and_columns_are_dropped(function: str) -> None:
    """Every range drawn larger than its data (blank rows below, blank columns right) reads as the data."""
    fn, args = SHEET[function]

    def padded(value: Any) -> Any:
        if not isinstance(value, np.ndarray):
            return value
        rows, cols = value.shape
        out = np.full((rows + 3, cols + 2), None, dtype=object)
        out[:rows, :cols] = value
        out[rows + 1, :] = ""  # Excel's empty text counts as blank too
        return out

    expected = fn(**args)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fn(**{name: padded(value) for name, value in args.items()})
    np.testing.assert_array_equal(got, expected)


def test_a_whole_column_reference_reads_as_its_data() -> None:
    """X given as a whole column (A:A: the data, then ~a million empty cells) is just the data."""
    column = np.full((1_048_576, 1), None, dtype=object)
    column[: SERIES.shape[0]] = SERIES
    np.testing.assert_array_equal(call_sheet("lstm_sequence_table", X=column), call_sheet("lstm_sequence_table"))


@pytest.mark.parametrize(
    ("grid", "where"),
    [
        ([[0.1], [None], [0.3]], "row 2, column 1"),  # a gap in the series
        ([[None], [0.2], [0.3]], "row 1, column 1"),  # a leading blank is not trailing
        ([[0.1], [""], [0.3], [None]], "row 2, column 1"),  # the trailing blank goes, the inner one stays
    ],
    ids=["gap", "leading-blank", "inner-empty-text"],
)
def test_a_blank_inside_the_data_is_refused(grid: list[list[Any]], where: str) -> None:
    """Only trailing blanks are dropped: a blank with data after it is never guessed as a number."""
    text = message_of(lambda: call_sheet("lstm_sequence_table", X=np.array(grid, dtype=object)))
    assert f"X: the cell at {where} is empty" in text


@pytest.mark.parametrize(
    ("function", "arg"),
    [
        ("lstm_step_row", "h_prev"),
        ("lstm_step_row", "c_prev"),
        ("lstm_sequence_table", "h0"),
        ("lstm_sequence_table", "c0"),
        ("forecast_table", "scale"),
        ("forecast_table", "b_y"),
        ("metrics_table", "season"),
        ("metrics_table", "history"),
        ("init_table", "seed"),
    ],
)
def test_an_all_blank_optional_range_means_its_default(function: str, arg: str) -> None:
    """A blank optional range (an unfilled block of cells) is the same as leaving the argument out."""
    blank = np.full(SHEET[function][1][arg].shape, None, dtype=object)
    np.testing.assert_array_equal(call_sheet(function, **{arg: blank}), call_sheet(function, **{arg: None}))


# ---- files -----------------------------------------------------------------------------------------
def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _npz(path: Path, **arrays: Any) -> Path:
    np.savez(path, **arrays)
    return path


def _inflating(path: Path) -> Path:
    """A small zip whose directory claims ~4 GiB of content (the shape of a zip bomb)."""
    data = bytearray(_zip(path, {"W_0.npy": b"\0" * 64}).read_bytes())
    entry = data.index(b"PK\x01\x02")  # the central directory's entry for W_0.npy
    data[entry + 24 : entry + 28] = (0xFFFFFFF0).to_bytes(4, "little")  # its uncompressed size
    path.write_bytes(bytes(data))
    return path


def _damaged(path: Path, how: str) -> Path:
    data = bytearray(xl.save(P, path).read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    else:  # flip a run of bytes inside the first member's data
        data[100:140] = bytes(b ^ 0xFF for b in data[100:140])
    path.write_bytes(bytes(data))
    return path


FORMAT = np.array("xl_lstm.params/1")
FILES = [  # id, how to make the file (in a fresh folder), words the message must hold
    ("missing", lambda d: d / "none.npz", "no such file"),
    ("a-folder", lambda d: d, "folder"),
    ("empty-file", lambda d: _write(d / "p.npz", b""), "not an .npz file"),
    ("text-file", lambda d: _write(d / "p.npz", b"W,b\n1,2\n"), "not an .npz file"),
    ("truncated", lambda d: _damaged(d / "p.npz", "truncated"), "not an .npz file"),
    ("bit-flipped", lambda d: _damaged(d / "p.npz", "flipped"), "cannot read"),
    ("zip-bomb", lambda d: _inflating(d / "p.npz"), "1 GiB"),
    ("foreign-npz", lambda d: _npz(d / "p.npz", a=np.zeros(3)), "not an xl_lstm params file"),
    (
        "wrong-format-version",
        lambda d: _npz(d / "p.npz", format=np.array("xl_lstm.params/9"), W_0=W, b_0=B),
        "params/9",
    ),
    (
        "pickled-objects",
        lambda d: _npz(d / "p.npz", format=FORMAT, W_0=np.array([{}, {}], dtype=object), b_0=B),
        "cannot read",
    ),
    ("garbage-member", lambda d: _zip(d / "p.npz", {"format.npy": b"\x93NUMPY\x01\x00garbage"}), "cannot read"),
    ("no-layers", lambda d: _npz(d / "p.npz", format=FORMAT), "no W_0"),
    ("W-without-b", lambda d: _npz(d / "p.npz", format=FORMAT, W_0=W), "b_0"),
    (
        "nan-weights",
        lambda d: _npz(d / "p.npz", format=FORMAT, W_0=put(W, (1, 1), np.nan).astype(float), b_0=B),
        "W",
        "nan",
        "[1, 1]",
        "row 2, column 2",
    ),
    ("text-weights", lambda d: _npz(d / "p.npz", format=FORMAT, W_0=np.full((12, 5), "w"), b_0=B), "W", "text"),
    ("wrong-shape", lambda d: _npz(d / "p.npz", format=FORMAT, W_0=W[:, :3], b_0=B), "W", "D ≥ 1"),
    ("head-bias-without-weight", lambda d: _npz(d / "p.npz", format=FORMAT, W_0=W, b_0=B, b_y=np.zeros(2)), "b_y"),
]


@pytest.mark.parametrize(("make", "parts"), [pytest.param(m, p, id=i) for i, m, *p in FILES])
def test_load_refuses_damaged_foreign_and_hostile_files(
    tmp_path: Path, make: Callable[[Path], Path], parts: list[str]
) -> None:
    """load() answers a missing, damaged, foreign or hostile file with one line naming the file."""
    path = make(tmp_path)
    text = message_of(lambda: xl.load(path))
    assert str(path) in text
    for part in parts:
        assert part in text, text


@pytest.mark.parametrize(
    ("where", "parts"),
    [("missing-folder", ["does not exist"]), ("a-folder", ["cannot write"])],
)
def test_save_refuses_a_path_it_cannot_write(tmp_path: Path, where: str, parts: list[str]) -> None:
    """save() to a folder that does not exist, or onto a folder, is one line; nothing is left behind."""
    target = tmp_path / "nope" / "p.npz" if where == "missing-folder" else tmp_path
    before = sorted(tmp_path.rglob("*"))
    text = message_of(lambda: xl.save(P, target))
    assert str(target) in text and all(part in text for part in parts), text
    assert sorted(tmp_path.rglob("*")) == before


# ---- property tests: garbage in any argument ------------------------------------------------------
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([2**53 + 1, 2**63, -(2**63), 10**30, 10**400]),
    st.floats(),  # NaN, ±inf, the largest doubles, subnormals, -0.0
    st.sampled_from([-0.0, 5e-324, 1e-310, 1.7976931348623157e308, -1e308, 1e154]),
    st.complex_numbers(max_magnitude=1e3),
    st.text(max_size=4),
    st.sampled_from(["#N/A", "#DIV/0!", "12.5", "", " ", "nan", "-inf", "1e999", "all", "h", "TRUE"]),
    st.binary(max_size=3),
)
NESTED = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner), max_leaves=12)
DTYPES = st.one_of(
    hnp.floating_dtypes(),
    hnp.integer_dtypes(),
    hnp.unsigned_integer_dtypes(),
    hnp.boolean_dtypes(),
    hnp.complex_number_dtypes(),
    hnp.unicode_string_dtypes(max_len=4),
    hnp.byte_string_dtypes(max_len=3),
    hnp.datetime64_dtypes(),
    hnp.timedelta64_dtypes(),
)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
GARBAGE = st.one_of(
    SCALARS,
    NESTED,
    st.dictionaries(st.text(max_size=3), SCALARS, max_size=2),
    hnp.arrays(DTYPES, SHAPES),
    hnp.arrays(object, SHAPES, elements=SCALARS),
)


def garbage_like(valid: Any) -> st.SearchStrategy[Any]:
    """Any garbage, or the valid argument's shape filled with any floats or any scalars.

    Same-shaped junk gets past the shape checks, so it reaches the number checks and the
    arithmetic (overflow, NaN) behind them.
    """
    shape = np.shape(valid)
    return st.one_of(
        GARBAGE,
        hnp.arrays(np.float64, shape, elements=st.floats()),
        hnp.arrays(object, shape, elements=SCALARS),
    )


def float_arrays(result: Any) -> list[np.ndarray]:
    """Every float array inside a result: arrays, numbers, tuples, dicts, dataclasses, LSTMParams."""
    if result is None or isinstance(result, str):
        return []
    if isinstance(result, np.ndarray) and result.dtype == object:
        return [np.array([v for v in result.flat if not isinstance(v, str)], dtype=float)]
    if isinstance(result, (np.ndarray, float, np.floating)):
        return [np.asarray(result, dtype=float)]
    if isinstance(result, dict):
        return [a for v in result.values() for a in float_arrays(v)]
    if isinstance(result, (tuple, list)):
        return [a for v in result for a in float_arrays(v)]
    if isinstance(result, xl.LSTMParams):
        return float_arrays([result.W, result.b, result.W_y, result.b_y, result.upper])
    if dataclasses.is_dataclass(result):
        return float_arrays([getattr(result, f.name) for f in dataclasses.fields(result)])
    return []


def answers_cleanly(call: Callable[[], Any], nan_allowed: Callable[[Any], bool] = lambda result: False) -> None:
    """The property: a result without NaN (unless documented) or a one-line LSTMError; nothing else.

    Any other exception or any warning (turned into an error) propagates and fails the test.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            result = call()
        except LSTMError as exc:
            assert str(exc).strip() and "\n" not in str(exc), repr(str(exc))
            return
    if any(np.isnan(a).any() for a in float_arrays(result)):
        assert nan_allowed(result), f"a NaN in a result that documents none: {result!r}"


FUZZ = settings(max_examples=40)


def positions(args: dict[str, Any]) -> list[Any]:
    return [pytest.param(name, id=name) for name in args]


PARAMS_ARGS = {"W": W, "b": B, "W_y": P.W_y, "b_y": P.b_y}


@FUZZ
@pytest.mark.parametrize("arg", positions(PARAMS_ARGS))
@given(data=st.data())
def test_lstmparams_answers_garbage_cleanly(arg: str, data: st.DataObject) -> None:
    """LSTMParams(W, b, W_y, b_y) with garbage in one argument: valid params or a one-line LSTMError."""
    bad = data.draw(garbage_like(PARAMS_ARGS[arg]), label=arg)
    answers_cleanly(lambda: xl.LSTMParams(**{**PARAMS_ARGS, arg: bad}))


STEP_ARGS = {"params": P, "x_t": X[0], "h_prev": [0.1, -0.2, 0.3], "c_prev": [0.5, 0.0, -1.0]}


@FUZZ
@pytest.mark.parametrize("arg", positions(STEP_ARGS))
@given(data=st.data())
def test_step_answers_garbage_cleanly(arg: str, data: st.DataObject) -> None:
    """step() with garbage in one argument: finite gates and states, or a one-line LSTMError."""
    bad = data.draw(garbage_like(STEP_ARGS[arg]), label=arg)
    answers_cleanly(lambda: xl.step(**{**STEP_ARGS, arg: bad}))


RUN_ARGS = {"params": P, "X": X, "h0": [0.1, -0.2, 0.3], "c0": [0.5, 0.0, -1.0]}


@FUZZ
@pytest.mark.parametrize("arg", positions(RUN_ARGS))
@given(data=st.data())
def test_run_answers_garbage_cleanly(arg: str, data: st.DataObject) -> None:
    """run() with garbage in one argument: a RunResult without NaN, or a one-line LSTMError."""
    bad = data.draw(garbage_like(RUN_ARGS[arg]), label=arg)
    answers_cleanly(lambda: xl.run(**{**RUN_ARGS, arg: bad}))


KERAS_WITH_HEAD = dict(enumerate(KERAS))  # kernel, recurrent_kernel, bias, Dense kernel, Dense bias
KERAS_POSITIONS = [pytest.param(None, id="weights")] + [pytest.param(k, id=f"weights[{k}]") for k in KERAS_WITH_HEAD]


@FUZZ
@pytest.mark.parametrize("index", KERAS_POSITIONS)
@given(data=st.data())
def test_from_keras_answers_garbage_cleanly(index: int | None, data: st.DataObject) -> None:
    """from_keras() with the whole list, or one array in it, replaced by garbage."""
    if index is None:
        weights = data.draw(GARBAGE, label="weights")
    else:
        weights = list(KERAS)
        weights[index] = data.draw(garbage_like(KERAS[index]), label=f"weights[{index}]")
    answers_cleanly(lambda: xl.from_keras(weights))


ONNX_ARGS = {"W": ONNX["W"], "R": ONNX["R"], "B": ONNX["B"], "P": np.zeros((1, 9))}


@FUZZ
@pytest.mark.parametrize("arg", positions(ONNX_ARGS))
@given(data=st.data())
def test_from_onnx_answers_garbage_cleanly(arg: str, data: st.DataObject) -> None:
    """from_onnx(W, R, B, P) with garbage in one tensor."""
    bad = data.draw(garbage_like(ONNX_ARGS[arg]), label=arg)
    answers_cleanly(lambda: xl.from_onnx(**{**ONNX_ARGS, arg: bad}))


METRIC_ARGS = {"actual": ACTUAL, "predicted": PREDICTED, "season": 1, "history": [1.0, 3.0, 2.0, 5.0]}
METRIC_POSITIONS = [
    pytest.param(fn, arg, id=f"{fn.__name__}-{arg}")
    for fn, args in [
        (metrics.mae, ("actual", "predicted")),
        (metrics.rmse, ("actual", "predicted")),
        (metrics.mape, ("actual", "predicted")),
        (metrics.smape, ("actual", "predicted")),
        (metrics.mase, ("actual", "predicted", "season", "history")),
        (metrics.error_metrics, ("actual", "predicted", "season", "history")),
    ]
    for arg in args
]


METRIC_NAMES = {
    metrics.mae: "MAE",
    metrics.rmse: "RMSE",
    metrics.mape: "MAPE",
    metrics.smape: "sMAPE",
    metrics.mase: "MASE",
}


def nan_is_documented(metric: str, actual: Any, season: int, history: Any) -> bool:
    """NaN is documented for MAPE when an actual is 0 and for MASE when the naive forecast's error is 0."""
    if metric == "MAPE":
        return bool(np.any(np.asarray(actual, dtype=float) == 0))
    if metric == "MASE":
        y = np.asarray(actual if history is None else history, dtype=float).ravel()
        return bool(np.mean(np.abs(y[season:] - y[:-season])) == 0)  # the seasonal naive forecast's error
    return False


def _metric_nan_allowed(fn: Callable[..., Any], args: dict[str, Any]) -> Callable[[Any], bool]:
    def allowed(result: Any) -> bool:
        values = result if isinstance(result, dict) else {METRIC_NAMES[fn]: result}
        return all(
            not np.isnan(v) or nan_is_documented(k, args["actual"], args["season"], args["history"])
            for k, v in values.items()
        )

    return allowed


@FUZZ
@pytest.mark.parametrize(("fn", "arg"), METRIC_POSITIONS)
@given(data=st.data())
def test_metrics_answer_garbage_cleanly(fn: Callable[..., Any], arg: str, data: st.DataObject) -> None:
    """Each metric with garbage in one argument: a number (NaN only where documented) or one line."""
    names = [n for n in METRIC_ARGS if n in fn.__code__.co_varnames[: fn.__code__.co_argcount]]
    args = {n: METRIC_ARGS[n] for n in names}
    args[arg] = data.draw(garbage_like(METRIC_ARGS[arg]), label=arg)
    answers_cleanly(lambda: fn(**args), _metric_nan_allowed(fn, {**METRIC_ARGS, **args}))


FORECAST_ARGS = {"params": P, "history": X, "horizon": 3, "center": [0.1, -0.2], "scale": [2.0, 0.5]}


@FUZZ
@pytest.mark.parametrize("arg", positions(FORECAST_ARGS))
@given(data=st.data())
def test_recursive_forecast_answers_garbage_cleanly(arg: str, data: st.DataObject) -> None:
    """recursive_forecast() with garbage in one argument: finite forecasts or a one-line LSTMError."""
    bad = data.draw(garbage_like(FORECAST_ARGS[arg]), label=arg)
    answers_cleanly(lambda: recursive_forecast(**{**FORECAST_ARGS, arg: bad}))


SHEET_POSITIONS = [pytest.param(f, a, id=f"{f}-{a}") for f, (_, args) in SHEET.items() for a in args]
SHEET_POSITIONS.append(pytest.param("parse_outputs", "outputs", id="parse_outputs-outputs"))


def _sheet_nan_allowed(function: str, args: dict[str, Any]) -> Callable[[Any], bool]:
    """Only metrics_table's MAPE (an actual of 0) and MASE (a naive error of 0) rows may be NaN."""

    def allowed(table: Any) -> bool:
        if function != "metrics_table":
            return False
        actual = ranges.numbers("actual", args["actual"])
        season = ranges.whole_number("season", args["season"], low=1, default=1)
        history = ranges.numbers("history", args["history"], allow_empty=True)
        history = history if history.size else None  # a blank history means "scale by actual"
        return all(not np.isnan(float(v)) or nan_is_documented(k, actual, season, history) for k, v in table)

    return allowed


@FUZZ
@pytest.mark.parametrize(("function", "arg"), SHEET_POSITIONS)
@given(data=st.data())
def test_worksheet_functions_answer_garbage_cleanly(function: str, arg: str, data: st.DataObject) -> None:
    """Every worksheet function, garbage in each argument (cells of any kind, any shape)."""
    if function == "parse_outputs":
        bad = data.draw(GARBAGE, label="outputs")
        answers_cleanly(lambda: sheet.parse_outputs(bad))
        return
    args = {**SHEET[function][1]}
    args[arg] = data.draw(garbage_like(args[arg]), label=arg)
    answers_cleanly(lambda: call_sheet(function, **args), _sheet_nan_allowed(function, args))
