"""Words that match what the user sees (issue 48, item 10): unknown pixels are blue in the app, not gray,
and the brush's size is labelled as the radius it is."""

from PySide6.QtWidgets import QLabel

from matting_gui.core.editing.trimap import check_trimap


def test_trimap_messages_call_unknown_pixels_by_their_colour_in_the_app():
    import numpy as np

    problem, _ = check_trimap(np.zeros((8, 8), np.uint8))
    assert "blue in the app" in problem and "gray" not in problem
    problem, _ = check_trimap(np.full((8, 8), 128, np.uint8))
    assert "all unknown" in problem and "gray" not in problem


def test_the_brush_size_is_labelled_as_a_radius(window):
    labels = [w.text() for w in window.findChildren(QLabel)]
    assert any("Brush radius" in text for text in labels)
    assert "radius" in window.toolbars.brush.toolTip().lower()
