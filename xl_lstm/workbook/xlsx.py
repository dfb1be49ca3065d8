"""Reading and patching .xlsx files without a round trip through a spreadsheet library.

A refresh must lose nothing: pictures, shapes, sparklines, Excel-2010 extensions,
comments, macros, cached values of other formulas, dynamic-array metadata. So we
never rebuild a workbook: every zip member we do not change is copied as it is, and
inside a changed worksheet only the ``<c>`` elements of the cells we write change;
every other byte of that XML stays where it was. The XML is read by a real parser
(expat, see ``_xml``) that reports byte offsets, in one linear pass per sheet.

Hostile files are refused before they can cost much, each in one line naming the file:
too many members, duplicate member names, members that inflate past a limit or by an
absurd ratio, damaged members (CRC or deflate errors), malformed XML, XML with a DOCTYPE
(entity bombs), encrypted workbooks (an OLE container, not a zip), defined names past
the sheet's edge or over the cell budget.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..core.errors import LSTMError
from .xml import (
    MAIN_NS,
    MAX_COL,
    MAX_ROW,
    PKG_REL_NS,
    REL_NS,
    CellEvent,
    RowEvent,
    SheetVisitor,
    column_index,
    element_end,
    element_spans,
    parse_part,
    pieces,
    refuse_unless_utf8,
    scan_sheet,
    tag_at,
)

__all__ = [
    "Blocks",
    "Book",
    "CellRange",
    "Cell",
    "parse_range",
    "cell_name",
    "MAX_PART_BYTES",
    "MAX_TOTAL_BYTES",
    "MAX_RANGE_CELLS",
]

MAX_MEMBERS = 10_000
MAX_PART_BYTES = 256 << 20  # one XML part inflated
MAX_TOTAL_BYTES = 1 << 30  # the whole package inflated
MAX_RATIO = 1000  # inflated / compressed for one member: zip bombs go far beyond
MAX_RANGE_CELLS = 4_000_000  # cells in one defined name (32 MB of float64): checked before reading it
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # encrypted xlsx and legacy .xls
DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError)  # what a flipped byte makes zipfile raise
_MAIN_SHEET = {f"{ns} sheet" for ns in MAIN_NS}
_MAIN_NAME = {f"{ns} definedName" for ns in MAIN_NS}
_MAIN_SI = {f"{ns} si" for ns in MAIN_NS}
_REL_ID = [f"{ns} id" for ns in REL_NS]
_RELATIONSHIP = f"{PKG_REL_NS} Relationship"


# ---- cell references ------------------------------------------------------------
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

    @property
    def size(self) -> int:
        return (self.r1 - self.r0 + 1) * (self.c1 - self.c0 + 1)

    def cells(self) -> list[tuple[int, int]]:
        return [(r, c) for r in range(self.r0, self.r1 + 1) for c in range(self.c0, self.c1 + 1)]

    def __str__(self) -> str:
        a, b = cell_name(self.r0, self.c0), cell_name(self.r1, self.c1)
        return f"{self.sheet}!{a}" if a == b else f"{self.sheet}!{a}:{b}"


def parse_range(text: str) -> CellRange:
    """ "'States (formulas)'!$C$5:$Z$148" -> CellRange; one area only, inside A1:XFD1048576."""
    if "!" not in text:
        raise LSTMError(f"a range must name its sheet (Sheet!A1:B2), got {text!r}")
    sheet, _, area = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    parts = area.split(":")
    refs = [_REF.fullmatch(p) for p in parts]
    if not 1 <= len(parts) <= 2 or not all(refs):
        raise LSTMError(f"not a single rectangular range: {text[:80]!r}")
    (c0, r0), (c1, r1) = [(column_index(m.group(1)), int(m.group(2))) for m in refs if m] * (2 // len(parts))
    if max(c0, c1) > MAX_COL:
        raise LSTMError(f"{text[:80]!r} goes past the last column XFD")
    if max(r0, r1) > MAX_ROW or min(r0, r1) < 1:
        raise LSTMError(f"{text[:80]!r} goes past the sheet's rows 1 to {MAX_ROW:,}")
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

    def describe(self, string: Callable[[int], str | None]) -> str:
        """What the cell holds, for a message; ``string(i)`` is shared string i (or None)."""
        if self.v in (None, "") and self.t != "inlineStr":
            return "is empty" if not self.formula else "is a formula with no stored value"
        if self.t == "s":
            text = string(int(self.v)) if self.v is not None and self.v.isdigit() else None
            return "holds text" if text is None else f"holds text {text[:40]!r}"
        if self.t in ("str", "inlineStr"):
            return "holds text"
        if self.t == "b":
            return f"holds {'TRUE' if self.v == '1' else 'FALSE'}, not a number"
        if self.t == "e":
            return f"holds the error {self.v}"
        return f"holds {self.v!r}, not a number"


class _CellReader(SheetVisitor):
    """Collects the cells of some ranges of one sheet, in one pass."""

    def __init__(self, ranges: list[CellRange]) -> None:
        self.ranges = ranges
        self.cells: dict[tuple[int, int], Cell] = {}

    def row_start(self, r: int, start: int) -> bool:
        return any(g.r0 <= r <= g.r1 for g in self.ranges)

    def row_done(self, row: RowEvent) -> None:
        for cell in row.cells:
            if any(g.r0 <= cell.row <= g.r1 and g.c0 <= cell.col <= g.c1 for g in self.ranges):
                self.cells[(cell.row, cell.col)] = Cell(cell.t, cell.v, cell.f_start >= 0)


# ---- the package ----------------------------------------------------------------------
class Book:
    """An .xlsx package opened for reading, with size and content checks."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            with self.path.open("rb") as fh:
                head = fh.read(8)
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
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise LSTMError(f"{self.path}: not an .xlsx workbook (not a zip package: {exc})") from None
        try:
            self._check_sizes()
            self._cache: dict[str, bytes] = {}
            self.sheets = self._sheet_parts()  # sheet name -> part name
            self.names = self._defined_names()  # defined name -> range text
        except BaseException:
            self.zip.close()
            raise
        self._string_cache: dict[int, str | None] = {}

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
        twice = [name for name, n in Counter(i.filename for i in infos).items() if n > 1]
        if twice:
            raise LSTMError(
                f"{self.path}: the package holds part {twice[0]} more than once (a damaged or forged zip): refused"
            )
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

    def where(self, name: str) -> str:
        return f"{self.path}: part {name}"

    def chunks(self, name: str) -> Iterator[bytes]:
        """A member's bytes, inflated a piece at a time, with a hard size bound."""
        if name in self._cache:
            yield from pieces(self._cache[name])
            return
        try:
            with self.zip.open(name) as fh:
                total = 0
                while chunk := fh.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_PART_BYTES:
                        raise LSTMError(f"{self.path}: part {name} inflates past {MAX_PART_BYTES >> 20} MiB")
                    yield chunk
        except KeyError:
            raise LSTMError(f"{self.path}: the package has no part {name}") from None
        except LSTMError:
            raise
        except DAMAGE as exc:  # CRC errors, deflate errors, truncation
            raise LSTMError(f"{self.path}: part {name} is damaged ({type(exc).__name__}: {exc})") from None

    def read(self, name: str) -> bytes:
        """A member's bytes, read with a hard size bound; XML with a DOCTYPE is refused."""
        if name not in self._cache:
            data = b"".join(self.chunks(name))
            if name.endswith((".xml", ".rels")) and b"<!DOCTYPE" in data[:4096].upper():  # the parser refuses it too
                raise LSTMError(f"{self.path}: part {name} declares a DOCTYPE (entities can be XML bombs): refused")
            self._cache[name] = data
        return self._cache[name]

    def forget(self, name: str) -> None:
        """Drop a part from the read cache (its bytes are no longer needed)."""
        self._cache.pop(name, None)

    def _sheet_parts(self) -> dict[str, str]:
        targets: dict[str, str] = {}
        if "xl/_rels/workbook.xml.rels" in self.zip.namelist():

            def relationship(name: str, attrs: dict[str, str]) -> None:
                if name == _RELATIONSHIP:
                    targets[attrs.get("Id", "")] = attrs.get("Target", "")

            rels = "xl/_rels/workbook.xml.rels"
            parse_part(self.chunks(rels), self.where(rels), relationship)
        out = {}

        def sheet(name: str, attrs: dict[str, str]) -> None:
            if name in _MAIN_SHEET:
                rid = next((attrs[k] for k in _REL_ID if k in attrs), "")
                target = targets.get(rid, "")
                part = (
                    target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
                )
                out[attrs.get("name", "")] = part

        parse_part(self.chunks("xl/workbook.xml"), self.where("xl/workbook.xml"), sheet)
        return out

    def _defined_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        current: list[str] | None = None
        key = ""

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal current, key
            if name in _MAIN_NAME and attrs.get("localSheetId") is None:
                current, key = [], attrs.get("name", "")

        def end(name: str) -> None:
            nonlocal current
            if current is not None and name in _MAIN_NAME:
                names[key] = "".join(current).strip()
                current = None

        def text(data: str) -> None:
            if current is not None:
                current.append(data)

        parse_part(self.chunks("xl/workbook.xml"), self.where("xl/workbook.xml"), start, end, text)
        return names

    def string(self, index: int) -> str | None:
        """Shared string ``index`` (for messages), or None; reads the part only as far as that string."""
        if index not in self._string_cache:
            self._string_cache[index] = self._find_string(index)
        return self._string_cache[index]

    def _find_string(self, index: int) -> str | None:
        part = "xl/sharedStrings.xml"
        if part not in self.zip.namelist():
            return None
        seen, depth, si_depth = -1, 0, -1
        found: list[str] = []

        class Found(Exception):
            pass

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal seen, depth, si_depth
            depth += 1
            if name in _MAIN_SI and depth == 2:
                seen += 1
                si_depth = depth

        def end(name: str) -> None:
            nonlocal depth
            if depth == 2 and seen == index:
                raise Found
            depth -= 1

        def text(data: str) -> None:  # the si's text, phonetic runs (rPh) included: only shown in messages
            if seen == index and depth > si_depth:
                found.append(data)

        try:
            parse_part(self.chunks(part), self.where(part), start, end, text)
        except Found:
            return "".join(found)
        return None

    def without_elements(self, part: str, name: str, select: Callable[[dict[str, str]], bool]) -> bytes:
        """A part's bytes without the elements ``name`` ("namespace-uri local") that ``select``
        accepts; every other byte as it was."""
        data = self.read(part)
        out, at = [], 0
        for start, end in element_spans(data, self.where(part), name, select):
            out.append(data[at:start])
            at = end
        out.append(data[at:])
        return b"".join(out)

    # ---- ranges -------------------------------------------------------------------------
    def range(self, name: str) -> CellRange:
        """The range behind a defined name, or one line saying why there is none (or why it is too big)."""
        if name not in self.names:
            raise LSTMError(f"{self.path}: no defined name {name} (is this a workbook made from the xl_lstm template?)")
        try:
            rng = parse_range(self.names[name])
        except LSTMError as exc:
            raise LSTMError(f"{self.path}: defined name {name}: {exc}") from None
        if rng.sheet not in self.sheets:
            raise LSTMError(f"{self.path}: defined name {name} points at sheet {rng.sheet!r}, which does not exist")
        if rng.size > MAX_RANGE_CELLS:
            raise LSTMError(
                f"{self.path}: defined name {name} ({rng}) covers {rng.size:,} cells, "
                f"over the limit of {MAX_RANGE_CELLS:,}"
            )
        return rng

    def cells(self, ranges: list[CellRange]) -> dict[tuple[int, int], Cell]:
        """The cells of some ranges of one sheet that exist in its XML, in one pass over the sheet."""
        sheet = ranges[0].sheet
        part = self.sheets[sheet]
        reader = _CellReader(ranges)
        scan_sheet(self.chunks(part), self.where(part), reader, read_text=True)
        return reader.cells

    def numbers_of(self, names: Iterable[str]) -> dict[str, np.ndarray]:
        """The numbers of several defined names, each sheet read once for all of them.

        Every range is checked (edges, cell budget) before any sheet is read; an empty or
        non-numeric cell is refused by name.
        """
        ranges = {name: self.range(name) for name in names}
        by_sheet: dict[str, list[str]] = {}
        for name, rng in ranges.items():
            by_sheet.setdefault(rng.sheet, []).append(name)
        out: dict[str, np.ndarray] = {}
        for sheet_names in by_sheet.values():
            cells = self.cells([ranges[n] for n in sheet_names])
            for name in sheet_names:
                out[name] = self._numbers(name, ranges[name], cells)
        return {name: out[name] for name in ranges}

    def numbers(self, name: str) -> np.ndarray:
        """The numbers of one defined name's range (see numbers_of)."""
        return self.numbers_of([name])[name]

    def _numbers(self, name: str, rng: CellRange, cells: dict[tuple[int, int], Cell]) -> np.ndarray:
        out = np.empty(rng.shape)  # (rows, cols)
        empty = Cell(None, None, False)
        for r, c in rng.cells():
            cell = cells.get((r, c), empty)
            value = cell.number()
            if value is None or not np.isfinite(value):
                raise LSTMError(f"{self.path}: {name}: cell {rng.sheet}!{cell_name(r, c)} {cell.describe(self.string)}")
            out[r - rng.r0, c - rng.c0] = value
        return out


