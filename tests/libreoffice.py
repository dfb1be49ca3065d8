"""LibreOffice Calc as an independent spreadsheet engine for the tests.

``recalculate`` opens a workbook in headless LibreOffice with a profile that forces
a full recalculation on load (plain --convert-to would keep stale cached values),
and saves the result as xlsx; ``to_pdf`` renders it. Each call uses its own
profile folder, so calls may run concurrently.
"""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.conftest import need_program

# OOXMLRecalcMode 0 = "always recalculate" when an xlsx is loaded; 1 = "never",
# which shows the values stored in the file, as a reader who just opens it sees them.
PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
</oor:items>
"""


def soffice() -> str:
    return need_program("soffice", "Debian package libreoffice-calc-nogui")


def _convert(src: Path, outdir: Path, target: str, work: Path, recalc: bool = True) -> Path:
    profile = work / ("lo-profile" if recalc else "lo-profile-stored")
    (profile / "user").mkdir(parents=True, exist_ok=True)
    xcu = PROFILE_XCU.replace("{mode}", "0" if recalc else "1")
    (profile / "user" / "registrymodifications.xcu").write_text(xcu, encoding="utf-8")
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [
        soffice(),
        f"-env:UserInstallation=file://{profile}",
        "--headless",
        "--norestore",
        "--convert-to",
        target,
        "--outdir",
        str(outdir),
        str(src),
    ]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=240)
    out = outdir / (src.stem + "." + target.split(":")[0])
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"LibreOffice failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return out


def recalculate(src: Path, work: Path) -> Path:
    """A fully recalculated copy of ``src`` (xlsx), written under ``work``."""
    return _convert(src, work / "recalculated", "xlsx", work)


def as_stored(src: Path, work: Path) -> Path:
    """``src`` opened by LibreOffice without recalculating (stored values shown) and saved as xlsx."""
    return _convert(src, work / "stored", "xlsx", work, recalc=False)


def to_pdf(src: Path, work: Path) -> Path:
    """``src`` rendered to PDF (after a full recalculation), under ``work``."""
    return _convert(src, work / "pdf", "pdf", work)


def pdf_pages(pdf: Path, work: Path, dpi: int = 60) -> list[Path]:
    """Every page of ``pdf`` as a PPM image (pdftoppm, from Debian's poppler-utils)."""
    exe = need_program("pdftoppm", "Debian package poppler-utils")
    prefix = work / "page"
    subprocess.run([exe, "-r", str(dpi), str(pdf), str(prefix)], check=True, capture_output=True, timeout=240)
    return sorted(work.glob("page*.ppm"))


__all__ = ["PdfPage", "Word", "pdf_layout", "pdf_pages", "pdf_words", "recalculate", "soffice", "to_pdf"]


def page_text(pdf: Path, page: int) -> str:
    """The text of one page (1-based) of ``pdf`` (pdftotext, from poppler-utils)."""
    exe = need_program("pdftotext", "Debian package poppler-utils")
    proc = subprocess.run(
        [exe, "-f", str(page), "-l", str(page), str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60
    )
    return proc.stdout


def pdf_text(pdf: Path) -> str:
    """The text of every page of ``pdf``, in reading order (pdftotext)."""
    exe = need_program("pdftotext", "Debian package poppler-utils")
    return subprocess.run([exe, str(pdf), "-"], check=True, capture_output=True, text=True, timeout=120).stdout


def read_ppm(path: Path) -> np.ndarray:
    """A binary PPM (P6, 8-bit) as an (height, width, 3) uint8 array."""
    data = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval, separated by whitespace
        while data[pos : pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos : pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P6" or maxval != 255:
        raise ValueError(f"{path}: not an 8-bit binary PPM")
    pixels = np.frombuffer(data, np.uint8, count=width * height * 3, offset=pos + 1)
    return pixels.reshape(height, width, 3)


@dataclass(frozen=True)
class Word:
    """One word of a PDF page as pdftotext -bbox places it, in points from the page's top left."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class PdfPage:
    width: float  # points
    height: float
    words: list[Word]


_PAGE = re.compile(r'<page width="([0-9.]+)" height="([0-9.]+)">(.*?)</page>', re.S)
_WORD = re.compile(r'<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>')


def pdf_words(pdf: Path) -> list[PdfPage]:
    """Every page of ``pdf``: its size and its words with their boxes (pdftotext -bbox)."""
    exe = need_program("pdftotext", "Debian package poppler-utils")
    out = subprocess.run([exe, "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=120).stdout
    return [
        PdfPage(
            float(w),
            float(h),
            [Word(html.unescape(t), float(a), float(b), float(c), float(d)) for a, b, c, d, t in _WORD.findall(body)],
        )
        for w, h, body in _PAGE.findall(out)
    ]


def pdf_layout(pdf: Path) -> list[str]:
    """The text of every page of ``pdf`` laid out as printed, columns kept apart (pdftotext -layout)."""
    exe = need_program("pdftotext", "Debian package poppler-utils")
    out = subprocess.run(
        [exe, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    return out.split("\f")[:-1]  # one form feed after each page
