"""A corpus of template workbooks that carry what users add, and a way to see what a writer lost.

``build_corpus(template, out_dir)`` starts from a template-contract workbook and writes one
variant per feature that a spreadsheet user adds to a workbook and that a careless writer
destroys (openpyxl's load and save loses them, measured before the refresh was written): pictures, shapes and text boxes, sparklines, Excel-2010 data
validation and conditional formats, comments (legacy and threaded), an extra chart, a table,
a dynamic-array formula, macros (.xlsm), a file saved by LibreOffice, and one variant with
everything at once. Every variant also holds a user's own cells outside the ``lstm_*`` blocks
on the sheets a refresh rewrites (``USER_CELLS``).

The variants are made by editing the OOXML zip as text, part by part, never by an openpyxl
round trip (that is exactly what loses things). The edits are deliberately plain: each
feature function says in its docstring which parts it adds or changes.

Where a feature goes follows the template's defined names (the h columns of lstm_states, the
lstm_forecast block, free room right of the named blocks), so any template shape works; a
user's cell never lands on a template cell (``ValueError`` if the template has no room).

``lost_parts(before, after)`` lists, one line each, what ``before`` has and ``after`` lacks:
dropped parts, XML elements and attributes that vanished or changed, cells whose value,
cached result, formula, style or metadata changed. Parts are matched by their place in the
relationship graph (sheet name, relationship type), not by file name, so a writer that
renames parts is judged by what it kept. A lossless refresh gives ``[]`` (with the cells it
rewrites passed as ``ignore_cells``, e.g. ``block_ranges(before)``); a plain openpyxl
load-and-save does not. ``package_problems(data)`` checks a package's own rules (well-formed
parts, content types, relationships).
"""

from __future__ import annotations

import io
import posixpath
import re
import shutil
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

# ---- namespaces, relationship and content types -----------------------------------------------
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
XR = "http://schemas.microsoft.com/office/spreadsheetml/2014/revision"
XDA = "http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray"
THREADED = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"
A14 = "http://schemas.microsoft.com/office/drawing/2010/main"
A16 = "http://schemas.microsoft.com/office/drawing/2014/main"

REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
REL_THREADED = "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"
REL_PERSON = "http://schemas.microsoft.com/office/2017/10/relationships/person"

CT = "application/vnd.openxmlformats-officedocument."
CT_DRAWING = CT + "drawing+xml"
CT_CHART = CT + "drawingml.chart+xml"
CT_COMMENTS = CT + "spreadsheetml.comments+xml"
CT_VML = CT + "vmlDrawing"
CT_TABLE = CT + "spreadsheetml.table+xml"
CT_METADATA = CT + "spreadsheetml.sheetMetadata+xml"
CT_THREADED = "application/vnd.ms-excel.threadedcomments+xml"
CT_PERSON = "application/vnd.ms-excel.person+xml"
CT_VBA = "application/vnd.ms-office.vbaProject"
CT_XLSM = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"

# Worksheet extLst entries, in the order Excel writes them.
EXT_CONDITIONAL_FORMATS = "{78C0D931-6437-407d-A8EE-F0AAD7539E65}"
EXT_DATA_VALIDATIONS = "{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"
EXT_SPARKLINES = "{05C60535-1F16-4fd2-B633-F4F36F0B64E0}"
EXT_ORDER = [EXT_CONDITIONAL_FORMATS, EXT_DATA_VALIDATIONS, EXT_SPARKLINES]

# CT_Worksheet's children in schema order: a new child goes before the first later one.
WORKSHEET_ORDER = [
    "sheetPr",
    "dimension",
    "sheetViews",
    "sheetFormatPr",
    "cols",
    "sheetData",
    "sheetCalcPr",
    "sheetProtection",
    "protectedRanges",
    "scenarios",
    "autoFilter",
    "sortState",
    "dataConsolidate",
    "customSheetViews",
    "mergeCells",
    "phoneticPr",
    "conditionalFormatting",
    "dataValidations",
    "hyperlinks",
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
    "rowBreaks",
    "colBreaks",
    "customProperties",
    "cellWatches",
    "ignoredErrors",
    "smartTags",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
]

# A user's own cells outside every lstm_* block, on the sheets a refresh reads or rewrites, as
# openpyxl reads them (text, or a formula); formulas are stored with their cached results. A
# refresh must leave each exactly as it was.
USER_CELLS = {
    "States!AZ2": "note: h2 tracks the summer peak (checked by hand, May)",
    "States!AZ3": "f1",
    "States (formulas)!AB1": "do not edit the blocks; notes go here",
    "Inputs!J1": "total passengers",
    "Inputs!K1": "=SUM(lstm_series)",
    "Forecast!AI1": "2 x horizon",
    "Forecast!AI2": "=lstm_horizon*2",
}


# ---- the package: parts, content types, relationships -----------------------------------------
@dataclass
class Package:
    """An OOXML zip as {part name: bytes}, in the zip's order, edited part by part."""

    parts: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def read(cls, data: bytes) -> Package:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return cls({n: zf.read(n) for n in zf.namelist() if not n.endswith("/")})

    def to_bytes(self) -> bytes:
        """The zip, deflated, [Content_Types].xml first, with fixed timestamps (reproducible)."""
        buf = io.BytesIO()
        names = ["[Content_Types].xml"] + [n for n in self.parts if n != "[Content_Types].xml"]
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in names:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, self.parts[name])
        return buf.getvalue()

    def text(self, name: str) -> str:
        return self.parts[name].decode("utf-8")

    def put(self, name: str, content: str | bytes) -> None:
        self.parts[name] = content.encode("utf-8") if isinstance(content, str) else content

    def free_name(self, pattern: str) -> str:
        """The first ``pattern.format(n)``, n = 1, 2, ..., that no part has yet."""
        n = 1
        while pattern.format(n) in self.parts:
            n += 1
        return pattern.format(n)

    # [Content_Types].xml
    def content_type(self, name: str) -> str | None:
        types = ET.fromstring(self.parts["[Content_Types].xml"])
        for e in types.findall(f"{{{CONTENT_TYPES}}}Override"):
            if e.get("PartName", "").lstrip("/").lower() == name.lower():
                return e.get("ContentType")
        ext = name.rsplit(".", 1)[-1].lower()
        for e in types.findall(f"{{{CONTENT_TYPES}}}Default"):
            if e.get("Extension", "").lower() == ext:
                return e.get("ContentType")
        return None

    def set_override(self, name: str, content_type: str) -> None:
        xml = self.text("[Content_Types].xml")
        xml, n = re.subn(
            rf'(<Override PartName="/{re.escape(name)}" ContentType=")[^"]*"',
            lambda m: m.group(1) + content_type + '"',
            xml,
        )
        if n == 0:
            xml = xml.replace("</Types>", f'<Override PartName="/{name}" ContentType="{content_type}"/></Types>')
        self.put("[Content_Types].xml", xml)

    def set_default(self, extension: str, content_type: str) -> None:
        xml = self.text("[Content_Types].xml")
        if f'Extension="{extension}"' not in xml:
            xml = re.sub(
                r"(<Types\b[^>]*>)", rf'\1<Default Extension="{extension}" ContentType="{content_type}"/>', xml, count=1
            )
            self.put("[Content_Types].xml", xml)

    # relationships
    def rels(self, source: str) -> list[tuple[str, str, str]]:
        """(Id, Type, target part name) of every internal relationship of ``source`` ("" = package)."""
        rels_name = _rels_name(source)
        if rels_name not in self.parts:
            return []
        out = []
        for e in ET.fromstring(self.parts[rels_name]):
            if e.get("TargetMode") == "External":
                continue
            out.append((e.get("Id", ""), e.get("Type", ""), _resolve(source, e.get("Target", ""))))
        return out

    def relate(self, source: str, rel_type: str, target: str) -> str:
        """Add a relationship source -> target (a part name); return its new Id."""
        rels_name = _rels_name(source)
        xml = self.text(rels_name) if rels_name in self.parts else f'<Relationships xmlns="{PKG_RELS}"></Relationships>'
        ids = set(re.findall(r'\bId="([^"]+)"', xml))
        n = 1
        while f"rId{n}" in ids:
            n += 1
        rid = f"rId{n}"
        xml = xml.replace(
            "</Relationships>", f'<Relationship Id="{rid}" Type="{rel_type}" Target="/{target}"/></Relationships>'
        )
        self.put(rels_name, xml)
        return rid

    def target(self, source: str, rel_type: str) -> str | None:
        return next((t for _, ty, t in self.rels(source) if ty == rel_type), None)

    # workbook structure
    @property
    def workbook(self) -> str:
        return self.target("", REL + "officeDocument") or "xl/workbook.xml"

    def sheets(self) -> dict[str, str]:
        """Sheet name -> worksheet part name, in tab order."""
        targets = {rid: t for rid, _, t in self.rels(self.workbook)}
        root = ET.fromstring(self.parts[self.workbook])
        return {s.get("name", ""): targets[s.get(f"{{{R}}}id", "")] for s in root.iter(f"{{{MAIN}}}sheet")}

    def sheet(self, name: str) -> str:
        return self.sheets()[name]


