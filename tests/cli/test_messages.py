"""What the command says: every error on a line of its own, naming its file; names shown as
they are, one line each; the numbers it suggests taken as shown; outputs checked before any work.

The commands run in this process (``main``), on small inputs: each test takes well under a second.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

from xl_lstm.cli.main import build_parser, main
from xl_lstm.cli.text import printable
from xl_lstm.core.errors import LSTMError
from xl_lstm.template.model import template_model


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def monthly_csv(path: Path, values: list[float]) -> Path:
    months = [f"{2020 + k // 12}-{k % 12 + 1:02d}-01" for k in range(len(values))]
    path.write_text("month,sales\n" + "".join(f"{m},{v}\n" for m, v in zip(months, values, strict=True)))
    return path


# ---- errors name their file ---------------------------------------------------------------------------
def test_a_template_error_of_the_data_names_the_file_and_the_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    flat = monthly_csv(tmp_path / "flat.csv", [7.0] * 30)
    code, _, err = run(capsys, "template", str(tmp_path / "t.xlsx"), "--data", str(flat))
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"xl-lstm: {flat}, column 'sales': the series is constant"), err


# ---- an error starts a line of its own --------------------------------------------------------------
def test_an_error_while_a_bar_is_drawn_starts_a_line_of_its_own(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xl_lstm.runs.batch as batch

    def fails(*args: object, **kwargs: object) -> None:
        raise LSTMError("boom: the run stopped")

    monkeypatch.setattr(batch, "refresh_many", fails)
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    book = tmp_path / "book.xlsx"
    book.write_bytes(b"x")
    assert main(["refresh", str(book)]) == 2
    shown = terminal.getvalue()
    before = shown.split("xl-lstm: boom")[0]
    assert "refresh" in before  # a bar was drawn ...
    assert re.split(r"[\r\n]", before)[-1].strip() == "", repr(shown)  # ... and cleared before the error


# ---- outputs checked before any work ----------------------------------------------------------------
@pytest.mark.parametrize("where", ["missing folder", "a folder"])
def test_a_forecast_output_that_cannot_be_written_is_refused_before_reading(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    data = monthly_csv(tmp_path / "sales.csv", list(np.arange(36.0) % 12 + 10))
    out = tmp_path / "nope" / "f.csv" if where == "missing folder" else tmp_path / "dir.csv"
    if where == "a folder":
        out.mkdir()
    code, stdout, err = run(capsys, "forecast", str(data), "--output", str(out), "--updates", "2")
    assert code == 2 and err.count("\n") == 1 and stdout == "", err  # one line, nothing read, nothing fitted
    assert err.startswith(f"xl-lstm: {out}: ") and ("does not exist" in err or "is a folder" in err), err


# ---- numbers as the messages print them ---------------------------------------------------------------
def test_the_steps_a_message_suggests_are_taken_as_printed() -> None:
    with pytest.raises(LSTMError) as err:
        template_model(hidden=4, series=np.sin(np.arange(40_000) / 5) + 2, train_epochs=0)
    suggested = re.search(r"--steps (\S+)", str(err.value))
    assert suggested is not None, err.value  # 1543 (a count in prose is printed 37,037: both parse)
    args = build_parser().parse_args(["template", "t.xlsx", "--steps", suggested.group(1)])
    assert args.steps == int(suggested.group(1).replace(",", ""))


@pytest.mark.parametrize(("typed", "value"), [("37,037", 37037), ("1,000,000", 1_000_000), ("37_037", 37037)])
def test_counts_take_thousands_separators(typed: str, value: int) -> None:
    assert build_parser().parse_args(["forecast", "d.csv", "--horizon", typed]).horizon == value


@pytest.mark.parametrize("typed", ["37,03", "3,7037", "1,2,3", "12.5", ",123"])
def test_a_comma_that_is_no_thousands_separator_is_refused(capsys: pytest.CaptureFixture[str], typed: str) -> None:
    with pytest.raises(SystemExit) as exit:
        build_parser().parse_args(["template", "t.xlsx", "--steps", typed])
    assert exit.value.code == 2 and "must be a whole number" in capsys.readouterr().err


# ---- names shown as they are, one line each -------------------------------------------------------------
def test_printable_escapes_what_a_terminal_would_act_on_and_nothing_else() -> None:
    assert printable("a\nb\r\x1b[31m\u202ec\t.xlsx") == "a\\nb\\r\\x1b[31m\\u202ec\\t.xlsx"
    assert printable("Umsätze 2024 (ü) — 日本.xlsx") == "Umsätze 2024 (ü) — 日本.xlsx"


def test_a_name_with_a_newline_is_one_line_in_the_errors_and_the_summary(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book = tmp_path / "a\nb\r.xlsx"
    book.write_bytes(b"not a workbook")
    code, out, err = run(capsys, "refresh", str(book))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3 and lines[2] == "0 of 1 refreshed", out  # header, the file's row, the count
    assert lines[1].startswith(printable(str(book)) + " ") and lines[1].endswith("failed")
    errors = [line for line in err.splitlines() if line.startswith("xl-lstm:")]
    assert len(errors) == 1 and len(err.splitlines()) == 1 and "b" in errors[0].split("a", 1)[-1], err  # one line


def test_a_series_id_with_an_escape_is_printed_escaped_in_the_forecast_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = "".join(f"shop\x1b[2J,{2020 + k // 12}-{k % 12 + 1:02d}-01,{10 + k % 12}\n" for k in range(36))
    data = tmp_path / "long.csv"
    data.write_text("unique_id,ds,y\n" + rows)
    code, out, _ = run(capsys, "forecast", str(data), "--horizon", "2", "--updates", "2", "--members", "1", "--quiet")
    assert code == 0 and "\x1b" not in out and "shop\\x1b[2J" in out, out


def test_a_cluster_forecast_of_a_missing_table_is_refused_here_before_connecting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["forecast", "data", "--scheduler", "tcp://127.0.0.1:9", "--output", "parts"]  # nothing listens on 9
    code, _, err = run(capsys, *argv)
    assert code == 2 and err == f"xl-lstm: data: no such file or folder (here, at {tmp_path / 'data'})\n", err


@pytest.mark.parametrize("folder", [False, True])
def test_a_forecast_output_changed_during_the_run_is_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: bool
) -> None:
    """Someone saves the output file while the forecaster trains: their file is kept, ours refused."""
    import xl_lstm.cli.forecast as command

    (tmp_path / "data").mkdir()
    data = monthly_csv(tmp_path / ("data" if folder else "") / "d.csv", [100 + (k % 12) + k / 4 for k in range(48)])
    out = tmp_path / "out.csv"
    out.write_text("old forecasts\n", encoding="utf-8")
    real_bars = command.training_bars

    def bars_while_someone_saves(quiet: bool) -> object:  # the run has begun: the output was seen
        out.write_text("a colleague's edit\n", encoding="utf-8")
        return real_bars(quiet)

    monkeypatch.setattr(command, "training_bars", bars_while_someone_saves)
    source = data.parent if folder else data
    code, _, err = run(
        capsys,
        "forecast",
        str(source),
        "--horizon",
        "2",
        "--updates",
        "3",
        "--members",
        "1",
        "--output",
        str(out),
        "--quiet",
    )
    assert code == 2, err
    assert "changed since it was read" in err and err.count("\n") == 1
    assert out.read_text(encoding="utf-8") == "a colleague's edit\n"