# ---- patching -------------------------------------------------------------------------
Value = float | str | None  # a number, a text, or None for "leave this cell alone"

# One attribute of a start tag, with the whitespace before it. Applied from the start of a
# tag's attribute bytes, matches follow one another exactly, so a value is never mistaken
# for a name.
_ATTR_TOKEN = re.compile(rb"(\s+)([^\s=]+)(\s*=\s*)(\"[^\"]*\"|'[^']*')")


def _without_attrs(attrs: bytes, names: tuple[bytes, ...]) -> bytes:
    """A start tag's attribute bytes without the named attributes; the others byte for byte."""
    return _ATTR_TOKEN.sub(lambda m: b"" if m.group(2) in names else m.group(0), attrs)


def _with_attr(attrs: bytes, name: bytes, value: bytes) -> bytes:
    """A start tag's attribute bytes with one attribute's value replaced (it must be there)."""
    return _ATTR_TOKEN.sub(
        lambda m: (
            m.group(1) + name + m.group(3) + m.group(4)[:1] + value + m.group(4)[-1:]
            if m.group(2) == name
            else m.group(0)
        ),
        attrs,
    )


def _attr(attrs: bytes, name: bytes) -> bytes | None:
    for m in _ATTR_TOKEN.finditer(attrs):
        if m.group(2) == name:
            return m.group(4)[1:-1]
    return None


