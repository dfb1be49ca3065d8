"""LSTM weights in the sheet layout, validated once at construction.

Layout (the order of the equations as written, and PyTorch's):

    W    (4H, H+D)   row blocks i, f, g, o; the first H columns multiply h_{t-1},
                     the last D multiply x_t, so  z = W @ [h_{t-1}, x_t] + b
    b    (4H,)
    W_y  (O, H)      optional linear head  y_t = W_y @ h_t + b_y
    b_y  (O,)
    upper            layers 2..L of a stacked LSTM, each (W_l (4H, 2H), b_l (4H,)):
                     layer l reads the h of layer l-1 as its x (PyTorch's semantics)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.checks import as_vector, check_whole, finite_array, resolve_dtype, shape_str
from ..core.errors import LSTMError

__all__ = ["LSTMParams", "init_params"]

GATES = ("i", "f", "g", "o")  # the row blocks of W and b
QUANTITIES = ("i", "f", "g", "C", "o", "h")  # one step's quantities in a sheet row's order (engine.Step.row)


def _weight_matrix(name: str, value: Any, dtype: np.dtype, hidden: int | None, inputs: int | None) -> np.ndarray:
    """W as a (4H, H+D) matrix, or the one-line reason it is not one."""
    W = finite_array(name, value, dtype)
    if W.ndim != 2:
        raise LSTMError(f"{name} must be a 4H×(H+D) matrix, got an array of shape {shape_str(W.shape)}")
    rows, cols = W.shape
    if hidden is None:
        if rows < 4 or rows % 4:
            raise LSTMError(f"{name} must be 4H×(H+D): its {rows} rows are not 4 gate blocks of H rows each")
        hidden = rows // 4
    if inputs is None:
        if cols <= hidden:
            raise LSTMError(
                f"{name} must be 4H×(H+D) with D ≥ 1: H={hidden} needs more than {hidden} columns, got {shape_str(W.shape)}"
            )
        inputs = cols - hidden
    want = (4 * hidden, hidden + inputs)
    if W.shape != want:
        raise LSTMError(
            f"{name} must be 4H×(H+D) = {shape_str(want)} (H={hidden}, D={inputs}), got {shape_str(W.shape)}"
        )
    return W


def _with_dtype(dtype: Any, *arrays: Any) -> np.dtype:
    """float32 only when asked or when every array given is float32; else float64."""
    if dtype is not None:
        return resolve_dtype(dtype)
    given = [a for a in arrays if isinstance(a, np.ndarray)]
    if given and all(a.dtype == np.float32 for a in given):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


@dataclass(frozen=True, eq=False)
class LSTMParams:
    """Weights of an LSTM (and an optional linear head) in the sheet layout.

    ``LSTMParams(W, b)`` with ``W`` of shape (4H, H+D) and ``b`` of 4H numbers;
    ``W_y`` (O, H) and ``b_y`` (O) add the head; ``upper`` stacks more layers.
    Arrays are copied, checked (shape, finite numbers) and stored read-only as
    float64, or float32 when every array given is float32 or ``dtype`` says so.
    """

    W: np.ndarray  # (4H, H+D)
    b: np.ndarray  # (4H,)
    W_y: np.ndarray | None = None  # (O, H)
    b_y: np.ndarray | None = None  # (O,)
    upper: tuple[tuple[np.ndarray, np.ndarray], ...] = ()  # ((4H, 2H), (4H,)) per extra layer
    dtype: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        dt = _with_dtype(self.dtype, self.W, self.b, self.W_y, self.b_y)
        W = _weight_matrix("W", self.W, dt, None, None)
        H = W.shape[0] // 4
        b = as_vector("b", self.b, 4 * H, dt)
        if not isinstance(self.upper, (tuple, list)):
            raise LSTMError(
                f"upper must be a tuple of (W, b) pairs, one per extra layer, got {type(self.upper).__name__}"
            )
        upper = []
        for k, layer in enumerate(self.upper, start=2):
            if not isinstance(layer, (tuple, list)) or len(layer) != 2:
                raise LSTMError(f"upper must hold (W, b) pairs, one per extra layer; layer {k} is not a pair")
            upper.append(
                (_weight_matrix(f"layer {k} W", layer[0], dt, H, H), as_vector(f"layer {k} b", layer[1], 4 * H, dt))
            )
        W_y, b_y = self._head(self.W_y, self.b_y, H, dt)
        arrays = [W, b, W_y, b_y] + [a for pair in upper for a in pair]
        for a in arrays:
            if a is not None:
                a.flags.writeable = False
        for name, value in (("W", W), ("b", b), ("W_y", W_y), ("b_y", b_y), ("upper", tuple(upper)), ("dtype", dt)):
            object.__setattr__(self, name, value)

    @staticmethod
    def _head(W_y: Any, b_y: Any, H: int, dt: np.dtype) -> tuple[np.ndarray | None, np.ndarray | None]:
        if W_y is None:
            if b_y is not None:
                raise LSTMError("b_y was given without W_y: the head needs W_y (O×H) as well")
            return None, None
        Wy = finite_array("W_y", W_y, dt)
        if Wy.ndim == 1:
            Wy = Wy.reshape(1, -1)
        if Wy.ndim != 2 or Wy.shape[1] != H:
            raise LSTMError(f"W_y must be O×H with H={H}, got {shape_str(Wy.shape)}")
        n_out = Wy.shape[0]  # O
        by = np.zeros(n_out, dt) if b_y is None else as_vector("b_y", b_y, n_out, dt)
        return Wy.copy(), by.copy()

    # ---- sizes -------------------------------------------------------------
    @property
    def hidden_size(self) -> int:
        """H, the number of units."""
        return self.W.shape[0] // 4

    @property
    def input_size(self) -> int:
        """D, the number of inputs per step."""
        return self.W.shape[1] - self.hidden_size

    @property
    def output_size(self) -> int | None:
        """O, the head's outputs, or None without a head."""
        return None if self.W_y is None else self.W_y.shape[0]

    @property
    def num_layers(self) -> int:
        return 1 + len(self.upper)

    @property
    def layers(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """((W, b), ...) from the bottom layer up."""
        return ((self.W, self.b),) + self.upper

    # ---- views and copies ---------------------------------------------------
    def gate(self, name: str, layer: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(W_gate (H, H+D), b_gate (H,)) of gate 'i', 'f', 'g' or 'o'."""
        if name not in GATES:
            raise LSTMError(f"gate must be one of i, f, g, o, got {name!r}")
        W, b = self.layer_weights(layer)
        k, H = GATES.index(name), self.hidden_size
        return W[k * H : (k + 1) * H], b[k * H : (k + 1) * H]

    def layer_weights(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer < self.num_layers:
            raise LSTMError(f"layer must be 0..{self.num_layers - 1} for {self.num_layers} layer(s), got {layer!r}")
        return self.layers[layer]

    def layer(self, k: int) -> LSTMParams:
        """Layer k alone as one-layer params (the head kept only on the top layer)."""
        W, b = self.layer_weights(k)
        top = k == self.num_layers - 1
        return LSTMParams(W, b, self.W_y if top else None, self.b_y if top else None)

    def astype(self, dtype: Any) -> LSTMParams:
        """The same weights as float64 or float32."""
        return LSTMParams(self.W, self.b, self.W_y, self.b_y, self.upper, dtype=resolve_dtype(dtype))

    def with_head(self, W_y: Any, b_y: Any = None) -> LSTMParams:
        return LSTMParams(self.W, self.b, W_y, b_y, self.upper, dtype=self.dtype)

    def __repr__(self) -> str:
        head = f", O={self.output_size}" if self.W_y is not None else ""
        return (
            f"LSTMParams(D={self.input_size}, H={self.hidden_size}{head}, "
            f"layers={self.num_layers}, dtype={np.dtype(self.dtype).name})"
        )


def stack(layers: Sequence[tuple[Any, Any]], W_y: Any = None, b_y: Any = None, dtype: Any = None) -> LSTMParams:
    """LSTMParams from a list of (W, b) pairs, bottom layer first."""
    if not isinstance(layers, (list, tuple)) or len(layers) == 0:
        got = "none" if isinstance(layers, (list, tuple)) else type(layers).__name__
        raise LSTMError(f"layers must be a list of (W, b) pairs, at least one, got {got}")
    for k, layer in enumerate(layers, start=1):
        if not isinstance(layer, (tuple, list)) or len(layer) != 2:
            raise LSTMError(f"layers must be a list of (W, b) pairs; layer {k} is not a pair")
    (W, b), *rest = layers
    return LSTMParams(W, b, W_y, b_y, tuple(rest), dtype=dtype)


def init_params(
    input_size: int,
    hidden_size: int,
    *,
    output_size: int | None = None,
    num_layers: int = 1,
    seed: int = 0,
    forget_bias: float = 1.0,
    dtype: Any = np.float64,
) -> LSTMParams:
    """Deterministic starting weights: the same numbers for the same arguments.

    Weights are drawn uniformly from ±1/√H (PyTorch's default range) by NumPy's
    PCG64 generator seeded with ``seed``; biases are zero except the forget gate's,
    set to ``forget_bias`` so a fresh cell starts out remembering. The head, if
    asked for, is drawn the same way.
    """
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
        check_whole(name, v, 1)
    if output_size is not None and (
        not isinstance(output_size, (int, np.integer)) or isinstance(output_size, bool) or output_size < 1
    ):
        raise LSTMError(f"output_size must be a whole number ≥ 1 or None, got {output_size!r}")
    check_whole("seed", seed, 0)
    if not isinstance(forget_bias, (int, float, np.integer, np.floating)) or not np.isfinite(forget_bias):
        raise LSTMError(f"forget_bias must be a finite number, got {forget_bias!r}")
    dt = resolve_dtype(dtype)
    rng = np.random.default_rng(seed)
    H, bound = hidden_size, 1.0 / np.sqrt(hidden_size)
    layers = []
    for k in range(num_layers):
        D = input_size if k == 0 else H
        W = rng.uniform(-bound, bound, size=(4 * H, H + D))
        b = np.zeros(4 * H)
        b[H : 2 * H] = forget_bias
        layers.append((W, b))
    W_y = b_y = None
    if output_size is not None:
        W_y = rng.uniform(-bound, bound, size=(output_size, H))
        b_y = np.zeros(output_size)
    return stack(layers, W_y, b_y, dtype=dt)
