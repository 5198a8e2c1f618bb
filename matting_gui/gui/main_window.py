"""The editor window. It composes: the session (state), two controllers (documents; mattes and
exports), the canvas, toolbars and panel, and the action table. Inference never runs here."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QCloseEvent, QImage
from PySide6.QtWidgets import QDockWidget, QMainWindow
from superqt.utils import create_worker

from matting_gui.core.editing.session import TOOL_VALUES, TOOLS, EditorSession
from matting_gui.core.editing.trimap import BACKGROUND, FOREGROUND, trimap_problem
from matting_gui.core.editing.view import VIEW_MODES
from matting_gui.core.files.paths import printable
from matting_gui.core.nets.model_files import INSTALLED_MODELS
from matting_gui.gui.actions import build_actions, build_menus, show_about, show_shortcuts
from matting_gui.gui.controllers.display import DisplayController
from matting_gui.gui.controllers.document import DocumentController
from matting_gui.gui.controllers.export import ExportController
from matting_gui.gui.controllers.matte import MatteController
from matting_gui.gui.controllers.selection import SelectionController
from matting_gui.gui.keys import KeyRouter
from matting_gui.gui.prompter import Prompter
from matting_gui.gui.settings import Settings
from matting_gui.gui.widgets.canvas import Canvas
from matting_gui.gui.widgets.edges_panel import EdgesPanel
from matting_gui.gui.widgets.export_dialog import ask_export
from matting_gui.gui.widgets.status import ErrorBox, StatusBar
from matting_gui.gui.widgets.toolbars import Toolbars
from matting_gui.gui.worker import MatteService, warm_up

HINT = "Drag a box with Select subject (S), or paint the subject (F) and press Auto band (Ctrl+B) — F1: all keys"
SAMPLE_HINT = "The sample comes with its trimap painted: paint over it, or Edit → Reset trimap to start anew — F1: all keys"


class MainWindow(QMainWindow):
    """The editor. ``settings`` (a QSettings), ``service`` and ``prompter`` are injectable for tests."""

    matteShown = Signal(object)  # MatteJobResult now on screen
    exported = Signal(list)  # paths written
    errorShown = Signal(str)
    noticeShown = Signal(str)  # why no matte was computed (an incomplete trimap), or a hint on the trimap

    def __init__(self, settings: QSettings | None = None, service: MatteService | None = None,
                 prompter: Prompter | None = None):
        super().__init__()
        self.settings = Settings(settings)
        self.prompter = prompter or Prompter(self)
        self.session = s = EditorSession(self.settings.adjustments())
        devices, self._wanted_device = [("CPU", "cpu")], self.settings.device  # a GPU joins once torch loads
        self.settings.restore(s, ["cpu"])
        self.last_error: str | None = None
        self._error_box = ErrorBox(self)
        self.service = service or MatteService(self)
        self.documents = DocumentController(s, self.settings, self.prompter, self)
        self.exports = ExportController(s, self.service, self.prompter, self)
        self.matte = MatteController(s, self.service, self.exports, self)
        self.matte.settle_to(self.settings)
        self.selection = SelectionController(s, self)
        self.canvas = Canvas(self)
        self.display = DisplayController(s, self.canvas, self)
        self.setCentralWidget(self.canvas)
        self.setAcceptDrops(True)
        self.actions = build_actions(self, self._slots())
        self.toolbars = Toolbars(self, s, self.actions, self.settings.band_radius, devices)
        self.panel = EdgesPanel(s, self.prompter)
        dock = QDockWidget("Edges and view", self)
        dock.setObjectName("edges")
        dock.setWidget(self.panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.recent_menu = build_menus(self, self.actions)
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self._bind()
        self.keys = KeyRouter(self, self.canvas)
        self._show_tool()
        self._show_model()
        self._show_view_state()
        self._update_document_state()
        self._show_recent()
        self._device_probe = create_worker(warm_up, _start_thread=True)  # imports torch: not before the window shows
        self._device_probe.returned.connect(self._devices_found)
        geometry = self.settings.geometry
        self.restoreGeometry(geometry) if geometry is not None else self.resize(1200, 800)
        if self.settings.rejected:  # values out of range in the settings file: their defaults are used
            self.status.showMessage(f"settings out of range, defaults used: {', '.join(self.settings.rejected)}", 20000)

    # ================================================================ wiring
    def _slots(self) -> dict:
        s, c = self.session, self.canvas
        slots = {
            "open": self.documents.open_dialog, "sample": self.open_sample, "paste": self.documents.paste,
            "load_trimap": self.documents.load_trimap_dialog, "save": self.documents.save_trimap,
            "save_as": self.documents.save_trimap_as, "export": self.export_dialog, "quit": self.close, "undo": lambda: s.doc and s.doc.undo(),
            "redo": lambda: s.doc and s.doc.redo(), "auto_band": self.auto_band,
            "reset": lambda: s.doc and s.doc.replace(s.doc.trimap * 0),
            "zoom_in": lambda: c.zoom_by(1.25), "zoom_out": lambda: c.zoom_by(0.8), "fit": c.fit,
            "zoom_100": lambda: c.set_zoom(1.0), "before": lambda on: s.set_view(before=on),
            "decontaminate": lambda on: s.set_view(decontaminate=on), "refine": s.set_refine,
            "brush_up": lambda: s.set_brush_radius(s.brush_radius * 1.2),
            "brush_down": lambda: s.set_brush_radius(s.brush_radius / 1.2), "about": lambda: show_about(self),
            "select_all": lambda: self.selection.select(None), "shortcuts": lambda: show_shortcuts(self, self.actions),
        }
        slots |= {f"tool:{t}": (lambda t=t: s.set_tool(t)) for t in TOOLS}
        slots |= {f"view:{m}": (lambda m=m: s.set_view(mode=m)) for m in VIEW_MODES}
        return slots | {f"model:{m}": (lambda m=m: s.set_model(m)) for m in INSTALLED_MODELS}

    def _bind(self) -> None:
        s, d, m, c = self.session, self.documents, self.matte, self.canvas
        c.strokeStarted.connect(self._stroke_started)
        c.strokeMoved.connect(lambda x0, y0, x1, y1: s.doc is not None and s.doc.in_stroke and s.doc.paint_segment(x0, y0, x1, y1,
                                                                                            s.brush_radius))
        c.strokeFinished.connect(lambda: s.doc is not None and s.doc.in_stroke and s.doc.end_stroke())
        c.clicked.connect(self._clicked)
        c.zoomChanged.connect(self.status.show_zoom)
        d.opened.connect(self._photo_shown)
        d.saved.connect(lambda _path: self._update_document_state())  # the title's * goes
        d.loading.connect(lambda path: c.setEnabled(path is None))
        c.boxDrawn.connect(lambda x, y, w, h: self.selection.select((x, y, w, h)))
        self.selection.started.connect(self.service.interrupt)  # its thread gets the CPU, not a refinement
        self.selection.ended.connect(lambda changed: changed or self.matte.request())  # else: the refinement back
        for signal in (d.error, m.error, self.selection.error, self.exports.error):
            signal.connect(self.show_error)
        for signal in (d.status, m.status, self.selection.status, self.exports.status):
            signal.connect(self.status.show_message)
        self.exports.running.connect(self.status.show_export)  # at once, in the window: nothing modal
        self.status.export_cancel.clicked.connect(self.exports.cancel)
        self.exports.idle.connect(lambda: self.exports.close_when_done and self.close())
        m.described.connect(self.status.show_matte)
        m.notice.connect(self._notice)
        m.advice.connect(self._notice)
        m.shown.connect(self.matteShown)
        self.exports.exported.connect(self.exported)
        self.service.busy.connect(self.status.busy_bar.setVisible)
        s.trimap_changed.connect(self._trimap_changed)
        s.matte_changed.connect(lambda: s.shown_mode != "trimap" and self.refresh_display())
        s.adjust_changed.connect(lambda: s.matte is not None and self.refresh_display())
        s.view_changed.connect(self._show_view_state)
        s.tool_changed.connect(self._show_tool)
        s.model_changed.connect(self._show_model)
        self.panel.error.connect(self.show_error)
        self.toolbars.background.textActivated.connect(self.panel.set_background_kind)
        self.toolbars.band.valueChanged.connect(lambda v: setattr(self.settings, "band_radius", v))

    def _devices_found(self, devices: list) -> None:
        self.toolbars.add_devices(devices)
        if self._wanted_device != self.session.device and self._wanted_device in [key for _, key in devices]:
            self.session.set_model(self.session.model, self._wanted_device)  # the GPU chosen last time

    # ================================================================ documents
    def open_photo(self, path: str | Path, trimap: str | Path | None = None, ask: bool = True) -> bool:
        """Open a photo and its trimap; see ``DocumentController.open_photo``."""
        return self.documents.open_photo(path, trimap, ask, (self.session.shown_mode, self.session.style))

    def open_sample(self) -> bool:
        """Open the bundled sample (with the user's saved trimap of it, if any)."""
        return self.documents.open_sample((self.session.shown_mode, self.session.style))

    def _photo_shown(self, frame: QImage | None, key) -> None:
        """A photo became the session's: new display buffer, fitted view, fresh status. ``frame``: its
        first view rendered for ``key`` = (view mode, style), used if the view is still that."""
        photo = self.session.photo
        self.display.show_photo(frame if key == (self.session.shown_mode, self.session.style) else None)
        h, w = photo.rgb.shape[:2]
        notes = f" — {'; '.join(photo.image.notes)}" if photo.image.notes else ""
        self.status.info_label.setText(f"{w}×{h}, {photo.image.bit_depth}-bit{notes}")
        self.status.show_matte("", "")
        self.canvas.setFocus()
        self._update_document_state()
        self._show_recent()  # the photo just opened is now the first of them

    def _show_recent(self) -> None:
        self.recent_menu.clear()
        for p in self.settings.recent:
            self.recent_menu.addAction(printable(p)).triggered.connect(lambda checked=False, q=p: self.open_photo(q))
        self.recent_menu.setEnabled(bool(self.settings.recent))

    def _update_document_state(self) -> None:
        doc, photo = self.session.doc, self.session.photo
        self.setWindowTitle(f"{printable(photo.name) if photo else 'no photo'}{'*' if doc and doc.dirty else ''}"
                            " — matting-gui")
        self.actions["undo"].setEnabled(doc is not None and doc.can_undo())
        self.actions["redo"].setEnabled(doc is not None and doc.can_redo())
        for name in ("save", "save_as", "export", "auto_band", "reset", "load_trimap"):
            self.actions[name].setEnabled(doc is not None)
        problem = doc is not None and trimap_problem(doc.trimap)
        self.canvas.hint = HINT if problem else SAMPLE_HINT if self.documents.showing_sample_trimap() else ""
        self.canvas.update()

    # ================================================================ painting
    def _stroke_started(self, x: float, y: float) -> None:
        if self.session.doc is not None:
            self.session.doc.begin_stroke(TOOL_VALUES[self.session.tool])

    def _clicked(self, x: float, y: float, background: bool) -> None:
        s = self.session
        if s.doc is not None and s.tool == "fill":
            s.doc.fill(int(x), int(y), BACKGROUND if background else FOREGROUND)

    def auto_band(self) -> None:
        """Put an unknown band of the toolbar's width around the painted foreground (in a thread)."""
        self.selection.auto_band(self.toolbars.band.value())

    def _trimap_changed(self, rect, kind: str) -> None:
        if self.session.shown_mode == "trimap":
            self.refresh_display(rect)
        if kind != "paint":
            self._update_document_state()

    def _show_tool(self) -> None:
        s = self.session
        self.actions[f"tool:{s.tool}"].setChecked(True)
        self.canvas.click_tool, self.canvas.box_tool = s.tool == "fill", s.tool == "select"
        self.canvas.setCursor(Qt.CursorShape.PointingHandCursor if s.tool == "fill" else Qt.CursorShape.CrossCursor)
        self.canvas.brush_radius = s.brush_radius
        self.settings.brush_radius, self.settings.brush_fraction = s.brush_radius, s.brush_fraction or 0.0
        self.canvas.update()

    def _show_model(self) -> None:
        s = self.session
        self.actions[f"model:{s.model}"].setChecked(True)
        with QSignalBlocker(self.actions["refine"]):
            self.actions["refine"].setChecked(s.refine)
        self.settings.model, self.settings.device, self.settings.refine = s.model, s.device, s.refine

    # ================================================================ viewing
    def _show_view_state(self) -> None:
        s = self.session
        self.settings.view_mode = s.view_mode
        self.actions[f"view:{s.view_mode}"].setChecked(True)
        for name, on in (("before", s.before), ("decontaminate", s.decontaminate)):
            self.actions[name].blockSignals(True)
            self.actions[name].setChecked(on)
            self.actions[name].blockSignals(False)
        if s.view_mode == "composite":
            self.matte.want_colours()
        self.refresh_display()

    def refresh_display(self, rect=None, update: bool = True) -> None:
        """Re-render the view (or just ``rect`` = (x, y, w, h)) into the canvas image (``DisplayController``:
        whole frames of large photos in the background)."""
        self.display.refresh(rect, update)

    # ================================================================ export
    def export_dialog(self) -> None:
        """Ask what to export (starting from the last choices), then export in the background."""
        chosen = ask_export(self, self.session, self.settings)
        self.matte.settle_to(self.settings)
        if chosen is not None:
            self.exports.export(*chosen)

    # ================================================================ messages and window events
    def _notice(self, message: str) -> None:
        self.statusBar().showMessage(message, 6000)
        self.noticeShown.emit(message)

    def show_error(self, message: str) -> None:
        """Show a one-line error without blocking (one window-modal box, reused)."""
        message = printable(message)
        self.last_error = message
        self.statusBar().showMessage(message, 10000)
        self._error_box.show(message)
        self.errorShown.emit(message)

    def dragEnterEvent(self, e) -> None:  # noqa: N802 - a copy, never a move: no file manager moves the photo
        if e.mimeData().hasUrls() and e.possibleActions() & Qt.DropAction.CopyAction:
            e.setDropAction(Qt.DropAction.CopyAction)
            e.accept()

    def dropEvent(self, e) -> None:  # noqa: N802
        self.dragEnterEvent(e)  # accepted as a copy too
        urls = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_photo(urls[0])

    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802 - a running export asks first: wait, cancel or stay
        if not (self.exports.may_close() and self.documents.ask_unsaved()):
            e.ignore()
            return
        self.settings.geometry = self.saveGeometry()
        self.documents.autosave_timer.stop()
        self.display.shutdown()
        self.service.shutdown()
        e.accept()
