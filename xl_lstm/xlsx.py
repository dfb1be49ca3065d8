"""Reading and patching .xlsx files without a round trip through a spreadsheet library.

A refresh must lose nothing: pictures, shapes, sparklines, Excel-2010 extensions,
comments, macros, cached values of other formulas, dynamic-array metadata. So we
never rebuild a workbook: every zip member we do not change is copied as it is, and
inside a changed worksheet only the ``<c>`` elements of the cells we write change;
every other byte of that XML stays where it was.

Hostile files are refused before they can cost much: too many members, members that
inflate past a limit or by an absurd ratio, XML with a DOCTYPE (entity bombs),
encrypted workbooks (an OLE container, not a zip), and damaged zips.
"""

from __future__ import annotations

import html
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import LSTMError

__all__ = ["Blocks", "Book", "CellRange", "Cell", "parse_range", "cell_name", "MAX_PART_BYTES", "MAX_TOTAL_BYTES"]

MAX_MEMBERS = 10_000
MAX_PART_BYTES = 256 << 20  # one XML part inflated
MAX_TOTAL_BYTES = 1 << 30  # the whole package inflated
MAX_RATIO = 1000  # inflated / compressed for one member: zip bombs go far beyond
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # encrypted xlsx and legacy .xls
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


# ---- cell references ------------------------------------------------------------
def column_index(letters: str) -> int:
    """'A' -> 1, 'AB' -> 28."""
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def column_letters(index: int) -> str:
    """1 -> 'A', 28 -> 'AB'."""
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def cell_name(row: int, col: int) -> str:
    return f"{column_letters(col)}{row}"


_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})")


@dataclass(frozen=True)
class CellRange:
    """A rectangle of cells on one sheet, 1-based and inclusive."""

    sheet: str
    r0: int
    c0: int
    r1: int
    c1: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.r1 - self.r0 + 1, self.c1 - self.c0 + 1

    def cells(self) -> list[tuple[int, int]]:
        return [(r, c) for r in range(self.r0, self.r1 + 1) for c in range(self.c0, self.c1 + 1)]

    def __str__(self) -> str:
        a, b = cell_name(self.r0, self.c0), cell_name(self.r1, self.c1)
        return f"{self.sheet}!{a}" if a == b else f"{self.sheet}!{a}:{b}"


def parse_range(text: str) -> CellRange:
    """"'States (formulas)'!$C$5:$Z$148" -> CellRange; one area only."""
    if "!" not in text:
        raise LSTMError(f"a range must name its sheet (Sheet!A1:B2), got {text!r}")
    sheet, _, area = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    parts = area.split(":")
    refs = [_REF.fullmatch(p) for p in parts]
    if not 1 <= len(parts) <= 2 or not all(refs):
        raise LSTMError(f"not a single rectangular range: {text!r}")
    (c0, r0), (c1, r1) = [(column_index(m.group(1)), int(m.group(2))) for m in refs if m] * (2 // len(parts))
    return CellRange(sheet, min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1))


# ---- what a cell holds -------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One cell as read from the sheet XML: its type attribute, value text and formula."""

    t: str | None  # None/"n" number, "s" shared string, "str" formula text, "inlineStr", "b", "e"
    v: str | None  # the <v> text (a number, a string index, an error code), or None
    formula: bool

    def number(self) -> float | None:
        """The cell as a float, or None when it is not a number (see describe)."""
        if self.t in (None, "n") and self.v not in (None, ""):
            try:
                return float(self.v)  # type: ignore[arg-type]
            except ValueError:
                return None
        return None

    def describe(self, strings: list[str]) -> str:
        if self.v in (None, "") and self.t != "inlineStr":
            return "is empty" if not self.formula else "is a formula with no stored value"
        if self.t == "s":
            try:
                return f"holds text {strings[int(self.v)][:40]!r}"  # type: ignore[arg-type]
            except (ValueError, IndexError):
                return "holds text"
        if self.t in ("str", "inlineStr"):
            return "holds text"
        if self.t == "b":
            return f"holds {'TRUE' if self.v == '1' else 'FALSE'}, not a number"
        if self.t == "e":
            return f"holds the error {self.v}"
        return f"holds {self.v!r}, not a number"


