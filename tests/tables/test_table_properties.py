"""Properties of the table readers and writers, over tables hypothesis draws.

Whatever ids, dates and values a user's table holds, a table we write (``table_writer``: .csv,
.parquet, .xlsx) reads back (``read_panel``) as the same series: every id exactly as it was
(text that looks like a formula, a number or a date included), every date, every value to the
bit (.xlsx: to openpyxl's 16 significant digits, '%.16g'), no row lost or added. And no .xlsx we write from data holds a formula: the ids and
headers are data, never ``<f>`` elements.

The readers and writers are ours; the files are read back by our reader and, for the no-formula
property, by the zip's own XML, so a writer that turned text into a formula, or a reader that
dropped, merged or renamed a series, fails here.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import need
from xl_lstm.tables.panel import read_panel
from xl_lstm.tables.writers import table_writer

# Ids: printable text with the characters that make trouble in spreadsheets and CSV (formula
# starts, quotes, separators, non-ASCII), never blank and without surrounding spaces (a reader
# may rightly trim those), never starting with a quote (CSV's escape).
ID_CHARS = st.sampled_from(list("abcXYZ019 =+-@,;\"'()%éλ中\t"))
# An id may not be a name the long layout takes (unique_id, ds, y, in any case): a wide table with a
# series named y is refused as a long one without ids (tests/tables/test_panel.py).
RESERVED = {"unique_id", "ds", "y", "month"}
IDS = st.text(ID_CHARS, min_size=1, max_size=12).filter(
    lambda s: s == s.strip() and s[0] not in "\"'" and s.casefold() not in RESERVED
)
VALUES = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def long_tables(draw: st.DrawFn) -> pd.DataFrame:
    """unique_id, ds, y: 1-4 monthly series of 8-30 values each, sorted by id and date."""
    ids = draw(st.lists(IDS, min_size=1, max_size=4, unique_by=lambda s: s.casefold()))
    start = pd.Timestamp(year=draw(st.integers(1950, 2020)), month=draw(st.integers(1, 12)), day=1)
    frames = []
    for uid in ids:
        n = draw(st.integers(8, 30))
        ys = draw(st.lists(VALUES, min_size=n, max_size=n))
        frames.append(pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, periods=n, freq="MS"), "y": ys}))
    return pd.concat(frames, ignore_index=True)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    return out.assign(unique_id=out["unique_id"].astype(object), ds=pd.to_datetime(out["ds"]).astype("datetime64[ns]"))


def _write(frame: pd.DataFrame, path: Path) -> None:
    with open(path, "wb") as fh:
        table_writer(path, frame)(fh)


def _same_values(got: pd.Series, want: pd.Series, suffix: str) -> None:
    """Bit for bit from .csv and .parquet; from .xlsx to the 16 significant digits openpyxl writes ('%.16g')."""
    a, b = got.to_numpy(dtype=np.float64), want.to_numpy(dtype=np.float64)
    if suffix == ".xlsx":
        np.testing.assert_allclose(a, b, rtol=1e-15, atol=0)
    else:
        assert a.tobytes() == b.tobytes()


def _formulas(path: Path) -> list[str]:
    """Every <f> element in the .xlsx's worksheets."""
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        return [f for n in sheets for f in re.findall(rb"<(?:\w+:)?f[ >].*?</(?:\w+:)?f>", z.read(n))]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
@settings(max_examples=25, deadline=None)
@given(table=long_tables())
def test_a_long_table_we_write_reads_back_exactly(
    tmp_path_factory: pytest.TempPathFactory, suffix: str, table: pd.DataFrame
) -> None:
    if suffix == ".parquet":
        need("pyarrow")
    path = tmp_path_factory.mktemp("t") / f"panel{suffix}"
    _write(table, path)
    if suffix == ".xlsx":
        assert _formulas(path) == []
    panel = read_panel(path)
    assert panel.shape == "long"
    got = _sorted(panel.long[["unique_id", "ds", "y"]])
    want = _sorted(table)
    assert got["unique_id"].tolist() == want["unique_id"].tolist()
    assert (got["ds"].to_numpy() == want["ds"].to_numpy()).all()
    _same_values(got["y"], want["y"], suffix)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@settings(max_examples=25, deadline=None)
@given(table=long_tables())
def test_a_wide_table_we_write_reads_back_exactly(
    tmp_path_factory: pytest.TempPathFactory, suffix: str, table: pd.DataFrame
) -> None:
    wide = table.pivot(index="ds", columns="unique_id", values="y").reset_index()  # ds, then a column per id
    wide.columns = ["month", *[str(c) for c in wide.columns[1:]]]
    path = tmp_path_factory.mktemp("t") / f"wide{suffix}"
    _write(wide, path)
    if suffix == ".xlsx":
        assert _formulas(path) == []
    if wide.iloc[:, 1:].isna().all(axis=None):  # pragma: no cover - every series holds >= 8 values
        return
    panel = read_panel(path)
    assert panel.shape == "wide"
    assert sorted(panel.id_order) == sorted(str(c) for c in wide.columns[1:])
    got = _sorted(panel.long[["unique_id", "ds", "y"]]).dropna(subset=["y"]).reset_index(drop=True)
    want = _sorted(table)
    assert got["unique_id"].tolist() == want["unique_id"].tolist()
    assert (got["ds"].to_numpy() == want["ds"].to_numpy()).all()
    _same_values(got["y"], want["y"], suffix)
