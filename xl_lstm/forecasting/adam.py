"""Adam with gradient-norm clipping, over the four weight arrays of an LSTM with a head."""

from __future__ import annotations

import numpy as np

from ..lstm.params import LSTMParams


class Adam:
    """Adam's moments for arrays of the given shapes; ``step`` returns the updated arrays."""

    def __init__(
        self, shapes: list[tuple[int, ...]], lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ):
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.m = [np.zeros(s) for s in shapes]
        self.v = [np.zeros(s) for s in shapes]
        self.t = 0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> list[np.ndarray]:
        self.t += 1
        out = []
        for k, (p, g) in enumerate(zip(params, grads, strict=True)):
            self.m[k] = self.b1 * self.m[k] + (1 - self.b1) * g
            self.v[k] = self.b2 * self.v[k] + (1 - self.b2) * g * g
            m_hat = self.m[k] / (1 - self.b1**self.t)
            v_hat = self.v[k] / (1 - self.b2**self.t)
            out.append(p - self.lr * m_hat / (np.sqrt(v_hat) + self.eps))
        return out


def clip_norm(grads: list[np.ndarray], max_norm: float) -> list[np.ndarray]:
    norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads)))
    return grads if norm <= max_norm or norm == 0 else [g * (max_norm / norm) for g in grads]


def params_of(arrays: list[np.ndarray]) -> LSTMParams:
    W, b, W_y, b_y = arrays
    return LSTMParams(W, b, W_y, b_y)