def _rels_name(source: str) -> str:
    folder, base = posixpath.split(source)
    return posixpath.join(folder, "_rels", base + ".rels")


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


@dataclass(frozen=True)
class Block:
    """A rectangular range on one sheet, 1-based and inclusive: what a defined name points to."""

    sheet: str
    r0: int
    c0: int
    r1: int
    c1: int

    def ref(self, absolute: bool = False) -> str:
        d = "$" if absolute else ""
        first = f"{d}{_col_letters(self.c0)}{d}{self.r0}"
        last = f"{d}{_col_letters(self.c1)}{d}{self.r1}"
        return first if (self.r0, self.c0) == (self.r1, self.c1) else f"{first}:{last}"

    def cells(self) -> list[str]:
        return [f"{_col_letters(c)}{r}" for r in range(self.r0, self.r1 + 1) for c in range(self.c0, self.c1 + 1)]


def defined_names(pkg: Package) -> dict[str, Block]:
    """The workbook's single-range defined names (the template contract: lstm_W, lstm_states, ...)."""
    out = {}
    for e in ET.fromstring(pkg.parts[pkg.workbook]).iter(f"{{{MAIN}}}definedName"):
        text = (e.text or "").strip()
        if "!" in text and "," not in text:
            try:
                out[e.get("name", "")] = Block(*_parse_ranges([text])[0])
            except ValueError:
                continue
    return out


# ---- XML as text: small, order-aware edits -----------------------------------------------------
_TAG = re.compile(
    r"<(/?)([A-Za-z_][\w.:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>|<\?.*?\?>|<!--.*?-->|<!\[CDATA\[.*?\]\]>", re.S
)


def _children(xml: str) -> list[tuple[str, int, int]]:
    """(local name, start, end) of every child element of the root, in document order."""
    out: list[tuple[str, int, int]] = []
    depth, start, name = 0, 0, ""
    for m in _TAG.finditer(xml):
        if m.group(2) is None:  # declaration, comment, CDATA
            continue
        closing, selfclosing = m.group(1) == "/", m.group(4) == "/"
        if closing:
            depth -= 1
            if depth == 1:
                out.append((name, start, m.end()))
        else:
            if depth == 1:
                start, name = m.start(), m.group(2).split(":")[-1]
                if selfclosing:
                    out.append((name, start, m.end()))
            if not selfclosing:
                depth += 1
    return out


def _insert_child(xml: str, fragment: str, tag: str, order: list[str]) -> str:
    """Insert ``fragment`` (an element named ``tag``) among the root's children in schema order."""
    rank = order.index(tag)
    for name, start, _ in _children(xml):
        if name in order and order.index(name) > rank:
            return xml[:start] + fragment + xml[start:]
    end = xml.rindex("</")
    return xml[:end] + fragment + xml[end:]


def _child(xml: str, tag: str) -> tuple[int, int] | None:
    return next(((s, e) for name, s, e in _children(xml) if name == tag), None)


def _declare(xml: str, prefix: str, uri: str) -> str:
    """Declare xmlns:prefix on the root element unless it is there."""
    root = re.search(r"<(?!\?)[A-Za-z_][^>]*>", xml)
    assert root is not None
    if f"xmlns:{prefix}=" in root.group(0):
        return xml
    head = root.group(0)
    close = len(head) - (2 if head.endswith("/>") else 1)
    return xml[: root.start()] + head[:close] + f' xmlns:{prefix}="{uri}"' + head[close:] + xml[root.end() :]


def _ignorable(xml: str, prefix: str) -> str:
    """Add ``prefix`` to the root's mc:Ignorable (declaring mc)."""
    xml = _declare(xml, "mc", MC)
    root = re.search(r"<(?!\?)[A-Za-z_][^>]*>", xml)
    assert root is not None
    head = root.group(0)
    m = re.search(r'mc:Ignorable="([^"]*)"', head)
    if m:
        if prefix in m.group(1).split():
            return xml
        new = head.replace(m.group(0), f'mc:Ignorable="{m.group(1)} {prefix}"')
    else:
        close = len(head) - (2 if head.endswith("/>") else 1)
        new = head[:close] + f' mc:Ignorable="{prefix}"' + head[close:]
    return xml[: root.start()] + new + xml[root.end() :]


def _max_id(xml: str) -> int:
    """The largest drawing-object id (cNvPr id) in a drawing part: new objects take the next ones."""
    return max((int(v) for v in re.findall(r'<[\w:]*cNvPr\b[^>]*\bid="(\d+)"', xml)), default=0)


# ---- cells ------------------------------------------------------------------------------------
def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = 26 * n + ord(ch) - 64
    return n


def _col_letters(n: int) -> str:
    s = ""
    while n:
        n, rem = divmod(n - 1, 26)
        s = chr(65 + rem) + s
    return s


def _split_ref(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", ref)
    if m is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(m.group(2)), _col_number(m.group(1))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_escape(text)}</t></is></c>'


def number_cell(ref: str, value: float) -> str:
    return f'<c r="{ref}"><v>{value!r}</v></c>'


def formula_cell(ref: str, formula: str, cached: float | str, attrs: str = "", f_attrs: str = "") -> str:
    """A formula with its cached result (what Excel and LibreOffice write, and what readers show)."""
    if isinstance(cached, str):
        return f'<c r="{ref}" t="str"{attrs}><f{f_attrs}>{_escape(formula)}</f><v>{_escape(cached)}</v></c>'
    return f'<c r="{ref}"{attrs}><f{f_attrs}>{_escape(formula)}</f><v>{cached!r}</v></c>'


def _set_cell(xml: str, ref: str, cell: str) -> str:
    """Put ``cell`` (a <c> element) at ``ref`` in a worksheet's sheetData, keeping rows and columns in order."""
    row, col = _split_ref(ref)
    data = _child(xml, "sheetData")
    assert data is not None, "worksheet without sheetData"
    s, e = data
    body = xml[s:e]
    if body.endswith("/>"):
        body = "<sheetData></sheetData>"
    for m in re.finditer(r'<row\b[^>]*?\br="(\d+)"[^>]*?(/?)>', body):
        r = int(m.group(1))
        if r < row:
            continue
        if r > row:  # a new row before this one
            body = body[: m.start()] + f'<row r="{row}">{cell}</row>' + body[m.start() :]
            break
        if m.group(2) == "/":  # an empty <row .../>
            body = body[: m.start()] + m.group(0)[:-2] + ">" + cell + "</row>" + body[m.end() :]
            break
        end = body.index("</row>", m.end())
        cells = body[m.end() : end]
        at = len(cells)
        for cm in re.finditer(r'<c\b[^>]*?\br="([A-Z]+)\d+"[^>]*?(/?)>', cells):
            c = _col_number(cm.group(1))
            if c >= col:
                at = cm.start()
                if c == col:  # an empty (styled) cell is there: replace it
                    stop = cm.end() if cm.group(2) == "/" else cells.index("</c>", cm.end()) + 4
                    cells = cells[:at] + cells[stop:]
                break
        body = body[: m.end()] + cells[:at] + cell + cells[at:] + body[end:]
        break
    else:
        body = body.replace("</sheetData>", f'<row r="{row}">{cell}</row></sheetData>')
    xml = xml[:s] + body + xml[e:]
    return _grow_dimension(xml, row, col)


def _grow_dimension(xml: str, row: int, col: int) -> str:
    m = re.search(r'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', xml)
    if m is None:
        return xml
    c0, r0 = _col_number(m.group(1)), int(m.group(2))
    c1, r1 = (_col_number(m.group(3)), int(m.group(4))) if m.group(3) else (c0, r0)
    c0, r0, c1, r1 = min(c0, col), min(r0, row), max(c1, col), max(r1, row)
    return xml.replace(m.group(0), f'<dimension ref="{_col_letters(c0)}{r0}:{_col_letters(c1)}{r1}"', 1)


