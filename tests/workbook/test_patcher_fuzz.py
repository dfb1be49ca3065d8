"""Fuzz the byte-offset patcher against independent readers.

Hypothesis draws a worksheet (rows and cells with and without ``r=``, with or without a namespace prefix, numbers, shared
strings, formulas with cached values, inline strings, booleans, styled empty cells,
comments between cells) and blocks of values to write. After ``patch_sheet`` and
``write_package``: openpyxl and python-calamine read the intended values in the target
cells and the old values everywhere else; every untouched cell's XML, every byte outside
the target cells, and every other part of the package is unchanged.

The test reads the generated XML back with its own small reader (regular expressions are
fine here: the generator never puts markup inside comments or text).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import openpyxl
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import need
from xl_lstm.workbook.patch import Blocks, patch_sheet, write_package
from xl_lstm.workbook.xlsx import cell_name, column_index

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRINGS = ["alpha", "b & c", "γ <δ>"]
SHEET = "xl/worksheets/sheet1.xml"

PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/></Relationships>'
    ),
    "xl/sharedStrings.xml": (
        f'<sst xmlns="{MAIN}" count="3" uniqueCount="3">'
        + "".join(
            f"<si><t>{s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</t></si>" for s in STRINGS
        )
        + "</sst>"
    ),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
        '<cellXfs count="2"><xf/><xf/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    ),
}


# ---- generating a sheet ------------------------------------------------------------------------
@dataclass(frozen=True)
class Original:
    xml: bytes
    rows: set[int]  # the rows the sheet has
    cells: dict[tuple[int, int], bytes]  # position -> the cell's exact XML
    values: dict[tuple[int, int], object]  # position -> what a reader sees (None: empty)


KINDS = ["number", "shared", "formula", "formula text", "inline", "bool", "styled empty"]


def cell_xml(kind: str, ref: str, k: int) -> tuple[str, object]:
    """A cell's XML (``ref`` is ' r="B3"' or '') and the value a reader sees."""
    number = k * 1.25 - 3
    if kind == "number":
        return f"<c{ref}><v>{number!r}</v></c>", number
    if kind == "shared":
        return f'<c{ref} t="s" s="1"><v>{k % 3}</v></c>', STRINGS[k % 3]
    if kind == "formula":
        return f"<c{ref}><f>1+1</f><v>{number!r}</v></c>", number
    if kind == "formula text":
        return f'<c{ref} t="str"><f>"x"&amp;"y"</f><v>xy</v></c>', "xy"
    if kind == "inline":
        return f'<c{ref} t="inlineStr"><is><t>note {k}</t></is></c>', f"note {k}"
    if kind == "bool":
        return f'<c{ref} t="b"><v>1</v></c>', True
    return f'<c{ref} s="1"/>', None


@st.composite
def sheets(draw: st.DrawFn) -> Original:
    rows = sorted(draw(st.sets(st.integers(1, 9), max_size=6)))
    parts, cells, values = [], {}, {}
    out = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}"><sheetData>'
    last_row, k = 0, 0
    for r in rows:
        row_ref = f' r="{r}"' if r != last_row + 1 or draw(st.booleans()) else ""
        spans = ' spans="1:4"' if draw(st.booleans()) else ""
        cols = sorted(draw(st.sets(st.integers(1, 7), max_size=5)))
        body, last_col = "", 0
        for c in cols:
            ref = f' r="{cell_name(r, c)}"' if c != last_col + 1 or draw(st.booleans()) else ""
            xml, value = cell_xml(draw(st.sampled_from(KINDS)), ref, k)
            k += 1
            gap = draw(st.sampled_from(["", " ", "<!-- a note -->"]))
            body += gap + xml
            cells[(r, c)], values[(r, c)] = xml.encode(), value
            last_col = c
        out += f"<row{row_ref}{spans}>{body}</row>" if body or draw(st.booleans()) else f"<row{row_ref}{spans}/>"
        last_row = r
    parts.append(
        out
        + '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    )
    xml = "".join(parts).encode()
    if draw(st.booleans()):  # the same sheet with every element prefixed: <x:row>, <x:c>, ...
        xml, cells = prefixed(xml), {pos: prefixed(c) for pos, c in cells.items()}
    return Original(xml, set(rows), cells, values)


def prefixed(xml: bytes) -> bytes:
    xml = xml.replace(f'xmlns="{MAIN}"'.encode(), f'xmlns:x="{MAIN}"'.encode())
    return re.sub(rb"<(/?)(worksheet|sheetData|row|c|f|v|is|t|pageMargins)\b", rb"<\1x:\2", xml)


values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(alphabet="ab <&>é", min_size=1, max_size=6).filter(lambda s: not s.startswith("#") and s.strip() == s),
    st.none(),
)


