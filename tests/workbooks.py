"""Comparing workbooks made on different machines.

A workbook's data (weights, series, labels, formulas, styles, charts) is the same on
every machine, byte for byte. The numbers the engine computes from it and stores as
cached values (states, forecasts, metrics) may differ in the last digits between
machines: another BLAS kernel sums a matrix product in another order, and numpy's
SIMD exp and tanh round differently with and without AVX-512 (measured: 1e-14
relative on the template's states). ``assert_same_workbook`` holds both facts: every
byte equal except the stored values of the refreshed blocks' cells, which must agree
to ``rtol``.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import openpyxl

from xl_lstm.workbook import xlsx
from xl_lstm.workbook.contract import OUTPUT_NAMES
from xl_lstm.workbook.forecaster_book import AUTO_INPUT_NAMES

# a <c> element with an r= reference and content (not self-closing), and its <v> inside
_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+[0-9]+)"[^>]*(?<!/)>.*?</(?:\w+:)?c>', re.S)
_VALUE = re.compile(rb"(<(?:\w+:)?v>)([^<]*)(</(?:\w+:)?v>)")


def zip_members(data: bytes) -> dict[str, bytes]:
    """Every member of an xlsx by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def target_cells(path: Path | io.BytesIO) -> dict[str, set[str]]:
    """Sheet -> cell names of every output block, from the defined names (read by openpyxl):
    the LSTM's and, in a template of one series, the forecaster's."""
    wb = openpyxl.load_workbook(path, read_only=False)
    out: dict[str, set[str]] = {}
    forecaster = [n for n in wb.defined_names if n.startswith("auto_") and n not in AUTO_INPUT_NAMES]
    for name in (*OUTPUT_NAMES, *forecaster):
        if name not in wb.defined_names:
            continue
        ((sheet, ref),) = wb.defined_names[name].destinations
        rows = wb[sheet][ref.replace("$", "")]
        rows = rows if isinstance(rows, tuple) else ((rows,),)
        out.setdefault(sheet, set()).update(c.coordinate for row in rows for c in row)
    return out


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> its zip part."""
    with xlsx.Book(path) as book:
        return dict(book.sheets)


def _computed(xml: bytes, cells: set[str]) -> tuple[bytes, dict[str, float]]:
    """The sheet with the stored values of ``cells`` blanked out, and those values."""
    found: dict[str, float] = {}

    def blank(m: re.Match[bytes]) -> bytes:
        ref = m.group(1).decode()
        if ref not in cells:
            return m.group(0)
        v = _VALUE.search(m.group(0))
        if v is None:
            return m.group(0)
        try:
            found[ref] = float(v.group(2))
        except ValueError:  # text (a metric's name): compared as bytes
            return m.group(0)
        return m.group(0)[: v.start(2)] + b"?" + m.group(0)[v.end(2) :]

    return _CELL.sub(blank, xml), found


def assert_same_workbook(got: bytes, want: bytes, rtol: float = 1e-12, atol: float = 1e-14) -> int:
    """Same parts, same bytes, but for the refreshed blocks' stored numbers, which agree to rtol.

    Returns how many stored numbers differ at all (0 on the machine that made ``want``).
    """
    a, b = zip_members(got), zip_members(want)
    assert sorted(a) == sorted(b), "the package's parts differ"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "want.xlsx"
        path.write_bytes(want)
        targets = target_cells(path)
        parts = {part: sheet for sheet, part in sheet_parts(path).items()}
    differing = 0
    for name in b:
        if a[name] == b[name]:
            continue
        assert name in parts and parts[name] in targets, f"{name} differs and holds no computed block"
        xa, va = _computed(a[name], targets[parts[name]])
        xb, vb = _computed(b[name], targets[parts[name]])
        assert xa == xb, f"{name} differs outside the computed blocks' stored values"
        assert va.keys() == vb.keys(), f"{name}: other cells hold numbers"
        refs = sorted(va)
        x, y = np.array([va[r] for r in refs]), np.array([vb[r] for r in refs])
        close = np.isclose(x, y, rtol=rtol, atol=atol)
        bad = [f"{parts[name]}!{r}: {va[r]!r} vs {vb[r]!r}" for r, ok in zip(refs, close, strict=True) if not ok]
        assert not bad, f"{len(bad)} stored numbers differ by more than rtol={rtol}, e.g. {bad[:3]}"
        differing += int(np.sum(x != y))
    return differing