def _cell_xml(xml: str, ref: str) -> str | None:
    """The <c> element at ``ref`` in a worksheet, or None."""
    m = re.search(rf'<c\b[^>]*?\br="{ref}"[^>]*?(/?)>', xml)
    if m is None:
        return None
    return m.group(0) if m.group(1) else xml[m.start() : xml.index("</c>", m.end()) + 4]


def _cell_number(pkg: Package, sheet: str, ref: str) -> float:
    """The number a cell holds (its value, or its formula's cached result), to compute our cached results."""
    cell = _cell_xml(pkg.text(pkg.sheet(sheet)), ref)
    v = re.search(r"<v>([^<]+)</v>", cell) if cell else None
    if v is None:
        raise ValueError(f"{sheet}!{ref} holds no number")
    return float(v.group(1))


def _put_cells(pkg: Package, sheet: str, cells: dict[str, str]) -> None:
    """Write <c> elements (ref -> XML) into free cells of ``sheet``."""
    _require_free(pkg, sheet, cells)
    part = pkg.sheet(sheet)
    xml = pkg.text(part)
    for ref, cell in cells.items():
        xml = _set_cell(xml, ref, cell)
    pkg.put(part, xml)


def _block_numbers(pkg: Package, block: Block) -> list[float]:
    return [_cell_number(pkg, block.sheet, ref) for ref in block.cells()]


def _require_free(pkg: Package, sheet: str, refs: Iterable[str]) -> None:
    """Refuse to put a user's things on a template cell: inside a defined name, or holding something."""
    xml = pkg.text(pkg.sheet(sheet))
    names = defined_names(pkg)
    for ref in refs:
        row, col = _split_ref(ref)
        for name, b in names.items():
            if b.sheet == sheet and b.r0 <= row <= b.r1 and b.c0 <= col <= b.c1:
                raise ValueError(f"{sheet}!{ref} lies in {name} in this template; the corpus needs it free")
        cell = _cell_xml(xml, ref)
        if cell and re.search(r"<(v|f|is)\b", cell):
            raise ValueError(f"{sheet}!{ref} already holds something in this template; the corpus needs it free")


# ---- worksheet-level plumbing: Excel 2010 namespaces, extLst, drawings ------------------------------
def _excel2010(pkg: Package, sheet: str) -> str:
    """Give a worksheet the root declarations Excel 2010+ writes: mc:Ignorable="x14ac", x14, xm,
    and an x14ac:dyDescent on sheetFormatPr (an attribute only Excel 2010+ understands)."""
    part = pkg.sheet(sheet)
    xml = pkg.text(part)
    for prefix, uri in (("r", R), ("x14ac", X14AC), ("x14", X14), ("xm", XM)):
        xml = _declare(xml, prefix, uri)
    xml = _ignorable(xml, "x14ac")
    if "x14ac:dyDescent" not in xml:
        xml = re.sub(r"<sheetFormatPr\b", '<sheetFormatPr x14ac:dyDescent="0.25"', xml, count=1)
    pkg.put(part, xml)
    return part


def _add_ext(pkg: Package, sheet: str, uri: str, inner: str) -> None:
    """Add a worksheet-level <ext uri=...> (x14 content) to the sheet's extLst, in Excel's order."""
    part = _excel2010(pkg, sheet)
    xml = pkg.text(part)
    ext = f'<ext uri="{uri}" xmlns:x14="{X14}">{inner}</ext>'
    span = _child(xml, "extLst")
    if span is None:
        pkg.put(part, _insert_child(xml, f"<extLst>{ext}</extLst>", "extLst", WORKSHEET_ORDER))
        return
    s, e = span
    ext_list = xml[s:e]
    rank = EXT_ORDER.index(uri) if uri in EXT_ORDER else len(EXT_ORDER)
    pos = ext_list.rindex("</extLst>")
    for m in re.finditer(r'<ext\b[^>]*\buri="([^"]+)"', ext_list):
        if m.group(1) in EXT_ORDER and EXT_ORDER.index(m.group(1)) > rank:
            pos = m.start()
            break
    pkg.put(part, xml[:s] + ext_list[:pos] + ext + ext_list[pos:] + xml[e:])


def _sheet_child(pkg: Package, sheet: str, tag: str, fragment: str) -> None:
    part = pkg.sheet(sheet)
    xml = _declare(pkg.text(part), "r", R)
    pkg.put(part, _insert_child(xml, fragment, tag, WORKSHEET_ORDER))


def _drawing(pkg: Package, sheet: str) -> str:
    """The sheet's drawing part (xl/drawings/drawingN.xml), made with its rel, override and
    <drawing r:id> if the sheet has none."""
    part = pkg.sheet(sheet)
    existing = pkg.target(part, REL + "drawing")
    if existing:
        return existing
    name = pkg.free_name("xl/drawings/drawing{}.xml")
    pkg.put(
        name,
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<xdr:wsDr xmlns:xdr="{XDR}" xmlns:a="{A}"></xdr:wsDr>',
    )
    pkg.set_override(name, CT_DRAWING)
    rid = pkg.relate(part, REL + "drawing", name)
    _sheet_child(pkg, sheet, "drawing", f'<drawing r:id="{rid}"/>')
    return name


def _anchor(col0: int, row0: int, col1: int, row1: int, body: str, edit_as: str = "oneCell") -> str:
    """A two-cell anchor from (col0, row0) to (col1, row1), zero-based, around a drawing object."""

    def corner(tag: str, col: int, row: int) -> str:
        return (
            f"<xdr:{tag}><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:{tag}>"
        )

    return (
        f'<xdr:twoCellAnchor editAs="{edit_as}">{corner("from", col0, row0)}{corner("to", col1, row1)}'
        f"{body}<xdr:clientData/></xdr:twoCellAnchor>"
    )


def _cnvpr(n: int, name: str, descr: str = "") -> str:
    """<xdr:cNvPr> as Excel 2016+ writes it: with an a16:creationId extension (a stable id per object)."""
    alt = f' descr="{_escape(descr)}"' if descr else ""
    return (
        f'<xdr:cNvPr id="{n}" name="{name}"{alt}><a:extLst><a:ext uri="{{FF2B5EF4-FFF2-40B4-BE49-F238E27FC236}}">'
        f'<a16:creationId xmlns:a16="{A16}" id="{{00000000-0008-0000-{n:04d}-000000000000}}"/></a:ext></a:extLst>'
        f"</xdr:cNvPr>"
    )


def _add_anchor(pkg: Package, drawing: str, anchor: str) -> None:
    xml = pkg.text(drawing)
    for prefix, uri in (("xdr", XDR), ("a", A), ("r", R)):
        xml = _declare(xml, prefix, uri)
    end = xml.rindex("</")
    pkg.put(drawing, xml[:end] + anchor + xml[end:])


# ---- features: one function each ------------------------------------------------------------------
def _quote(sheet: str) -> str:
    return sheet if re.fullmatch(r"[A-Za-z_][\w.]*", sheet) else "'" + sheet.replace("'", "''") + "'"


def _hidden_columns(pkg: Package) -> tuple[Block, list[int]]:
    """lstm_states and the columns of its last gate block (the hidden state h, H columns)."""
    states = defined_names(pkg)["lstm_states"]
    H = (states.c1 - states.c0 + 1) // 6
    return states, list(range(states.c1 - H + 1, states.c1 + 1))


def _right_of_names(pkg: Package, sheet: str, gap: int) -> int:
    """The column ``gap`` columns right of every defined name on ``sheet``: free room for a user."""
    return max(b.c1 for b in defined_names(pkg).values() if b.sheet == sheet) + gap


def add_user_cells(pkg: Package) -> None:
    """USER_CELLS on States, States (formulas), Inputs and Forecast (worksheet sheetData only):
    text notes, and formulas with their cached results."""
    names = defined_names(pkg)
    cached = {
        "Inputs!K1": sum(_block_numbers(pkg, names["lstm_series"])),
        "Forecast!AI2": 2 * _block_numbers(pkg, names["lstm_horizon"])[0],
    }
    for where, content in USER_CELLS.items():
        sheet, ref = where.rsplit("!", 1)
        if content.startswith("="):
            cell = formula_cell(ref, content[1:], cached[where])
        else:
            cell = text_cell(ref, content)
        _put_cells(pkg, sheet, {ref: cell})


