"""Series ids as the table holds them: bytes decoded as UTF-8 (or refused), and a number and a text
that read the same (1 and "1") refused as ambiguous, naming both cells, instead of merged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.conftest import need
from xl_lstm.core.errors import LSTMError
from xl_lstm.tables.panel import panel_from_frame, read_panel

MONTHS = pd.date_range("2021-01-01", periods=4, freq="MS")


def _long(ids: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": pd.Series([i for i in ids for _ in MONTHS], dtype=object),
            "ds": np.tile(MONTHS, len(ids)),
            "y": np.arange(4.0 * len(ids)),
        }
    )


def test_parquet_byte_string_ids_are_decoded_as_utf8(tmp_path: Path) -> None:
    """The reproduction: a Parquet binary column gave the series "b'a'"."""
    pa = need("pyarrow")
    import pyarrow.parquet as pq

    frame = _long([b"a", "café".encode()])
    table = pa.table(
        {"unique_id": pa.array(frame["unique_id"].tolist(), pa.binary()), "ds": frame["ds"], "y": frame["y"]}
    )
    pq.write_table(table, tmp_path / "ids.parquet")
    panel = read_panel(tmp_path / "ids.parquet")
    assert panel.id_order == ["a", "café"] and set(panel.long["unique_id"]) == {"a", "café"}


def test_ids_of_bytes_that_are_not_utf8_are_refused_naming_the_cell() -> None:
    with pytest.raises(
        LSTMError,
        match=r"^the table: index 4, column 'unique_id' holds a series id of bytes that are not UTF-8 text \(b'\\xff\\xfe'\)",
    ):
        panel_from_frame(_long([b"a", b"\xff\xfe"]))


def test_a_number_and_a_text_that_read_the_same_are_refused_naming_both_cells(tmp_path: Path) -> None:
    """The reproduction: id 1 (a number) and "1" (text) were merged into one series of 8 values."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["unique_id", "ds", "y"])
    for k, (uid, ds) in enumerate([(1, m) for m in MONTHS] + [("1", m) for m in MONTHS]):
        ws.append([uid, ds.to_pydatetime(), float(k)])
    wb.save(tmp_path / "ids.xlsx")
    with pytest.raises(
        LSTMError,
        match=r"^ids\.xlsx: series id '1' is a number in cell A2 and text in cell A6; they would be merged into one "
        r"series: make the id column all text or all numbers",
    ):
        read_panel(tmp_path / "ids.xlsx")
    with pytest.raises(
        LSTMError, match=r"series id '1' is a number in index 0, column 'unique_id' and text in index 4"
    ):
        panel_from_frame(_long([1, "1"]))


def test_numbers_and_texts_that_differ_stay_distinct_series() -> None:
    panel = panel_from_frame(_long([1, "a", 2.5, " b "]))
    assert panel.id_order == ["1", "a", "2.5", "b"]
    assert panel_from_frame(_long([1, 2])).id_order == ["1", "2"]  # all numbers: nothing to confuse