def _prefix(qname: bytes) -> bytes:
    """b"x:row" -> b"x:", b"row" -> b"": the prefix that element's children can use for its namespace."""
    i = qname.find(b":")
    return qname[: i + 1] if i >= 0 else b""


def _cell_xml(prefix: bytes, attrs: bytes, formula: bytes | None, value: float | str) -> bytes:
    """A <c> element holding value (and the formula, when kept).

    prefix is the cell's namespace prefix (b"" or b"x:"); attrs are the cell's attribute
    bytes as they were (r, s, ...), without a closing "/": kept byte for byte
    except t, which follows the new value, and cm (dynamic-array metadata), which goes
    with a dropped formula.
    """
    if b"t=" in attrs or (formula is None and b"cm=" in attrs):
        attrs = _without_attrs(attrs, (b"t",) if formula is not None else (b"t", b"cm"))
    p = prefix  # children carry the cell's namespace prefix (<x:v> in an x:-prefixed sheet)
    if isinstance(value, float) and value - value == 0:  # a finite number: the common case, fast
        return (
            b"<"
            + p
            + b"c"
            + attrs
            + b">"
            + (formula or b"")
            + b"<"
            + p
            + b"v>"
            + repr(value).encode()
            + b"</"
            + p
            + b"v></"
            + p
            + b"c>"
        )
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
    return b"<" + p + b"c" + attrs.rstrip() + kind + b">" + (formula or b"") + content + b"</" + p + b"c>"


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
        boxes = [
            (r0, c0, r0 + len(v) - 1, c0 + max((len(row) for row in v), default=1) - 1)
            for r0, c0, v in self._blocks
            if v
        ]
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


