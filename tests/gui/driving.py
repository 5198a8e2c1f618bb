"""Driving the main window as a user would, for the GUI tests: open a photo and wait for its full
matte, export as the dialog would, paint strokes with simulated mouse events in image coordinates."""

from PySide6.QtCore import QPoint, Qt

TIMEOUT = 20000  # ms: the longest any GUI test waits for a signal


def is_full(res):
    """True for a full-resolution matte result (not a preview)."""
    return not res.job.stamp.preview



def open_and_wait(qtbot, window, path, trimap=None):
    """Open ``path`` (with an optional trimap path) and return the first full matte result."""
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT, check_params_cb=is_full) as blocker:
        assert window.open_photo(path, trimap)
    return blocker.args[0]



def export_now(window, folder, stem="x", mirror=False, refine=False, model=None, fuse=False, **files):
    """Export as the dialog would: files = matte, cutout, composite, formats, quality; ``model``
    None: the network the editor shows."""
    from matting_gui.core.files.outputs import OutputRequest

    return window.exports.export(folder, stem, OutputRequest(**files), mirror=mirror, refine=refine, model=model,
                               fuse=fuse)



def widget_point(window, x, y) -> QPoint:
    """The canvas widget point showing image pixel (x, y) at the current zoom and offset."""
    c = window.canvas
    return QPoint(int(c.offset.x() + x * c.zoom), int(c.offset.y() + y * c.zoom))



def stroke(qtbot, window, points):
    """Press at points[0], move through the rest, release at the last: one brush stroke."""
    c = window.canvas
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=widget_point(window, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(c, widget_point(window, *p))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=widget_point(window, *points[-1]))
