"""Moving weights between xl_lstm and PyTorch, Keras, ONNX and our own ``.npz``.

No framework is imported: tensors are read through NumPy, and what we hand back
is plain arrays for the framework's own loader.

    ours     W (4H, H+D) = [W_h | W_x], b (4H,)        gates i, f, g, o
    PyTorch  weight_ih_l{k} (4H, D), weight_hh_l{k} (4H, H),
             bias_ih_l{k} + bias_hh_l{k} (4H,)          gates i, f, g, o
    Keras    kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,)
                                                        gates i, f, c, o
    ONNX     W [dirs, 4H, D], R [dirs, 4H, H], B [dirs, 8H] = [Wb, Rb],
             optional peepholes P [dirs, 3H]            gates i, o, f, c
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.checks import finite_array, resolve_dtype, shape_str
from ..core.errors import LSTMError
from ..core.files import atomic_write
from .params import LSTMParams, stack

__all__ = ["from_keras", "from_onnx", "from_torch", "load", "save", "to_keras", "to_onnx", "to_torch"]

ONNX_ORDER = (0, 2, 3, 1)  # our blocks i, f, g, o are ONNX's blocks 0 (i), 2 (f), 3 (c), 1 (o)
NPZ_FORMAT = "xl_lstm.params/1"
MODEL_FORMAT = "xl_lstm.model/1"  # a trained model: the weights plus scaler, transforms, residuals
NPZ_MAX_BYTES = 1 << 30  # refuse .npz files whose members would inflate past 1 GiB


def _array(name: str, value: Any, dtype: Any, ndim: int | None) -> np.ndarray:
    arr = finite_array(name, value, resolve_dtype(dtype) if dtype is not None else _native(value))
    if ndim is not None and arr.ndim != ndim:
        raise LSTMError(f"{name} must be a {ndim}-D array, got shape {shape_str(arr.shape)}")
    return arr


def _native(value: Any) -> np.dtype:
    """Keep float32 weights float32; everything else becomes float64."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.dtype(np.float32) if getattr(value, "dtype", None) == np.float32 else np.dtype(np.float64)


def _blocks(a: np.ndarray, order: Sequence[int], axis: int = 0) -> np.ndarray:
    """Reorder the four gate blocks of ``a`` along ``axis``."""
    parts = np.split(a, 4, axis=axis)
    return np.concatenate([parts[k] for k in order], axis=axis)