def png_image(width: int = 48, height: int = 32) -> bytes:
    """A small RGB PNG: the sigmoid curve σ(x) in blue on white, written with zlib and struct."""
    import math

    curve = [round((height - 1) * (1 - 1 / (1 + math.exp(-(12 * x / (width - 1) - 6))))) for x in range(width)]
    rows = []
    for y in range(height):
        line = bytearray(b"\x00")  # filter type 0 (None) for each scanline
        for x in range(width):
            line += (
                b"\x1f\x77\xb4"
                if abs(curve[x] - y) <= 1
                else (b"\xcc\xcc\xcc" if y == height // 2 else b"\xff\xff\xff")
            )
        rows.append(bytes(line))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def add_picture(pkg: Package) -> None:
    """A picture right of the States blocks: xl/media/imageN.png, a <xdr:pic> anchor (alt text, Excel's
    a16/a14 extensions) in the sheet's drawing, the drawing's image relationship, a png Default."""
    image = pkg.free_name("xl/media/image{}.png")
    pkg.put(image, png_image())
    pkg.set_default("png", "image/png")
    drawing = _drawing(pkg, "States")
    rid = pkg.relate(drawing, REL + "image", image)
    n = _max_id(pkg.text(drawing)) + 1
    pic = (
        f"<xdr:pic><xdr:nvPicPr>{_cnvpr(n, f'Picture {n}', 'The sigmoid that squashes every gate')}"
        f'<xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr>'
        f'<xdr:blipFill><a:blip r:embed="{rid}"><a:extLst><a:ext uri="{{28A0092B-C50C-407E-A947-70E740481C1C}}">'
        f'<a14:useLocalDpi xmlns:a14="{A14}" val="0"/></a:ext></a:extLst></a:blip><a:stretch><a:fillRect/></a:stretch>'
        f"</xdr:blipFill>"
        f'<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="1828800" cy="1219200"/></a:xfrm>'
        f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic>'
    )
    states, _ = _hidden_columns(pkg)
    _add_anchor(pkg, drawing, _anchor(states.c1 + 1, 4, states.c1 + 4, 11, pic))


def _shape(n: int, name: str, geometry: str, fill: str, text: str, text_box: bool = False) -> str:
    box = ' txBox="1"' if text_box else ""
    return (
        f'<xdr:sp macro="" textlink=""><xdr:nvSpPr>{_cnvpr(n, name)}<xdr:cNvSpPr{box}/></xdr:nvSpPr>'
        f'<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></a:xfrm>'
        f'<a:prstGeom prst="{geometry}"><a:avLst/></a:prstGeom><a:solidFill><a:srgbClr val="{fill}"/></a:solidFill>'
        f'<a:ln w="9525"><a:solidFill><a:srgbClr val="7F6000"/></a:solidFill></a:ln></xdr:spPr>'
        f'<xdr:txBody><a:bodyPr vertOverflow="clip" wrap="square" rtlCol="0" anchor="t"/><a:lstStyle/>'
        f'<a:p><a:r><a:rPr lang="en-US" sz="1100"/><a:t>{_escape(text)}</a:t></a:r></a:p></xdr:txBody></xdr:sp>'
    )


def add_shapes(pkg: Package) -> None:
    """A callout shape and a text box on Forecast: two <xdr:sp> anchors with <xdr:txBody> text in
    the sheet's drawing (a new xl/drawings/drawingN.xml with its rel and override)."""
    drawing = _drawing(pkg, "Forecast")
    n = _max_id(pkg.text(drawing)) + 1
    callout = _shape(n, f"Callout {n}", "wedgeRectCallout", "FFF2CC", "Forecast reviewed with finance, see AE19")
    box = _shape(
        n + 1,
        f"TextBox {n + 1}",
        "rect",
        "FFFFFF",
        "The forecast feeds each prediction back as the next input.",
        text_box=True,
    )
    _add_anchor(pkg, drawing, _anchor(1, 18, 6, 24, callout, "absolute"))
    _add_anchor(pkg, drawing, _anchor(7, 18, 13, 24, box, "absolute"))


def add_sparklines(pkg: Package) -> None:
    """Sparklines of each h unit over time, right of the States blocks in the header row: an
    x14:sparklineGroups <ext> in the worksheet's extLst, with x14/xm/mc and mc:Ignorable on the root."""
    states, h_cols = _hidden_columns(pkg)
    row = states.r0 - 2
    where = [f"{_col_letters(states.c1 + 2 + k)}{row}" for k in range(len(h_cols))]
    _require_free(pkg, "States", where)
    lines = "".join(
        f"<x14:sparkline><xm:f>States!{_col_letters(c)}{states.r0}:{_col_letters(c)}{states.r1}</xm:f>"
        f"<xm:sqref>{cell}</xm:sqref></x14:sparkline>"
        for c, cell in zip(h_cols, where, strict=True)
    )
    colours = "".join(
        f'<x14:{k} rgb="{v}"/>'
        for k, v in [
            ("colorSeries", "FF376092"),
            ("colorNegative", "FFD00000"),
            ("colorAxis", "FF000000"),
            ("colorMarkers", "FFD00000"),
            ("colorFirst", "FFD00000"),
            ("colorLast", "FFD00000"),
            ("colorHigh", "FFD00000"),
            ("colorLow", "FFD00000"),
        ]
    )
    group = (
        f'<x14:sparklineGroups xmlns:xm="{XM}"><x14:sparklineGroup displayEmptyCellsAs="gap" high="1" low="1">'
        f"{colours}<x14:sparklines>{lines}</x14:sparklines></x14:sparklineGroup></x14:sparklineGroups>"
    )
    _add_ext(pkg, "States", EXT_SPARKLINES, group)


def add_data_validation(pkg: Package) -> None:
    """An Excel-2010 list validation on States!AZ3 whose source is on another sheet (the gate labels
    left of lstm_W): an x14:dataValidations <ext> in the worksheet's extLst."""
    W = defined_names(pkg)["lstm_W"]
    labels = Block(W.sheet, W.r0, W.c0 - 1, W.r1, W.c0 - 1)
    rule = (
        f'<x14:dataValidations count="1" xmlns:xm="{XM}"><x14:dataValidation type="list" allowBlank="1" '
        f'showInputMessage="1" showErrorMessage="1" promptTitle="Gate" prompt="Pick the gate unit to watch">'
        f"<x14:formula1><xm:f>{_quote(W.sheet)}!{labels.ref(absolute=True)}</xm:f></x14:formula1>"
        f"<xm:sqref>AZ3</xm:sqref></x14:dataValidation></x14:dataValidations>"
    )
    _add_ext(pkg, "States", EXT_DATA_VALIDATIONS, rule)


def add_conditional_format(pkg: Package) -> None:
    """An Excel-2010 data bar on lstm_forecast_udf (a refreshed block): a <conditionalFormatting> whose
    cfRule points by x14:id to an x14:conditionalFormattings <ext> in the worksheet's extLst."""
    forecast = defined_names(pkg)["lstm_forecast_udf"]
    sheet, sqref = forecast.sheet, forecast.ref()
    guid = "{8A2E2C3B-5D1A-4C3E-9F00-3C1D2B4A5E61}"
    part = _excel2010(pkg, sheet)
    priority = 1 + len(re.findall(r"<cfRule\b", pkg.text(part)))
    main = (
        f'<conditionalFormatting sqref="{sqref}"><cfRule type="dataBar" priority="{priority}"><dataBar>'
        f'<cfvo type="min"/><cfvo type="max"/><color rgb="FF638EC6"/></dataBar><extLst>'
        f'<ext uri="{{B025F937-C7B1-47D3-B67F-A62EFF666E3E}}" xmlns:x14="{X14}"><x14:id>{guid}</x14:id></ext>'
        f"</extLst></cfRule></conditionalFormatting>"
    )
    _sheet_child(pkg, sheet, "conditionalFormatting", main)
    x14 = (
        f'<x14:conditionalFormattings><x14:conditionalFormatting xmlns:xm="{XM}">'
        f'<x14:cfRule type="dataBar" id="{guid}"><x14:dataBar minLength="0" maxLength="100" gradient="0" '
        f'negativeBarColorSameAsPositive="0" axisPosition="middle"><x14:cfvo type="autoMin"/><x14:cfvo type="autoMax"/>'
        f'<x14:negativeFillColor rgb="FFFF0000"/><x14:axisColor rgb="FF000000"/></x14:dataBar></x14:cfRule>'
        f"<xm:sqref>{sqref}</xm:sqref></x14:conditionalFormatting></x14:conditionalFormattings>"
    )
    _add_ext(pkg, sheet, EXT_CONDITIONAL_FORMATS, x14)


def _vml(idmap: int, notes: list[tuple[int, int]]) -> str:
    """The legacy VML drawing behind comments: one visible, sized note box per (row, col), zero-based."""
    shapes = []
    for k, (row, col) in enumerate(notes):
        shapes.append(
            f'<v:shape id="_x0000_s{idmap * 1024 + 1 + k}" type="#_x0000_t202" style="position:absolute;'
            f'margin-left:80pt;margin-top:5pt;width:216pt;height:64pt;z-index:{k + 1};visibility:visible" '
            f'fillcolor="#e2efda" o:insetmode="auto"><v:fill color2="#e2efda"/><v:shadow on="t" color="black" obscured="t"/>'
            f'<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
            f'</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{col + 1}, 15, {row}, 10, {col + 4}, 15, {row + 4}, 4</x:Anchor><x:AutoFill>False</x:AutoFill>"
            f"<x:Row>{row}</x:Row><x:Column>{col}</x:Column><x:Visible/></x:ClientData></v:shape>"
        )
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{idmap}"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
        '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
        + "".join(shapes)
        + "</xml>"
    )


