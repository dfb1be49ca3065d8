"""Your own series from a file: every row a step, the dates' frequency found, refusals in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xl_lstm.core.errors import LSTMError
from xl_lstm.tables.series_file import hold_out, read_series


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "freq, first, period, season, horizon",
    [
        ("MS", "2001-01", "month", 12, 12),
        ("QS", "2001Q1", "quarter", 4, 8),
        ("YS", "2001", "year", 1, 6),
        ("W-SUN", "2001-01-07", "week", 52, 13),
        ("D", "2001-01-01", "day", 7, 14),
        ("h", "2001-01-01 00:00", "hour", 24, 48),
    ],
)
def test_the_dates_frequency_sets_labels_season_and_hold_out(
    tmp_path: Path, freq: str, first: str, period: str, season: int, horizon: int
) -> None:
    dates = pd.date_range("2001-01-01", periods=200, freq=freq)
    body = "when,amount\n" + "".join(f"{d.isoformat()},{k % 7 + 0.5}\n" for k, d in enumerate(dates))
    s = read_series(write(tmp_path, "d.csv", body))
    assert (s.name, s.labels[0], s.frequency.period) == ("amount", first, period)
    assert hold_out(s.frequency, len(s.values)) == (season, horizon)
    assert len(s.labels) == len(s.values) == 200


def test_semicolons_with_decimal_commas_and_an_excel_file_read_the_same(tmp_path: Path) -> None:
    dates = pd.date_range("2010-01-01", periods=30, freq="QS")
    values = np.round(np.linspace(1.25, 40.5, 30), 2)
    semi = write(
        tmp_path,
        "q.csv",
        "quarter;sales\n"
        + "".join(f"{d.date()};{str(v).replace('.', ',')}\n" for d, v in zip(dates, values, strict=True)),
    )
    pd.DataFrame({"quarter": dates, "sales": values}).to_excel(tmp_path / "q.xlsx", index=False)
    a, b = read_series(semi), read_series(tmp_path / "q.xlsx")
    np.testing.assert_array_equal(a.values, values)
    np.testing.assert_array_equal(b.values, values)
    assert a.labels == b.labels and a.labels[:2] == ["2010Q1", "2010Q2"]
    assert "semicolon-separated, decimal commas" in a.source and "quarterly" in b.source


def test_no_dates_and_irregular_dates_keep_every_row(tmp_path: Path) -> None:
    plain = read_series(write(tmp_path, "p.csv", "y\n" + "\n".join(str(v) for v in range(1, 21)) + "\n"))
    assert plain.labels[:3] == ["1", "2", "3"] and plain.frequency.period == "step"
    odd = read_series(write(tmp_path, "o.csv", "day,y\n2020-01-01,1\n2020-01-02,2\n2020-01-09,3\n2020-02-11,4\n"))
    assert (
        odd.labels == ["2020-01-01", "2020-01-02", "2020-01-09", "2020-02-11"] and "no regular frequency" in odd.source
    )


@pytest.mark.parametrize(
    "name, text, options, message",
    [
        ("gap.csv", "m,y\n2020-01,1\n2020-02,\n2020-03,3\n", {}, "line 3 holds a gap"),
        ("blank.csv", "m,y\n2020-01,1\n\n2020-03,3\n", {}, "line 3 is blank"),
        ("marker.csv", "m,y\n2020-01,1\n2020-02,n/a\n2020-03,3\n", {}, "'n/a', a missing-value marker"),
        (
            "nodate.csv",
            "m,y\n2020-01,1\nsoon,2\n2020-03,3\n",
            {"dates": "m"},
            "column 'm', row 3 holds 'soon', not a date",
        ),
        ("back.csv", "m,y\n2020-03,1\n2020-02,2\n2020-01,3\n", {}, "the dates in 'm' must increase"),
        ("col.csv", "m,y\n2020-01,1\n", {"column": "z"}, "no column 'z'"),
        (
            "same.csv",
            "m,y\n2020-01,1\n2020-02,2\n",
            {"column": "y", "dates": "y"},
            "cannot be both the dates and the numbers",
        ),
        ("x.json", "{}", {}, "give a .csv or .xlsx file"),
    ],
)
def test_refusals_name_the_file_and_the_row(tmp_path: Path, name: str, text: str, options: dict, message: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(LSTMError, match=message) as caught:
        read_series(path, **options)
    assert str(path) in str(caught.value) or path.name in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(LSTMError, match="does not exist"):
        read_series(tmp_path / "none.csv")
    with pytest.raises(LSTMError, match="does not exist"):
        read_series(tmp_path / "none.xlsx")


@pytest.mark.parametrize(
    "freq, code",
    [("QS-OCT", "QS-JAN"), ("QS-JAN", "QS-JAN"), ("QS-NOV", "QS-FEB"), ("QE-MAR", "QE-DEC"), ("QE-DEC", "QE-DEC")],
)
def test_a_quarterly_frequency_has_one_name_under_every_pandas(freq: str, code: str) -> None:
    """pandas 2 calls quarters from January 'QS-OCT', pandas 3 'QS-JAN': we say one name for each."""
    import pandas as pd

    from xl_lstm.tables.series_file import frequency_code

    assert frequency_code(pd.date_range("2001-01-01", periods=6, freq=freq)) == code
