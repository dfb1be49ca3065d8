"""The template as LibreOffice prints it (its PDF): pages of a usual size at a readable scale,
every header whole and apart from its neighbours, no number in E-notation, the steps ahead
numbered 1..n in both forecast tables, and each chart whole on one page."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import numpy as np
import openpyxl
import pytest

from tests.libreoffice import PdfPage, Word, pdf_layout, pdf_pages, pdf_words, read_ppm, to_pdf

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "workbooks" / "lstm_template.xlsx"
PAPER = {(612, 792), (595, 842)}  # Letter and A4 in points, either way round
MAX_PAGES = 120  # 71 when this test was written; 32 when the wide sheets printed one page wide, unreadably;
# 112 since the LSTM k sheets show every gate (21 pages each) and LSTM charts draws them (5)
DPI = 50  # pages as pictures, to see what is drawn (text outside a page's print area is in the PDF, clipped)
MIN_WORD_HEIGHT = 8.0  # points: a word's box at 6-point type or more (one page wide, Forecast's was 3.1)
E_NOTATION = re.compile(r"^-?\d+(\.\d+)?E[-+]\d+$")


@dataclass(frozen=True)
class Printed:
    pages: list[PdfPage]
    layout: list[str]  # each page's text as laid out
    pictures: list[np.ndarray]  # each page at DPI, (height, width, 3)
    sheets: dict[str, list[int]]  # each sheet's pages (0-based), in order
    wb: openpyxl.Workbook


def plain(text: str) -> str:
    """Text as pdftotext gives it back: accents' combining marks dropped, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def sheet_pages(wb: openpyxl.Workbook, pages: list[PdfPage]) -> dict[str, list[int]]:
    """Which pages each sheet printed on: a sheet starts on the page that begins with its A1."""
    starts = {ws.title: plain(str(ws["A1"].value)).split()[:4] for ws in wb.worksheets}
    sheets: dict[str, list[int]] = {}
    current = None
    for k, page in enumerate(pages):
        first = plain(" ".join(w.text for w in page.words[:8])).split()
        current = next((title for title, words in starts.items() if first[: len(words)] == words), current)
        assert current is not None, f"page {k + 1} comes before any sheet's first cell"
        sheets.setdefault(current, []).append(k)
    return sheets


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Printed:
    pdf = to_pdf(COMMITTED, tmp_path_factory.mktemp("print"))
    pages = pdf_words(pdf)
    wb = openpyxl.load_workbook(COMMITTED)
    layout = pdf_layout(pdf)
    pictures = [read_ppm(p) for p in pdf_pages(pdf, pdf.parent, dpi=DPI)]
    assert len(layout) == len(pages) == len(pictures)
    return Printed(pages, layout, pictures, sheet_pages(wb, pages), wb)


def test_every_sheet_prints_from_a_page_of_its_own(printed: Printed) -> None:
    assert list(printed.sheets) == printed.wb.sheetnames


def test_pages_are_paper_sized_bounded_and_wide_sheets_landscape(printed: Printed) -> None:
    assert len(printed.pages) <= MAX_PAGES
    for k, page in enumerate(printed.pages, 1):
        assert tuple(sorted((round(page.width), round(page.height)))) in PAPER, (
            f"page {k}: {page.width} × {page.height}"
        )
    for sheet in ("States", "Forecast", "LSTM 1", "Forecaster"):
        assert all(printed.pages[k].width > printed.pages[k].height for k in printed.sheets[sheet]), sheet


def test_every_page_of_numbers_prints_at_a_readable_size(printed: Printed) -> None:
    """Half the words of each page are at least MIN_WORD_HEIGHT high: no sheet is shrunk to one page
    wide past reading (Forecast printed at 3.1 points a word, the LSTM k sheets at 4.6)."""
    for sheet, pages in printed.sheets.items():
        for k in pages:
            heights = [w.height for w in printed.pages[k].words]
            assert median(heights) >= MIN_WORD_HEIGHT, f"{sheet}, page {k + 1}: words {median(heights):.1f} points high"


def test_every_header_prints_whole_and_apart_from_its_neighbours(printed: Printed) -> None:
    """Each bold centred header cell of every sheet is in its sheet's printed text in full, with
    space before and after: a column narrower than its header cut it ("STM_FORECASTSTM_FORECAS")
    or ran it into the next ("half-widthhalf-width")."""
    missing, checked = [], []
    for ws in printed.wb.worksheets:
        text = "\n".join(printed.layout[k] for k in printed.sheets.get(ws.title, []))
        text = "\n".join(plain(line) for line in text.splitlines())  # as `plain`, line by line
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.font.b and cell.alignment.horizontal == "center":
                    letters = plain(cell.value).replace(" ", "")
                    pattern = r"(?<!\S)" + r" ?".join(map(re.escape, letters)) + r"(?!\S)"
                    if not re.search(pattern, text):
                        missing.append(f"{ws.title}!{cell.coordinate} {cell.value!r}")
                    checked.append(cell.value)
    assert missing == []
    assert sum("LSTM_FORECAST" in h for h in checked) == 4  # Forecast's and the three the analyst found cut


