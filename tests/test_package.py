"""The package as a user meets it: its public names, what importing the worksheet functions
costs, the version, and README's statements that the code can check."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import xl_lstm as xl
from tests.conftest import ROOT
from xl_lstm.workbook import contract

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_public_name_resolves() -> None:
    assert sorted(xl.__all__) == sorted(xl._WHERE)
    for name in xl.__all__:
        assert getattr(xl, name) is not None, name


def test_the_worksheet_functions_load_only_what_they_need() -> None:
    """xlwings Lite imports xl_lstm.udfs in Pyodide: no training, refresh, zip or workbook code with it."""
    code = "import sys, xl_lstm.udfs; print(' '.join(sorted(m for m in sys.modules if m.startswith('xl_lstm'))))"
    loaded = set(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    )
    assert loaded == {
        "xl_lstm",
        "xl_lstm.core",
        "xl_lstm.lstm",
        "xl_lstm.forecasting",
        "xl_lstm.excel",
        "xl_lstm.core.checks",
        "xl_lstm.core.version",
        "xl_lstm.lstm.engine",
        "xl_lstm.core.errors",
        "xl_lstm.core.limits",
        "xl_lstm.forecasting.metrics",
        "xl_lstm.lstm.params",
        "xl_lstm.excel.ranges",
        "xl_lstm.lstm.recursive",
        "xl_lstm.excel.sheet",
        "xl_lstm.udfs",
    }


def test_the_version_is_defined_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", xl.__version__)


def test_the_template_page_lists_the_contracts_names_as_the_code_has_them() -> None:
    page = (ROOT / "docs" / "template.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(lstm_\w+)` \| ([^|]+) \| (.+) \|$", page, flags=re.M)
    table = {name: (shape.strip(), holds.replace("\\|", "|").strip()) for name, shape, holds in rows}
    assert table == contract.NAMES


# ---- README's "Your own data", word for word ------------------------------------------------
def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.index("\n## ", start + 1)
    return README[start:end]


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_readme_your_own_data_works_as_written(tmp_path: Path) -> None:
    """The section's file, commands and Python run as written, in a fresh folder, and do what it says."""
    import numpy as np
    import openpyxl
    import pandas as pd

    section = _section("Your own data")
    (shown,) = _blocks(section, "text")
    lines = shown.strip().splitlines()  # the header and the first months, as README shows them
    start = pd.Period(lines[-1].split(",")[0], "M") + 1
    k = np.arange(57)
    more = 1200 + 8 * (k + 3) + 150 * np.sin(2 * np.pi * (k + 3) / 12)  # "and so on, one row per month"
    rows = lines + [f"{start + j},{v:.0f}" for j, v in enumerate(more)]
    (tmp_path / "sales.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    env_bin = str(Path(sys.executable).parent)
    for command in _blocks(section, "bash"):
        for line in command.strip().splitlines():
            proc = subprocess.run(
                ["bash", "-c", line],
                check=False,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=600,
                env={"PATH": f"{env_bin}:/usr/bin:/bin", "HOME": str(tmp_path)},
            )
            assert proc.returncode == 0, f"{line}: {proc.stderr}"
            assert "column 'sales'" in proc.stdout + proc.stderr and "monthly" in proc.stdout + proc.stderr
            # training on your data ends with one line (no bar: stderr is not a terminal here): the one
            # LSTM, then the forecaster's members trained together, for validation and then the fit
            assert re.search(r"^trained  3 phases, \d+ epochs; last loss \d", proc.stderr, re.M), proc.stderr
            assert "\r" not in proc.stderr
    (code,) = _blocks(section, "python")
    proc = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr

    for name, H in (("my_sales.xlsx", 4), ("my_sales_h8.xlsx", 8)):
        wb = openpyxl.load_workbook(tmp_path / name, data_only=True)
        months = [str(start - 3 + j) for j in range(60)]  # 2019-01 .. 2023-12
        ((sheet, ref),) = wb.defined_names["lstm_series"].destinations
        cells = wb[sheet][ref.replace("$", "")]
        assert len(cells) == 60 and [r[0].value for r in cells][:3] == [1182, 1097, 1245]
        first_row = cells[0][0].row
        assert [wb[sheet].cell(row=first_row + j, column=2).value for j in range(60)] == months
        assert "sales" in wb["Inputs"]["A1"].value
        ((sheet, ref),) = wb.defined_names["lstm_actuals"].destinations
        assert len(wb[sheet][ref.replace("$", "")]) == 12  # monthly: the last 12 held out
        ((sheet, ref),) = wb.defined_names["lstm_W"].destinations
        assert len(wb[sheet][ref.replace("$", "")]) == 4 * H
        season = wb.defined_names["lstm_season"].destinations
        ((s_sheet, s_ref),) = season
        assert wb[s_sheet][s_ref.replace("$", "")].value == 12
        fc_months = [str(wb["Forecast"].cell(row=5 + j, column=_side_col(wb)).value) for j in range(12)]
        assert fc_months == months[-12:]


def _side_col(wb) -> int:  # type: ignore[no-untyped-def]
    ((sheet, ref),) = wb.defined_names["lstm_actuals"].destinations
    return wb[sheet][ref.replace("$", "")][0][0].column - 1  # the label column left of the actuals


def test_the_forecasters_names_are_never_shadowed_by_a_subpackage() -> None:
    """xl.fit and xl.forecast are functions, whichever of the package's modules were imported."""
    code = (
        "import importlib, pkgutil, xl_lstm as xl\n"
        "for m in pkgutil.walk_packages(xl.__path__, 'xl_lstm.'):\n"
        "    if not m.name.endswith(('__main__', 'retrain')): importlib.import_module(m.name)\n"
        "print(callable(xl.fit), callable(xl.forecast), xl.forecast.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "xl_lstm.forecasting.panels"]
