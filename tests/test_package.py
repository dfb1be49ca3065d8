"""The package as a user meets it: its public names, what importing the worksheet functions
costs, the version, and README's statements that the code can check."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import xl_lstm as xl
from xl_lstm import contract

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_public_name_resolves() -> None:
    assert sorted(xl.__all__) == sorted(xl._WHERE)
    for name in xl.__all__:
        assert getattr(xl, name) is not None, name


def test_the_worksheet_functions_load_only_what_they_need() -> None:
    """xlwings Lite imports xl_lstm.udfs in Pyodide: no training, refresh, zip or workbook code with it."""
    code = "import sys, xl_lstm.udfs; print(' '.join(sorted(m for m in sys.modules if m.startswith('xl_lstm'))))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert loaded == {"xl_lstm", "xl_lstm._checks", "xl_lstm.engine", "xl_lstm.errors", "xl_lstm.metrics",
                      "xl_lstm.params", "xl_lstm.ranges", "xl_lstm.recursive", "xl_lstm.sheet", "xl_lstm.udfs"}


def test_the_version_is_defined_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", xl.__version__)


def test_readme_lists_the_contracts_names_as_the_code_has_them() -> None:
    rows = re.findall(r"^\| `(lstm_\w+)` \| ([^|]+) \| (.+) \|$", README, flags=re.M)
    table = {name: (shape.strip(), holds.replace("\\|", "|").strip()) for name, shape, holds in rows}
    assert table == contract.NAMES

