"""A workbook read as a table (openpyxl) or refreshed (our reader) is measured before any part is inflated."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import openpyxl
import pytest

from xl_lstm.core import zips
from xl_lstm.core.errors import LSTMError
from xl_lstm.tables.panel import read_panel

CT = '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
REL = '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'


def with_shared_string(path: Path, text: str) -> Path:
    """A small long table (unique_id, ds, y) whose package also holds ``text`` as a shared string."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["unique_id", "ds", "y"])
    for k in range(12):
        ws.append(["a", f"2020-{k + 1:02d}-01", float(k)])
    plain = path.with_suffix(".plain.xlsx")
    wb.save(plain)
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            data = zin.read(info.filename).decode()
            data = data.replace("</Types>", CT + "</Types>").replace("</Relationships>", REL + "</Relationships>")
            z.writestr(info.filename, data if info.filename != "_rels/.rels" else zin.read(info.filename).decode())
        sst = '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        z.writestr("xl/sharedStrings.xml", f"{sst}<si><t>{text}</t></si></sst>")
    return path


def test_a_table_workbook_is_read_when_its_parts_are_within_the_limits(tmp_path: Path) -> None:
    assert len(read_panel(with_shared_string(tmp_path / "ok.xlsx", "hello")).long) == 12


def test_a_shared_string_bomb_is_refused_before_openpyxl_inflates_it(tmp_path: Path) -> None:
    """30 MiB of one letter deflate to ~30 KiB: over 1000x, refused from the zip's directory alone
    (a 400 MiB one from a 400 KB file took openpyxl 938 MiB before this check)."""
    path = with_shared_string(tmp_path / "bomb.xlsx", "x" * (30 << 20))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(
        LSTMError, match=r"^bomb\.xlsx: part xl/sharedStrings\.xml would inflate to 30 MiB .* zip bomb$"
    ):
        read_panel(path)


def test_a_part_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = with_shared_string(tmp_path / "big.xlsx", os.urandom(1 << 20).hex())  # 2 MiB that barely deflate
    monkeypatch.setattr(zips, "MAX_PART_BYTES", 1 << 20)
    with pytest.raises(LSTMError, match=r"^big\.xlsx: part xl/sharedStrings\.xml would inflate to 2 MiB"):
        read_panel(path)


def test_a_part_named_twice_is_refused(tmp_path: Path) -> None:
    path = with_shared_string(tmp_path / "twice.xlsx", "hello")
    with zipfile.ZipFile(path, "a") as z, pytest.warns(UserWarning, match="Duplicate name"):
        z.writestr("xl/sharedStrings.xml", "<sst/>")
    with pytest.raises(LSTMError, match=r"^twice\.xlsx: the package holds part xl/sharedStrings\.xml more than once"):
        read_panel(path)