_ATTR = re.compile(r'([\w:]+)\s*=\s*("[^"]*"|\'[^\']*\')')
# Element patterns: the content is matched as "no '<' unless it does not start the end tag"
# (an unrolled loop), several times faster than a lazy .*? on sheets of many megabytes.
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(/>|>([^<]*(?:<(?!/(?:\w+:)?c>)[^<]*)*)</(?:\w+:)?c>)")
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*?)(/>|>([^<]*(?:<(?!/(?:\w+:)?row>)[^<]*)*)</(?:\w+:)?row>)")
_SHEET_DATA_OPEN = re.compile(rb"<((?:\w+:)?)sheetData\b[^>]*?(/?)>")
_V = re.compile(rb"<(?:\w+:)?v\b[^>]*>(.*?)</(?:\w+:)?v>|<(?:\w+:)?v\b[^>]*/>", re.S)
_F = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>.*?</(?:\w+:)?f>)", re.S)


def _sheet_data(xml: bytes) -> tuple[bytes, int, int] | None:
    """(namespace prefix, start, end) of the sheetData content, start == end for <sheetData/>; None if absent."""
    m = _SHEET_DATA_OPEN.search(xml)
    if m is None:
        return None
    if m.group(2):  # <sheetData/>
        return m.group(1), m.end(), -1
    end = xml.find(b"</" + m.group(1) + b"sheetData>", m.end())
    if end < 0:
        raise LSTMError("the worksheet's sheetData is not closed")
    return m.group(1), m.end(), end


def _attrs(raw: bytes) -> dict[str, str]:
    return {k: v[1:-1] for k, v in _ATTR.findall(raw.decode("utf-8"))}


def _read_cell(attrs: bytes, body: bytes | None) -> Cell:
    a = _attrs(attrs)
    v = None
    formula = False
    if body:
        m = _V.search(body)
        if m is not None:
            v = html.unescape((m.group(1) or b"").decode("utf-8"))
        formula = _F.search(body) is not None
    return Cell(a.get("t"), v, formula)