def _comments_part(pkg: Package, sheet: str, authors: list[str], comments: list[tuple[str, int, str, str]]) -> None:
    """xl/commentsN.xml + xl/drawings/vmlDrawingN.vml for ``sheet``: (ref, author index, text, xr:uid)."""
    part = pkg.sheet(sheet)
    name = pkg.free_name("xl/comments{}.xml")
    items = "".join(
        f'<comment ref="{ref}" authorId="{a}" shapeId="0"'
        + (f' xr:uid="{uid}"' if uid else "")
        + f'><text><t xml:space="preserve">{_escape(text)}</t></text></comment>'
        for ref, a, text, uid in comments
    )
    pkg.put(
        name,
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="{MAIN}" '
        f'xmlns:mc="{MC}" mc:Ignorable="xr" xmlns:xr="{XR}"><authors>'
        + "".join(f"<author>{_escape(a)}</author>" for a in authors)
        + f"</authors><commentList>{items}</commentList></comments>",
    )
    pkg.set_override(name, CT_COMMENTS)
    pkg.relate(part, REL + "comments", name)
    vml = pkg.free_name("xl/drawings/vmlDrawing{}.vml")
    idmap = 1 + sum(1 for n in pkg.parts if n.endswith(".vml"))
    pkg.put(vml, _vml(idmap, [(_split_ref(ref)[0] - 1, _split_ref(ref)[1] - 1) for ref, *_ in comments]))
    pkg.set_default("vml", CT_VML)
    rid = pkg.relate(part, REL + "vmlDrawing", vml)
    _sheet_child(pkg, sheet, "legacyDrawing", f'<legacyDrawing r:id="{rid}"/>')


def add_comments(pkg: Package) -> None:
    """A visible legacy note on States!AZ2 (xl/commentsN.xml + a VML drawing + <legacyDrawing>) and a
    threaded comment on lstm_horizon (xl/threadedComments/threadedCommentN.xml, xl/persons/person.xml
    related from the workbook, and the legacy placeholder comment Excel writes beside it)."""
    _comments_part(
        pkg,
        "States",
        ["Data analyst"],
        [("AZ2", 0, "Data analyst:\nh2 rises every summer; keep this column in the report.", "")],
    )
    horizon = defined_names(pkg)["lstm_horizon"]
    sheet, ref = horizon.sheet, horizon.ref()
    person, thread = "{6D3C8B51-0F0A-4E6B-9C0B-2B6D7F1E4A90}", "{3F2A1B0C-9D8E-4F70-8A6B-5C4D3E2F1A00}"
    text = "Horizon agreed with finance: 12 months."
    placeholder = (
        "[Threaded comment]\n\nYour version of Excel allows you to read this threaded comment; however, "
        "any edits to it will get removed if the file is opened in a newer version of Excel. Learn more: "
        f"https://go.microsoft.com/fwlink/?linkid=870924\n\nComment:\n    {text}"
    )
    _comments_part(pkg, sheet, [f"tc={thread}"], [(ref, 0, placeholder, thread)])
    threaded = pkg.free_name("xl/threadedComments/threadedComment{}.xml")
    pkg.put(
        threaded,
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<ThreadedComments xmlns="{THREADED}" '
        f'xmlns:x="{MAIN}"><threadedComment ref="{ref}" dT="2024-05-02T09:30:00.00" personId="{person}" '
        f'id="{thread}"><text>{_escape(text)}</text></threadedComment></ThreadedComments>',
    )
    pkg.set_override(threaded, CT_THREADED)
    pkg.relate(pkg.sheet(sheet), REL_THREADED, threaded)
    if pkg.target(pkg.workbook, REL_PERSON) is None:
        pkg.put(
            "xl/persons/person.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<personList xmlns="{THREADED}" xmlns:x="{MAIN}"><person displayName="Data analyst" '
            f'id="{person}" userId="analyst@example.com" providerId="None"/></personList>',
        )
        pkg.set_override("xl/persons/person.xml", CT_PERSON)
        pkg.relate(pkg.workbook, REL_PERSON, "xl/persons/person.xml")


def _line_chart(title: str, sheet: str, series: list[tuple[str, str, str]], categories: str) -> str:
    """A chartSpace with one line chart, written as Excel 2016 writes it (c14 style, c16 series ids)."""
    sers = []
    for k, (name_ref, values_ref, colour) in enumerate(series):
        sers.append(
            f'<c:ser><c:idx val="{k}"/><c:order val="{k}"/><c:tx><c:strRef><c:f>{sheet}!{name_ref}</c:f></c:strRef></c:tx>'
            f'<c:spPr><a:ln w="19050" cap="rnd"><a:solidFill><a:srgbClr val="{colour}"/></a:solidFill><a:round/></a:ln></c:spPr>'
            f'<c:marker><c:symbol val="none"/></c:marker><c:cat><c:numRef><c:f>{sheet}!{categories}</c:f></c:numRef></c:cat>'
            f'<c:val><c:numRef><c:f>{sheet}!{values_ref}</c:f></c:numRef></c:val><c:smooth val="0"/>'
            f'<c:extLst><c:ext uri="{{C3380CC4-5D6E-409C-BE32-E72D297353CC}}" '
            f'xmlns:c16="http://schemas.microsoft.com/office/drawing/2014/chart">'
            f'<c16:uniqueId val="{{0000000{k}-7A1B-4C2D-8E3F-000000000001}}"/></c:ext></c:extLst></c:ser>'
        )
    axes = (
        '<c:catAx><c:axId val="500000001"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/>'
        '<c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="1"/><c:majorTickMark val="none"/>'
        '<c:minorTickMark val="none"/><c:tickLblPos val="low"/><c:crossAx val="500000002"/><c:crosses val="autoZero"/>'
        '<c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:tickLblSkip val="12"/>'
        '<c:noMultiLvlLbl val="0"/></c:catAx>'
        '<c:valAx><c:axId val="500000002"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/>'
        '<c:axPos val="l"/><c:majorGridlines/><c:numFmt formatCode="0.00" sourceLinked="0"/>'
        '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="500000001"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>'
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<c:chartSpace xmlns:c="{C}" xmlns:a="{A}" xmlns:r="{R}"><c:date1904 val="0"/><c:lang val="en-US"/>'
        f'<c:roundedCorners val="0"/><mc:AlternateContent xmlns:mc="{MC}"><mc:Choice Requires="c14" '
        f'xmlns:c14="http://schemas.microsoft.com/office/drawing/2007/8/2/chart"><c14:style val="102"/></mc:Choice>'
        f'<mc:Fallback><c:style val="2"/></mc:Fallback></mc:AlternateContent><c:chart><c:title><c:tx><c:rich>'
        f'<a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="en-US" sz="1200" b="1"/><a:t>{_escape(title)}</a:t></a:r></a:p>'
        f'</c:rich></c:tx><c:overlay val="0"/></c:title><c:autoTitleDeleted val="0"/><c:plotArea><c:layout/>'
        f'<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>{"".join(sers)}<c:marker val="1"/>'
        f'<c:axId val="500000001"/><c:axId val="500000002"/></c:lineChart>{axes}</c:plotArea>'
        f'<c:legend><c:legendPos val="b"/><c:overlay val="0"/></c:legend><c:plotVisOnly val="1"/>'
        f'<c:dispBlanksAs val="gap"/></c:chart><c:printSettings><c:headerFooter/><c:pageMargins b="0.75" l="0.7" '
        f'r="0.7" t="0.75" header="0.3" footer="0.3"/><c:pageSetup/></c:printSettings></c:chartSpace>'
    )


