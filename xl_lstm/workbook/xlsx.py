"""Reading .xlsx files without a round trip through a spreadsheet library: cell
references, what a cell holds, and the package reader ``Book``.

The XML is read by a real parser (expat, see ``xml``) that reports byte offsets, in one
linear pass per sheet. Writing cells back, byte for byte elsewhere, is ``patch``.

Hostile files are refused before they can cost much, each in one line naming the file:
too many members, duplicate member names, members that inflate past a limit or by an
absurd ratio, damaged members (CRC or deflate errors), malformed XML, XML with a DOCTYPE
(entity bombs), encrypted workbooks (an OLE container, not a zip), defined names past
the sheet's edge or over the cell budget.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import LSTMError
from ..core.zips import MAX_PART_BYTES, MAX_TOTAL_BYTES, check_package
from .xml import (
    CHUNK,
    MAIN_NS,
    MAX_COL,
    MAX_ROW,
    PKG_REL_NS,
    REL_NS,
    RowEvent,
    SheetVisitor,
    column_index,
    element_spans,
    parse_part,
    pieces,
    scan_sheet,
)

__all__ = [
    "Book",
    "CellRange",
    "Cell",
    "parse_range",
    "cell_name",
    "MAX_PART_BYTES",
    "MAX_TOTAL_BYTES",
    "MAX_RANGE_CELLS",
]

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
        check_package(self.zip, str(self.path))  # parts, sizes and ratios from the zip's directory
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
                while chunk := fh.read(CHUNK):
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
