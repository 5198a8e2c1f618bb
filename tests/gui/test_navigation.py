"""The editor's navigation and brush, driven like a user would (offscreen, simulated mouse and keys):
zoom and pan, space-drag, single-key shortcuts beside a focused spin box, the brush's size and the stroke
outline while painting."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPainterPath, QPainterPathStroker, QTransform

from tests.conftest import make_photo
from tests.gui.driving import open_and_wait, widget_point


def test_brush_keys_and_tool_shortcuts(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    qtbot.keyClick(window, Qt.Key.Key_B)
    assert window.session.tool == "background"
    qtbot.keyClick(window, Qt.Key.Key_1)
    assert window.session.tool == "foreground"
    r = window.canvas.brush_radius
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.canvas.brush_radius > r
    assert "(B, 2)" in window.actions["tool:background"].toolTip()


def test_zoom_and_pan(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    c = window.canvas
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert c.zoom == 1.0
    anchor = window.canvas.widget_to_image(QPointF(c.width() / 2, c.height() / 2))
    c.zoom_by(2.0)
    after = window.canvas.widget_to_image(QPointF(c.width() / 2, c.height() / 2))
    assert abs(anchor.x() - after.x()) < 1e-6
    off = QPointF(c.offset)
    qtbot.mousePress(c, Qt.MouseButton.MiddleButton, pos=QPoint(100, 100))
    qtbot.mouseMove(c, QPoint(140, 120))
    qtbot.mouseRelease(c, Qt.MouseButton.MiddleButton, pos=QPoint(140, 120))
    assert c.offset.x() - off.x() == pytest.approx(40) and c.offset.y() - off.y() == pytest.approx(20)
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert c.zoom > 1.0  # fit: a 160x120 photo in a big window is enlarged


def test_space_drag_pans_instead_of_painting(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    c = window.canvas
    c.setFocus()
    before_tri = window.session.doc.trimap.copy()
    off = QPointF(c.offset)
    qtbot.keyPress(c, Qt.Key.Key_Space)
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(c, QPoint(130, 90))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(130, 90))
    qtbot.keyRelease(c, Qt.Key.Key_Space)
    assert c.offset.x() - off.x() == pytest.approx(30) and c.offset.y() - off.y() == pytest.approx(-10)
    assert np.array_equal(window.session.doc.trimap, before_tri)


def test_space_drag_pans_even_when_a_panel_widget_has_the_focus(qtbot, window, photo):
    """Issue 16, defect 2: Space+drag pans (never paints) whatever widget has the keyboard focus."""
    open_and_wait(qtbot, window, photo)
    c = window.canvas
    window.panel.sliders["feather"].setFocus()
    before = window.session.doc.trimap.copy()
    off = QPointF(c.offset)
    qtbot.keyPress(window.panel.sliders["feather"], Qt.Key.Key_Space)
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(c, QPoint(120, 110))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(120, 110))
    qtbot.keyRelease(window.panel.sliders["feather"], Qt.Key.Key_Space)
    assert c.offset.x() - off.x() == pytest.approx(20) and np.array_equal(window.session.doc.trimap, before)


def test_single_key_shortcuts_work_while_a_spin_box_has_the_focus(qtbot, window, photo):
    """Issue 16, defect 3: letters reach the tool and view shortcuts from a spin box; digits are typing;
    Esc goes back to the canvas; opening a photo puts the focus on the canvas."""
    open_and_wait(qtbot, window, photo)
    assert window.canvas.hasFocus()
    band = window.toolbars.band
    band.setFocus()
    band.lineEdit().selectAll()
    qtbot.keyClicks(band.lineEdit(), "7")
    assert band.value() == 7  # a digit is a number typed into the box
    qtbot.keyClick(band.lineEdit(), Qt.Key.Key_B)
    assert window.session.tool == "background"
    qtbot.keyClick(band.lineEdit(), Qt.Key.Key_A)
    assert window.session.view_mode == "alpha"
    qtbot.keyClick(band.lineEdit(), Qt.Key.Key_Escape)
    assert window.canvas.hasFocus()


def test_the_stroke_outline_shows_in_every_view_while_painting(qtbot, window, photo):
    """Issue 16: the painted region's outline is drawn over the alpha view during a stroke, gone after."""
    open_and_wait(qtbot, window, photo)
    window.session.set_view(mode="alpha")
    window.session.set_tool("unknown")
    window.session.set_brush_radius(5)
    c = window.canvas
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=widget_point(window, 40, 40))
    qtbot.mouseMove(c, widget_point(window, 100, 40))
    outline = c.stroke_outline()
    assert outline is not None
    box = outline.boundingRect()
    left, right = widget_point(window, 40, 40), widget_point(window, 100, 40)
    assert box.left() < left.x() and box.right() > right.x()  # covers the dragged segment plus the brush
    assert box.height() == pytest.approx(10 * c.zoom, rel=0.2)
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=widget_point(window, 100, 40))
    assert c.stroke_outline() is None


def test_a_long_stroke_is_outlined_as_a_whole_and_the_next_stroke_afresh(qtbot, window, photo):
    """The outline grows segment by segment (re-outlining a whole long stroke per mouse move stalled
    the UI); it must still be the outline of the whole stroke, and a new stroke starts its own."""
    open_and_wait(qtbot, window, photo)
    window.session.set_tool("unknown")
    window.session.set_brush_radius(4)
    c = window.canvas
    points = [(20 + 3 * i, 30 + (12 if i % 4 < 2 else -12)) for i in range(40)]  # a zigzag of 40 segments
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=widget_point(window, *points[0]))
    for x, y in points[1:]:
        qtbot.mouseMove(c, widget_point(window, x, y))
        c.stroke_outline()  # as each repaint asks for it
    grown = c.stroke_outline()
    path = QPainterPath(c.widget_to_image(QPointF(widget_point(window, *points[0]))))
    for x, y in points[1:]:
        path.lineTo(c.widget_to_image(QPointF(widget_point(window, x, y))))
    stroker = QPainterPathStroker()
    stroker.setWidth(2 * c.brush_radius)
    stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
    stroker.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    whole = QTransform(c.zoom, 0, 0, c.zoom, c.offset.x(), c.offset.y()).map(stroker.createStroke(path).simplified())
    box = whole.boundingRect()
    assert grown.boundingRect().toRect() == box.toRect()
    samples = [QPointF(box.left() + box.width() * i / 60, box.top() + box.height() * j / 60)
               for i in range(61) for j in range(61)]
    differ = sum(grown.contains(q) != whole.contains(q) for q in samples)
    assert differ <= 0.01 * len(samples)  # equal up to points on the boundary
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=widget_point(window, *points[-1]))
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=widget_point(window, 150, 100))
    qtbot.mouseMove(c, widget_point(window, 155, 100))
    assert not c.stroke_outline().intersects(whole)  # nothing of the first stroke
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=widget_point(window, 155, 100))


def test_the_brush_keeps_its_size_relative_to_the_photo(qtbot, window, tmp_path):
    """Issue 16, defect 12: a 40 px brush on a 400 px photo is a 10 px brush on a 100 px one."""
    big, small = tmp_path / "big.png", tmp_path / "small.png"
    Image.fromarray((make_photo(300, 400) * 255).astype(np.uint8)).save(big)
    Image.fromarray((make_photo(75, 100) * 255).astype(np.uint8)).save(small)
    window.open_photo(big)
    window.session.set_brush_radius(40)
    window.open_photo(small)
    assert window.session.brush_radius == pytest.approx(10) and window.toolbars.brush.value() == 10
    assert window.canvas.brush_radius == pytest.approx(10)
