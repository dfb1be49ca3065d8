"""A workbook's cells as its XML says, read with zipfile and ElementTree, not with openpyxl (the
library whose guesses the cell writer guards against): what each cell holds, whether it holds a
formula, and its text as Excel shows it (OOXML's ``_xHHHH_`` escapes undone)."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from xl_lstm.core.sheet_cells import read_sheet_text

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass(frozen=True)
class XmlCell:
    sheet: str
    ref: str  # "A1"
    kind: str  # the t attribute: "n", "s", "inlineStr", "str", "b", "e", "d"
    formula: str | None  # the <f> text, or None
    text: str | None  # a string cell's text as shown (escapes undone); None for other cells


def _text(node: ET.Element | None) -> str:
    return "" if node is None else "".join(t.text or "" for t in node.iter(f"{MAIN}t"))


def xml_cells(book: bytes | Path) -> list[XmlCell]:
    """Every cell of every sheet, in order."""
    data = book.read_bytes() if isinstance(book, Path) else book
    out: list[XmlCell] = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        shared = []
        if "xl/sharedStrings.xml" in names:
            shared = [_text(si) for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iter(f"{MAIN}si")]
        rels = {
            r.get("Id"): r.get("Target", "")
            for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels")).iter(f"{PKG}Relationship")
        }
        for sheet in ET.fromstring(z.read("xl/workbook.xml")).iter(f"{MAIN}sheet"):
            target = rels[sheet.get(f"{REL}id")]
            part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            for c in ET.fromstring(z.read(part)).iter(f"{MAIN}c"):
                kind = c.get("t", "n")
                f = c.find(f"{MAIN}f")
                text = None
                if kind == "inlineStr":
                    text = read_sheet_text(_text(c.find(f"{MAIN}is")))
                elif kind == "s":
                    text = read_sheet_text(shared[int(c.findtext(f"{MAIN}v") or "0")])
                out.append(
                    XmlCell(sheet.get("name", ""), c.get("r", ""), kind, None if f is None else f.text or "", text)
                )
    return out


def column(cells: list[XmlCell], sheet: str, letter: str) -> list[XmlCell]:
    """The cells of one column of one sheet, top to bottom."""
    return [c for c in cells if c.sheet == sheet and re.fullmatch(f"{letter}[0-9]+", c.ref)]
