"""A template's texts from the data (the series' name on Inputs, Transforms and the charts, its
source, the date labels) stay text: never a formula, never cut, and every part stays valid XML."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sheet_xml import XmlCell, xml_cells
from xl_lstm.core.errors import LSTMError
from xl_lstm.template.build import template_book
from xl_lstm.template.model import SeriesInfo, TemplateModel, template_model

NAME = '=HYPERLINK("http://x.example","x")'


@pytest.fixture(scope="module")
def base() -> TemplateModel:
    return template_model(train_epochs=0, steps=30)  # the shipped series' stored forecaster: no training


def _as(base: TemplateModel, name: str, labels: list[str] | None = None) -> TemplateModel:
    about = SeriesInfo(name, f"Inputs: {name}", f"Source: {name}.csv.", "month", name)
    return dataclasses.replace(base, about=about, labels=labels or base.labels)


def _book(m: TemplateModel) -> bytes:
    wb, _ = template_book(m)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _at(cells: list[XmlCell], sheet: str, ref: str) -> XmlCell:
    return next(c for c in cells if c.sheet == sheet and c.ref == ref)


def _check(book: bytes, name: str, labels: list[str]) -> None:
    cells = xml_cells(book)
    for sheet, ref in (("Inputs", "C3"), ("Transforms", "C3")):
        assert (_at(cells, sheet, ref).kind, _at(cells, sheet, ref).text) == ("inlineStr", name)
    assert [c.text for c in cells if c.sheet == "Inputs" and c.ref[0] == "B" and int(c.ref[1:]) > 3] == labels
    assert _at(cells, "Inputs", "A1").text == f"Inputs: {name}"
    data = {name, *labels}
    assert [c.ref for c in cells if c.formula is not None and c.text in data] == []
    assert [c for c in cells if c.kind not in ("n", "inlineStr")] == []  # no "e" (#N/A) nor "str" from data
    with zipfile.ZipFile(io.BytesIO(book)) as z:  # charts' titles included: every part is XML that parses
        for part in z.namelist():
            if part.endswith(".xml"):
                ET.fromstring(z.read(part))


@pytest.mark.slow
def test_a_value_columns_name_starting_with_equals_is_a_header_not_a_formula(base: TemplateModel) -> None:
    """The reproduction: '=HYPERLINK(...)' as the value column's header became a formula on Inputs and Transforms."""
    labels = ["=1+1", "#N/A", *base.labels[2:]]
    _check(_book(_as(base, NAME, labels)), NAME, labels)


@pytest.mark.slow
@settings(max_examples=6)
@given(
    name=st.text(st.characters(codec=None), min_size=1, max_size=40),
    first=st.text(st.characters(codec=None), max_size=20).map(lambda s: "=" + s),
)
def test_any_name_and_label_is_text_everywhere(base: TemplateModel, name: str, first: str) -> None:
    labels = [first, *base.labels[1:]]
    _check(_book(_as(base, name, labels)), name, labels)


@pytest.mark.slow
def test_a_name_longer_than_a_cell_is_refused_naming_the_cell(base: TemplateModel) -> None:
    with pytest.raises(LSTMError, match=r"^sheet 'Inputs', cell A1: the text is 40,008 characters.*at most 32,767"):
        template_book(_as(base, "n" * 40_000))
