"""One panel in many files: what goes wrong across files is said by the files' names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xl_lstm.runs.panel_files import check_long, plan_files, read_file, table_files


def two_files(folder: Path) -> Path:
    """Series a and b, their first 30 months in one file and the rest (from month 30: one month twice) in another."""
    folder.mkdir()
    dates = pd.date_range("2020-01-01", periods=48, freq="MS")
    df = pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": dates, "y": range(10, 58)}) for k in ("a", "b")], ignore_index=True
    )
    df[df["ds"] < dates[30]].to_csv(folder / "early.csv", index=False)
    late = df[df["ds"] >= dates[29]]
    late[(late["unique_id"] == "a") | (late["ds"] >= dates[30])].to_csv(folder / "late.csv", index=False)
    return folder


def test_a_date_twice_across_files_names_both_files_and_the_date(tmp_path: Path) -> None:
    folder = two_files(tmp_path / "data")
    files = [str(f) for f in table_files(folder)]
    reads = [read_file(f, files) for f in files]
    plan = plan_files([r.summary() for r in reads], str(folder))
    long = pd.concat([r.long for r in reads], ignore_index=True)
    panel, refused = check_long(long, plan.ids, plan.code, plan.source)
    assert list(refused) == ["a"] and panel is not None and panel.id_order == ["b"]  # b goes on
    line = refused["a"]
    assert line == (
        f"{folder}: series 'a' has two rows for 2022-06-01, in both {files[0]} and {files[1]}; "
        "keep one (a series may span files, but each date once)"
    )
    assert "index" not in line


def test_each_row_keeps_its_file_in_a_byte_or_two(tmp_path: Path) -> None:
    folder = two_files(tmp_path / "data")
    files = [str(f) for f in table_files(folder)]
    long = pd.concat([read_file(f, files).long for f in files], ignore_index=True)
    assert isinstance(long["file"].dtype, pd.CategoricalDtype)  # kept through the concatenation
    assert long["file"].cat.codes.dtype.itemsize == 1
    assert list(long["file"].value_counts().sort_index()) == [60, 37]
