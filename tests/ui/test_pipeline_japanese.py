"""The pipeline in Japanese: its words translated, and the taller lines of a Japanese caption (drawn in a
fallback font) still inside their column — they were measured with the Latin font's line spacing and the
scale under '∂C/∂x を下へ送った' ran under the scroll bar."""

import pytest

from tests.ui.legibility import captions_outside_columns, overlapping_captions
from ui.views.pipeline import PipelineView
from visualcnn import i18n
from visualcnn.session import Session


@pytest.fixture
def japanese():
    i18n.set_language("ja")
    yield
    i18n.set_language("en")


@pytest.mark.parametrize("size", [(660, 420), (960, 560)])
def test_japanese_captions_are_translated_and_inside_their_columns(qtbot, japanese, size):
    view = PipelineView()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    s = Session.from_preset("tinyvgg")
    view.set_network(s.network)
    while not (s.last_record is not None and s.last_record.phase == "backward" and s.last_record.layer == 3):
        s.step()
    view.show_state(s.records, (s.phase, s.layer))
    infos = [col.info_item.plain() for col in view.columns]
    assert any(text.startswith("∂C/∂y が届いた") for text in infos)
    assert any(text.startswith("∂C/∂x を下へ送った") for text in infos)
    assert "逆伝播" in view.header.text()
    for col in view.columns:
        for t in col.texts():
            r = t.sceneBoundingRect()
            assert col.rect.top() - 0.5 <= r.top() and r.bottom() <= col.rect.bottom() + 0.5, \
                (t.text(), r, col.rect)
        if col.tiles is not None and col.tiles.boundingRect().isValid():
            assert col.info_item.sceneBoundingRect().top() >= col.tiles.sceneBoundingRect().bottom() - 1
    assert overlapping_captions(view) == [] and captions_outside_columns(view) == []