class _Patcher(SheetVisitor):
    """Rewrites the rows of a sheet that hold values, as scan_sheet walks it.

    ``out`` collects the new document as slices of the old one and new bytes: every
    byte between the pieces we rewrite is copied as it was.
    """

    def __init__(self, xml: bytes, blocks: Blocks, keep: bool) -> None:
        self.xml, self.blocks, self.keep = xml, blocks, keep
        self.pending, self.k = blocks.rows(), 0  # rows to write, and the next one
        self.out: list[bytes] = []
        self.pos = 0  # bytes of xml before pos are in out
        self.row_prefix = b""  # the prefix new rows use (sheetData's)
        self.data_start = -1

    def copy_to(self, offset: int) -> None:
        self.out.append(self.xml[self.pos : offset])
        self.pos = offset

    def dimension(self, start: int) -> None:
        tag = tag_at(self.xml, start)
        new = _widen_dimension(tag.group(2), self.blocks)
        if new != tag.group(2):
            self.copy_to(tag.start(2))
            self.out.append(new)
            self.pos = tag.end(2)

    def sheet_data(self, start: int) -> None:
        self.data_start = start
        self.row_prefix = _prefix(tag_at(self.xml, start).group(1))

    def row_start(self, r: int, start: int) -> bool:
        pending = self.pending
        while self.k < len(pending) and pending[self.k] < r:  # rows that do not exist yet go before this one
            self.copy_to(start)
            self.out.append(_new_row(self.row_prefix, pending[self.k], self.blocks.row(pending[self.k])))
            self.k += 1
        if self.k < len(pending) and pending[self.k] == r:
            self.k += 1
            return True
        return False

    def row_done(self, row: RowEvent) -> None:
        end = element_end(self.xml, row.start, row.end_event)
        self.copy_to(row.start)
        self.out.append(_patch_row(self.xml, row, end, self.blocks.row(row.r), self.keep))
        self.pos = end

    def sheet_data_end(self, end_event: int, start: int) -> None:
        rest = [_new_row(self.row_prefix, r, self.blocks.row(r)) for r in self.pending[self.k :]]
        self.k = len(self.pending)
        if not rest:
            return
        tag = tag_at(self.xml, start)
        if tag.group(3):  # <sheetData/>: open it up
            self.copy_to(tag.start(3))
            self.out.append(b">" + b"".join(rest) + b"</" + tag.group(1) + b">")
            self.pos = tag.end()
        else:
            self.copy_to(end_event)
            self.out += rest


