"""Patching .xlsx files without a round trip through a spreadsheet library.

A refresh must lose nothing: pictures, shapes, sparklines, Excel-2010 extensions,
comments, macros, cached values of other formulas, dynamic-array metadata. So we
never rebuild a workbook: every zip member we do not change is copied as it is, and
inside a changed worksheet only the ``<c>`` elements of the cells we write change;
every other byte of that XML stays where it was. The XML is read by a real parser
(expat, see ``xml``) that reports byte offsets, in one linear pass per sheet. Reading a
package, with its checks against hostile files, is ``xlsx.Book``.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import BinaryIO, TypeVar

import numpy as np

from ..core.errors import LSTMError
from .xlsx import DAMAGE, cell_name, column_letters, parse_range
from .xml import (
    CHUNK,
    RowEvent,
    SheetVisitor,
    element_end,
    match_tag,
    pieces,
    refuse_unless_utf8,
    scan_sheet,
    tag_at,
)

__all__ = ["Blocks", "Streamed", "Value", "patch_sheet", "patch_stream", "repack", "write_package"]


_T = TypeVar("_T")
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
        return b"<%sc%s>%s<%sv>%s</%sv></%sc>" % (p, attrs, formula or b"", p, repr(value).encode(), p, p)
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
    """Rewrites the rows of a sheet that hold values, as scan_sheet walks it, streaming.

    The sheet arrives in chunks; ``xml`` holds only its bytes from ``base`` on (offsets
    from expat are absolute). Every byte between the pieces we rewrite is copied as it
    was; bytes no later event can need (before the latest row's start, everything after
    </sheetData>) go to ``write`` after each chunk and are dropped, so memory holds about
    one chunk and one row, not the sheet.
    """

    def __init__(self, blocks: Blocks, keep: bool, write: Callable[[bytes], object]) -> None:
        self.blocks, self.keep, self.write = blocks, keep, write
        self.xml, self.base = b"", 0  # the bytes from offset base on that are still needed
        self.pending, self.k = blocks.rows(), 0  # rows to write, and the next one
        self.out: list[bytes] = []  # pieces not yet written
        self.pos = 0  # bytes before pos are in out (or written)
        self.safe = 0  # bytes before safe are needed by no later event
        self.done = False  # past </sheetData>: nothing more changes
        self.row_prefix = b""  # the prefix new rows use (sheetData's)
        self.data_start = -1
        self.data_tag: tuple[bytes, int, int] | None = None  # <sheetData/>: its name, "/" offset, end

    def add(self, chunk: bytes) -> None:
        """The next chunk, before expat parses it: write and drop what is no longer needed."""
        safe = self.base + len(self.xml) if self.done else self.safe
        if safe > self.pos:
            self.copy_to(safe)
        if self.out:
            self.write(b"".join(self.out))
            self.out.clear()
        self.xml = self.xml[self.pos - self.base :] + chunk
        self.base = self.pos

    def finish(self) -> None:
        self.copy_to(self.base + len(self.xml))
        self.write(b"".join(self.out))
        self.out.clear()

    def copy_to(self, offset: int) -> None:
        self.out.append(self.xml[self.pos - self.base : offset - self.base])
        self.pos = offset

    def dimension(self, start: int) -> None:
        tag = tag_at(self.xml, start - self.base)
        new = _widen_dimension(tag.group(2), self.blocks)
        if new != tag.group(2):
            self.copy_to(self.base + tag.start(2))
            self.out.append(new)
            self.pos = self.base + tag.end(2)

    def sheet_data(self, start: int) -> None:
        self.data_start = self.safe = start
        tag = tag_at(self.xml, start - self.base)
        self.row_prefix = _prefix(tag.group(1))
        if tag.group(3):
            self.data_tag = (tag.group(1), self.base + tag.start(3), self.base + tag.end())

    def row_start(self, r: int, start: int) -> bool:
        pending = self.pending
        self.safe = start
        while self.k < len(pending) and pending[self.k] < r:  # rows that do not exist yet go before this one
            self.copy_to(start)
            self.out.append(_new_row(self.row_prefix, pending[self.k], self.blocks.row(pending[self.k])))
            self.k += 1
        if self.k < len(pending) and pending[self.k] == r:
            self.k += 1
            return True
        return False

    def row_done(self, row: RowEvent) -> None:
        xml, base = self.xml, self.base
        end = element_end(xml, row.start - base, row.end_event - base)
        self.copy_to(row.start)
        self.out.append(_patch_row(xml, base, row, end, self.blocks.row(row.r), self.keep))
        self.pos = self.safe = base + end

    def sheet_data_end(self, end_event: int, start: int) -> None:
        self.done = True
        rest = [_new_row(self.row_prefix, r, self.blocks.row(r)) for r in self.pending[self.k :]]
        self.k = len(self.pending)
        if not rest:
            return
        if self.data_tag is not None:  # <sheetData/>: open it up
            name, slash, tag_end = self.data_tag
            self.copy_to(slash)
            self.out.append(b">" + b"".join(rest) + b"</" + name + b">")
            self.pos = tag_end
        else:
            self.copy_to(end_event)
            self.out += rest


def patch_stream(
    chunks: Iterable[bytes],
    write: Callable[[bytes], object],
    values: Blocks | dict[tuple[int, int], Value],
    keep_formulas: bool = True,
    where: str = "the worksheet",
) -> None:
    """Stream a sheet's XML from ``chunks`` to ``write`` with the given cells set; every
    other byte is unchanged.

    values: Blocks, or a dict (row, col) -> number or text (None: skip). Existing
    cells keep their attributes (style, ...) and, unless keep_formulas is False, their
    formula; cells that do not exist yet are inserted in order, creating rows as needed.
    One pass of expat over the sheet, holding about a chunk and a row at a time; malformed
    XML is refused naming ``where`` (what was written before then is to be thrown away).
    """
    blocks = values if isinstance(values, Blocks) else Blocks.of_cells(values)
    patcher = _Patcher(blocks, keep_formulas, write)

    def fed() -> Iterator[bytes]:
        head = b""  # the first bytes, for the encoding check
        for chunk in chunks:
            if len(head) < _HEAD:
                head += chunk
                if len(head) < _HEAD:
                    continue
                refuse_unless_utf8(head, where)
                chunk = head
            patcher.add(chunk)
            yield chunk
        if len(head) < _HEAD:  # a part shorter than _HEAD
            refuse_unless_utf8(head, where)
            patcher.add(head)
            yield head

    is_sheet = scan_sheet(fed(), where, patcher)
    if patcher.data_start < 0:
        raise LSTMError(f"{where}: the {'worksheet' if is_sheet else 'part'} has no sheetData")
    patcher.finish()


_HEAD = 4096  # bytes the encoding check looks at


def patch_sheet(
    xml: bytes, values: Blocks | dict[tuple[int, int], Value], keep_formulas: bool = True, where: str = "the worksheet"
) -> bytes:
    """The sheet XML with the given cells set; every other byte is unchanged (``patch_stream``
    on bytes in memory)."""
    out: list[bytes] = []
    patch_stream(pieces(xml), out.append, values, keep_formulas, where)
    return b"".join(out)


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


def _patch_row(xml: bytes, base: int, row: RowEvent, end: int, cells: dict[int, Value], keep: bool) -> bytes:
    """One row (xml[row.start - base:end]: xml begins at offset base) with the given columns set.

    Other cells, and whatever lies between cells (whitespace, comments), keep their exact
    bytes; new cells go in column order, just before the first cell to their right.
    """
    head = tag_at(xml, row.start - base)
    prefix = _prefix(head.group(1))
    out: list[bytes] = []
    pos = head.end()
    missing = sorted((c, v) for c, v in cells.items() if v is not None)
    present = {cell.col for cell in row.cells}
    missing = [(c, v) for c, v in missing if c not in present]
    j = 0
    append, get, match = out.append, cells.get, match_tag
    for cell in row.cells:
        start = cell.start - base
        if missing:
            while j < len(missing) and missing[j][0] < cell.col:
                append(xml[pos:start])
                pos = start
                append(_new_cell(prefix, row.r, missing[j][0], missing[j][1]))
                j += 1
        value = get(cell.col)
        if value is None:
            continue
        append(xml[pos:start])
        # _rewrite_cell, inlined: this runs once per cell written (half a million per refresh)
        tag = match(xml, start)
        if tag is None:  # cannot happen after expat accepted the element
            tag = tag_at(xml, start)
        qname, attrs, empty = tag.group(1, 2, 3)
        pos = tag.end() if empty else xml.index(b">", cell.end_event - base) + 1
        formula = None
        if cell.f_start >= 0 and (keep or cell.f_shared_master):  # a shared formula's master stays
            f_start, f_end = cell.f_start - base, cell.f_end_event - base
            if xml.startswith(b"</", f_end) and not xml.startswith(b"/>", f_end - 2):  # element_end's usual case
                f_end = xml.index(b">", f_end) + 1
            else:
                f_end = element_end(xml, f_start, f_end)
            formula = xml[f_start:f_end]
        p = qname[:-1]  # b"x:c"[:-1] is the prefix
        if type(value) is float and value - value == 0 and formula is not None and b"t=" not in attrs:
            # _cell_xml's commonest case (a finite number in a formula cell with no type), inlined
            append(b"<%sc%s>%s<%sv>%s</%sv></%sc>" % (p, attrs, formula, p, repr(value).encode(), p, p))
        else:
            append(_cell_xml(p, attrs, formula, value))
    tail = b"".join(_new_cell(prefix, row.r, c, v) for c, v in missing[j:])
    old_attrs = head.group(2)
    attrs = _widen_spans(old_attrs, cells) if missing else old_attrs
    if head.group(3):  # <row .../>: open it up
        return b"<" + head.group(1) + attrs + b">" + tail + b"</" + head.group(1) + b">"
    close = xml.rindex(b"<", pos, end)  # the </row> tag
    start_tag = xml[row.start - base : head.end()] if attrs is old_attrs else b"<" + head.group(1) + attrs + b">"
    return start_tag + b"".join(out) + xml[pos:close] + tail + xml[close:end]


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


class Streamed:
    """A member's new content made a piece at a time: ``make(write)`` calls ``write`` with
    each piece (``patch_stream`` does), so the part is never whole in memory."""

    def __init__(self, make: Callable[[Callable[[bytes], object]], None]) -> None:
        self.make = make


def write_package(
    src: zipfile.ZipFile,
    replaced: Mapping[str, Callable[[], bytes] | Streamed],
    fh: BinaryIO,
    drop: frozenset[str] = frozenset(),
) -> None:
    """Copy every member of src into fh, replacing some and dropping others.

    ``replaced`` maps a member to its new content: a ``Streamed`` writer, or a function
    making its bytes, called when that member is written. Unchanged members are copied a
    chunk at a time, and a streamed member goes from its writer to the deflater, so a
    package of any size costs a few megabytes. Members keep their order, names, dates and
    compression method; unchanged members keep their bytes. A damaged member (CRC or
    deflate error) is refused in one line naming the file.
    """
    with zipfile.ZipFile(fh, "w") as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            make = replaced.get(info.filename)
            new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            new.compress_type = info.compress_type
            new.external_attr = info.external_attr
            new.create_system = info.create_system
            if make is None:
                new.file_size = info.file_size  # so that zipfile knows whether it needs zip64
                with dst.open(new, "w") as out:
                    for chunk in _member_chunks(src, info):
                        out.write(chunk)
                continue
            new._compresslevel = 1  # type: ignore[attr-defined]  # fast deflate for the parts we rewrite
            if isinstance(make, Streamed):
                with dst.open(new, "w") as out:
                    make.make(out.write)
            else:
                dst.writestr(new, _damage_is_one_line(src, info, make))


def _member_chunks(src: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A member's inflated bytes a chunk at a time (its CRC is checked at the end)."""
    fh = _damage_is_one_line(src, info, lambda: src.open(info))
    with fh:
        while chunk := _damage_is_one_line(src, info, lambda: fh.read(CHUNK)):
            yield chunk


def _damage_is_one_line(src: zipfile.ZipFile, info: zipfile.ZipInfo, read: Callable[[], _T]) -> _T:
    """read(), with a damaged member (CRC or deflate error, truncation) refused in one line."""
    try:
        return read()
    except DAMAGE as exc:
        if isinstance(exc, LSTMError):
            raise
        raise LSTMError(f"{src.filename}: part {info.filename} is damaged ({type(exc).__name__}: {exc})") from None


def repack(
    data: bytes, change: Mapping[str, Callable[[bytes], bytes]], date_time: tuple[int, int, int, int, int, int]
) -> bytes:
    """A package's bytes made anew in memory, in one pass: every member in its order, the ones
    in ``change`` rewritten from their bytes, all deflated at the default level with the one
    ``date_time`` and no other metadata, so the same parts always give the same bytes (a
    package we made ourselves: ``write_package`` is for other people's files)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            fix = change.get(info.filename)
            if fix is not None:
                body = fix(body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=date_time), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()