# ---- the package ----------------------------------------------------------------------
class Book:
    """An .xlsx package opened for reading, with size and content checks."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            head = self.path.open("rb").read(8)
        except IsADirectoryError:
            raise LSTMError(f"{self.path}: is a folder, not a workbook") from None
        except FileNotFoundError:
            raise LSTMError(f"{self.path}: no such file") from None
        except PermissionError:
            raise LSTMError(f"{self.path}: no permission to read it") from None
        if head == OLE_MAGIC:
            raise LSTMError(f"{self.path}: encrypted (password-protected) or a legacy .xls, not an .xlsx workbook")
        try:
            self.zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise LSTMError(f"{self.path}: not an .xlsx workbook (not a zip package: {exc})") from None
        self._check_sizes()
        self._cache: dict[str, bytes] = {}
        self.sheets = self._sheet_parts()  # sheet name -> part name
        self.names = self._defined_names()  # defined name -> range text
        self._strings: list[str] | None = None

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_sizes(self) -> None:
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise LSTMError(f"{self.path}: {len(infos)} parts in the package, over the limit of {MAX_MEMBERS}")
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > MAX_PART_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1024):
                raise LSTMError(
                    f"{self.path}: part {info.filename} would inflate to {info.file_size / 2**20:.0f} MiB "
                    f"from {info.compress_size / 2**10:.0f} KiB: refused as a zip bomb"
                )
        if total > MAX_TOTAL_BYTES:
            raise LSTMError(f"{self.path}: its parts would inflate to {total / 2**20:.0f} MiB, over the 1 GiB limit")
        if "[Content_Types].xml" not in self.zip.namelist() or "xl/workbook.xml" not in self.zip.namelist():
            raise LSTMError(f"{self.path}: not an .xlsx workbook (no xl/workbook.xml in the package)")

    def read(self, name: str) -> bytes:
        """A member's bytes, read with a hard size bound; XML with a DOCTYPE is refused."""
        if name not in self._cache:
            try:
                with self.zip.open(name) as fh:
                    data = fh.read(MAX_PART_BYTES + 1)
            except KeyError:
                raise LSTMError(f"{self.path}: the package has no part {name}") from None
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:  # CRC errors, truncation
                raise LSTMError(f"{self.path}: part {name} is damaged ({exc})") from None
            if len(data) > MAX_PART_BYTES:
                raise LSTMError(f"{self.path}: part {name} inflates past {MAX_PART_BYTES >> 20} MiB")
            if name.endswith((".xml", ".rels")) and b"<!DOCTYPE" in data[:4096].upper().replace(b"<!doctype", b"<!DOCTYPE"):
                raise LSTMError(f"{self.path}: part {name} declares a DOCTYPE (entities can be XML bombs): refused")
            self._cache[name] = data
        return self._cache[name]

    def forget(self, name: str) -> None:
        """Drop a part from the read cache (its bytes are no longer needed)."""
        self._cache.pop(name, None)

    def _xml(self, name: str) -> ET.Element:
        try:
            return ET.fromstring(self.read(name))
        except ET.ParseError as exc:
            raise LSTMError(f"{self.path}: part {name} is not well-formed XML ({exc})") from None

    def _sheet_parts(self) -> dict[str, str]:
        wb = self._xml("xl/workbook.xml")
        rels = self._xml("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in self.zip.namelist() else None
        targets = {} if rels is None else {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{NS_PKG_REL}}}Relationship")}
        out = {}
        for sheet in wb.iter(f"{{{NS_MAIN}}}sheet"):
            target = targets.get(sheet.get(f"{{{NS_REL}}}id"), "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            out[sheet.get("name", "")] = part
        return out

    def _defined_names(self) -> dict[str, str]:
        wb = self._xml("xl/workbook.xml")
        return {
            d.get("name", ""): (d.text or "").strip()
            for d in wb.iter(f"{{{NS_MAIN}}}definedName")
            if d.get("localSheetId") is None
        }

    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            self._strings = []
            if "xl/sharedStrings.xml" in self.zip.namelist():
                root = self._xml("xl/sharedStrings.xml")
                self._strings = ["".join(t.text or "" for t in si.iter(f"{{{NS_MAIN}}}t")) for si in root.iter(f"{{{NS_MAIN}}}si")]
        return self._strings

    # ---- ranges -------------------------------------------------------------------------
    def range(self, name: str) -> CellRange:
        """The range behind a defined name, or one line saying why there is none."""
        if name not in self.names:
            raise LSTMError(f"{self.path}: no defined name {name} (is this a workbook made from the xl_lstm template?)")
        try:
            rng = parse_range(self.names[name])
        except LSTMError as exc:
            raise LSTMError(f"{self.path}: defined name {name}: {exc}") from None
        if rng.sheet not in self.sheets:
            raise LSTMError(f"{self.path}: defined name {name} points at sheet {rng.sheet!r}, which does not exist")
        return rng

    def cells(self, rng: CellRange) -> dict[tuple[int, int], Cell]:
        """The cells of a range that exist in the sheet XML."""
        xml = self.read(self.sheets[rng.sheet])
        out: dict[tuple[int, int], Cell] = {}
        try:
            data = _sheet_data(xml)
        except LSTMError as exc:
            raise LSTMError(f"{self.path}: sheet {rng.sheet}: {exc}") from None
        if data is None or data[2] < 0:
            return out
        body = xml[data[1] : data[2]]
        for row in _ROW.finditer(body):
            r = int(_attrs(row.group(1)).get("r", "0"))
            if not rng.r0 <= r <= rng.r1 or row.group(3) is None:
                continue
            for cell in _CELL.finditer(row.group(3)):
                c = _column_of(cell.group(1), 0)  # 0: a cell without r="..." is never in the range
                if rng.c0 <= c <= rng.c1:
                    out[(r, c)] = _read_cell(cell.group(1), cell.group(3))
        return out

    def numbers(self, name: str) -> np.ndarray:
        """The numbers of a defined name's range; an empty or non-numeric cell is refused by name."""
        rng = self.range(name)
        cells = self.cells(rng)
        out = np.empty(rng.shape)
        for r, c in rng.cells():
            cell = cells.get((r, c), Cell(None, None, False))
            value = cell.number()
            if value is None or not np.isfinite(value):
                raise LSTMError(
                    f"{self.path}: {name}: cell {rng.sheet}!{cell_name(r, c)} {cell.describe(self.strings)}"
                )
            out[r - rng.r0, c - rng.c0] = value
        return out


# ---- patching -------------------------------------------------------------------------
Value = float | str | None  # a number, a text, or None for "leave this cell alone"


_T_ATTR = re.compile(rb'\s+t\s*=\s*(?:"[^"]*"|\'[^\']*\')')
_CM_ATTR = re.compile(rb'\s+cm\s*=\s*(?:"[^"]*"|\'[^\']*\')')
_R_ATTR = re.compile(rb'\br\s*=\s*["\']\$?([A-Z]{1,3})\$?([0-9]{1,7})["\']')


def _cell_xml(prefix: bytes, attrs: bytes, formula: bytes | None, value: float | str) -> bytes:
    """A <c> element holding value (and the formula, when kept).

    attrs are the cell's attribute bytes as they were (r, s, ...): kept byte for byte
    except t, which follows the new value, and cm (dynamic-array metadata), which goes
    with a dropped formula.
    """
    if b"t=" in attrs:
        attrs = _T_ATTR.sub(b"", attrs)
    if formula is None and b"cm=" in attrs:
        attrs = _CM_ATTR.sub(b"", attrs)
    p = prefix  # children carry the sheet's namespace prefix too (<x:v> in an x:-prefixed sheet)
    if isinstance(value, float) and value - value == 0:  # a finite number: the common case, fast
        return b"<" + p + b"c" + attrs + b">" + (formula or b"") + b"<" + p + b"v>" + repr(value).encode() + b"</" + p + b"v></" + p + b"c>"
    if isinstance(value, str):
        text = html.escape(value, quote=False).encode()  # & < > in element text
        if value.startswith("#"):  # an error value, e.g. #NUM!
            kind, content = b' t="e"', b"<" + p + b"v>" + text + b"</" + p + b"v>"
        elif formula is not None:
            kind, content = b' t="str"', b"<" + p + b"v>" + text + b"</" + p + b"v>"
        else:
            kind, content = b' t="inlineStr"', b"<" + p + b"is><" + p + b"t>" + text + b"</" + p + b"t></" + p + b"is>"
    elif value != value or value in (np.inf, -np.inf):
        kind, content = b' t="e"', b"<" + p + b"v>#NUM!</" + p + b"v>"
    else:
        kind, content = b"", b"<" + p + b"v>" + repr(float(value)).encode() + b"</" + p + b"v>"
    return b"<" + p + b"c" + attrs.rstrip(b"/ \t\r\n") + kind + b">" + (formula or b"") + content + b"</" + p + b"c>"


class Blocks:
    """Values to write, as rectangular blocks: (top-left row, column, 2-D array; None = skip).

    Rows are produced one at a time, so writing half a million cells never holds half
    a million (row, column) keys at once.
    """

    def __init__(self) -> None:
        self._blocks: list[tuple[int, int, list[list[Value]]]] = []

    def add(self, r0: int, c0: int, values: list[list[Value]]) -> None:
        self._blocks.append((r0, c0, values))

    def rows(self) -> list[int]:
        return sorted({r0 + i for r0, _, v in self._blocks for i in range(len(v))})

    def extent(self) -> tuple[int, int, int, int] | None:
        """(first row, first column, last row, last column) of all blocks, or None if empty."""
        boxes = [(r0, c0, r0 + len(v) - 1, c0 + max((len(row) for row in v), default=1) - 1)
                 for r0, c0, v in self._blocks if v]
        if not boxes:
            return None
        return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)

    def row(self, r: int) -> dict[int, Value]:
        out: dict[int, Value] = {}
        for r0, c0, v in self._blocks:
            if r0 <= r < r0 + len(v):
                for j, x in enumerate(v[r - r0]):
                    if x is not None:
                        out[c0 + j] = x
        return out

    @classmethod
    def of_cells(cls, values: dict[tuple[int, int], Value]) -> Blocks:
        blocks = cls()
        for (r, c), v in values.items():
            blocks.add(r, c, [[v]])
        return blocks