def patch_sheet(
    xml: bytes, values: Blocks | dict[tuple[int, int], Value], keep_formulas: bool = True, where: str = "the worksheet"
) -> bytes:
    """The sheet XML with the given cells set; every other byte is unchanged.

    values: Blocks, or a dict (row, col) -> number or text (None: skip). Existing
    cells keep their attributes (style, ...) and, unless keep_formulas is False, their
    formula; cells that do not exist yet are inserted in order, creating rows as needed.
    One pass of expat over the sheet; malformed XML is refused naming ``where``.
    """
    refuse_unless_utf8(xml, where)
    blocks = values if isinstance(values, Blocks) else Blocks.of_cells(values)
    patcher = _Patcher(xml, blocks, keep_formulas)
    is_sheet = scan_sheet(pieces(xml), where, patcher)
    if patcher.data_start < 0:
        raise LSTMError(f"{where}: the {'worksheet' if is_sheet else 'part'} has no sheetData")
    patcher.copy_to(len(xml))
    return b"".join(patcher.out)


def _widen_dimension(attrs: bytes, blocks: Blocks) -> bytes:
    """Keep the sheet's <dimension ref="A1:Z99"> hint covering the cells we write (unchanged if it does)."""
    ref = _attr(attrs, b"ref")
    extent = blocks.extent()
    if ref is None or extent is None:
        return attrs
    try:
        have = parse_range("x!" + ref.decode())
    except (LSTMError, UnicodeDecodeError):
        return attrs
    r0, c0, r1, c1 = extent
    new = (min(have.r0, r0), min(have.c0, c0), max(have.r1, r1), max(have.c1, c1))
    if new == (have.r0, have.c0, have.r1, have.c1):
        return attrs
    return _with_attr(attrs, b"ref", f"{cell_name(new[0], new[1])}:{cell_name(new[2], new[3])}".encode())


_LETTERS: dict[int, str] = {}


def _new_cell(prefix: bytes, r: int, c: int, value: Value) -> bytes:
    letters = _LETTERS.get(c)
    if letters is None:
        letters = _LETTERS[c] = column_letters(c)
    return _cell_xml(prefix, f' r="{letters}{r}"'.encode(), None, value)  # type: ignore[arg-type]


def _new_row(prefix: bytes, r: int, cells: dict[int, Value]) -> bytes:
    inner = b"".join(_new_cell(prefix, r, c, v) for c, v in sorted(cells.items()))
    return b"<" + prefix + b'row r="' + str(r).encode() + b'">' + inner + b"</" + prefix + b"row>"


