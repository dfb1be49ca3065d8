"""No output of a run is one of its inputs, whatever its spelling (``core.files.same_file``):
refresh --output, template --data and forecast --output, each refused in one line before any work."""

from __future__ import annotations

import os
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import TEMPLATE
from tests.limited import xl_lstm


def _sales(path: Path) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["month", "sales"])
    for k in range(48):
        ws.append([f"{2020 + k // 12}-{k % 12 + 1:02d}", 100 + k + 10 * (k % 12 == 11)])
    wb.save(path)
    return path.read_bytes()


def _line(stderr: str) -> str:
    (line,) = stderr.splitlines()
    return line


@pytest.mark.slow  # builds templates: seconds
def test_template_refuses_to_write_over_its_data(tmp_path: Path) -> None:
    data = tmp_path / "sales.xlsx"
    before = _sales(data)
    (tmp_path / "alias.xlsx").symlink_to(data)
    for out in (data, tmp_path / "alias.xlsx"):
        proc = xl_lstm("template", str(out), "--data", str(data), "--force")
        assert proc.returncode == 2 and proc.stdout == ""
        assert _line(proc.stderr).startswith(f"xl-lstm: {out}: the template is an input of this run")
    assert data.read_bytes() == before


def test_refresh_refuses_a_copy_written_over_another_source(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "a").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    src, other = tmp_path / "c" / "y.xlsx", out / "y.xlsx"
    src.write_bytes(TEMPLATE.read_bytes())
    other.write_bytes(TEMPLATE.read_bytes())
    (tmp_path / "a" / "link.xlsx").symlink_to(other)
    proc = xl_lstm("refresh", str(src), str(tmp_path / "a" / "link.xlsx"), "--output", str(out))
    assert proc.returncode == 2 and proc.stdout == ""
    assert _line(proc.stderr) == (
        f"xl-lstm: {other}: the refreshed copy of {src} is an input of this run "
        f"({tmp_path / 'a' / 'link.xlsx'}); write it to another file"
    )
    assert other.read_bytes() == TEMPLATE.read_bytes() and src.read_bytes() == TEMPLATE.read_bytes()


def test_forecast_refuses_an_output_hard_linked_to_its_input(tmp_path: Path) -> None:
    table = tmp_path / "sales.csv"
    table.write_text("month,sales\n" + "".join(f"2020-{m:02d},{100 + m}\n" for m in range(1, 13)))
    os.link(table, tmp_path / "out.csv")
    proc = xl_lstm("forecast", str(table), "--horizon", "3", "--output", str(tmp_path / "out.csv"))
    assert proc.returncode == 2 and "is the input table" in _line(proc.stderr)