def patch_sheet(xml: bytes, values: Blocks | dict[tuple[int, int], Value], keep_formulas: bool = True) -> bytes:
    """The sheet XML with the given cells set; every other byte is unchanged.

    values: Blocks, or a dict (row, col) -> number or text (None: skip). Existing
    cells keep their attributes (style, ...) and, unless keep_formulas is False, their
    formula; cells that do not exist yet are inserted in order, creating rows as needed.
    """
    blocks = values if isinstance(values, Blocks) else Blocks.of_cells(values)
    data = _sheet_data(xml)
    if data is None:
        raise LSTMError("the worksheet has no sheetData")
    prefix, start, end = data
    body = xml[start:end] if end >= 0 else b""
    out, pos = [], 0
    pending, k = blocks.rows(), 0  # rows to write, and the next one
    for row in _ROW.finditer(body):
        if k == len(pending):
            break
        r = int(_attrs(row.group(1)).get("r", "0"))
        while k < len(pending) and pending[k] < r:  # rows that do not exist yet go before this one
            out.append(body[pos : row.start()])
            pos = row.start()
            out.append(_new_row(prefix, pending[k], blocks.row(pending[k])))
            k += 1
        if k < len(pending) and pending[k] == r:
            out.append(body[pos : row.start()])
            out.append(_patch_row(prefix, row, blocks.row(r), keep_formulas))
            pos = row.end()
            k += 1
    out.append(body[pos:])
    for r in pending[k:]:
        out.append(_new_row(prefix, r, blocks.row(r)))
    new_body = b"".join(out)
    del out
    head = _widen_dimension(xml[:start], blocks)
    if end < 0:  # <sheetData/>: open it up
        p = prefix.decode()
        open_tag = head.rstrip(b">").rstrip().rstrip(b"/") + b">"
        return open_tag + new_body + f"</{p}sheetData>".encode() + xml[start:]
    return b"".join((head, new_body, xml[end:]))


