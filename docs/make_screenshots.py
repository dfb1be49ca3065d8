"""Render the committed template with LibreOffice and crop the README's screenshots.

    python docs/make_screenshots.py      (needs soffice and pdftoppm, as .ci/run installs)

Writes docs/states.png (the top of sheet States (formulas)) and docs/forecast.png
(the forecaster's chart: forecast, intervals, actuals, seasonal naive). The crops are fractions of the rendered page.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.libreoffice import page_text, to_pdf  # noqa: E402

DPI = 110
# (page text to look for, crop as fractions of the page: left, top, width, height)
SHOTS = {
    "states.png": ("States (formulas): one row per time step", (0.04, 0.04, 0.93, 0.32)),
    "forecast.png": ("with intervals", (0.04, 0.03, 0.82, 0.27)),  # the forecaster's chart, on sheet Charts
}
HEAD = 200  # characters: the text is looked for near a page's top (a chart beyond a page's end leaves
# its text, clipped, at the foot of the page before)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pdf = to_pdf(ROOT / "workbooks" / "lstm_template.xlsx", work)
        pages = int(
            next(
                line.split()[-1]
                for line in subprocess.run(
                    ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
                ).stdout.splitlines()
                if line.startswith("Pages:")
            )
        )
        for name, (text, (x, y, w, h)) in SHOTS.items():
            page = next(k for k in range(1, pages + 1) if text in page_text(pdf, k)[:HEAD])
            width, height = 8.5 * DPI, 11 * DPI  # letter, portrait; landscape pages swap below
            if "States" in text:
                width, height = height, width
            out = ROOT / "docs" / name
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-singlefile",
                    "-r",
                    str(DPI),
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    "-x",
                    str(int(x * width)),
                    "-y",
                    str(int(y * height)),
                    "-W",
                    str(int(w * width)),
                    "-H",
                    str(int(h * height)),
                    str(pdf),
                    str(out.with_suffix("")),
                ],
                check=True,
            )
            print(f"wrote {out} (page {page})")


if __name__ == "__main__":
    main()
