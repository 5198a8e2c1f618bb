"""The canvas's pixels: the session's view rendered into the display image, off the UI thread for
large photos.

A whole-view render at 24 MP (a view switch, a new matte, an edge adjustment, whose feather alone
filters the whole matte) costs 0.3–3 s of numpy and OpenCV, which froze the window. Photos above
``SYNC_PIXELS`` are double-buffered: whole frames render in one background thread into the hidden
display image (and its downscaled copies), the newest request winning, and the two images swap when
a frame is done — nothing is copied on the UI thread. Rectangles painted meanwhile (brush strokes,
rendered at once on the UI thread as ever) are painted again on the new frame. The canvas shows the
previous frame until then. Smaller photos render on the UI thread, at once, as before.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from matting_gui.core.editing.session import EditorSession
from matting_gui.gui.convert import render_target, writable_rgb_view
from matting_gui.gui.widgets.canvas import Canvas, downscale_into

#: Photos up to this size render on the UI thread (a whole composite frame with a feather: ~20 ms here).
SYNC_PIXELS = 500_000


class _Buffer:
    """One display image: the QImage, its render target, its RGB view, and the canvas's downscaled copies."""

    def __init__(self, image: QImage, levels: list | None = None, canvas: Canvas | None = None):
        self.image = image
        self.out = render_target(image)
        self.pixels = writable_rgb_view(image)
        self.levels = levels if levels is not None else canvas.spare_levels(image, self.pixels)


class DisplayController(QObject):
    """Owns the display images the canvas shows and keeps them rendered from the session.
    ``framed(generation)`` fires (UI thread) when a background frame is on screen."""

    framed = Signal(int)
    _done = Signal(int)  # a background frame is ready (emitted from the render thread, queued)

    def __init__(self, session: EditorSession, canvas: Canvas, parent: QObject | None = None):
        super().__init__(parent)
        self.session, self.canvas = session, canvas
        self._front: _Buffer | None = None  # on screen
        self._back: _Buffer | None = None  # the render thread's, swapped in when its frame is done
        self._generation = 0
        self._pending: list[tuple[int, int, int, int]] = []  # rects painted while a frame was being rendered
        self._rendering = False
        self._wake = threading.Condition()
        self._wanted: tuple | None = None  # (generation, buffer) the thread renders next
        self._stopping = False
        self._done.connect(self._on_done)
        # started now, idle until a frame is wanted: starting a thread waits for it to run, which can
        # take hundreds of ms while a worker holds the GIL (the first composite view did)
        self._thread = threading.Thread(target=self._run, name="display-render", daemon=True)
        self._thread.start()

    @property
    def image(self) -> QImage | None:
        """The display image on screen."""
        return self._front.image if self._front is not None else None

    @property
    def busy(self) -> bool:
        """True while a background frame is being rendered (the canvas shows the previous one)."""
        return self._rendering

    def show_photo(self, frame: QImage | None) -> None:
        """A new photo: a display image of its size (``frame``, a first view rendered elsewhere, or a
        new one rendered here), fitted in the canvas."""
        h, w = self.session.photo.rgb.shape[:2]
        self._generation += 1  # a frame of the previous photo is never shown
        self._pending.clear()
        self._rendering = False
        image = frame if frame is not None else QImage(w, h, QImage.Format.Format_RGB32)
        if frame is None:
            self.session.render(render_target(image), None)  # the first frame: at once, whatever the size
        self.canvas.set_image(image, fit=True, pixels=writable_rgb_view(image))
        self._front = _Buffer(image, levels=self.canvas.pyramid())
        self._back = None  # made with the first background frame

    def refresh(self, rect: tuple[int, int, int, int] | None = None, update: bool = True) -> None:
        """Re-render the view in ``rect`` (x, y, w, h) or everywhere: on the UI thread at once up to
        ``SYNC_PIXELS``, else as a whole frame in the background."""
        if self._front is None or self.session.photo is None:
            return
        h, w = self._front.out.shape[:2]
        area = h * w if rect is None else rect[2] * rect[3]
        if area > SYNC_PIXELS:  # a whole frame, or a rect as large (Reset, Select subject, a fill)
            self._request_frame()
            return
        if rect is not None and self._rendering:
            self._pending.append(rect)  # painted again on the background frame when it lands
        self.session.render(self._front.out, rect)
        if update:
            self.canvas.refresh_levels(rect)
            self.canvas.update() if rect is None else self.canvas.update_rect(*rect)

    def shutdown(self) -> None:
        """End the render thread (the window is closing); a frame being rendered is dropped."""
        with self._wake:
            self._stopping = True
            self._wake.notify()

    # ---------------------------------------------------------------- background frames
    def _request_frame(self) -> None:
        self._generation += 1
        if self._back is None:
            h, w = self._front.out.shape[:2]
            self._back = _Buffer(QImage(w, h, QImage.Format.Format_RGB32), canvas=self.canvas)
        self._rendering = True
        with self._wake:
            self._wanted = (self._generation, self._back)
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._wanted is None and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                generation, buffer = self._wanted
                self._wanted = None
            try:
                self.session.render(buffer.out, None)
                if buffer.out.shape[2] == 4:
                    downscale_into(buffer.out, self.canvas.level_buffers(buffer.levels))
            except Exception:  # noqa: BLE001 - a photo replaced mid-render: its frame is dropped anyway
                continue
            try:
                self._done.emit(generation)
            except RuntimeError:  # the window is gone
                return

    def _on_done(self, generation: int) -> None:
        if generation != self._generation or self._back is None:
            return  # a newer frame was asked for meanwhile (it is on its way), or another photo opened
        self._front, self._back = self._back, self._front
        self.canvas.swap_image(self._front.image, self._front.pixels, self._front.levels)
        for rect in self._pending:  # strokes painted while the frame was rendered, on the newer trimap
            self.session.render(self._front.out, rect)
            self.canvas.refresh_levels(rect)
        self._pending.clear()
        self._rendering = False
        self.framed.emit(generation)