@st.composite
def blocks(draw: st.DrawFn) -> list[tuple[int, int, list[list[object]]]]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        r0, c0 = draw(st.integers(1, 11)), draw(st.integers(1, 9))
        h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        out.append((r0, c0, [[draw(values) for _ in range(w)] for _ in range(h)]))
    return out


# ---- reading it back, independently --------------------------------------------------------------
ROW = re.compile(rb"<(?:x:)?row\b([^>]*?)(?:/>|>(.*?)</(?:x:)?row>)", re.S)
CELL = re.compile(rb"<(?:x:)?c\b([^>]*?)(?:/>|>.*?</(?:x:)?c>)", re.S)
R_ATTR = re.compile(rb'\br="([A-Z]*)(\d+)"')


def cell_spans(xml: bytes) -> dict[tuple[int, int], tuple[int, int]]:
    """Position -> byte span of every <c>, with implicit positions (rows and cells without r=)."""
    out, r = {}, 0
    for row in ROW.finditer(xml):
        m = R_ATTR.search(row.group(1))
        r = int(m.group(2)) if m else r + 1
        c = 0
        if row.group(2) is None:
            continue
        base = row.start(2)
        for cell in CELL.finditer(row.group(2)):
            m = R_ATTR.search(cell.group(1))
            c = column_index(m.group(1).decode()) if m else c + 1
            out[(r, c)] = (base + cell.start(), base + cell.end())
    return out


def without(xml: bytes, positions: set[tuple[int, int]], rows: set[int]) -> bytes:
    """The XML with the cells at ``positions`` cut out, then rows not in ``rows`` that are left
    empty, and spans attributes; empty rows written <row/>."""
    spans = sorted(span for pos, span in cell_spans(xml).items() if pos in positions)
    kept, at = [], 0
    for a, b in spans:
        kept.append(xml[at:a])
        at = b
    kept.append(xml[at:])
    out = re.sub(rb' spans="[^"]*"', b"", b"".join(kept))
    out = re.sub(rb"<((?:x:)?)row([^>]*)></(?:x:)?row>", rb"<\1row\2/>", out)
    return re.sub(rb'<(?:x:)?row r="(\d+)"/>', lambda m: m.group(0) if int(m.group(1)) in rows else b"", out)


def package(sheet: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in PARTS.items():
            zf.writestr(name, text)
        zf.writestr(SHEET, sheet)
    return out.getvalue()


def openpyxl_values(data: bytes) -> dict[tuple[int, int], object]:
    ws = openpyxl.load_workbook(io.BytesIO(data), data_only=True)["S"]
    return {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}


def calamine_values(data: bytes) -> dict[tuple[int, int], object]:
    calamine = need("python_calamine")
    sheet = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("S")
    rows = sheet.to_python(skip_empty_area=False)
    return {(i, j): v for i, row in enumerate(rows, 1) for j, v in enumerate(row, 1) if v != ""}


def same(a: object, b: object) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, int | float) and a == float(b))


# ---- the property ----------------------------------------------------------------------------------
@given(sheets(), blocks(), st.booleans())
def test_patched_cells_read_back_and_nothing_else_changes(original: Original, drawn: list, keep: bool) -> None:  # type: ignore[type-arg]
    need("python_calamine")
    todo = Blocks()
    written: dict[tuple[int, int], object] = {}
    for r0, c0, rows in drawn:
        todo.add(r0, c0, rows)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is not None:
                    written[(r0 + i, c0 + j)] = v  # a later block wins, as in Blocks.row

    src = package(original.xml)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zf:
        write_package(zf, {SHEET: lambda: patch_sheet(zf.read(SHEET), todo, keep_formulas=keep)}, out)
    new = out.getvalue()

    with zipfile.ZipFile(io.BytesIO(src)) as a, zipfile.ZipFile(io.BytesIO(new)) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name != SHEET:
                assert a.read(name) == b.read(name), name
        patched = b.read(SHEET)

    # bytes: untouched cells as they were; outside the target cells, nothing changed
    spans = cell_spans(patched)
    assert list(spans) == sorted(spans), "cells or rows out of order"  # OOXML: rows go down, cells go right
    for pos, xml in original.cells.items():
        if pos not in written:
            assert patched[slice(*spans[pos])] == xml, cell_name(*pos)
    assert without(patched, set(written), original.rows) == without(original.xml, set(written), original.rows)

    # values, by two readers that are not ours
    expected = {pos: v for pos, v in original.values.items() if v is not None and pos not in written}
    expected.update(written)
    for reader in (openpyxl_values, calamine_values):
        got = reader(new)
        assert set(got) == set(expected), (reader.__name__, sorted(set(got) ^ set(expected)))
        for pos, v in expected.items():
            assert same(v, got[pos]), (reader.__name__, cell_name(*pos), v, got[pos])
