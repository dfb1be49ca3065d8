"""xl-lstm forecast's CSV reading against hostile and careless files, through the real CLI.

Every case runs ``python -m xl_lstm forecast`` in a subprocess with a timeout and memory and
CPU limits. A file is either read exactly (the column and the count named on stderr, the
same forecast as the plainly written equivalent) or refused in one line naming the file,
what is wrong and the line. No row is dropped silently.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.limited import xl_lstm
from xl_lstm.tables.csv_column import read_numbers

Y = 100 + 10 * np.sin(np.arange(30) / 2) + np.arange(30) * 0.25  # a plain series, (30,)
FAST = ["--updates", "3", "--horizon", "2", "--hidden", "2", "--members", "1"]


def cli(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return xl_lstm("forecast", *argv, stdin=stdin)


def plain(sep: str = ",", decimal: str = ".") -> str:
    months = [f"{1950 + k // 12}-{k % 12 + 1:02d}" for k in range(len(Y))]  # 1950-01 .. 1952-06
    rows = [f"{m}{sep}{f'{v:.2f}'.replace('.', decimal)}" for m, v in zip(months, Y, strict=True)]
    return "\n".join([f"month{sep}sales", *rows]) + "\n"


def forecast_table(tmp_path: Path, text: str, *args: str) -> tuple[str, str]:
    """(stdout, the 'using column' line) of a forecast that must succeed."""
    data = tmp_path / "d.csv"
    data.write_text(text, encoding="utf-8")
    proc = cli(str(data), *FAST, *args)
    assert proc.returncode == 0, proc.stderr
    (note,) = [line for line in proc.stderr.splitlines() if line.startswith("xl-lstm: using column")]
    return proc.stdout, note


def refusal(tmp_path: Path, data: bytes | str, *args: str) -> str:
    path = tmp_path / "d.csv"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    proc = cli(str(path), *FAST, *args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"xl-lstm: {path}: "), line
    return line


# ---- read exactly ---------------------------------------------------------------------------
def test_the_column_used_is_named(tmp_path: Path) -> None:
    _, note = forecast_table(tmp_path, plain())
    assert note == f"xl-lstm: using column 'sales' of {tmp_path / 'd.csv'} (30 values; comma-separated)"


def test_a_row_whose_label_starts_with_hash_is_data(tmp_path: Path) -> None:
    """Below the header a row starting with # is a row, not a comment: here its date '#5' is refused by line."""
    line = refusal(tmp_path, plain().replace("1950-05,", "#5,", 1))
    assert line.endswith(
        "line 6, column 'month' holds '#5', not a date; fix it (the column 'month' holds the dates of every series)"
    )


def test_semicolons_and_decimal_commas_are_read_and_said(tmp_path: Path) -> None:
    out, note = forecast_table(tmp_path, plain(";", ","))
    assert note.endswith("(30 values; semicolon-separated, decimal commas)")
    assert out == forecast_table(tmp_path, plain())[0]  # the same numbers as the plain file


def test_tabs_are_read(tmp_path: Path) -> None:
    out, note = forecast_table(tmp_path, plain("\t"))
    assert note.endswith("(30 values; tab-separated)") and out == forecast_table(tmp_path, plain())[0]


def test_a_file_without_a_header_keeps_its_first_row(tmp_path: Path) -> None:
    _, note = forecast_table(tmp_path, "\n".join(f"{v:.2f}" for v in Y) + "\n")
    assert note.endswith("(30 values; comma-separated, no header line)")


def test_comment_lines_above_the_header_are_skipped_and_said(tmp_path: Path) -> None:
    _, note = forecast_table(tmp_path, "# source: somewhere\n# units: thousands\n" + plain())
    assert note.endswith("(30 values; comma-separated, 2 comment lines above the header skipped)")


def test_trailing_blank_lines_and_a_bom_are_harmless(tmp_path: Path) -> None:
    out, note = forecast_table(tmp_path, "\ufeff" + plain() + "\n\n  \n")
    assert "'sales'" in note and "(30 values;" in note and out == forecast_table(tmp_path, plain())[0]


