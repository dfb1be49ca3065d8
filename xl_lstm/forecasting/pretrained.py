"""The forecaster's pretrained members: K LSTMs trained once, on many competition series, and
shipped as data (``xl_lstm/data/pretrained_members.json``). With ``AutoConfig(start="pretrained")``
a fit trains nothing: validation only chooses φ and Theta's weight and measures the errors.

Why it can work: the LSTM reads u, the scaled changes of a series' deseasonalised (log)
values, the same kind of numbers for any series, so a model that has seen a thousand series
can forecast a new one. On the development sets, with each set's own series left out of the
pretraining in turn, the members scored MASE 1.077 on M1 monthly, 1.609 on M1 quarterly, 3.438
on M1 yearly and 1.072 on M3 quarterly, and 1.039 on the ten series they never saw: ahead of
AutoETS and AutoTheta on every set, in a tenth of the time or less (docs/benchmarks.md).
It is not the default: trained on the series, the forecaster is better where windows are
many (M1 monthly 1.056), and a clean straight line, whose changes the members carry on
within 1 % (the synthetic lines teach that), gets an 80 % band too narrow to hold it.

The recipe (``RECIPE``) is the one place for how the members were made; the file records it,
and ``benchmarks/pretrain_forecaster.py`` remakes the file with it. Training is deterministic
for one machine and BLAS build only, so the weights are data, like the template's.
"""

from __future__ import annotations

import functools
import json
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import LSTMError
from ..lstm.params import LSTMParams
from .members import TRAIN_DTYPE, train_members, windows

__all__ = [
    "PRETRAINED",
    "RECIPE",
    "Recipe",
    "check_fits",
    "lines",
    "load_pretrained",
    "members_record",
    "pretrain",
    "store_pretrained",
]

PRETRAINED = Path(__file__).parents[1] / "data" / "pretrained_members.json"


@dataclass(frozen=True)
class Recipe:
    """How the shipped members were trained (members.train_members' settings, AutoConfig's names).

    sources   the series trained on: every series of these development sets, less its test
              part and then less its last ``horizon`` values (what fit_auto's validation holds
              out), so that no development set's validation or test value was seen
    """

    sources: tuple[str, ...] = ("M1 monthly", "M1 quarterly", "M1 yearly", "M3 quarterly")
    hidden: int = 16
    window: int = 24
    updates: int = 3000
    batch: int = 128
    lr: float = 0.01
    clip: float = 1.0
    losses: tuple[str, ...] = ("squared", "absolute")
    seeds: tuple[int, ...] = (0, 1, 2)
    lines: int = 100  # synthetic straight lines of each direction added to the sources (``lines``)
    line_length: int = 48

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


RECIPE = Recipe()


def pretrain(
    inputs: Sequence[np.ndarray],
    recipe: Recipe = RECIPE,
    report: Callable[[int, int, np.ndarray], None] | None = None,
) -> tuple[LSTMParams, ...]:
    """Train ``len(recipe.seeds)`` members side by side on the series' inputs u (each (n-1,),
    ``SeriesPrep.inputs``): windows of ``recipe.window`` steps, ``recipe.updates`` Adam steps in
    float32, as fit_auto trains, with ``lines(recipe)`` added. ``report(epoch, epochs, losses (K,))``
    after each epoch."""
    groups = windows([*inputs, *lines(recipe)], recipe.window)
    if not groups:
        raise LSTMError("no series is long enough to pretrain on")
    return train_members(
        groups, recipe, list(recipe.seeds), report or (lambda *_: None), TRAIN_DTYPE, updates=recipe.updates
    )


def check_fits(hidden: int, members: int) -> None:
    """One line when the shipped members cannot be ``members`` LSTMs of ``hidden`` units."""
    if hidden != RECIPE.hidden or members > len(RECIPE.seeds):
        raise LSTMError(
            f"the pretrained members are {len(RECIPE.seeds)} LSTMs of H={RECIPE.hidden}: members={members}, "
            f"hidden={hidden} need them trained here (start='scratch'; on the command line, leave out --pretrained)"
        )


def lines(recipe: Recipe = RECIPE) -> list[np.ndarray]:
    """``recipe.lines`` rising and as many falling straight lines, as u: all 1 or all -1 (a line's
    changes are equal, so scaled by their size). Real series rarely hold a steady trend for long;
    without these the members carried a line's changes on up to half short (docs/benchmarks.md)."""
    return [np.full(recipe.line_length, sign) for sign in (1.0, -1.0) for _ in range(recipe.lines)]


def members_record(members: Sequence[LSTMParams]) -> list[dict[str, Any]]:
    """Members as JSON's lists (W, b, W_y, b_y each), as the shipped model files keep them."""
    return [
        {"W": p.W.tolist(), "b": p.b.tolist(), "W_y": np.asarray(p.W_y).tolist(), "b_y": np.asarray(p.b_y).tolist()}
        for p in members
    ]


def store_pretrained(
    members: Sequence[LSTMParams], recipe: Recipe, about: Mapping[str, Any], path: Path = PRETRAINED
) -> Path:
    """Write the members with their recipe, what they were trained on (``about``) and the machine."""
    from ..core.files import write_record  # a maintainer's step: not loaded with the forecaster

    record = {
        "about": "The forecaster's pretrained members (xl_lstm/forecasting/pretrained.py); "
        "rewrite with python benchmarks/pretrain_forecaster.py",
        "recipe": recipe.as_dict(),
        "trained_on": dict(about),
        "members": members_record(members),
        "made_with": {"numpy": np.__version__, "machine": platform.machine(), "python": platform.python_version()},
    }
    write_record(path, record)
    load_pretrained.cache_clear()
    return path


@functools.lru_cache(maxsize=1)
def load_pretrained(path: Path = PRETRAINED) -> tuple[LSTMParams, ...]:
    """The shipped members, each checked against the recipe's shapes (H, one input, one output)."""
    H = RECIPE.hidden
    shapes = {"W": (4 * H, H + 1), "b": (4 * H,), "W_y": (1, H), "b_y": (1,)}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        arrays = [{k: np.array(m[k], dtype=np.float64) for k in shapes} for m in data["members"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LSTMError(f"{path}: the pretrained members cannot be read ({exc}); reinstall xl_lstm") from exc
    for k, m in enumerate(arrays):
        if any(m[n].shape != shape or not np.all(np.isfinite(m[n])) for n, shape in shapes.items()):
            raise LSTMError(f"{path}: member {k} is not a finite LSTM of H={H} with one input and output")
    if len(arrays) != len(RECIPE.seeds):
        raise LSTMError(f"{path}: holds {len(arrays)} members, the recipe makes {len(RECIPE.seeds)}")
    members = tuple(LSTMParams(m["W"], m["b"], m["W_y"], m["b_y"]) for m in arrays)
    return members