def add_chart(pkg: Package) -> None:
    """A user's line chart of h over time on States (a refreshed sheet): xl/charts/chartN.xml, a
    graphicFrame anchor in the sheet's drawing, the drawing's chart relationship, the chart override."""
    states, h_cols = _hidden_columns(pkg)
    colours = ["1F77B4", "FF7F0E", "2CA02C", "D62728", "9467BD", "8C564B", "E377C2", "7F7F7F"]
    series = [
        (
            f"${_col_letters(c)}${states.r0 - 2}",
            f"${_col_letters(c)}${states.r0}:${_col_letters(c)}${states.r1}",
            colours[k % len(colours)],
        )
        for k, c in enumerate(h_cols)
    ]
    chart = pkg.free_name("xl/charts/chart{}.xml")
    pkg.put(
        chart, _line_chart("Hidden state h over time (my chart)", "States", series, f"$A${states.r0}:$A${states.r1}")
    )
    pkg.set_override(chart, CT_CHART)
    drawing = _drawing(pkg, "States")
    rid = pkg.relate(drawing, REL + "chart", chart)
    n = _max_id(pkg.text(drawing)) + 1
    frame = (
        f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>{_cnvpr(n, f"Chart {n}")}'
        f'<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/>'
        f'</xdr:xfrm><a:graphic><a:graphicData uri="{C}"><c:chart xmlns:c="{C}" r:id="{rid}"/></a:graphicData>'
        f"</a:graphic></xdr:graphicFrame>"
    )
    _add_anchor(pkg, drawing, _anchor(states.c1 + 1, 13, states.c1 + 9, 30, frame))


def add_table(pkg: Package) -> None:
    """A table "RunLog" (4 columns, one calculated, with alt text) in free room right of the Forecast
    blocks: xl/tables/tableN.xml, <tableParts> in the sheet, the sheet's table relationship and
    override, and its header and body cells (formulas with cached results) in sheetData."""
    c0 = _right_of_names(pkg, "Forecast", 4)
    runs = [("2024-04-01", 144, 0.61), ("2024-04-02", 144, 0.58), ("2024-04-03", 145, 0.66)]
    headers = ["run", "steps", "seconds", "ms per step"]
    calc = "1000*RunLog[[#This Row],[seconds]]/RunLog[[#This Row],[steps]]"
    col = [_col_letters(c0 + k) for k in range(4)]
    cells = {f"{col[k]}4": text_cell(f"{col[k]}4", h) for k, h in enumerate(headers)}
    for r, (day, steps, seconds) in enumerate(runs, start=5):
        cells[f"{col[0]}{r}"] = text_cell(f"{col[0]}{r}", day)
        cells[f"{col[1]}{r}"] = number_cell(f"{col[1]}{r}", steps)
        cells[f"{col[2]}{r}"] = number_cell(f"{col[2]}{r}", seconds)
        cells[f"{col[3]}{r}"] = formula_cell(f"{col[3]}{r}", calc, 1000 * seconds / steps)
    _put_cells(pkg, "Forecast", cells)
    ref = f"{col[0]}4:{col[3]}{4 + len(runs)}"
    ids = [
        int(i)
        for n in pkg.parts
        if n.startswith("xl/tables/")
        for i in re.findall(r'<table\b[^>]*\bid="(\d+)"', pkg.text(n))
    ]
    columns = "".join(f'<tableColumn id="{k + 1}" name="{h}"/>' for k, h in enumerate(headers[:3]))
    columns += f'<tableColumn id="4" name="{headers[3]}"><calculatedColumnFormula>{calc}</calculatedColumnFormula></tableColumn>'
    table = pkg.free_name("xl/tables/table{}.xml")
    pkg.put(
        table,
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<table xmlns="{MAIN}" '
        f'id="{max(ids, default=0) + 1}" name="RunLog" displayName="RunLog" ref="{ref}" totalsRowShown="0">'
        f'<autoFilter ref="{ref}"/><tableColumns count="4">{columns}</tableColumns>'
        f'<tableStyleInfo name="TableStyleMedium2" showFirstColumn="0" showLastColumn="0" showRowStripes="1" '
        f'showColumnStripes="0"/><extLst><ext uri="{{504A1905-F514-4f6f-8877-14C23A59335A}}" xmlns:x14="{X14}">'
        f'<x14:table altText="Refresh log" altTextSummary="One row per nightly refresh"/></ext></extLst></table>',
    )
    pkg.set_override(table, CT_TABLE)
    rid = pkg.relate(pkg.sheet("Forecast"), REL + "table", table)
    _sheet_child(pkg, "Forecast", "tableParts", f'<tableParts count="1"><tablePart r:id="{rid}"/></tableParts>')


def add_dynamic_array(pkg: Package) -> None:
    """A spilling =SORT(...) of the hold-out actuals, right of the Forecast blocks: the anchor cell
    with cm="1" and a cached spill, xl/metadata.xml (XLDAPR dynamic-array properties) related from
    the workbook, and its override."""
    names = defined_names(pkg)
    series, n = names["lstm_series"], names["lstm_actuals"].r1 - names["lstm_actuals"].r0 + 1
    holdout = Block(series.sheet, series.r1 - n + 1, series.c0, series.r1, series.c0)
    values = sorted(_block_numbers(pkg, holdout), reverse=True)
    col = _col_letters(_right_of_names(pkg, "Forecast", 9))
    spill = f"{col}5:{col}{4 + n}"
    cells = {f"{col}4": text_cell(f"{col}4", "actuals, largest first")}
    cells[f"{col}5"] = formula_cell(
        f"{col}5",
        f"_xlfn._xlws.SORT({_quote(series.sheet)}!{holdout.ref()},1,-1)",
        values[0],
        ' cm="1"',
        f' t="array" ref="{spill}"',
    )
    for k, value in enumerate(values[1:], start=6):
        cells[f"{col}{k}"] = number_cell(f"{col}{k}", value)
    _put_cells(pkg, "Forecast", cells)
    pkg.put(
        "xl/metadata.xml",
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<metadata xmlns="{MAIN}" '
        f'xmlns:xda="{XDA}"><metadataTypes count="1"><metadataType name="XLDAPR" '
        f'minSupportedVersion="120000" copy="1" pasteAll="1" pasteValues="1" merge="1" '
        f'splitFirst="1" rowColShift="1" clearFormats="1" clearComments="1" assign="1" coerce="1" '
        f'cellMeta="1"/></metadataTypes><futureMetadata name="XLDAPR" count="1"><bk><extLst>'
        f'<ext uri="{{bdbb8cdc-fa1e-496e-a857-3c3f30c029c3}}"><xda:dynamicArrayProperties '
        f'fDynamic="1" fCollapsed="0"/></ext></extLst></bk></futureMetadata>'
        f'<cellMetadata count="1"><bk><rc t="1" v="0"/></bk></cellMetadata></metadata>',
    )
    pkg.set_override("xl/metadata.xml", CT_METADATA)
    pkg.relate(pkg.workbook, REL + "sheetMetadata", "xl/metadata.xml")


def vba_blob() -> bytes:
    """Stand-in bytes for xl/vbaProject.bin: an OLE compound-file signature and filler. Not a real
    VBA project (Excel would discard its macros); a writer must still keep it byte for byte."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8


def add_macros(pkg: Package) -> None:
    """Make the workbook macro-enabled (.xlsm): xl/vbaProject.bin, its vbaProject relationship from
    the workbook, a bin Default, and the workbook's macroEnabled content type."""
    pkg.put("xl/vbaProject.bin", vba_blob())
    pkg.set_default("bin", CT_VBA)
    pkg.relate(pkg.workbook, REL_VBA, "xl/vbaProject.bin")
    pkg.set_override(pkg.workbook, CT_XLSM)


# ---- the corpus --------------------------------------------------------------------------------------
Feature = Callable[[Package], None]

# name -> (file suffix, features after the user's cells)
VARIANTS: dict[str, tuple[str, list[Feature]]] = {
    "user_cells": (".xlsx", []),
    "picture": (".xlsx", [add_picture]),
    "shapes": (".xlsx", [add_shapes]),
    "sparklines": (".xlsx", [add_sparklines]),
    "data_validation_x14": (".xlsx", [add_data_validation]),
    "conditional_format_x14": (".xlsx", [add_conditional_format]),
    "comments": (".xlsx", [add_comments]),
    "chart": (".xlsx", [add_chart]),
    "table": (".xlsx", [add_table]),
    "dynamic_array": (".xlsx", [add_dynamic_array]),
    "macros": (".xlsm", [add_macros]),
    "everything": (
        ".xlsm",
        [
            add_picture,
            add_chart,
            add_sparklines,
            add_data_validation,
            add_comments,
            add_shapes,
            add_conditional_format,
            add_table,
            add_dynamic_array,
            add_macros,
        ],
    ),
}
LIBREOFFICE = "libreoffice"  # the user_cells variant, opened and saved by LibreOffice Calc
NAMES = [*VARIANTS, LIBREOFFICE]