def test_stdin_one_number_per_line(tmp_path: Path) -> None:
    proc = cli("-", *FAST, stdin="\n".join(f"{v:.2f}" for v in Y) + "\n")
    assert proc.returncode == 0 and "using column '1' of stdin (30 values;" in proc.stderr, proc.stderr


# ---- refused in one line ------------------------------------------------------------------------
@pytest.mark.parametrize("marker", ["n/a", "NA", "-", "NaN", "null", "#N/A"])
def test_missing_value_markers_are_named(tmp_path: Path, marker: str) -> None:
    lines = plain().splitlines()
    lines[7] = f"1950-07,{marker}"
    line = refusal(tmp_path, "\n".join(lines))
    assert (
        f"series 'sales' at 1950-07-01, line 8, column 'sales' holds {marker!r}, a missing-value marker, not a number; "
        "fix it" in line
    )


def test_an_empty_cell_is_a_gap(tmp_path: Path) -> None:
    lines = plain().splitlines()
    lines[4] = "1950-04,"
    assert "series 'sales' has a gap at 1950-04-01 (line 5, column 'sales' is empty) inside the series; fill it" in (
        refusal(tmp_path, "\n".join(lines))
    )


def test_a_blank_line_inside_the_data_is_a_gap(tmp_path: Path) -> None:
    lines = plain().splitlines()
    lines.insert(6, "")
    assert refusal(tmp_path, "\n".join(lines)).endswith("line 7 is blank; every row must hold data (fill or remove it)")


def test_decimal_commas_in_a_comma_separated_file_are_refused(tmp_path: Path) -> None:
    line = refusal(tmp_path, plain(",", ","))
    assert "line 2 has 3 fields, the header 2 (is ',' also a decimal comma?)" in line


def test_a_column_mixing_decimal_points_and_commas_is_refused(tmp_path: Path) -> None:
    lines = plain(";", ",").splitlines()
    lines[3] = "1950-03;1.5"
    assert "line 2, column 'sales' holds text '100,00', not a number; fix it" in refusal(tmp_path, "\n".join(lines))


@pytest.mark.parametrize("cell", ['"1,234.5"', "1_000", "inf", "0x10", "12 kg"])
def test_numbers_python_or_pandas_would_guess_are_refused(tmp_path: Path, cell: str) -> None:
    lines = plain().splitlines()
    lines[3] = f"1950-03,{cell}"
    assert " line 4, column 'sales' holds text " in refusal(tmp_path, "\n".join(lines))


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "is empty"),
        (b"PK\x03\x04" + bytes(200), "is a workbook, not CSV"),
        ("month,sales\n1,caf\xe9\n".encode("latin-1"), "is not UTF-8 text"),
        (b"month,sales\n", "holds a header but no rows"),
        (b'month,sales\n1,"12\n', "cannot read it as CSV"),
    ],
)
def test_files_that_are_not_csv_columns(tmp_path: Path, data: bytes, message: str) -> None:
    assert message in refusal(tmp_path, data)


def test_a_missing_file_and_a_missing_column(tmp_path: Path) -> None:
    proc = cli(str(tmp_path / "nope.csv"), *FAST)
    assert proc.returncode == 2 and proc.stderr == f"xl-lstm: {tmp_path / 'nope.csv'}: does not exist\n"
    assert "no column 'z' for the values (--column); columns are 'month', 'sales'" in refusal(
        tmp_path, plain(), "--column", "z"
    )


def test_stdin_with_a_gap_is_refused(tmp_path: Path) -> None:
    proc = cli("-", *FAST, stdin="1\n2\n\n3\n" + "\n".join(map(str, range(4, 30))))
    assert (
        proc.returncode == 2
        and proc.stderr == "xl-lstm: stdin: line 3 is blank; every row must hold data (fill or remove it)\n"
    )


# ---- the reader alone: exact values --------------------------------------------------------------
def test_decimal_comma_values_are_exact() -> None:
    col = read_numbers("x", "a;b\n1;1,25\n2;-0,5\n3;3\n")
    assert col.name == "b" and col.values.tolist() == [1.25, -0.5, 3.0]


def test_the_default_column_is_the_last_holding_a_number() -> None:
    col = read_numbers("x", "month,sales,note\n1949-01,112,ok\n1949-02,118,fine\n")
    assert col.name == "sales" and col.values.tolist() == [112.0, 118.0]
