"""``xl-lstm forecast``: every input through the one table reader, the output in the input's shape
and dates, the writer by the output's suffix, and an output that is an input refused before any work.

These failed when a one-column CSV, stdin and --column went through a reader of one column
(steps instead of dates, the season from the data, a long table read as one series, dates not
checked, the input overwritten, CSV text in a .parquet).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.limited import xl_lstm

FAST = ["--updates", "5", "--members", "1", "--hidden", "2"]
MONTHS = pd.date_range("2018-01-01", periods=48, freq="MS")


def co2(path: Path) -> Path:
    """month,co2_ppm: four years of a strongly seasonal monthly series, months written 2018-01."""
    k = np.arange(48)
    y = 400 + 0.2 * k + 40 * np.sin(2 * np.pi * k / 12)
    pd.DataFrame({"month": MONTHS.strftime("%Y-%m"), "co2_ppm": y.round(2)}).to_csv(path, index=False)
    return path


def stores(path: Path) -> Path:
    """store,month,sales: 3 stores x 36 months, long."""
    dates = pd.date_range("2020-01-01", periods=36, freq="MS")
    rows = [
        (f"store{s}", d.strftime("%Y-%m-%d"), round(100 + 10 * s + j + 5 * np.sin(2 * np.pi * j / 12), 2))
        for s in range(3)
        for j, d in enumerate(dates)
    ]
    pd.DataFrame(rows, columns=["store", "month", "sales"]).to_csv(path, index=False)
    return path


# ---- 1. a one-column CSV with dates is a table of one series ---------------------------------------
def test_a_one_column_csv_prints_its_dates_and_the_months_season(tmp_path: Path) -> None:
    proc = xl_lstm("forecast", str(co2(tmp_path / "co2_monthly.csv")), *FAST, "--horizon", "3")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert rows[0] == ["month", "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert [r[0] for r in rows[1:]] == ["2022-01-01", "2022-02-01", "2022-03-01"]  # after the last month, 2021-12
    assert f"read {tmp_path / 'co2_monthly.csv'} (wide: 1 series, monthly), 48 values" in proc.stderr
    assert "using column 'co2_ppm'" in proc.stderr
    (chose,) = [line for line in proc.stderr.splitlines() if line.startswith("xl-lstm: chose:")]
    assert "season 12 for 1" in chose, chose  # the months' season, not one found in the data


def test_pretrained_forecasts_with_the_shipped_members_and_says_so(tmp_path: Path) -> None:
    proc = xl_lstm("forecast", str(co2(tmp_path / "co2_monthly.csv")), "--pretrained", "--horizon", "3")
    assert proc.returncode == 0, proc.stderr
    (chose,) = [line for line in proc.stderr.splitlines() if line.startswith("xl-lstm: chose:")]
    assert "3 pretrained LSTMs H=16" in chose, chose
    mean = np.array([float(r.split()[1]) for r in proc.stdout.splitlines()[1:]])
    k = np.arange(48, 51)
    np.testing.assert_allclose(mean, 400 + 0.2 * k + 40 * np.sin(2 * np.pi * k / 12), rtol=0.02)  # the wave goes on
    refused = xl_lstm("forecast", str(tmp_path / "co2_monthly.csv"), "--pretrained", "--hidden", "8")
    assert refused.returncode != 0 and "leave out --pretrained" in refused.stderr
    both = xl_lstm("forecast", str(tmp_path / "co2_monthly.csv"), "--pretrained", "--updates", "50")
    assert both.returncode != 0 and "--updates sets the training, and --pretrained trains nothing" in both.stderr
    assert len(both.stderr.strip().splitlines()) == 1, both.stderr


def test_stdin_and_a_headerless_file_are_numbered_by_steps(tmp_path: Path) -> None:
    numbers = "\n".join(f"{100 + 10 * np.sin(k / 2):.3f}" for k in range(30)) + "\n"
    piped = xl_lstm("forecast", "-", *FAST, "--horizon", "2", stdin=numbers)
    assert piped.returncode == 0, piped.stderr
    assert [r.split()[0] for r in piped.stdout.splitlines()] == ["step", "31", "32"]
    (tmp_path / "n.csv").write_text(numbers)
    filed = xl_lstm("forecast", str(tmp_path / "n.csv"), *FAST, "--horizon", "2")
    assert filed.returncode == 0 and filed.stdout == piped.stdout, filed.stderr  # the same numbers
    table = "month,sales\n" + "\n".join(f"{d:%Y-%m-%d},{v}" for d, v in zip(MONTHS, numbers.split(), strict=False))
    with_header = xl_lstm("forecast", "-", *FAST, "--horizon", "2", stdin=table)  # a CSV with a header on stdin
    assert with_header.returncode == 0, with_header.stderr
    assert [r.split()[0] for r in with_header.stdout.splitlines()] == ["month", "2020-07-01", "2020-08-01"]


# ---- 2. a long table is many series, whatever its names ---------------------------------------------
def test_a_long_table_of_three_stores_is_three_series(tmp_path: Path) -> None:
    data = stores(tmp_path / "sales.csv")
    proc = xl_lstm("forecast", str(data), *FAST, "--horizon", "2")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert rows[0] == ["store", "month", "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert [r[:2] for r in rows[1:]] == [[f"store{s}", d] for s in range(3) for d in ("2023-01-01", "2023-02-01")]
    assert "(long: 3 series, monthly), 108 values" in proc.stderr
    assert "chose: 3 series" in proc.stderr


def test_column_picks_one_series_of_a_wide_table(tmp_path: Path) -> None:
    wide = pd.DataFrame(
        {"month": MONTHS.strftime("%Y-%m-%d"), "a": (np.arange(48.0) + 50).astype(object), "b": 3 * np.arange(48.0) + 9}
    )
    wide.loc[5, "a"] = "oops"  # a bad cell in the column not chosen is not read
    wide.to_csv(tmp_path / "w.csv", index=False)
    proc = xl_lstm("forecast", str(tmp_path / "w.csv"), "--column", "b", *FAST, "--horizon", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split() == ["month", "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert "using column 'b'" in proc.stderr


# ---- 3. dates checked on every path: order, duplicates, gaps ------------------------------------------
@pytest.mark.parametrize(
    "change, words",
    [
        (lambda d: d.iloc[::-1], ["comes before", "the dates of a wide table must increase"]),
        (lambda d: d.assign(month=d["month"].where(d.index != 7, d["month"].iloc[6])), ["line 9", "repeats"]),
        (lambda d: d.drop(index=10), ["2018-12", "follows", "2018-10", "add the missing rows"]),
    ],
    ids=["newest-first", "duplicate", "gap"],
)
def test_dates_newest_first_duplicated_or_with_gaps_are_refused_in_one_line(
    tmp_path: Path, change: object, words: list[str]
) -> None:
    data = co2(tmp_path / "d.csv")
    changed = change(pd.read_csv(data, dtype=str))  # type: ignore[operator]
    changed.to_csv(data, index=False)
    proc = xl_lstm("forecast", str(data), *FAST)
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"xl-lstm: {data}: ") and all(w in line for w in words), line


# ---- 4. the output: never an input, written as its suffix says -----------------------------------------
@pytest.mark.parametrize("kind", ["one-column", "long", "column", "folder"])
def test_an_output_that_is_an_input_is_refused_before_any_work(tmp_path: Path, kind: str) -> None:
    if kind == "folder":
        (tmp_path / "tables").mkdir()
        data = stores(tmp_path / "tables" / "sales.csv")
        args, out = [str(data.parent)], data
    else:
        data = co2(tmp_path / "sales.csv") if kind != "long" else stores(tmp_path / "sales.csv")
        args, out = [str(data), *(["--column", "co2_ppm"] if kind == "column" else [])], data
    before = data.read_bytes()
    proc = xl_lstm("forecast", *args, "--output", str(out), *FAST)
    assert proc.returncode == 2 and proc.stdout == "" and data.read_bytes() == before
    (line,) = proc.stderr.splitlines()  # before any work: nothing read, no bar, no "chose"
    assert line.startswith(f"xl-lstm: {out}: is ") and ("input table" in line or "inside the folder" in line), line


def test_a_link_to_the_input_is_the_input(tmp_path: Path) -> None:
    data = co2(tmp_path / "sales.csv")
    (tmp_path / "alias.csv").symlink_to(data)
    proc = xl_lstm("forecast", str(data), "--output", str(tmp_path / "alias.csv"), *FAST)
    assert proc.returncode == 2 and "is the input table" in proc.stderr


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx", ".csv"])
def test_the_writer_follows_the_suffix(tmp_path: Path, suffix: str) -> None:
    data, out = co2(tmp_path / "co2.csv"), tmp_path / f"f{suffix}"
    proc = xl_lstm("forecast", str(data), *FAST, "--horizon", "3", "--output", str(out), "--quiet")
    assert proc.returncode == 0 and proc.stdout == f"wrote {out}: 3 forecasts of 1 series\n", proc.stderr
    magic = {".parquet": b"PAR1", ".xlsx": b"PK\x03\x04", ".csv": b"month,"}[suffix]
    assert out.read_bytes().startswith(magic)
    back = (
        pd.read_parquet(out)
        if suffix == ".parquet"
        else pd.read_excel(out, engine="openpyxl")
        if suffix == ".xlsx"
        else pd.read_csv(out, parse_dates=["month"])
    )
    assert list(back.columns) == ["month", "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert list(back["month"]) == list(pd.date_range("2022-01-01", periods=3, freq="MS"))  # real dates


def test_an_output_suffix_no_writer_takes_is_refused_before_any_work(tmp_path: Path) -> None:
    proc = xl_lstm("forecast", str(co2(tmp_path / "co2.csv")), "--output", str(tmp_path / "f.txt"), *FAST)
    assert (
        proc.returncode == 2
        and proc.stderr == f"xl-lstm: {tmp_path / 'f.txt'}: forecasts are written as .csv, .parquet, .xlsx (got .txt)\n"
    )
