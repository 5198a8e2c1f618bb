"""The image canvas: shows a QImage with zoom and pan, turns mouse drags into strokes.

It knows nothing about trimaps: it reports strokes in image pixel coordinates
(``strokeStarted``, ``strokeMoved``, ``strokeFinished``, ``clicked``) and the
owner edits the document and calls ``update_rect``.
"""

from __future__ import annotations

import cv2
import numpy as np
import qimage2ndarray
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

MIN_ZOOM, MAX_ZOOM = 0.02, 32.0
PYRAMID_MIN_PIXELS = 4_000_000  # below this, Qt scales the full image fast enough


class _Level:
    """A 1/factor downscaled copy of the display image, updated rect by rect from the next finer level."""

    def __init__(self, finer: np.ndarray, factor: int, derive: bool = True):
        from matting_gui.gui.convert import writable_rgb_view

        h, w = finer.shape[:2]
        self.factor = factor
        self.image = QImage(max(1, w // 2), max(1, h // 2), QImage.Format.Format_RGB32)
        self.view = writable_rgb_view(self.image)
        self.bytes = qimage2ndarray.byte_view(self.image)  # (h, w, 4): contiguous pixels, no copy for cv2
        if derive:
            self.update(finer, 0, 0, w, h)

    def update(self, finer: np.ndarray, x: int, y: int, w: int, h: int) -> tuple[int, int, int, int] | None:
        """Re-derive this level where the finer level (H, W, 4) changed in rect; return its own changed rect."""
        lh, lw = self.bytes.shape[:2]
        x0, y0 = max(0, x // 2), max(0, y // 2)
        x1, y1 = min(lw, -(-(x + w) // 2)), min(lh, -(-(y + h) // 2))
        if x0 >= x1 or y0 >= y1:
            return None
        self.bytes[y0:y1, x0:x1] = cv2.resize(finer[2 * y0 : 2 * y1, 2 * x0 : 2 * x1], (x1 - x0, y1 - y0),
                                              interpolation=cv2.INTER_AREA)
        return x0, y0, x1 - x0, y1 - y0


def downscale_into(frame: np.ndarray, targets: list[np.ndarray]) -> None:
    """Fill the canvas's downscaled copies (``Canvas.level_buffers``, finest first, each half the
    previous) from ``frame`` (uint8 (H, W, 4)), as ``_Level`` derives them: for a render thread."""
    finer = frame
    for target in targets:
        h, w = target.shape[:2]
        cv2.resize(finer[: 2 * h, : 2 * w], (w, h), dst=target, interpolation=cv2.INTER_AREA)
        finer = target


#: Rows kept free below a fitted image for the hint strip, so that the strip never covers the photo.
HINT_BAND = 36


class Canvas(QWidget):
    """Zoomable, pannable view of the display image that reports brush strokes in image pixels."""
    strokeStarted = Signal(float, float)
    strokeMoved = Signal(float, float, float, float)  # from x, y → to x, y (image px)
    strokeFinished = Signal()
    clicked = Signal(float, float, bool)  # for click tools (fill): x, y, the other value (background)
    boxDrawn = Signal(float, float, float, float)  # for the box tool (select subject): x, y, w, h (image px)
    zoomChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(False)  # the main window handles drops
        self.setMinimumSize(200, 150)
        self._image: QImage | None = None
        self._source: np.ndarray | None = None  # (H, W, 3) uint8 view of the image, for the pyramid
        self._levels: list[_Level] = []
        self.zoom = 1.0
        self.offset = QPointF(0, 0)  # widget position of the image's top-left corner
        self.brush_radius = 20.0  # image pixels
        self.click_tool = False  # True: clicks emit `clicked` instead of strokes
        self.box_tool = False  # True: a drag draws a box (``boxDrawn``) instead of a stroke
        self._box_start: QPointF | None = None  # image point where the box drag began
        self._stroking = False
        self._path: QPainterPath | None = None  # the stroke being painted (image px), outlined in every view
        self._outline: tuple | None = None  # (elements outlined, radius, outline in image px) of _path
        self.hint = ""  # one line drawn over the image (what to do first), empty: none
        self._last: QPointF | None = None
        self._panning = False
        self._pan_start = QPointF()
        self._space = False
        self._mouse: QPointF | None = None

    # ---------------------------------------------------------------- image and view
    def set_image(self, image: QImage | None, fit: bool = True, pixels: np.ndarray | None = None) -> None:
        """Show ``image``; ``pixels`` (its (H, W, 3) uint8 view) enables fast drawing when zoomed out
        on large photos: 1/2, 1/4 and 1/8 copies kept up to date by ``update_rect``."""
        self._image = image
        self._source = pixels
        self._levels = self._make_levels(image, pixels, derive=True)
        if fit:
            self.fit()
        self.update()

    @staticmethod
    def _make_levels(image: QImage | None, pixels: np.ndarray | None, derive: bool) -> list[_Level]:
        levels: list[_Level] = []
        if pixels is not None and image is not None and pixels.shape[0] * pixels.shape[1] >= PYRAMID_MIN_PIXELS:
            finer = qimage2ndarray.byte_view(image)
            for f in (2, 4, 8):  # each level from the previous one: 1 + 1/4 + 1/16 of the full-size work
                levels.append(_Level(finer, f, derive))
                finer = levels[-1].bytes
        return levels

    def spare_levels(self, image: QImage, pixels: np.ndarray) -> list:
        """Downscaled copies for a second display image of the same size (not derived yet: a render
        thread fills them with ``downscale_into``), to show later with ``swap_image``."""
        return self._make_levels(image, pixels, derive=False)

    def pyramid(self) -> list:
        """The downscaled copies of the image shown (for ``swap_image`` later)."""
        return self._levels

    @staticmethod
    def level_buffers(levels: list) -> list[np.ndarray]:
        """The (h, w, 4) uint8 pixel buffers of ``spare_levels``' copies, finest first."""
        return [level.bytes for level in levels]

    def swap_image(self, image: QImage, pixels: np.ndarray, levels: list) -> None:
        """Show another display image of the same size with its ready downscaled copies (a double
        buffer's swap: nothing is copied or derived)."""
        self._image, self._source, self._levels = image, pixels, levels
        self.update()

    def image(self) -> QImage | None:
        """The image shown (its pixels are the display buffer the window renders into)."""
        return self._image

    def levels(self) -> list[tuple[int, np.ndarray]]:
        """The downscaled copies kept for drawing zoomed out: (factor, uint8 (h, w, 3) view) each."""
        return [(level.factor, level.view) for level in self._levels]

    def refresh_levels(self, rect: tuple[int, int, int, int] | None = None) -> None:
        """The display pixels changed (in rect, or everywhere): bring the downscaled copies up to date."""
        if self._source is None:
            return
        r = rect if rect is not None else (0, 0, self._source.shape[1], self._source.shape[0])
        finer = qimage2ndarray.byte_view(self._image) if self._levels else None
        for level in self._levels:
            r = level.update(finer, *r)
            if r is None:
                break
            finer = level.bytes

    def update_rect(self, x: int, y: int, w: int, h: int) -> None:
        """Repaint only the widget area showing image rect (x, y, w, h)."""
        r = self.image_to_widget_rect(QRectF(x, y, w, h)).toAlignedRect().adjusted(-2, -2, 2, 2)
        self.update(r)

    def image_to_widget_rect(self, r: QRectF) -> QRectF:
        """An image-pixel rectangle in widget coordinates at the current zoom and offset."""
        return QRectF(self.offset.x() + r.x() * self.zoom, self.offset.y() + r.y() * self.zoom,
                      r.width() * self.zoom, r.height() * self.zoom)

    def widget_to_image(self, p: QPointF) -> QPointF:
        """A widget point in image pixels (fractional; may lie outside the image)."""
        return QPointF((p.x() - self.offset.x()) / self.zoom, (p.y() - self.offset.y()) / self.zoom)

    def fit(self) -> None:
        """Zoom so the whole image fits, centred (Ctrl+0)."""
        if self._image is None or self._image.isNull():
            return
        iw, ih = self._image.width(), self._image.height()
        z = min(max(1, self.width() - 20) / iw, max(1, self.height() - 20 - HINT_BAND) / ih)
        self._set_zoom(z, QPointF(self.width() / 2, self.height() / 2), centre=True)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under ``anchor`` (widget coords, default centre) fixed."""
        self._set_zoom(zoom, anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2))

    def _set_zoom(self, zoom: float, anchor: QPointF, centre: bool = False) -> None:
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        if centre and self._image is not None:
            self.zoom = zoom
            self.offset = QPointF((self.width() - self._image.width() * zoom) / 2,
                                  (self.height() - HINT_BAND - self._image.height() * zoom) / 2)
        else:
            img_pt = self.widget_to_image(anchor)
            self.zoom = zoom
            self.offset = QPointF(anchor.x() - img_pt.x() * zoom, anchor.y() - img_pt.y() * zoom)
        self.zoomChanged.emit(self.zoom)
        self.update()

    def zoom_by(self, factor: float) -> None:
        """Multiply the zoom by ``factor`` about the widget centre (clamped to the zoom limits)."""
        self.set_zoom(self.zoom * factor)

    def stroke_outline(self) -> QPainterPath | None:
        """The outline of the region the stroke in progress covers, in widget coordinates; None between strokes."""
        if self._path is None:
            return None
        count = self._path.elementCount()
        if self._outline is None or self._outline[1] != self.brush_radius:  # whole stroke (started, or resized)
            self._outline = (count, self.brush_radius, self._stroker().createStroke(self._path).simplified())
        elif self._outline[0] != count:
            # Only the new segments are outlined and joined: re-outlining the whole stroke per mouse move
            # cost 32 ms at 240 segments (4 s of painting) and cut the live mattes shown per second to a third.
            done = self._outline[0]
            new = QPainterPath(QPointF(self._path.elementAt(done - 1).x, self._path.elementAt(done - 1).y))
            for i in range(done, count):
                new.lineTo(self._path.elementAt(i).x, self._path.elementAt(i).y)
            self._outline = (count, self.brush_radius, self._outline[2].united(self._stroker().createStroke(new)))
        return QTransform(self.zoom, 0, 0, self.zoom, self.offset.x(), self.offset.y()).map(self._outline[2])

    def _stroker(self) -> QPainterPathStroker:
        stroker = QPainterPathStroker()
        stroker.setWidth(2 * self.brush_radius)
        stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
        stroker.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return stroker

    # ---------------------------------------------------------------- painting
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(event.rect(), QColor(60, 60, 64))
        if self._image is not None and not self._image.isNull():
            # draw only the part of the image inside the exposed area: cheap on 24 MP photos
            exposed = QRectF(event.rect())
            src = QRectF(self.widget_to_image(exposed.topLeft()), self.widget_to_image(exposed.bottomRight()))
            src = src.intersected(QRectF(0, 0, self._image.width(), self._image.height()))
            if not src.isEmpty():
                src = QRectF(QRect(int(src.left()), int(src.top()), int(src.width()) + 2, int(src.height()) + 2)).intersected(
                    QRectF(0, 0, self._image.width(), self._image.height()))
                target = self.image_to_widget_rect(src)
                image, scale = self._image, 1
                for level in self._levels:  # the coarsest copy still at least as fine as the screen
                    if self.zoom * level.factor <= 1.0:
                        image, scale = level.image, level.factor
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom * scale < 1.0)
                lsrc = QRectF(src.x() / scale, src.y() / scale, src.width() / scale, src.height() / scale)
                p.drawImage(target, image, lsrc)
        outline = self.stroke_outline()
        if outline is not None:  # the painted region's outline: visible over the alpha and composite views too
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(QPen(QColor(0, 0, 0, 160), 3))
            p.drawPath(outline)
            p.setPen(QPen(QColor(255, 255, 0, 230), 1))
            p.drawPath(outline)
        if self.hint and self._image is not None:
            p.setPen(QColor(255, 255, 255))
            r = QRectF(0, self.height() - HINT_BAND + 4, self.width(), HINT_BAND - 8)
            p.fillRect(r, QColor(0, 0, 0, 150))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.hint)
        if self._box_start is not None and self._mouse is not None:
            p.setPen(QPen(QColor(255, 255, 255, 230), 1, Qt.PenStyle.DashLine))
            p.drawRect(QRectF(self.image_to_widget_rect(QRectF(self._box_start, QPointF(0, 0))).topLeft(),
                              self._mouse).normalized())
        elif self._mouse is not None and not self.click_tool and not self.box_tool and not self._panning:
            r = self.brush_radius * self.zoom
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(QPen(QColor(0, 0, 0, 200), 3))
            p.drawEllipse(self._mouse, r, r)
            p.setPen(QPen(QColor(255, 255, 255, 230), 1))
            p.drawEllipse(self._mouse, r, r)
        p.end()

    def _cursor_area(self, pos: QPointF | None) -> QRect:
        if pos is None:
            return QRect()
        r = int(self.brush_radius * self.zoom) + 4
        return QRect(int(pos.x()) - r, int(pos.y()) - r, 2 * r, 2 * r)

    # ---------------------------------------------------------------- input
    def set_space_held(self, held: bool) -> None:
        """While Space is held, dragging pans instead of painting (hand cursor)."""
        self._space = held
        self.setCursor(Qt.CursorShape.OpenHandCursor if held else Qt.CursorShape.CrossCursor)

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        pos = e.position()
        if e.button() == Qt.MouseButton.MiddleButton or (e.button() == Qt.MouseButton.LeftButton and self._space):
            self._panning = True
            self._pan_start = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if self._image is None:
            return
        if self.click_tool and e.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            # the other value: a right click or Shift+click, which window managers leave alone; Alt+click
            # too, where the desktop lets it through (openbox and many others take it to move the window)
            other = e.button() == Qt.MouseButton.RightButton or bool(
                e.modifiers() & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier))
            ip = self.widget_to_image(pos)
            self.clicked.emit(ip.x(), ip.y(), other)
            return
        if e.button() != Qt.MouseButton.LeftButton:
            return
        ip = self.widget_to_image(pos)
        if self.box_tool:
            self._box_start = ip
            return
        self._stroking = True
        self._path = QPainterPath(ip)
        self._outline = None
        self._last = ip
        self.strokeStarted.emit(ip.x(), ip.y())
        self.strokeMoved.emit(ip.x(), ip.y(), ip.x(), ip.y())

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        pos = e.position()
        old = self._mouse
        self._mouse = pos
        if self._panning:
            d = pos - self._pan_start
            self._pan_start = pos
            self.offset += d
            self.update()
            return
        if self._box_start is not None:
            self.update()
            return
        if self._stroking and self._last is not None:
            ip = self.widget_to_image(pos)
            self.strokeMoved.emit(self._last.x(), self._last.y(), ip.x(), ip.y())
            self._path.lineTo(ip)
            r = self.brush_radius
            seg = QRectF(self._last, ip).normalized().adjusted(-r, -r, r, r)
            self.update(self.image_to_widget_rect(seg).toAlignedRect().adjusted(-4, -4, 4, 4))
            self._last = ip
        self.update(self._cursor_area(old).united(self._cursor_area(pos)))

    def cancel_box(self) -> bool:
        """Drop a Select-subject box being dragged (Esc); True when there was one."""
        if self._box_start is None:
            return False
        self._box_start = None
        self.update()
        return True

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._panning and e.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._panning = False
            self.set_space_held(self._space)
            return
        if e.button() == Qt.MouseButton.LeftButton and self._box_start is not None:
            a, b = self._box_start, self.widget_to_image(e.position())
            self._box_start = None
            self.update()
            self.boxDrawn.emit(min(a.x(), b.x()), min(a.y(), b.y()), abs(b.x() - a.x()), abs(b.y() - a.y()))
            return
        if e.button() == Qt.MouseButton.LeftButton and self._stroking:
            self._stroking = False
            self._path = self._outline = None
            self.update()
            self._last = None
            self.strokeFinished.emit()

    def leaveEvent(self, e) -> None:  # noqa: N802
        area = self._cursor_area(self._mouse)
        self._mouse = None
        self.update(area)

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802
        dy = e.angleDelta().y()
        if e.modifiers() & Qt.KeyboardModifier.ControlModifier:
            if dy:
                self.set_zoom(self.zoom * (1.25 if dy > 0 else 0.8), e.position())
        else:
            self.offset += QPointF(e.angleDelta().x() / 2, dy / 2)
            self.update()
        e.accept()