def _patch_row(xml: bytes, row: RowEvent, end: int, cells: dict[int, Value], keep: bool) -> bytes:
    """One row (xml[row.start:end]) with the given columns set.

    Other cells, and whatever lies between cells (whitespace, comments), keep their exact
    bytes; new cells go in column order, just before the first cell to their right.
    """
    head = tag_at(xml, row.start)
    prefix = _prefix(head.group(1))
    out: list[bytes] = []
    pos = head.end()
    missing = sorted((c, v) for c, v in cells.items() if v is not None)
    present = {cell.col for cell in row.cells}
    missing = [(c, v) for c, v in missing if c not in present]
    j = 0
    for cell in row.cells:
        while j < len(missing) and missing[j][0] < cell.col:
            out.append(xml[pos : cell.start])
            pos = cell.start
            out.append(_new_cell(prefix, row.r, missing[j][0], missing[j][1]))
            j += 1
        value = cells.get(cell.col)
        if value is not None:
            out.append(xml[pos : cell.start])
            new, pos = _rewrite_cell(xml, cell, value, keep)
            out.append(new)
    tail = b"".join(_new_cell(prefix, row.r, c, v) for c, v in missing[j:])
    old_attrs = head.group(2)
    attrs = _widen_spans(old_attrs, cells) if missing else old_attrs
    if head.group(3):  # <row .../>: open it up
        return b"<" + head.group(1) + attrs + b">" + tail + b"</" + head.group(1) + b">"
    close = xml.rindex(b"<", pos, end)  # the </row> tag
    start_tag = xml[row.start : head.end()] if attrs is old_attrs else b"<" + head.group(1) + attrs + b">"
    return start_tag + b"".join(out) + xml[pos:close] + tail + xml[close:end]


def _rewrite_cell(xml: bytes, cell: CellEvent, value: float | str, keep: bool) -> tuple[bytes, int]:
    """The cell's new XML, and the offset just past its old element."""
    tag = tag_at(xml, cell.start)
    qname, attrs, empty = tag.group(1, 2, 3)
    end = tag.end() if empty else xml.index(b">", cell.end_event) + 1
    formula = None
    if cell.f_start >= 0 and (
        keep or cell.f_shared_master
    ):  # a shared formula's master stays: cells outside the block may use it
        formula = xml[cell.f_start : element_end(xml, cell.f_start, cell.f_end_event)]
    return _cell_xml(qname[:-1], attrs, formula, value), end  # b"x:c"[:-1] is the prefix


def _widen_spans(attrs: bytes, cells: dict[int, Value]) -> bytes:
    """Keep a row's optional spans="a:b" hint true when cells are added beyond it."""
    spans = _attr(attrs, b"spans")
    m = re.fullmatch(rb"(\d+):(\d+)", spans or b"")
    if m is None:
        return attrs
    lo, hi = int(m.group(1)), int(m.group(2))
    new_lo, new_hi = min(lo, min(cells)), max(hi, max(cells))
    if (new_lo, new_hi) == (lo, hi):
        return attrs
    return _with_attr(attrs, b"spans", f"{new_lo}:{new_hi}".encode())


def write_package(
    src: zipfile.ZipFile, replaced: dict[str, Callable[[], bytes]], fh: BinaryIO, drop: frozenset[str] = frozenset()
) -> None:
    """Copy every member of src into fh, replacing some and dropping others.

    ``replaced`` maps a member to a function making its new bytes, called when that
    member is written, so only one rewritten part is in memory at a time. Members keep
    their order, names, dates and compression method; unchanged members keep their bytes.
    A damaged member (CRC or deflate error) is refused in one line naming the file.
    """
    with zipfile.ZipFile(fh, "w") as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            make = replaced.get(info.filename)
            try:
                data = src.read(info.filename) if make is None else make()
            except DAMAGE as exc:
                if isinstance(exc, LSTMError):
                    raise
                raise LSTMError(
                    f"{src.filename}: part {info.filename} is damaged ({type(exc).__name__}: {exc})"
                ) from None
            new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            new.compress_type = info.compress_type
            new.external_attr = info.external_attr
            new.create_system = info.create_system
            level = 1 if make is not None else None  # fast deflate for the parts we rewrote
            dst.writestr(new, data, compresslevel=level)
            del data
