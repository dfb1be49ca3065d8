"""The corpus of workbooks that carry a user's additions (tests/corpus.py).

Each variant must be a sound workbook: a well-formed package, opened by openpyxl and by
LibreOffice (whose own save shows that it understood the feature), with the template's
defined names. And each must lose something in a plain openpyxl load-and-save, outside the
lstm_* blocks a refresh may rewrite: that is why the refresh is not written with openpyxl,
and the refresh tests make the opposite assertion with the same ``lost_parts``.
"""

from __future__ import annotations

import io
import re
import subprocess
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import TEMPLATE
from tests.corpus import (
    LIBREOFFICE,
    NAMES,
    USER_CELLS,
    VARIANTS,
    Package,
    block_ranges,
    build_corpus,
    build_variant,
    defined_names,
    libreoffice_variant,
    lost_parts,
    package_problems,
)
from tests.libreoffice import PROFILE_XCU, soffice
from xl_lstm.template.build import template_bytes as build_template_bytes

# Text that LibreOffice's own save of each variant contains (lower case): it read the feature.
STATES_NOTE = USER_CELLS["States!AZ2"].lower()
LIBREOFFICE_SEES = {
    "user_cells": [STATES_NOTE, "sum(lstm_series)", "lstm_horizon*2"],
    "picture": ["xl/media/image1.png", "the sigmoid that squashes every gate"],
    "shapes": ["forecast reviewed with finance", "feeds each prediction back"],
    "sparklines": ["x14:sparklinegroup", "<x14:sparkline>"],
    "data_validation_x14": ["pick the gate unit to watch"],
    "conditional_format_x14": ['axisposition="middle"'],
    "comments": ["rises every summer", "horizon agreed with finance"],
    "chart": ["hidden state h over time (my chart)"],
    "table": ['name="runlog"', "runlog[[#this row],[seconds]]"],
    "dynamic_array": ["_xlws.sort(", "actuals, largest first"],
    "macros": [STATES_NOTE],  # LibreOffice keeps the sheets; an .xlsx save drops the macros by design
    LIBREOFFICE: [STATES_NOTE],
}
LIBREOFFICE_SEES["everything"] = sorted({s for k, v in LIBREOFFICE_SEES.items() if k != LIBREOFFICE for s in v})

# What a plain openpyxl (3.1) load-and-save loses outside the lstm_* blocks: measured, one
# substring of lost_parts' report each. The picture is dropped whole without Pillow; with
# Pillow the drawing still loses Excel's a16/a14 extensions.
OPENPYXL_LOSES = {
    "user_cells": [
        "sheet 'Inputs': cached value lost in 1 cell (K1)",
        "sheet 'Forecast': cached value lost in 1 cell (AI2)",
    ],
    "picture": ["sheet 'States'/drawing"],
    "shapes": ["sheet 'Forecast'/drawing: part dropped"],
    "sparklines": ["x14:sparklineGroup", 'lost attribute x14ac:dyDescent="0.25"'],
    "data_validation_x14": ["x14:dataValidation"],
    "conditional_format_x14": ["<worksheet/conditionalFormatting/cfRule/extLst>", "x14:conditionalFormatting"],
    "comments": ["workbook/person: part dropped", "threadedComment: part dropped", "x:Visible"],
    "chart": ["c16:uniqueId", "mc:AlternateContent"],
    "table": ["lost 1x <table/extLst> containing ext, x14:table"],
    "dynamic_array": ["dynamic-array metadata (cm) lost", "workbook/sheetMetadata: part dropped"],
    "macros": [
        "workbook/vbaProject: part dropped",
        "content type application/vnd.ms-excel.sheet.macroEnabled.main+xml lost",
    ],
    LIBREOFFICE: ["package/custom-properties: part dropped", "sheet 'Inputs': cached value lost in 1 cell (K1)"],
}
OPENPYXL_LOSES["everything"] = [
    m for k, v in OPENPYXL_LOSES.items() if k not in ("user_cells", LIBREOFFICE, "table") for m in v
] + ["x14:table"]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_corpus(TEMPLATE, tmp_path_factory.mktemp("corpus"), libreoffice=False)


