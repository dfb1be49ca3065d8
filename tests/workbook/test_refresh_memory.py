"""The patcher streams: rewriting a package holds a few chunks and a row, not its sheets.

A refresh once held each sheet whole, its rewritten pieces and their join (925 MiB for a
43 MiB template). Here a generated package of a few MB on disk, with one sheet of several
times that inflated, is rewritten by ``write_package`` with a streamed ``patch_stream``:
tracemalloc's peak must stay under 4x the file's size on disk (the refresh's budget),
which holding the sheet whole (or its pieces) exceeds. Speed is the benchmark's
(benchmarks/bench_refresh.py).
"""

from __future__ import annotations

import io
import random
import tracemalloc
import zipfile
from pathlib import Path

from xl_lstm.workbook.patch import Blocks, Streamed, patch_stream, write_package

SHEET = "xl/worksheets/sheet1.xml"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _package(rows: int, cols: int) -> bytes:
    """A minimal package whose one sheet holds rows x cols cells of random numbers (each
    with a formula), so that it deflates about as badly as a real sheet of numbers."""
    rnd = random.Random(7)
    body = []
    for r in range(1, rows + 1):
        cells = "".join(
            f'<c r="{chr(65 + c)}{r}" s="1"><f>A{r}*{c}</f><v>{rnd.random()!r}</v></c>' for c in range(cols)
        )
        body.append(f'<row r="{r}">{cells}</row>')
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>{"".join(body)}</sheetData></worksheet>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(SHEET, sheet)
    return out.getvalue()


def test_rewriting_a_sheet_holds_chunks_not_the_sheet(tmp_path: Path) -> None:
    data = _package(rows=25_000, cols=8)
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        inflated = src.getinfo(SHEET).file_size
        assert len(data) > 2 << 20 and inflated > 2 * len(data)  # the sheet is big beside the file
        blocks = Blocks()  # a block at the top and one at the bottom: the whole sheet streams through
        blocks.add(2, 2, [[0.5, -1.25]] * 50)
        blocks.add(24_900, 3, [[1e-3]] * 100)

        def make(write):  # type: ignore[no-untyped-def]
            with src.open(SHEET) as fh:
                patch_stream(iter(lambda: fh.read(1 << 18), b""), write, blocks)

        out = tmp_path / "out.xlsx"  # a file, as the refresh writes: the output is not in memory
        tracemalloc.start()
        try:
            with out.open("wb") as fh:
                write_package(src, {SHEET: Streamed(make)}, fh)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 4 * len(data), f"peak {peak / 2**20:.1f} MiB for a {len(data) / 2**20:.1f} MiB package"
    assert peak < inflated / 4  # far below the sheet itself
    with zipfile.ZipFile(out) as z:
        new = z.read(SHEET)
    assert b'<c r="B2" s="1"><f>A2*1</f><v>0.5</v></c>' in new
    assert b'<c r="C24999" s="1"><f>A24999*2</f><v>0.001</v></c>' in new
    assert len(new) > inflated - 200_000  # nothing else went
