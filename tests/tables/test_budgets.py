"""A table's size is measured on its content, line by line, before a line is split into fields."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.conftest import need
from tests.limited import xl_lstm
from xl_lstm.core import limits
from xl_lstm.core.errors import LSTMError
from xl_lstm.tables import csv_column, sources
from xl_lstm.tables.csv_column import read_cells, read_numbers
from xl_lstm.tables.panel import read_panel, read_panel_text
from xl_lstm.tables.series_file import read_series


def _wide_third_line(commas: int) -> str:
    """A long table whose third line holds ``commas`` separators: its header says three columns."""
    return "unique_id,ds,y\na,2024-01-01,1\na,2024-02-01" + "," * commas + "\na,2024-03-01,3\n"


def test_a_wide_line_past_the_header_is_refused_at_that_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_CELLS", 1000)
    text = _wide_third_line(5000)
    with pytest.raises(LSTMError) as info:
        read_panel_text(text, source="w.csv")
    message = str(info.value)
    assert message.startswith("w.csv: line 3 takes the table to ") and "(this line has 5,002 fields)" in message
    assert "1,000 cells" in message and "\n" not in message


def test_every_csv_reader_measures_the_text_before_splitting_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_CELLS", 1000)
    monkeypatch.setattr(limits, "MAX_ROWS", 50)
    with pytest.raises(LSTMError, match=r"^c\.csv: line 4 takes the table to "):
        read_cells("c.csv", "# a comment\n" + _wide_third_line(5000))  # line numbers count the comment
    long = tmp_path / "long.csv"
    long.write_text("y\n" + "1\n" * 60)
    with pytest.raises(LSTMError, match=r"long\.csv: line 52 takes the table to 51 rows, over the limit of 50 rows"):
        read_series(long)


def test_a_table_within_the_budget_reads_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_CELLS", 12)  # header 3 + three rows of 3 cells: exactly 12
    panel = read_panel_text("unique_id,ds,y\na,2024-01-01,1\na,2024-02-01,2\na,2024-03-01,3\n", source="ok.csv")
    assert panel.long["y"].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.slow
def test_a_100_m_comma_line_is_refused_in_one_line_within_1_gb(tmp_path: Path) -> None:
    """The issue's file (150 M commas; now over the text limit, so 100 M here) under 1 GiB of
    address space: one line, exit 2, no MemoryError (which the header-only budget gave)."""
    path = tmp_path / "wide.csv"
    path.write_text(_wide_third_line(100_000_000))
    proc = xl_lstm("forecast", str(path), "--horizon", "1", memory=1 << 30)
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "line 3 takes the table to 100,000,0" in lines[0], proc.stderr[-2000:]


@pytest.mark.parametrize("text", [",", "; \n", ",\r\n\r\n"])
def test_a_header_of_blank_names_alone_is_refused_in_one_line(text: str) -> None:
    """Read one row at a time, a blank header line stays the header (it was dropped as a trailing blank: IndexError)."""
    for read in (read_numbers, lambda s, t: read_panel_text(t, source=s)):
        with pytest.raises(LSTMError, match=r"^b\.csv: "):
            read("b.csv", text)


def test_the_first_problem_in_line_order_is_the_one_named() -> None:
    """Rows are read one at a time: a short row at line 2 is named before a broken quote at line 4."""
    with pytest.raises(LSTMError, match=r"^q\.csv: line 2 has 1 fields, the header 2"):
        read_panel_text('d,y\n1\n2,3\n3,"4\n', source="q.csv")


def test_text_that_takes_too_much_memory_is_refused_naming_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """A character beyond U+FFFF makes Python keep every character in 4 bytes: the text's memory is measured."""
    monkeypatch.setattr(csv_column, "MAX_BYTES", 4000)
    ascii_text = "d,y\n" + "".join(f"{k},1\n" for k in range(300))  # ~2.3 KB as text
    assert len(read_panel_text(ascii_text, source="a.csv").long) == 300
    with pytest.raises(LSTMError, match=r"^e\.csv: its text takes .* beyond U\+FFFF .*over the limit of 0 MiB"):
        read_panel_text(ascii_text.replace("d,y", "d,\U0001f600"), source="e.csv")


def test_a_parquet_file_of_little_bytes_and_much_data_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """6,000 ids of 20,000 characters: 100 KB on disk, 115 MiB of data, GBs as Python strings."""
    pa = need("pyarrow")
    pq = need("pyarrow.parquet")
    n = 6000
    table = pa.table({"unique_id": ["x" * 20_000 + str(i) for i in range(n)], "ds": range(n), "y": [1.0] * n})
    pq.write_table(table, tmp_path / "b.parquet", compression="zstd", use_dictionary=False)
    assert (tmp_path / "b.parquet").stat().st_size < 1 << 20
    with pytest.raises(LSTMError, match=r"^b\.parquet: holds 114 MiB of data uncompressed, over the limit of 64 MiB"):
        read_panel(tmp_path / "b.parquet")


def test_a_series_workbook_is_measured_while_its_rows_come(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``template --data book.xlsx`` read every row of the first sheet before any budget: now its stated
    size is checked before any row is read, and its rows counted as they come (tables.sources.sheet_rows)."""
    openpyxl = need("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["month", "sales", "note"])
    for k in range(40):
        ws.append([f"{2020 + k // 12}-{k % 12 + 1:02d}-01", k, "x"])
    wb.save(tmp_path / "s.xlsx")
    assert len(read_series(tmp_path / "s.xlsx", column="sales").values) == 40
    monkeypatch.setattr(sources, "MAX_CELLS", 60)  # the one reader of sheets (tables.sources.sheet_rows)
    with pytest.raises(LSTMError, match=r"^s\.xlsx: .* is over the limit of .* and 60 cells"):
        read_series(tmp_path / "s.xlsx", column="sales")


def test_stdin_is_read_no_further_than_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """An endless pipe costs at most the limit: the read stops there and refuses, in one line."""
    monkeypatch.setattr(csv_column, "MAX_BYTES", 1000)

    class Endless(io.RawIOBase):
        asked: list[int] = []

        def read(self, n: int = -1) -> bytes:
            assert n != -1, "stdin read whole"
            self.asked.append(n)
            return (b"1\n" * n)[:n]

    stream = Endless()
    with pytest.raises(LSTMError, match=r"^stdin: more than 0 MiB of CSV"):
        csv_column.read_stdin(stream)  # type: ignore[arg-type]
    assert stream.asked == [1001]
    assert csv_column.read_stdin(io.BytesIO(b"y\n1\n2\n")) == "y\n1\n2\n"
