"""Walking OOXML parts with a real XML parser, by byte offsets, in one linear pass.

Why ``xml.parsers.expat`` (the standard library) and not regular expressions or lxml:
it is a real parser (comments, CDATA, character references, namespaces), it runs in
linear time in C and is fed piece by piece (streaming), it refuses malformed XML with
a line and column, and during each callback ``CurrentByteIndex`` is the byte offset of
the event in the input, which is exactly what the patcher needs to copy every byte it
does not change. lxml would do as well but is one more compiled dependency. Entities
are never expanded: a DOCTYPE is refused at its first event, before any declaration.

Reading streams a part from the zip a chunk at a time; so does patching, which keeps
only the bytes a later event can still need (see ``patch.patch_stream``).

Positions follow OOXML: a ``<row>`` without ``r=`` is the row after the previous one,
a ``<c>`` without ``r=`` is the column after the previous cell of its row. Both
transitional and strict (ISO 29500 strict, ``purl.oclc.org``) namespaces are known.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from xml.parsers import expat

from ..core.errors import LSTMError
from ..core.limits import SHEET_COLUMNS, SHEET_ROWS

__all__ = [
    "MAIN_NS",
    "REL_NS",
    "PKG_REL_NS",
    "MAX_ROW",
    "MAX_COL",
    "CellEvent",
    "RowEvent",
    "SheetVisitor",
    "scan_sheet",
    "parse_part",
    "tag_at",
    "match_tag",
    "element_end",
    "pieces",
    "column_index",
    "element_spans",
    "refuse_unless_utf8",
]

MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")
REL_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"  # the same in strict OOXML
MAX_ROW, MAX_COL = SHEET_ROWS, SHEET_COLUMNS  # Excel's last row and column (XFD)
CHUNK = 1 << 18  # bytes read from a member and handed to expat at a time (256 KiB)

# A start tag at a known offset: its qualified name, attribute bytes (with the whitespace
# before "/>" or ">", kept as it was) and "/" when empty.
# Attribute values may hold ">" (it is legal XML), so the quotes are followed.
_TAG = re.compile(rb"<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*)(/?)>")
match_tag = _TAG.match  # tag_at without its guard, for loops that run once per cell
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


_COLUMNS: dict[str, int] = {}  # column letters seen -> index


def column_index(letters: str) -> int:
    """'A' -> 1, 'AB' -> 28."""
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def tag_at(data: bytes, start: int) -> re.Match[bytes]:
    """The start tag beginning at byte ``start`` (expat has already checked it is well-formed)."""
    m = _TAG.match(data, start)
    if m is None:  # cannot happen after expat accepted the element; guard the offsets anyway
        raise LSTMError(f"no start tag at byte {start}")
    return m


def element_end(data: bytes, start: int, end_event: int) -> int:
    """The offset just past an element, from its start and the byte index of its end event.

    expat reports an element's end at its ``</...>`` tag, or, for an empty-element tag
    ``<c .../>``, just after it. The second is always preceded by "/>", so an end event
    at "</" not preceded by "/>" is an end tag; otherwise the start tag says which it is.
    """
    if data.startswith(b"</", end_event) and not data.startswith(b"/>", end_event - 2):
        return data.index(b">", end_event) + 1
    tag = tag_at(data, start)
    return tag.end() if tag.group(3) else data.index(b">", end_event) + 1


_DECLARED = re.compile(rb"""<\?xml[^>]*?\sencoding\s*=\s*["']([^"']*)["']""")


def refuse_unless_utf8(data: bytes, where: str) -> None:
    """Patching splices UTF-8 bytes in by offset: a part in another encoding is refused."""
    declared = _DECLARED.match(data, 3 if data.startswith(b"\xef\xbb\xbf") else 0)
    encoding = declared.group(1).decode("ascii", "replace").lower() if declared else "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4] or encoding not in ("utf-8", "utf8"):
        shown = "UTF-16" if not declared or encoding.startswith("utf-16") else encoding
        raise LSTMError(f"{where} is encoded in {shown}; only UTF-8 sheets can be refreshed (save it again from Excel)")


def _parser(where: str) -> expat.XMLParserType:
    p = expat.ParserCreate(namespace_separator=" ")
    p.buffer_text = True  # one text callback per text node

    def refuse_doctype(*_: object) -> None:
        raise LSTMError(f"{where} declares a DOCTYPE (entities can be XML bombs): refused")

    p.StartDoctypeDeclHandler = refuse_doctype
    p.EntityDeclHandler = refuse_doctype
    return p


def _feed(p: expat.XMLParserType, chunks: Iterable[bytes], where: str) -> None:
    try:
        for chunk in chunks:
            p.Parse(chunk, False)
        p.Parse(b"", True)
    except expat.ExpatError as exc:
        raise LSTMError(
            f"{where} is not well-formed XML ({expat.ErrorString(exc.code)} at line {exc.lineno}, column {exc.offset})"
        ) from None


def pieces(data: bytes) -> Iterable[bytes]:
    """data in CHUNK-sized slices (memoryview: no copies)."""
    view = memoryview(data)
    for i in range(0, len(data), CHUNK):
        yield view[i : i + CHUNK]  # type: ignore[misc]


def parse_part(
    chunks: Iterable[bytes],
    where: str,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
) -> None:
    """Parse a small part (workbook, relationships, shared strings) with plain callbacks.

    Element names arrive as ``"namespace-uri local-name"``.
    """
    p = _parser(where)
    p.StartElementHandler = start
    if end is not None:
        p.EndElementHandler = end
    if text is not None:
        p.CharacterDataHandler = text
    _feed(p, chunks, where)


def element_spans(
    data: bytes, where: str, name: str, select: Callable[[dict[str, str]], bool]
) -> list[tuple[int, int]]:
    """Byte spans (start, end) of the elements called ``name`` ("namespace-uri local") whose
    attributes ``select`` accepts, in document order (an accepted element's descendants are
    not looked at)."""
    p = _parser(where)
    spans: list[tuple[int, int]] = []
    open_at: list[int] = []  # start offsets of accepted elements still open (at most one)
    depth = 0
    inside = -1  # the depth of the open accepted element

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth, inside
        depth += 1
        if inside < 0 and tag == name and select(attrs):
            inside = depth
            open_at.append(p.CurrentByteIndex)

    def end(tag: str) -> None:
        nonlocal depth, inside
        if depth == inside:
            first = open_at.pop()
            spans.append((first, element_end(data, first, p.CurrentByteIndex)))
            inside = -1
        depth -= 1

    p.StartElementHandler = start
    p.EndElementHandler = end
    _feed(p, pieces(data), where)
    return spans


# ---- worksheets --------------------------------------------------------------------------------
@dataclass(slots=True)
class CellEvent:
    """One <c> of a row the visitor asked about."""

    row: int
    col: int
    start: int  # byte offset of "<c"
    end_event: int  # expat's byte index of the end event (see element_end)
    t: str | None  # the type attribute
    f_start: int = -1  # byte offset of "<f", -1: no formula
    f_end_event: int = -1
    f_shared_master: bool = False  # <f t="shared" ref="..."> (other cells use it)
    v: str | None = None  # the <v> text (only when reading text)


@dataclass(slots=True)
class RowEvent:
    """One <row> the visitor asked about, with its cells in document order."""

    r: int
    start: int
    end_event: int = -1
    cells: list[CellEvent] = field(default_factory=list)


class SheetVisitor:
    """What scan_sheet reports; override what you need."""

    def dimension(self, start: int) -> None:
        """A <dimension> element starts at byte ``start``."""

    def sheet_data(self, start: int) -> None:
        """<sheetData> starts at byte ``start``."""

    def sheet_data_end(self, end_event: int, start: int) -> None:
        """</sheetData> (or the end of an empty <sheetData/> starting at ``start``)."""

    def row_start(self, r: int, start: int) -> bool:
        """A row starts; return True to get its cells through row_done."""
        return False

    def row_done(self, row: RowEvent) -> None:
        """A row asked for is complete."""


_WORKSHEET, _SHEET_DATA, _DIMENSION, _ROW, _C, _F, _V = range(7)
_KIND = {
    f"{ns} {local}": kind
    for ns in MAIN_NS
    for local, kind in (
        ("worksheet", _WORKSHEET),
        ("sheetData", _SHEET_DATA),
        ("dimension", _DIMENSION),
        ("row", _ROW),
        ("c", _C),
        ("f", _F),
        ("v", _V),
    )
}


class _SheetWalk:
    """The expat callbacks of scan_sheet: depth, row and column bookkeeping, and the checks."""

    def __init__(self, p: expat.XMLParserType, where: str, visitor: SheetVisitor, read_text: bool) -> None:
        self.p, self.where, self.visitor = p, where, visitor
        self.depth = 0
        self.worksheet = False  # the root is a <worksheet>
        self.in_data = False  # inside <sheetData> (depth 2)
        self.data_start = -1
        self.r = 0  # the current (or last) row number
        self.r_text = "0"  # str(self.r)
        self.col = 0  # the last cell's column in the current row
        self.row: RowEvent | None = None  # the current row, when the visitor asked for it
        self.in_row = False
        self.cell: CellEvent | None = None
        self.in_f = False
        self.v: list[str] | None = None  # text of the current <v>, when reading it
        self.read_text = read_text
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        if read_text:
            p.CharacterDataHandler = self.text

    def fail(self, what: str) -> LSTMError:
        return LSTMError(f"{self.where}: {what} (line {self.p.CurrentLineNumber}): not a valid worksheet")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        d = self.depth = self.depth + 1
        kind = _KIND.get(name)
        if kind is None:
            return
        if kind == _V and not self.read_text:  # patching needs nothing from a <v>: the commonest event
            return
        if kind == _C:
            if d != 4 or not self.in_row:
                if self.in_data:
                    raise self.fail("a <c> cell outside a <row>")
                return
            ref = attrs.get("r")
            if ref is not None:  # new_cell's usual case, inlined: a known column of this row, to the right
                letters = ref.rstrip("0123456789")
                c = _COLUMNS.get(letters, 0)
                if self.col < c <= MAX_COL and ref[len(letters) :] == self.r_text:
                    self.col = c
                    if self.row is not None:
                        self.cell = CellEvent(self.r, c, self.p.CurrentByteIndex, -1, attrs.get("t"))
                    return
            self.new_cell(attrs)
        elif kind == _ROW:
            if d != 3 or not self.in_data:
                if self.in_data:
                    raise self.fail("a <row> inside a <row>")
                return
            self.new_row(attrs)
        elif kind == _F or kind == _V:
            cell = self.cell
            if d != 5 or cell is None:
                return
            if kind == _F:
                cell.f_start = self.p.CurrentByteIndex
                cell.f_shared_master = attrs.get("t") == "shared" and "ref" in attrs
                self.in_f = True
            elif self.read_text:
                self.v = []
        elif kind == _SHEET_DATA and d == 2 and self.worksheet:
            if self.data_start >= 0:
                raise self.fail("a second <sheetData>")
            self.in_data = True
            self.data_start = self.p.CurrentByteIndex
            self.visitor.sheet_data(self.data_start)
        elif kind == _DIMENSION and d == 2 and self.worksheet and self.data_start < 0:
            self.visitor.dimension(self.p.CurrentByteIndex)
        elif kind == _WORKSHEET and d == 1:
            self.worksheet = True

    def new_row(self, attrs: dict[str, str]) -> None:
        ref = attrs.get("r")
        if ref is None:
            r = self.r + 1
        elif ref.isdigit() and len(ref) <= 7:  # isdigit alone would take '²'
            r = int(ref)
        else:
            raise self.fail(f"a row numbered {ref[:20]!r}")
        if r <= self.r:
            raise self.fail(f"row {r} comes after row {self.r} (rows must go down the sheet)")
        if r > MAX_ROW:
            raise self.fail(f"row {r} is past the last row {MAX_ROW}")
        self.r, self.r_text, self.col, self.in_row = r, str(r), 0, True
        start = self.p.CurrentByteIndex
        self.row = RowEvent(r, start) if self.visitor.row_start(r, start) else None

    def new_cell(self, attrs: dict[str, str]) -> None:
        ref = attrs.get("r")
        if ref is None:
            c = self.col + 1
        else:
            letters = ref.rstrip("0123456789")
            c = _COLUMNS.get(letters, 0)
            if not c or ref[len(letters) :] != self.r_text:  # the usual case costs two look-ups
                m = _CELL_REF.fullmatch(ref)
                if m is None:
                    raise self.fail(f"a cell named {ref[:20]!r}")
                if int(m.group(2)) != self.r:
                    raise self.fail(f"cell {ref} in row {self.r}")
                c = _COLUMNS[letters] = column_index(letters)
        if c <= self.col:
            raise self.fail(f"a cell in column {c} of row {self.r} after column {self.col} (cells must go right)")
        if c > MAX_COL:
            raise self.fail(f"a cell in column {c} of row {self.r}, past the last column XFD")
        self.col = c
        if self.row is not None:
            self.cell = CellEvent(self.r, c, self.p.CurrentByteIndex, -1, attrs.get("t"))

    def end(self, name: str) -> None:
        d = self.depth
        self.depth = d - 1
        if d == 5:
            if self.in_f and self.cell is not None:
                self.cell.f_end_event = self.p.CurrentByteIndex
                self.in_f = False
            elif self.v is not None and self.cell is not None:
                self.cell.v = "".join(self.v)
                self.v = None
        elif d == 4:
            cell = self.cell
            if cell is not None and self.row is not None:
                cell.end_event = self.p.CurrentByteIndex
                self.row.cells.append(cell)
                self.cell = None
        elif d == 3:
            if self.in_row:
                self.in_row = False
                if self.row is not None:
                    self.row.end_event = self.p.CurrentByteIndex
                    self.visitor.row_done(self.row)
                    self.row = None
        elif d == 2 and self.in_data:
            self.in_data = False
            self.visitor.sheet_data_end(self.p.CurrentByteIndex, self.data_start)

    def text(self, data: str) -> None:
        if self.v is not None:
            self.v.append(data)


def scan_sheet(chunks: Iterable[bytes], where: str, visitor: SheetVisitor, read_text: bool = False) -> bool:
    """Walk a worksheet's XML once, reporting rows and cells to ``visitor``.

    ``read_text``: collect each reported cell's <v> text (reading); without it only
    byte offsets are reported (patching, where the bytes are at hand). Malformed XML,
    a DOCTYPE, rows that do not go down or cells that do not go right are refused
    in one line. Returns whether the root was a <worksheet>.
    """
    p = _parser(where)
    walk = _SheetWalk(p, where, visitor, read_text)
    _feed(p, chunks, where)
    return walk.worksheet