def build_variant(template: bytes, features: Iterable[Feature]) -> bytes:
    pkg = Package.read(template)
    add_user_cells(pkg)
    for feature in features:
        feature(pkg)
    return pkg.to_bytes()


def build_corpus(template: Path, out_dir: Path, *, libreoffice: bool = True) -> dict[str, Path]:
    """Write every variant of ``template`` into ``out_dir``; return {variant name: path}.

    With ``libreoffice`` the "libreoffice" variant is made by LibreOffice (tests/libreoffice.py's
    private profile); like every LibreOffice test, that skips outside CI and fails in CI when
    soffice is missing.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    data = Path(template).read_bytes()
    paths = {}
    for name, (suffix, features) in VARIANTS.items():
        paths[name] = out_dir / f"{name}{suffix}"
        paths[name].write_bytes(build_variant(data, features))
    if libreoffice:
        paths[LIBREOFFICE] = libreoffice_variant(paths["user_cells"], out_dir)
    return paths


def libreoffice_variant(source: Path, out_dir: Path) -> Path:
    """``source`` opened and saved as xlsx by LibreOffice Calc (stored values kept, as a user who opens
    and saves it gets), as out_dir/libreoffice.xlsx."""
    from tests.libreoffice import as_stored

    work = out_dir / "libreoffice-work"
    saved = as_stored(source, work)
    path = out_dir / f"{LIBREOFFICE}.xlsx"
    shutil.copyfile(saved, path)
    shutil.rmtree(work, ignore_errors=True)
    return path


def package_problems(data: bytes) -> list[str]:
    """What breaks the package's own rules, one line each ([] for a sound package): XML parts that
    are not well-formed, parts without a content type or that no relationship reaches, relationships
    to missing parts, and r:id attributes naming no relationship of their part."""
    pkg = Package.read(data)
    if "[Content_Types].xml" not in pkg.parts:
        return ["no [Content_Types].xml"]
    problems = []
    reachable = {p.name for p in _roles(pkg)}
    for name, content in pkg.parts.items():
        if name == "[Content_Types].xml" or name.endswith(".rels"):
            continue
        if pkg.content_type(name) is None:
            problems.append(f"{name}: no content type")
        if name not in reachable:
            problems.append(f"{name}: no relationship reaches it")
        if not name.endswith((".xml", ".vml")):
            continue
        try:
            root = ET.fromstring(content)
        except ET.ParseError as exc:
            problems.append(f"{name}: not well-formed XML ({exc})")
            continue
        ids = (
            {e.get("Id") for e in ET.fromstring(pkg.parts[_rels_name(name)])}
            if _rels_name(name) in pkg.parts
            else set()
        )
        used = {v for e in root.iter() for k, v in e.attrib.items() if k.startswith(f"{{{R}}}")}
        problems += [f"{name}: r:id {rid} names no relationship" for rid in sorted(used - ids)]
    for source in ["", *pkg.parts]:
        for rid, _, target in pkg.rels(source):
            if target not in pkg.parts:
                problems.append(f"{_rels_name(source)}: {rid} points to missing {target}")
    return problems


def block_ranges(data: bytes, prefix: tuple[str, ...] = ("lstm_", "auto_")) -> list[str]:
    """Every defined name starting with ``prefix`` as "Sheet!A1:B2": the cells a refresh may rewrite
    (the LSTM's blocks and the forecaster's), to pass to lost_parts as ``ignore_cells``."""
    return [f"{b.sheet}!{b.ref()}" for name, b in defined_names(Package.read(data)).items() if name.startswith(prefix)]


# ---- checks: what a writer lost -------------------------------------------------------------------
_SHORT = {
    MAIN: "",
    R: "r:",
    XDR: "xdr:",
    A: "a:",
    C: "c:",
    MC: "mc:",
    X14: "x14:",
    X14AC: "x14ac:",
    XM: "xm:",
    XR: "xr:",
    XDA: "xda:",
    THREADED: "tc:",
    CONTENT_TYPES: "",
    PKG_RELS: "",
    "urn:schemas-microsoft-com:vml": "v:",
    "urn:schemas-microsoft-com:office:office": "o:",
    "urn:schemas-microsoft-com:office:excel": "x:",
    "http://schemas.openxmlformats.org/package/2006/metadata/core-properties": "cp:",
    "http://purl.org/dc/elements/1.1/": "dc:",
    "http://purl.org/dc/terms/": "dcterms:",
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties": "ep:",
    "http://www.w3.org/XML/1998/namespace": "xml:",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi:",
    "http://schemas.microsoft.com/office/drawing/2007/8/2/chart": "c14:",
    "http://schemas.microsoft.com/office/drawing/2014/chart": "c16:",
    A14: "a14:",
    A16: "a16:",
    "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main": "x15:",
    "http://schemas.microsoft.com/office/spreadsheetml/2015/revision2": "xr2:",
    "http://schemas.microsoft.com/office/spreadsheetml/2016/revision3": "xr3:",
}


def _short(qname: str) -> str:
    if qname.startswith("{"):
        uri, local = qname[1:].split("}", 1)
        return _SHORT.get(uri, "{" + uri + "}") + local
    return qname


@dataclass
class _Part:
    name: str
    role: str  # where it hangs in the relationship graph, e.g. "sheet 'States'/drawing/chart"
    content_type: str | None


def _roles(pkg: Package) -> list[_Part]:
    """Every part reachable from the package root, with its role; sheets are named by their tab."""
    sheet_names = {t: n for n, t in pkg.sheets().items()} if pkg.workbook in pkg.parts else {}
    out: list[_Part] = []
    seen: set[str] = set()
    queue = [("", "package")]
    while queue:
        source, role = queue.pop(0)
        for _, rel_type, target in pkg.rels(source):
            if target in seen or target not in pkg.parts:
                continue
            seen.add(target)
            kind = rel_type.rstrip("/").rsplit("/", 1)[-1]
            if target in sheet_names:
                sub = f"sheet '{sheet_names[target]}'"
            elif kind == "officeDocument":
                sub = "workbook"
            else:
                sub = f"{role}/{kind}"
            out.append(_Part(target, sub, pkg.content_type(target)))
            queue.append((target, sub))
    return out


Entry = tuple  # ("e", path) | ("a", path, attribute, value) | ("t", path, text); path: a tuple of tags


def _entries(root: ET.Element, skip: str | None = None) -> Counter[Entry]:
    """Every element (by tag path), attribute (relationship ids aside) and text of an XML part."""
    out: Counter[Entry] = Counter()

    def walk(e: ET.Element, path: tuple[str, ...]) -> None:
        tag = _short(e.tag)
        if tag == skip:
            return
        here = (*path, tag)
        out[("e", here)] += 1
        for k, v in e.attrib.items():
            if not k.startswith(f"{{{R}}}"):
                out[("a", here, _short(k), v)] += 1
        if e.text and e.text.strip():
            out[("t", here, e.text.strip())] += 1
        for child in e:
            walk(child, here)

    walk(root, ())
    return out


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe_lost(lost: Counter[Entry], limit: int = 12) -> list[str]:
    """Lost entries as lines: a vanished element once (with its attributes and what it contained),
    then attributes and texts lost from elements that are still there."""
    gone = [e[1] for e in lost if e[0] == "e"]

    def under(path: tuple[str, ...], top: tuple[str, ...]) -> bool:
        return len(path) > len(top) and path[: len(top)] == top

    def covered(path: tuple[str, ...]) -> bool:  # inside a vanished element
        return any(under(path, top) for top in gone)

    lines = []
    for path in gone:
        if covered(path):
            continue
        attrs = dict.fromkeys(f'{e[2]}="{e[3]}"' for e in lost if e[0] == "a" and e[1] == path)
        inner = list(dict.fromkeys(e[1][-1] for e in lost if e[0] == "e" and under(e[1], path)))
        line = f"lost {lost[('e', path)]}x <{'/'.join(path)}>" + (f" ({_clip(' '.join(attrs))})" if attrs else "")
        if inner:
            line += " containing " + ", ".join(inner[:8]) + (", …" if len(inner) > 8 else "")
        lines.append(line)
    for entry in lost:
        if entry[0] == "e" or covered(entry[1]) or entry[1] in gone:
            continue
        where = "/".join(entry[1])
        if entry[0] == "a":
            lines.append(f'lost attribute {entry[2]}="{_clip(entry[3])}" at <{where}>')
        else:
            lines.append(f"lost text {_clip(entry[2])!r} at <{where}>")
    if len(lines) > limit:
        lines = lines[:limit] + [f"... and {len(lines) - limit} more"]
    return lines


@dataclass(frozen=True)
class _Cell:
    style: str | None
    kind: str  # n, b, e, d or "text" (shared, inline or formula string)
    value: str | None
    formula: tuple[str, ...] | None  # (text, t, ref, si)
    extra: tuple[tuple[str, str], ...]  # other attributes: cm, vm, ph, ...


def _shared_strings(pkg: Package, roles: dict[str, list[_Part]]) -> list[str]:
    parts = roles.get("workbook/sharedStrings")
    if not parts:
        return []
    root = ET.fromstring(pkg.parts[parts[0].name])
    return ["".join(t.text or "" for t in si.iter(f"{{{MAIN}}}t")) for si in root.findall(f"{{{MAIN}}}si")]


def _cells(root: ET.Element, strings: list[str]) -> tuple[dict[str, _Cell], dict[int, tuple]]:
    cells: dict[str, _Cell] = {}
    rows: dict[int, tuple] = {}
    for row in root.iter(f"{{{MAIN}}}row"):
        rows[int(row.get("r", "0"))] = tuple(sorted((k, v) for k, v in row.attrib.items() if k not in ("r", "spans")))
        for c in row.findall(f"{{{MAIN}}}c"):
            t = c.get("t", "n")
            v = c.find(f"{{{MAIN}}}v")
            value = v.text if v is not None and v.text else None
            if t == "s" and value is not None:
                value, t = strings[int(value)], "text"
            elif t == "inlineStr":
                value = "".join(x.text or "" for x in c.iter(f"{{{MAIN}}}t")) or None
                t = "text"
            elif t == "str":
                t = "text"
            elif t == "n" and value is not None:
                value = repr(float(value))
            f = c.find(f"{{{MAIN}}}f")
            formula = None if f is None else (f.text or "", f.get("t", "normal"), f.get("ref", ""), f.get("si", ""))
            extra = tuple(sorted((k, v) for k, v in c.attrib.items() if k not in ("r", "s", "t")))
            cells[c.get("r", "")] = _Cell(c.get("s"), t, value, formula, extra)
    return cells, rows


def _in_ranges(sheet: str, ref: str, ranges: list[tuple[str, int, int, int, int]]) -> bool:
    row, col = _split_ref(ref)
    return any(s == sheet and r0 <= row <= r1 and c0 <= col <= c1 for s, r0, c0, r1, c1 in ranges)


def _parse_ranges(refs: Iterable[str]) -> list[tuple[str, int, int, int, int]]:
    out = []
    for ref in refs:
        sheet, cells = ref.rsplit("!", 1)
        sheet = sheet.strip("'").replace("''", "'")
        first, _, last = cells.partition(":")
        (r0, c0), (r1, c1) = _split_ref(first), _split_ref(last or first)
        out.append((sheet, min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1)))
    return out


def _cell_losses(sheet: str, old: dict[str, _Cell], new: dict[str, _Cell], ignore: list) -> dict[str, list[str]]:
    """{what was lost: [cell refs]} for one sheet."""
    lost: dict[str, list[str]] = defaultdict(list)
    for ref, a in old.items():
        b = new.get(ref)
        if b is None:
            if a.value is not None or a.formula is not None or a.style not in (None, "0"):
                lost["cell removed"].append(ref)
            continue
        if (a.style or "0") != (b.style or "0"):
            lost["style index changed"].append(ref)
        if _in_ranges(sheet, ref, ignore):
            continue
        if a.formula is not None and b.formula is None:
            lost["formula lost"].append(ref)
        elif a.formula is not None and b.formula is not None and a.formula != b.formula:
            lost["formula changed"].append(ref)
        if a.value is not None and b.value is None:
            lost["cached value lost" if a.formula is not None else "value lost"].append(ref)
        elif a.value is not None and (a.value, a.kind) != (b.value, b.kind):
            lost["value changed"].append(ref)
        for key, val in a.extra:
            if (key, val) not in b.extra:
                what = "dynamic-array metadata (cm) lost" if key == "cm" else f"attribute {key}={val!r} lost"
                lost[what].append(ref)
    return lost


def _by_role(pkg: Package) -> dict[str, list[_Part]]:
    out: dict[str, list[_Part]] = defaultdict(list)
    for p in _roles(pkg):
        out[p.role].append(p)
    return out


def _part_losses(old: Package, olds: list[_Part], new: Package, news: list[_Part], skip: str | None) -> list[str]:
    """Content types, binary parts and XML entries (outside ``skip``) that one role lost."""
    out = []
    new_types = sorted({p.content_type or "?" for p in news})
    for ct in sorted({p.content_type or "?" for p in olds} - set(new_types)):
        out.append(f"content type {ct} lost (now {', '.join(new_types)})")
    entries: list[Counter[Entry]] = [Counter(), Counter()]
    blobs: list[Counter[bytes]] = [Counter(), Counter()]
    for k, (pkg, parts) in enumerate(((old, olds), (new, news))):
        for p in parts:
            try:
                entries[k].update(_entries(ET.fromstring(pkg.parts[p.name]), skip))
            except ET.ParseError:  # binary (or not well-formed): compared byte for byte
                blobs[k][pkg.parts[p.name]] += 1
    if blobs[0] - blobs[1]:
        out.append(f"binary content changed ({', '.join(p.name for p in olds)})")
    return out + _describe_lost(entries[0] - entries[1])


def _sheet_losses(
    sheet: str,
    old_xml: bytes,
    new_xml: bytes,
    strings: tuple[list[str], list[str]],
    ignore: list[tuple[str, int, int, int, int]],
) -> list[str]:
    """Cells and row attributes one worksheet lost."""
    old_cells, old_rows = _cells(ET.fromstring(old_xml), strings[0])
    new_cells, new_rows = _cells(ET.fromstring(new_xml), strings[1])
    out = []
    for what, refs in _cell_losses(sheet, old_cells, new_cells, ignore).items():
        shown = ", ".join(refs[:6]) + (", …" if len(refs) > 6 else "")
        out.append(f"{what} in {len(refs)} cell{'s' * (len(refs) != 1)} ({shown})")
    rows = [r for r, attrs in old_rows.items() if not set(attrs) <= set(new_rows.get(r, ()))]
    if rows:
        out.append(f"row attributes lost in {len(rows)} row{'s' * (len(rows) != 1)} ({', '.join(map(str, rows[:6]))})")
    return out


def lost_parts(before: bytes, after: bytes, ignore_cells: Iterable[str] = ()) -> list[str]:
    """What ``before`` has that ``after`` lacks, one line each; ``[]`` if nothing was lost.

    Parts are matched by role (their path in the relationship graph, sheets by tab name), so
    renamed parts are compared by content. Reported: parts dropped or with another content type;
    binary parts changed; XML elements (tag path), attributes (relationship ids aside) and texts
    that vanished from a role, outside sheetData; per sheet, cells whose formula, cached value,
    value, style or metadata (cm, vm) vanished or changed, and row attributes that vanished.
    Additions are not losses. ``ignore_cells`` ("Sheet!A1:B2" ranges: the cells a refresh
    rewrites) may change value, formula and type, but must keep their style.
    """
    old, new = Package.read(before), Package.read(after)
    old_roles, new_roles = _by_role(old), _by_role(new)
    strings = (_shared_strings(old, old_roles), _shared_strings(new, new_roles))
    ignore = _parse_ranges(ignore_cells)
    out: list[str] = []
    for role, olds in old_roles.items():
        if role == "workbook/sharedStrings":
            continue  # compared through the cells that use them
        news = new_roles.get(role, [])
        if not news:
            out.append(f"{role}: part dropped ({', '.join(p.name for p in olds)})")
            continue
        is_sheet = role.startswith("sheet '") and "/" not in role
        lines = _part_losses(old, olds, new, news, skip="sheetData" if is_sheet else None)
        if is_sheet:
            lines += _sheet_losses(
                role[len("sheet '") : -1], old.parts[olds[0].name], new.parts[news[0].name], strings, ignore
            )
        out += [f"{role}: {line}" for line in lines]
    return out


__all__ = [
    "LIBREOFFICE",
    "NAMES",
    "USER_CELLS",
    "VARIANTS",
    "Block",
    "Package",
    "block_ranges",
    "build_corpus",
    "build_variant",
    "defined_names",
    "libreoffice_variant",
    "lost_parts",
    "package_problems",
    "png_image",
    "vba_blob",
]