@pytest.fixture(scope="session")
def saved_by_libreoffice(corpus: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The "libreoffice" variant (skips outside CI, fails in CI, without LibreOffice)."""
    return libreoffice_variant(corpus["user_cells"], tmp_path_factory.mktemp("libreoffice-variant"))


def variant_path(request: pytest.FixtureRequest, name: str) -> Path:
    if name == LIBREOFFICE:
        return request.getfixturevalue("saved_by_libreoffice")
    return request.getfixturevalue("corpus")[name]


@pytest.fixture(scope="session")
def reopened_by_libreoffice(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Every variant opened and saved as .xlsx by LibreOffice, in one soffice run."""
    exe = soffice()
    paths = {name: variant_path(request, name) for name in NAMES}
    work = tmp_path_factory.mktemp("reopened")
    profile = work / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(PROFILE_XCU.replace("{mode}", "1"), encoding="utf-8")
    cmd = [
        exe,
        f"-env:UserInstallation=file://{profile}",
        "--headless",
        "--norestore",
        "--convert-to",
        "xlsx",
        "--outdir",
        str(work / "out"),
        *map(str, paths.values()),
    ]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return {name: work / "out" / (p.stem + ".xlsx") for name, p in paths.items()}


def openpyxl_round_trip(data: bytes) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns that it drops extensions: the test measures that
        wb = openpyxl.load_workbook(io.BytesIO(data))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def destinations(path: Path) -> dict[str, list[tuple[str, str]]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {name: list(dn.destinations) for name, dn in wb.defined_names.items()}
    finally:
        wb.close()


# ---- every variant is a sound workbook -------------------------------------------------------
def test_the_corpus_has_every_variant_and_builds_reproducibly(corpus: dict[str, Path], template_bytes: bytes) -> None:
    assert sorted(corpus) == sorted(VARIANTS)
    _, features = VARIANTS["everything"]
    assert build_variant(template_bytes, features) == corpus["everything"].read_bytes()
    assert corpus["macros"].suffix == corpus["everything"].suffix == ".xlsm"


@pytest.mark.parametrize("name", NAMES)
def test_variant_is_a_sound_package(request: pytest.FixtureRequest, name: str) -> None:
    assert package_problems(variant_path(request, name).read_bytes()) == []


@pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")  # openpyxl reads, then drops them
@pytest.mark.parametrize("name", NAMES)
def test_variant_opens_in_openpyxl_with_the_users_cells(request: pytest.FixtureRequest, name: str) -> None:
    wb = openpyxl.load_workbook(variant_path(request, name), keep_vba=True)
    assert wb.sheetnames == openpyxl.load_workbook(TEMPLATE).sheetnames
    for where, content in USER_CELLS.items():
        sheet, ref = where.rsplit("!", 1)
        assert wb[sheet][ref].value == content, where


@pytest.mark.parametrize("name", NAMES)
def test_variant_keeps_the_templates_defined_names(request: pytest.FixtureRequest, name: str) -> None:
    assert destinations(variant_path(request, name)) == destinations(TEMPLATE)


@pytest.mark.parametrize("name", NAMES)
def test_variant_opens_in_libreoffice_which_reads_the_feature(
    reopened_by_libreoffice: dict[str, Path], name: str
) -> None:
    out = reopened_by_libreoffice[name]
    assert out.exists(), f"LibreOffice wrote no {out.name}"
    openpyxl.load_workbook(out, read_only=True).close()
    with zipfile.ZipFile(out) as zf:
        text = "\n".join([*zf.namelist(), *(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())]).lower()
    missing = [s for s in LIBREOFFICE_SEES[name] if s not in text]
    assert not missing, f"LibreOffice's save of {name} lacks {missing}"


# ---- a plain openpyxl load-and-save loses something from each --------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_an_openpyxl_round_trip_loses_something_outside_the_blocks(request: pytest.FixtureRequest, name: str) -> None:
    before = variant_path(request, name).read_bytes()
    lost = lost_parts(before, openpyxl_round_trip(before), ignore_cells=block_ranges(before))
    report = "\n".join(lost)
    assert lost, f"openpyxl kept everything of {name}?"
    for marker in OPENPYXL_LOSES[name]:
        assert any(marker in line for line in lost), f"expected a loss matching {marker!r} in:\n{report}"


# ---- lost_parts itself: silent on the same content, loud on small losses -----------------------
def test_lost_parts_is_silent_when_only_the_zip_differs(corpus: dict[str, Path]) -> None:
    data = corpus["everything"].read_bytes()
    assert lost_parts(data, data) == []
    pkg = Package.read(data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:  # other order, no compression
        for name in reversed(list(pkg.parts)):
            zf.writestr(name, pkg.parts[name])
    assert lost_parts(data, buf.getvalue()) == []


def _edited(data: bytes, part: str, old: str, new: str) -> bytes:
    pkg = Package.read(data)
    text = pkg.text(part)
    assert old in text, f"{old!r} not in {part}"
    pkg.put(part, text.replace(old, new, 1))
    return pkg.to_bytes()


def test_lost_parts_reports_small_losses(corpus: dict[str, Path]) -> None:
    data = corpus["everything"].read_bytes()
    pkg = Package.read(data)
    states, forecast = pkg.sheet("States"), pkg.sheet("Forecast")

    note = _edited(data, states, "summer peak", "winter peak")
    assert lost_parts(data, note) == ["sheet 'States': value changed in 1 cell (AZ2)"]

    no_vba = Package.read(data)
    del no_vba.parts["xl/vbaProject.bin"]
    assert lost_parts(data, no_vba.to_bytes()) == ["workbook/vbaProject: part dropped (xl/vbaProject.bin)"]

    attribute = _edited(data, forecast, ' x14ac:dyDescent="0.25"', "")
    assert lost_parts(data, attribute) == [
        "sheet 'Forecast': lost attribute x14ac:dyDescent=\"0.25\" at <worksheet/sheetFormatPr>"
    ]

    spill = _edited(data, forecast, ' cm="1"', "")
    assert any("dynamic-array metadata (cm) lost in 1 cell" in line for line in lost_parts(data, spill))


def test_lost_parts_lets_the_refreshed_cells_change_but_not_their_style(corpus: dict[str, Path]) -> None:
    data = corpus["everything"].read_bytes()
    pkg = Package.read(data)
    block = defined_names(pkg)["lstm_states"]
    ref = block.cells()[1]  # a plain value cell of the block (its first cell holds the array formula)
    states = pkg.sheet("States")
    cell = re.search(rf'<c r="{ref}"[^>]*>.*?</c>', pkg.text(states)).group(0)  # type: ignore[union-attr]
    assert ' s="' in cell and "<v>" in cell
    new_value = _edited(data, states, cell, re.sub(r"<v>[^<]*</v>", "<v>0.125</v>", cell))
    restyled = _edited(data, states, cell, re.sub(r' s="(\d+)"', lambda m: f' s="{int(m.group(1)) + 1}"', cell))
    refreshed = [f"States!{block.ref()}"]
    assert lost_parts(data, new_value, ignore_cells=refreshed) == []
    assert lost_parts(data, new_value) == [f"sheet 'States': value changed in 1 cell ({ref})"]
    assert lost_parts(data, restyled, ignore_cells=refreshed) == [
        f"sheet 'States': style index changed in 1 cell ({ref})"
    ]


def test_package_problems_sees_a_broken_package(corpus: dict[str, Path]) -> None:
    pkg = Package.read(corpus["everything"].read_bytes())
    del pkg.parts["xl/media/image1.png"]
    pkg.put("xl/metadata.xml", pkg.text("xl/metadata.xml").replace("</metadata>", ""))
    problems = package_problems(pkg.to_bytes())
    assert any("points to missing xl/media/image1.png" in p for p in problems), problems
    assert any(p.startswith("xl/metadata.xml: not well-formed XML") for p in problems), problems


# ---- the corpus follows the template's shape and refuses to overwrite it ----------------------
def test_corpus_builds_on_another_template_shape(tmp_path: Path) -> None:
    small = tmp_path / "small.xlsx"
    small.write_bytes(build_template_bytes(hidden=2, inputs=3, steps=40))
    paths = build_corpus(small, tmp_path / "corpus", libreoffice=False)
    for name, path in paths.items():
        assert package_problems(path.read_bytes()) == [], name
        assert destinations(path) == destinations(small), name
    before = paths["everything"].read_bytes()
    lost = lost_parts(before, openpyxl_round_trip(before), ignore_cells=block_ranges(before))
    assert any("x14:sparklineGroup" in line for line in lost)


def test_corpus_refuses_to_write_over_a_template_cell(template_bytes: bytes) -> None:
    pkg = Package.read(template_bytes)
    taken = _edited(pkg.to_bytes(), pkg.sheet("Inputs"), "</row>", '<c r="K1"><v>5</v></c></row>')
    with pytest.raises(ValueError, match=r"Inputs!K1 already holds something"):
        build_variant(taken, [])


# ---- the refresh loses nothing from any of them --------------------------------------------------
@pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")  # openpyxl, reading names only
@pytest.mark.parametrize("values_only", [False, True], ids=["formulas kept", "--values"])
@pytest.mark.parametrize("name", NAMES)
def test_refresh_loses_nothing(request: pytest.FixtureRequest, tmp_path: Path, name: str, values_only: bool) -> None:
    """xl-lstm refresh on each variant: nothing lost outside the lstm_* blocks (lost_parts, an
    XML-level reader), only the refreshed cells' bytes changed, and the package still sound."""
    from tests.workbook.test_refresh import assert_only_targets_changed
    from xl_lstm.workbook.refresh import refresh_file

    source = variant_path(request, name)
    suffix = source.suffix
    before, after = tmp_path / f"before{suffix}", tmp_path / f"after{suffix}"
    before.write_bytes(source.read_bytes())
    after.write_bytes(source.read_bytes())
    refresh_file(after, values_only=values_only)
    old, new = before.read_bytes(), after.read_bytes()
    assert lost_parts(old, new, ignore_cells=block_ranges(old)) == []
    assert package_problems(new) == []
    assert_only_targets_changed(before, after)


@pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")
def test_refreshed_everything_variant_opens_in_libreoffice(corpus: dict[str, Path], tmp_path: Path) -> None:
    from tests.libreoffice import as_stored
    from xl_lstm.workbook.refresh import refresh_file

    path = tmp_path / "everything.xlsx"
    path.write_bytes(corpus["everything"].read_bytes())
    refresh_file(path, values_only=True)
    reopened = as_stored(path, tmp_path)
    wb = openpyxl.load_workbook(reopened, data_only=True)
    assert isinstance(wb["States"]["C5"].value, float)  # the refreshed number, shown without the add-in
    assert wb["States"]["AZ2"].value == USER_CELLS["States!AZ2"]
