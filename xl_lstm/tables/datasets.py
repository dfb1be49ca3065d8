"""Example data that ships inside the package, so the main job runs offline."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_airpassengers"]


def load_airpassengers() -> pd.Series:
    """Monthly international airline passengers (thousands), 1949-01 to 1960-12: 144 values.

    Box & Jenkins' series G, public domain; identical to the copy in pmdarima.
    """
    with resources.files("xl_lstm").joinpath("data/airpassengers.csv").open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, comment="#")
    index = pd.PeriodIndex(frame["month"], freq="M")
    return pd.Series(frame["passengers"].to_numpy(dtype=float), index=index, name="passengers")