def test_xlwings_conf_prints_its_setting_whole(printed: Printed) -> None:
    (page,) = printed.sheets["xlwings.conf"]
    assert [w.text for w in printed.pages[page].words] == ["UDF", "Modules", "xl_lstm.udfs"]


def test_no_number_prints_in_e_notation(printed: Printed) -> None:
    """Every number has a number format (Transforms printed "-4.3851113E-05" in General)."""
    for sheet, pages in printed.sheets.items():
        found = [w.text for k in pages for w in printed.pages[k].words if E_NOTATION.match(w.text)]
        assert found == [], sheet


def test_both_forecast_tables_number_the_steps_ahead_1_to_n(printed: Printed) -> None:
    """Under every printed "k" header of Forecast and Forecaster the steps run 1..n (Forecast's ran 0..n-1)."""
    n = int(printed.wb["Forecast"][printed.wb.defined_names["lstm_horizon"].attr_text.split("!")[1]].value)
    for sheet, tables in (("Forecast", 3), ("Forecaster", 5)):
        seen = 0
        for k in printed.sheets[sheet]:
            lines = printed.layout[k].splitlines()
            for i, line in enumerate(lines):
                if line.split()[:1] == ["k"]:
                    steps = []
                    for below in lines[i + 1 :]:
                        first = below.split()[:1]
                        if not first or not first[0].isdigit():
                            break
                        steps.append(int(first[0]))
                    assert steps == list(range(1, n + 1)), f"{sheet}, page {k + 1}: k = {steps}"
                    seen += 1
        assert seen >= tables, f"{sheet}: {seen} tables under a k header"


def chart_texts(path: Path, wb: openpyxl.Workbook) -> dict[str, set[str]]:
    """Each chart's title and the names its legend shows (from a cell, or given as text; none without a legend)."""
    out: dict[str, set[str]] = {}
    with zipfile.ZipFile(path) as z:
        for part in sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)):
            xml = z.read(part).decode()
            title = re.search(r"<(?:c:)?title>.*?<a:t>([^<]*)</a:t>", xml, re.S)
            assert title, part
            names = set()
            if not re.search(r"<(?:c:)?legend>", xml):
                out[title.group(1)] = names
                continue
            for series in re.findall(r"<(?:c:)?ser>.*?</(?:c:)?ser>", xml, re.S):
                tx = re.search(r"<(?:c:)?tx>(.*?)</(?:c:)?tx>", series, re.S)
                if tx is None:
                    continue
                ref = re.search(r"<(?:c:)?f>([^<]*)</(?:c:)?f>", tx.group(1))
                if ref:
                    sheet, _, cell = ref.group(1).rpartition("!")
                    names.add(str(wb[sheet.strip("'")][cell.replace("$", "")].value))
                else:
                    names.add(re.sub(r"<[^>]+>", "", tx.group(1)))
            out[title.group(1)] = names
    return out


def drawn(picture: np.ndarray, word: Word) -> bool:
    """Whether the word is drawn: dark pixels inside its box (LibreOffice puts the text of a chart
    beyond the page's print area into the PDF too, clipped away)."""
    k = DPI / 72
    box = picture[int(word.y0 * k) : int(word.y1 * k) + 1, int(word.x0 * k) : int(word.x1 * k) + 1]
    return bool((box.min(axis=2) < 200).any())  # anything not white: clipped text leaves its box blank


def ink_heights(picture: np.ndarray) -> list[int]:
    """The heights in pixels of the runs of rows with something drawn, top to bottom."""
    ink = [*(picture.min(axis=2) < 230).any(axis=1), False]
    heights, start = [], 0
    for y, (above, here) in enumerate(zip([False, *ink], ink, strict=False)):
        if here and not above:
            start = y
        if above and not here:
            heights.append(y - start)
    return heights


def test_each_chart_prints_whole_on_one_page(printed: Printed) -> None:
    """Each chart's title is drawn on a page with every name of its legend, and the charts of sheet
    Charts print as frames of one height, one per chart: a chart cut by the page's edge printed
    shorter (Candidate g's frame lost its lower edge to the next page)."""
    charts = chart_texts(COMMITTED, printed.wb)
    # the gates, C and h, the forecast, the forecaster's (twice, one title); each member's gates, C and h
    assert len(charts) == 7 + 5 * 3
    assert sum(bool(names) for names in charts.values()) == 7  # the members' charts have no legend
    for title, names in charts.items():
        shown = 0
        for page, picture in zip(printed.pages, printed.pictures, strict=True):
            words = plain(" ".join(w.text for w in page.words if drawn(picture, w)))
            for longer in (t for t in charts if t != title and plain(title) in plain(t)):
                words = words.replace(plain(longer), "")  # "LSTM 1: Input gate i" is not "Input gate i"
            if plain(title) in words:
                shown += 1
                assert all(plain(name) in words for name in names), f"{title!r} lacks its legend"
        assert shown, f"no page draws {title!r} whole"
    for sheet in ("Charts", "LSTM charts"):
        frames = [h for k in printed.sheets[sheet] for h in ink_heights(printed.pictures[k]) if h > DPI / 2]
        assert len(frames) == len(printed.wb[sheet]._charts)  # nothing else on the sheet is half an inch high
        assert max(frames) - min(frames) <= 2, f"{sheet}: frames {frames} pixels high"