_DIMENSION = re.compile(rb'(<(?:\w+:)?dimension\b[^>]*?\bref=")([^"]*)(")')


def _widen_dimension(head: bytes, blocks: Blocks) -> bytes:
    """Keep the sheet's <dimension ref="A1:Z99"> hint covering the cells we write (unchanged if it does)."""
    m = _DIMENSION.search(head)
    extent = blocks.extent()
    if m is None or extent is None:
        return head
    try:
        have = parse_range("x!" + m.group(2).decode())
    except LSTMError:
        return head
    r0, c0, r1, c1 = extent
    new = (min(have.r0, r0), min(have.c0, c0), max(have.r1, r1), max(have.c1, c1))
    if new == (have.r0, have.c0, have.r1, have.c1):
        return head
    ref = f"{cell_name(new[0], new[1])}:{cell_name(new[2], new[3])}".encode()
    return head[: m.start(2)] + ref + head[m.end(2) :]


_LETTERS: dict[int, str] = {}


def _new_cell(prefix: bytes, r: int, c: int, value: Value) -> bytes:
    letters = _LETTERS.get(c)
    if letters is None:
        letters = _LETTERS[c] = column_letters(c)
    return _cell_xml(prefix, f' r="{letters}{r}"'.encode(), None, value)  # type: ignore[arg-type]


def _new_row(prefix: bytes, r: int, cells: dict[int, Value]) -> bytes:
    p = prefix.decode()
    inner = b"".join(_new_cell(prefix, r, c, v) for c, v in sorted(cells.items()))
    return f'<{p}row r="{r}">'.encode() + inner + f"</{p}row>".encode()


