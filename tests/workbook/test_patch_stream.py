"""patch_stream keeps only a window of the sheet: wherever the chunks split the XML (inside
a tag, a formula, a comment), the result is the same bytes as patching the sheet whole."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from xl_lstm.workbook.patch import patch_sheet, patch_stream

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CASES = {
    "rows, formulas, comments, a new row and cells": (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><dimension ref="A1:B3"/><sheetData>'
        '<row r="1" spans="1:2"><c r="A1" s="2"><f>B1*2</f><v>4</v></c><!-- a <c> in a comment -->'
        '<c r="B1" t="s"><v>0</v></c></row><row r="3"><c r="A3"/></row></sheetData>'
        '<mergeCells count="1"><mergeCell ref="A5:B5"/></mergeCells></worksheet>',
        {(1, 1): 0.5, (1, 3): "x<y", (2, 2): 7.0, (3, 1): -1.0, (9, 4): 2.0},
    ),
    "an empty sheetData opened up": (
        f'<worksheet xmlns="{NS}"><dimension ref="A1"/><sheetData/><pageMargins left="0.7"/></worksheet>',
        {(2, 2): 1.0, (4, 1): "#N/A"},
    ),
    "a prefixed sheet without r attributes": (
        f'<x:worksheet xmlns:x="{NS}"><x:sheetData><x:row><x:c><x:v>1</x:v></x:c><x:c/></x:row>'
        "<x:row><x:c><x:f>A1</x:f><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>",
        {(1, 2): 3.0, (2, 1): 4.0, (3, 3): 5.0},
    ),
}


PAD = "<!--" + "pad " * 1100 + "-->"  # past the first 4 KiB, which the encoding check gathers


def _split(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("size", [1, 2, 7, 64])
@pytest.mark.parametrize("keep", [True, False])
def test_any_chunking_gives_the_bytes_of_a_whole_patch(case: str, size: int, keep: bool) -> None:
    xml, values = CASES[case]
    data = (
        (PAD + xml).encode()
        if xml.startswith("<w") or xml.startswith("<x")
        else xml.replace("?>", "?>" + PAD, 1).encode()
    )
    whole = patch_sheet(data, values, keep_formulas=keep)
    assert whole != data
    out: list[bytes] = []
    patch_stream(_split(data, size), out.append, values, keep_formulas=keep)
    assert b"".join(out) == whole