def _sum_biases(what: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b for two bias vectors; a sum past the float range is refused, never inf."""
    with np.errstate(over="ignore"):
        total = a + b
    if not np.isfinite(total).all():
        k = int(np.argwhere(~np.isfinite(total))[0][0])
        raise LSTMError(f"{what} overflow {total.dtype.name} when added, at [{k}] (item {k + 1})")
    return total


def _inverse(order: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(k) for k in np.argsort(order))


# ---- PyTorch ---------------------------------------------------------------
def _state_dict(obj: Any, what: str) -> Mapping[str, Any]:
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        obj = obj.state_dict()
    if not isinstance(obj, Mapping):
        raise LSTMError(
            f"{what} must be a state_dict (a mapping of names to tensors) or a module, got {type(obj).__name__}"
        )
    return obj


def _find_prefix(state: Mapping[str, Any]) -> str:
    hits = [k[: -len("weight_ih_l0")] for k in state if str(k).endswith("weight_ih_l0")]
    if len(hits) != 1:
        found = "none" if not hits else ", ".join(repr(h) for h in hits)
        raise LSTMError(
            f"state_dict must hold exactly one LSTM (a key ending in weight_ih_l0); prefixes found: {found}"
        )
    return hits[0]


def from_torch(
    state: Any, *, prefix: str | None = None, head_prefix: str | None = None, dtype: Any = None
) -> LSTMParams:
    """LSTMParams from an ``nn.LSTM`` (or its ``state_dict``), any number of layers.

    ``prefix`` picks the LSTM inside a larger model's state_dict ("lstm."); by
    default it is found from the one key ending in ``weight_ih_l0``. With
    ``head_prefix`` ("head.") an ``nn.Linear``'s weight and bias become the head.
    The two PyTorch biases are summed. Bidirectional and projected (proj_size)
    LSTMs are refused.
    """
    sd = _state_dict(state, "state")
    for name, value in (("prefix", prefix), ("head_prefix", head_prefix)):
        if value is not None and not isinstance(value, str):
            raise LSTMError(f"{name} must be text such as 'lstm.', got {type(value).__name__}")
    p = _find_prefix(sd) if prefix is None else prefix
    for key in sd:
        if str(key).startswith(p) and str(key).endswith("_reverse"):
            raise LSTMError(f"bidirectional LSTMs are not supported: found {key}; export one direction at a time")
        if str(key).startswith(p + "weight_hr_l"):
            raise LSTMError(f"LSTMs with proj_size are not supported: found {key}")
    layers = []
    k = 0
    while f"{p}weight_ih_l{k}" in sd:
        w_ih = _array(f"{p}weight_ih_l{k}", sd[f"{p}weight_ih_l{k}"], dtype, 2)  # (4H, D_k)
        key_hh = f"{p}weight_hh_l{k}"
        if key_hh not in sd:
            raise LSTMError(f"state_dict has {p}weight_ih_l{k} but no {key_hh}")
        w_hh = _array(key_hh, sd[key_hh], dtype, 2)  # (4H, H)
        if w_hh.shape[0] != 4 * w_hh.shape[1] or w_ih.shape[0] != w_hh.shape[0]:
            raise LSTMError(
                f"{key_hh} must be 4H×H and {p}weight_ih_l{k} 4H×D; got {shape_str(w_hh.shape)} and {shape_str(w_ih.shape)}"
            )
        b = np.zeros(w_hh.shape[0], w_hh.dtype)
        for name in (f"{p}bias_ih_l{k}", f"{p}bias_hh_l{k}"):  # bias=False modules have neither
            if name in sd:
                bias = _array(name, sd[name], dtype, 1)
                if bias.size != b.size:
                    raise LSTMError(f"{name} must have 4H = {b.size} numbers, got {bias.size}")
                b = _sum_biases(f"{p}bias_ih_l{k} + {p}bias_hh_l{k}", b, bias)
        layers.append((np.hstack([w_hh, w_ih]), b))  # [W_h | W_x]  (4H, H+D_k)
        k += 1
    if not layers:
        raise LSTMError(f"state_dict has no {p}weight_ih_l0: is this an nn.LSTM's state_dict?")
    W_y = b_y = None
    if head_prefix is not None:
        if f"{head_prefix}weight" not in sd:
            raise LSTMError(f"head_prefix {head_prefix!r} given but state_dict has no {head_prefix}weight")
        W_y = _array(f"{head_prefix}weight", sd[f"{head_prefix}weight"], dtype, 2)  # (O, H)
        if f"{head_prefix}bias" in sd:
            b_y = _array(f"{head_prefix}bias", sd[f"{head_prefix}bias"], dtype, 1)
    return stack(layers, W_y, b_y, dtype=dtype)


def to_torch(params: LSTMParams, *, prefix: str = "", head_prefix: str | None = None) -> dict[str, np.ndarray]:
    """A state_dict of NumPy arrays for ``nn.LSTM(D, H, num_layers)``.

    Load it with ``lstm.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})``.
    The whole bias goes into ``bias_ih``; ``bias_hh`` is zeros. The head is
    included, as ``{head_prefix}weight`` and ``{head_prefix}bias``, when
    ``head_prefix`` is given.
    """
    _check_params(params)
    H = params.hidden_size
    sd: dict[str, np.ndarray] = {}
    for k, (W, b) in enumerate(params.layers):
        sd[f"{prefix}weight_ih_l{k}"] = np.array(W[:, H:])  # (4H, D_k)
        sd[f"{prefix}weight_hh_l{k}"] = np.array(W[:, :H])  # (4H, H)
        sd[f"{prefix}bias_ih_l{k}"] = np.array(b)
        sd[f"{prefix}bias_hh_l{k}"] = np.zeros_like(b)
    if head_prefix is not None:
        if params.W_y is None:
            raise LSTMError("head_prefix given but these params have no head (W_y)")
        sd[f"{head_prefix}weight"] = np.array(params.W_y)
        sd[f"{head_prefix}bias"] = np.array(params.b_y)
    return sd


def _check_params(params: Any) -> None:
    if not isinstance(params, LSTMParams):
        raise LSTMError(f"params must be LSTMParams, got {type(params).__name__}")


# ---- Keras -------------------------------------------------------------------
def from_keras(weights: Sequence[Any], *, dtype: Any = None) -> LSTMParams:
    """LSTMParams from ``model.get_weights()`` of LSTM layers, optionally ending in a Dense.

    Each LSTM layer contributes kernel (D, 4H), recurrent_kernel (H, 4H) and,
    unless use_bias=False, bias (4H,); a final Dense contributes kernel (H, O)
    and bias (O,). Keras's default activations are assumed (sigmoid, tanh).
    """
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence) or len(weights) == 0:
        raise LSTMError("weights must be the list from model.get_weights(): kernel, recurrent_kernel, bias, ...")
    ws = [_array(f"weights[{n}]", w, dtype, None) for n, w in enumerate(weights)]
    layers, n = [], 0
    while n + 1 < len(ws) and _keras_lstm_pair(ws[n], ws[n + 1]):
        kernel, recurrent = ws[n], ws[n + 1]  # (D, 4H), (H, 4H)
        n += 2
        b = np.zeros(recurrent.shape[1], recurrent.dtype)
        if n < len(ws) and ws[n].ndim == 1 and ws[n].size == b.size:
            b, n = ws[n], n + 1
        layers.append((np.hstack([recurrent.T, kernel.T]), b))  # i, f, c, o is already our i, f, g, o
    if not layers:
        shapes = ", ".join(shape_str(w.shape) for w in ws[:3])
        raise LSTMError(f"weights must start with an LSTM's kernel (D×4H) and recurrent_kernel (H×4H), got {shapes}")
    rest = ws[n:]
    if len(rest) > 2 or (rest and rest[0].ndim != 2) or (len(rest) == 2 and rest[1].ndim != 1):
        raise LSTMError(
            f"after {len(layers)} LSTM layer(s), weights may end with one Dense (kernel H×O, bias O); "
            f"got {len(rest)} more array(s) of shapes {', '.join(shape_str(w.shape) for w in rest)}"
        )
    W_y = rest[0].T if rest else None  # Dense kernel is (H, O)
    b_y = rest[1] if len(rest) == 2 else None
    return stack(layers, W_y, b_y, dtype=dtype)


def _keras_lstm_pair(kernel: np.ndarray, recurrent: np.ndarray) -> bool:
    return (
        kernel.ndim == 2
        and recurrent.ndim == 2
        and recurrent.shape[1] == 4 * recurrent.shape[0]
        and kernel.shape[1] == recurrent.shape[1]
    )


def to_keras(params: LSTMParams) -> list[np.ndarray]:
    """The list ``model.set_weights()`` takes for Sequential([LSTM, ..., LSTM, Dense]).

    kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,) per layer, then the
    Dense kernel (H, O) and bias (O,) if the params have a head.
    """
    _check_params(params)
    H = params.hidden_size
    out: list[np.ndarray] = []
    for W, b in params.layers:
        out += [np.array(W[:, H:].T), np.array(W[:, :H].T), np.array(b)]
    if params.W_y is not None:
        out += [np.array(params.W_y.T), np.array(params.b_y)]
    return out


# ---- ONNX ----------------------------------------------------------------------
def _onnx_array(name: str, value: Any, dtype: Any, last: tuple[int | None, ...]) -> np.ndarray:
    """An ONNX tensor with a leading num_directions axis that must be 1."""
    a = finite_array(name, value, resolve_dtype(dtype) if dtype is not None else _native(value))
    if a.ndim == len(last):
        a = a[None]
    if a.ndim != len(last) + 1:
        raise LSTMError(f"{name} must have shape [num_directions, ...], got {shape_str(a.shape)}")
    if a.shape[0] == 2:
        raise LSTMError(f"{name} has num_directions=2: bidirectional LSTMs are not supported")
    if a.shape[0] != 1 or any(want is not None and got != want for want, got in zip(last, a.shape[1:], strict=True)):
        want_s = "×".join("?" if w is None else str(w) for w in (1,) + last)
        raise LSTMError(f"{name} must be {want_s}, got {shape_str(a.shape)}")
    return a[0]


def from_onnx(
    W: Any, R: Any, B: Any = None, P: Any = None, *, W_y: Any = None, b_y: Any = None, dtype: Any = None
) -> LSTMParams:
    """LSTMParams from the W, R, B inputs of one ONNX ``LSTM`` node (forward direction).

    W [1, 4H, D], R [1, 4H, H], B [1, 8H] (input and recurrent biases, summed),
    gate order i, o, f, c. Peepholes P are refused unless all zero; the node's
    activations must be ONNX's defaults (sigmoid, tanh, tanh) with no clip.
    """
    r = _onnx_array("R", R, dtype, (None, None))  # (4H, H)
    H = r.shape[1]
    if H == 0 or r.shape[0] != 4 * H:
        raise LSTMError(f"R must be [1, 4H, H], got {shape_str((1,) + r.shape)}")
    w = _onnx_array("W", W, dtype, (4 * H, None))  # (4H, D)
    b = np.zeros(4 * H, r.dtype)
    if B is not None:
        bb = _onnx_array("B", B, dtype, (8 * H,))  # (8H,)
        b = _sum_biases("B's input and recurrent halves", bb[: 4 * H], bb[4 * H :])
    if P is not None and np.any(_onnx_array("P", P, dtype, (3 * H,))):
        raise LSTMError("P (peephole weights) is not zero: LSTMs with peepholes are not supported")
    Wo = np.hstack([_blocks(r, ONNX_ORDER), _blocks(w, ONNX_ORDER)])  # (4H, H+D) in i, f, g, o
    return LSTMParams(Wo, _blocks(b, ONNX_ORDER), W_y, b_y, dtype=dtype)


def to_onnx(params: LSTMParams) -> dict[str, np.ndarray]:
    """W [1, 4H, D], R [1, 4H, H], B [1, 8H] for one ONNX ``LSTM`` node (the head is not part of it)."""
    _check_params(params)
    if params.num_layers > 1:
        raise LSTMError(
            f"an ONNX LSTM node holds one layer and these params have {params.num_layers}: "
            "export each with params.layer(k)"
        )
    H, back = params.hidden_size, _inverse(ONNX_ORDER)
    return {
        "W": _blocks(params.W[:, H:], back)[None],  # (1, 4H, D)
        "R": _blocks(params.W[:, :H], back)[None],  # (1, 4H, H)
        "B": np.concatenate([_blocks(params.b, back), np.zeros_like(params.b)])[None],  # (1, 8H)
    }


# ---- our own .npz ------------------------------------------------------------
def save(params: LSTMParams, path: str | os.PathLike[str]) -> Path:
    """Write params to ``path`` (.npz) atomically: the file is whole or untouched."""
    _check_params(params)
    path = npz_path(path)
    arrays = {"format": np.array(NPZ_FORMAT), **params_arrays(params)}
    atomic_write(path, lambda fh: np.savez(fh, **arrays))  # type: ignore[arg-type]
    return path


def npz_path(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise LSTMError(f"path must be a file name (text or a Path), got {path!r}"[:200])
    return Path(path)


def read_npz(path: str | os.PathLike[str]) -> tuple[Path, dict[str, np.ndarray]]:
    """Every array of an .npz file, refusing missing, hostile (oversized, pickled) or damaged files."""
    path = npz_path(path)
    if path.is_dir():
        raise LSTMError(f"{path}: is a folder, not an .npz file")
    if not path.is_file():
        raise LSTMError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise LSTMError(f"{path}: not an .npz file ({exc})") from None
    if inflated > NPZ_MAX_BYTES:
        raise LSTMError(f"{path}: its arrays would inflate to {inflated / 2**20:.0f} MiB, over the 1 GiB limit")
    try:
        with np.load(path, allow_pickle=False) as z:
            return path, {k: z[k] for k in z.files}
    except Exception as exc:  # damaged members, pickled objects, bad headers
        raise LSTMError(f"{path}: cannot read it as an .npz of arrays ({type(exc).__name__}: {exc})") from None


def params_from_arrays(path: Path, data: dict[str, np.ndarray]) -> LSTMParams:
    """The weights stored as W_0, b_0, ..., W_y, b_y (by save, or inside a trained model's file)."""
    layers, k = [], 0
    while f"W_{k}" in data:
        if f"b_{k}" not in data:
            raise LSTMError(f"{path}: has W_{k} but no b_{k}")
        layers.append((data[f"W_{k}"], data[f"b_{k}"]))
        k += 1
    if not layers:
        raise LSTMError(f"{path}: holds no weights (no W_0 array)")
    try:
        return stack(layers, data.get("W_y"), data.get("b_y"))
    except LSTMError as exc:
        raise LSTMError(f"{path}: {exc}") from None


def params_arrays(params: LSTMParams) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for k, (W, b) in enumerate(params.layers):
        arrays[f"W_{k}"], arrays[f"b_{k}"] = W, b
    if params.W_y is not None:
        arrays["W_y"], arrays["b_y"] = params.W_y, params.b_y  # type: ignore[assignment]
    return arrays


def load(path: str | os.PathLike[str]) -> LSTMParams:
    """Read params written by ``save`` (or the weights of a model saved by ``xl_lstm.forecasting.train.save_model``);
    a missing, foreign, hostile or damaged file is an LSTMError."""
    path, data = read_npz(path)
    if str(data.get("format", "")) not in (NPZ_FORMAT, MODEL_FORMAT):
        raise LSTMError(f"{path}: not an xl_lstm params file (format {str(data.get('format', 'missing'))!r})")
    return params_from_arrays(path, data)