def _patch_row(prefix: bytes, row: re.Match[bytes], cells: dict[int, Value], keep: bool) -> bytes:
    """One row with the given columns set: other cells keep their exact bytes, new ones go in column order."""
    head_attrs, body = row.group(1), row.group(3) or b""
    r = int(_attrs(head_attrs).get("r", "0"))
    parts: list[tuple[int, bytes]] = []  # (column, the cell's XML), in document order
    last, tail = 0, b""
    for cell in _CELL.finditer(body):
        attrs = cell.group(1)
        c = _column_of(attrs, last)
        value = cells.get(c)
        if value is None:
            xml = cell.group(0)
        else:
            formula = _formula(prefix, cell.group(3))
            if not keep and not (formula and b'"shared"' in formula and b"ref=" in formula):
                formula = None  # a shared formula's master stays: cells outside the block may use it
            xml = _cell_xml(prefix, attrs, formula, value)
        parts.append((c, xml))
        last, tail = c, body[cell.end() :]
    present = {c for c, _ in parts}
    missing = [(c, _new_cell(prefix, r, c, v)) for c, v in cells.items() if c not in present and v is not None]
    if missing:
        parts = sorted(parts + missing, key=lambda item: item[0])
    p = prefix.decode()
    head = _widen_spans(head_attrs, cells)
    inner = b"".join(xml for _, xml in parts) + (tail if parts else body)
    return f"<{p}row".encode() + head + b">" + inner + f"</{p}row>".encode()


_COLUMNS: dict[bytes, int] = {}


def _column_of(attrs: bytes, default: int) -> int:
    """The column of a cell from its attribute bytes (r="AB12"), fast; default without an r."""
    i = attrs.find(b' r="')
    if i < 0:
        m = _R_ATTR.search(attrs)
        return column_index(m.group(1).decode()) if m else default
    ref = attrs[i + 4 : attrs.find(b'"', i + 4)].lstrip(b"$")
    letters = ref.rstrip(b"0123456789$")
    c = _COLUMNS.get(letters)
    if c is None:
        c = _COLUMNS[letters] = column_index(letters.decode())
    return c


def _formula(prefix: bytes, inner: bytes | None) -> bytes | None:
    """The <f> element of a cell's content, or None."""
    if not inner:
        return None
    if not prefix and inner.startswith(b"<f"):  # the common layout: <f ...>...</f> first
        end = inner.find(b"</f>")
        if end >= 0:
            return inner[: end + 4]
        end = inner.find(b"/>")
        return inner[: end + 2] if end >= 0 else None
    m = _F.search(inner)
    return m.group(0) if m else None


def _widen_spans(head: bytes, cells: dict[int, Value]) -> bytes:
    """Keep a row's optional spans="a:b" hint true when cells are added beyond it."""
    m = re.search(rb'spans="(\d+):(\d+)"', head)
    if m is None:
        return head
    lo, hi = int(m.group(1)), int(m.group(2))
    lo, hi = min(lo, min(cells)), max(hi, max(cells))
    return head[: m.start()] + f'spans="{lo}:{hi}"'.encode() + head[m.end() :]


def write_package(
    src: zipfile.ZipFile, replaced: dict[str, Callable[[], bytes]], fh: BinaryIO, drop: frozenset[str] = frozenset()
) -> None:
    """Copy every member of src into fh, replacing some and dropping others.

    ``replaced`` maps a member to a function making its new bytes, called when that
    member is written, so only one rewritten part is in memory at a time. Members keep
    their order, names, dates and compression method; unchanged members keep their bytes.
    """
    with zipfile.ZipFile(fh, "w") as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            make = replaced.get(info.filename)
            data = src.read(info.filename) if make is None else make()
            new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            new.compress_type = info.compress_type
            new.external_attr = info.external_attr
            new.create_system = info.create_system
            level = 1 if make is not None else None  # fast deflate for the parts we rewrote
            dst.writestr(new, data, compresslevel=level)
            del data
