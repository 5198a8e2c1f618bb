"""The editor window: open a photo, paint a trimap, watch the matte, export.

State lives in plain objects (``TrimapDocument``, numpy arrays); this class wires
them to widgets. Inference never runs here: jobs go to ``MatteService``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QColor, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..core.adjust import EdgeAdjustments, apply_adjustments
from ..core.compose import blurred_background, checkerboard, cover_resize
from ..core.imageio import (
    DECODERS,
    MAX_PIXELS,
    ImageError,
    LoadedImage,
    read_image,
    read_trimap,
)
from ..core.imagewrite import write_alpha, write_composite, write_rgba, write_trimap
from ..core.paths import REPO_DIR, cache_dir, printable, user_data_dir
from ..core.trimap import BACKGROUND, FOREGROUND, UNKNOWN, TrimapError, normalize_trimap
from ..core.trimap_doc import INITIAL_VALUE, TrimapDocument
from ..core.view import VIEW_MODES, ViewStyle, render, to_display_u8
from ..core.weights import INSTALLED_MODELS
from .canvas import Canvas
from .convert import qimage_to_rgb, render_target, writable_rgb_view
from .worker import MatteJob, MatteJobResult, MatteService, trimap_problem

SAMPLE_PHOTO = REPO_DIR / "resources" / "samples" / "astronaut.png"
SAMPLE_TRIMAP = REPO_DIR / "resources" / "samples" / "astronaut_trimap.png"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp *.bmp);;All files (*)"
PREVIEW_PIXELS = 512 * 512
DEBOUNCE_MS = 100
THROTTLE_MS = 150
AUTOSAVE_MS = 20_000
MAX_RECENT = 10

TOOLS = {  # name: (label, value painted, shortcuts, tooltip)
    "foreground": ("Foreground", FOREGROUND, ("F", "1"), "Foreground brush"),
    "background": ("Background", BACKGROUND, ("B", "2"), "Background brush"),
    "unknown": ("Unknown", UNKNOWN, ("U", "3"), "Unknown brush: the band where the network decides"),
    "eraser": ("Eraser", BACKGROUND, ("E",), "Eraser: back to the initial state (background)"),
    "fill": ("Fill", FOREGROUND, ("G",), "Fill a closed region with foreground (Alt+click: background)"),
}
VIEW_KEYS = {"trimap": "T", "alpha": "A", "composite": "C", "photo": "P"}


def _path_key(path: Path) -> str:
    """A stable short key for a file path (any bytes, including names that are not UTF-8)."""
    return hashlib.sha1(os.fsencode(str(path.resolve()))).hexdigest()[:16]


#: Photos with more pixels than this are decoded in a background thread when opened.
BACKGROUND_OPEN_PIXELS = 1_000_000


@dataclass
class LoadedPhoto:
    """What opening a photo produces off the UI thread: the image, its display copy, its trimap."""

    image: LoadedImage
    display: np.ndarray  # uint8 (H, W, 3)
    trimap: np.ndarray | None  # uint8 (H, W) {0, 128, 255}
    trimap_path: Path | None
    trimap_error: str | None = None
    view: QImage | None = None  # the first frame, rendered off the UI thread for view_key
    view_key: tuple | None = None  # (view mode, ViewStyle) it was rendered with


def read_trimap_for(tri_path: Path, shape) -> np.ndarray:
    """Read a trimap that must match an image of ``shape`` (H, W, ...); uint8 {0, 128, 255}."""
    raw = read_trimap(tri_path)
    if raw.shape != tuple(shape[:2]):
        raise TrimapError(f"{tri_path}: size {raw.shape[1]}x{raw.shape[0]} does not match the photo "
                          f"({shape[1]}x{shape[0]})")
    return normalize_trimap(raw)


def load_photo(path: Path, tri_path: Path | None, view_key: tuple | None = None) -> LoadedPhoto:
    """Decode a photo and its trimap (if the file exists); raises ImageError for the photo only.

    Safe to run in any thread (QImage is reentrant; no widgets). A trimap that fails to
    load is reported in ``trimap_error`` and left out. view_key = (view mode, ViewStyle):
    also render the first frame (a 24 MP overlay takes ~200 ms: not on the UI thread).
    """
    loaded = read_image(path)
    tri, error = None, None
    if tri_path is not None and tri_path.exists():
        try:
            tri = read_trimap_for(tri_path, loaded.rgb.shape)
        except (ImageError, TrimapError) as exc:
            error = str(exc)
    photo = LoadedPhoto(loaded, to_display_u8(loaded.rgb), tri, tri_path if tri is not None else None, error)
    if view_key is not None:
        h, w = loaded.rgb.shape[:2]
        frame = QImage(w, h, QImage.Format.Format_RGB32)
        out = render_target(frame)
        first = tri if tri is not None else np.full((h, w), INITIAL_VALUE, np.uint8)
        render(out, view_key[0], loaded.rgb, first, None, None, None, view_key[1], None, photo.display)
        photo.view, photo.view_key = frame, view_key
    return photo


def _outside_resources(path: Path) -> Path:
    """``path``, or its namesake in the user's data folder when it lies in the bundled resources."""
    resources = (REPO_DIR / "resources").resolve()
    if path.resolve().is_relative_to(resources):
        folder = user_data_dir() / "samples"
        folder.mkdir(exist_ok=True)
        return folder / path.name
    return path


def _header_pixels(path: Path) -> int:
    """Pixel count from the file header (cheap), or 0 when it cannot be read (the full read will say why)."""
    try:
        from PIL import Image

        with Image.open(path, formats=DECODERS) as im:  # never a decoder we did not choose
            return im.width * im.height
    except Exception:  # noqa: BLE001 - any failure: decide by the normal, synchronous path
        return 0


class MainWindow(QMainWindow):
    """The editor. ``settings`` and ``service`` are injectable for tests."""

    matteShown = Signal(object)  # MatteJobResult that is now on screen
    exported = Signal(list)  # paths written
    errorShown = Signal(str)
    noticeShown = Signal(str)  # why no matte was computed (incomplete trimap)
    _photoLoaded = Signal(int, object)  # load token, (path, LoadedPhoto or error message, explicit trimap)

    def __init__(self, settings: QSettings | None = None, service: MatteService | None = None):
        super().__init__()
        self.settings = settings or QSettings("matting-gui", "matting-gui")
        self.service = service or MatteService(self)
        self.service.finished.connect(self._on_result)
        self.service.failed.connect(self._on_failed)
        self.service.notice.connect(self._on_notice)
        self.service.busy.connect(self._on_busy)
        self._photoLoaded.connect(self._on_photo_loaded)
        self._load_token = 0
        self.loading: Path | None = None  # the photo being decoded in the background, if any
        self._revision_at_open: int | None = None  # the document's revision when that load began
        # document state
        self.path: Path | None = None
        self.loaded: LoadedImage | None = None
        self.image: np.ndarray | None = None
        self.doc: TrimapDocument | None = None
        self.trimap_path: Path | None = None
        self.raw_alpha: np.ndarray | None = None
        self.alpha: np.ndarray | None = None  # raw_alpha with edge adjustments
        self.alpha_info: tuple[int, str, bool] | None = None  # (revision, model, preview)
        self.foreground: np.ndarray | None = None
        self.background_image: np.ndarray | None = None
        self._bg_cache: np.ndarray | None = None
        self.adjust = EdgeAdjustments()
        self.style = ViewStyle()
        self.view_mode = str(self.settings.value("view_mode", "trimap"))
        self.before = False
        self.decontaminate = True
        self.tool = "foreground"
        self.model_name = str(self.settings.value("model", "student"))
        self.device = str(self.settings.value("device", "cpu"))
        self.stale_dropped = 0
        self.last_error: str | None = None
        self._latest_job = 0
        self._pending_export: tuple[Path, dict] | None = None
        self._display: QImage | None = None
        self._display_view: np.ndarray | None = None
        self._display_out: np.ndarray | None = None

        self.canvas = Canvas(self)
        self.canvas.brush_radius = float(self.settings.value("brush_radius", 20))
        self.setCentralWidget(self.canvas)
        self.canvas.strokeStarted.connect(self._stroke_started)
        self.canvas.strokeMoved.connect(self._stroke_moved)
        self.canvas.strokeFinished.connect(self._stroke_finished)
        self.canvas.clicked.connect(self._clicked)
        self.canvas.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        self.setAcceptDrops(True)

        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(lambda: self.request_matte(preview=self._needs_preview()))
        self._throttle = QTimer(self, interval=THROTTLE_MS)
        self._throttle.timeout.connect(self._throttled_preview)
        self._throttle_revision = -1
        self._autosave = QTimer(self, interval=AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave_recovery)
        self._autosave.start()

        self._build_actions()
        self._build_toolbar()
        self._build_dock()
        self._build_status()
        self._build_menus()
        self.set_tool("foreground")
        self._update_title()
        self._update_actions()  # nothing open yet: undo, redo, save, auto band, export are off
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 800)

    # ================================================================ UI construction
    def _action(self, text: str, slot, shortcut=None, checkable=False, tip: str | None = None,
                on_toggle: bool = False) -> QAction:
        """A window action; ``on_toggle``: the slot follows every change of the checked state (also
        one set by a bound widget), not only the user's clicks on the action."""
        act = QAction(text, self)
        if shortcut:
            seqs = shortcut if isinstance(shortcut, (list, tuple)) else [shortcut]
            act.setShortcuts([QKeySequence(s) for s in seqs])
        act.setCheckable(checkable)
        keys = ", ".join(s.toString() for s in act.shortcuts())
        act.setToolTip(f"{tip or text} ({keys})" if keys else (tip or text))
        (act.toggled if on_toggle else act.triggered).connect(slot)
        self.addAction(act)
        return act

    def _build_actions(self) -> None:
        A = self._action
        self.act_open = A("&Open photo…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.act_sample = A("Open &sample", self.open_sample)
        self.act_paste = A("&Paste photo", self.paste_image, QKeySequence.StandardKey.Paste)
        self.act_load_trimap = A("&Load trimap…", self.load_trimap_dialog)
        self.act_save = A("&Save trimap", self.save_trimap, QKeySequence.StandardKey.Save)
        self.act_save_as = A("Save trimap &as…", self.save_trimap_as, "Ctrl+Shift+S")
        self.act_export = A("&Export…", self.export_dialog, "Ctrl+E")
        self.act_quit = A("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_undo = A("&Undo", self.undo, "Ctrl+Z")
        self.act_redo = A("&Redo", self.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        self.act_auto_band = A("&Auto band", self.auto_band, "Ctrl+B",
                               tip="Turn the painted foreground into a trimap with an unknown band")
        self.act_reset = A("Reset trimap", self.reset_trimap)
        self.act_zoom_in = A("Zoom &in", lambda: self.canvas.zoom_by(1.25), ["Ctrl++", "Ctrl+="])
        self.act_zoom_out = A("Zoom &out", lambda: self.canvas.zoom_by(0.8), "Ctrl+-")
        self.act_fit = A("&Fit", self.canvas.fit, "Ctrl+0")
        self.act_100 = A("&100%", lambda: self.canvas.set_zoom(1.0), "Ctrl+1")
        self.act_before = A("&Before/after", self.toggle_before, "\\", checkable=True)
        self.act_decont = A("&Decontaminate colours", self.toggle_decontaminate, checkable=True, on_toggle=True)
        self.act_decont.blockSignals(True)  # the initial state, before the view exists
        self.act_decont.setChecked(True)
        self.act_decont.blockSignals(False)
        self.act_brush_up = A("Bigger brush", lambda: self.set_brush_radius(self.canvas.brush_radius * 1.2), "]")
        self.act_brush_down = A("Smaller brush", lambda: self.set_brush_radius(self.canvas.brush_radius / 1.2), "[")
        self.tool_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for name, (label, _, keys, tip) in TOOLS.items():
            act = A(label, lambda checked=False, n=name: self.set_tool(n), list(keys), checkable=True, tip=tip)
            group.addAction(act)
            self.tool_actions[name] = act
        self.view_actions: dict[str, QAction] = {}
        vgroup = QActionGroup(self)
        for mode in VIEW_MODES:
            act = A(f"View {mode}", lambda checked=False, m=mode: self.set_view_mode(m), VIEW_KEYS[mode], checkable=True)
            vgroup.addAction(act)
            self.view_actions[mode] = act
        self.model_actions: dict[str, QAction] = {}
        mgroup = QActionGroup(self)
        for m in INSTALLED_MODELS:
            act = A(f"{m.capitalize()} model", lambda checked=False, n=m: self.set_model(n), checkable=True)
            mgroup.addAction(act)
            self.model_actions[m] = act

    def _build_toolbar(self) -> None:
        tb = QToolBar("Tools", self)
        tb.setObjectName("tools")
        self.addToolBar(tb)
        for act in self.tool_actions.values():
            tb.addAction(act)
        tb.addSeparator()
        tb.addWidget(QLabel(" Brush "))
        self.brush_spin = QSpinBox(minimum=1, maximum=2000, suffix=" px")
        self.brush_spin.setToolTip("Brush radius ([ and ])")
        self.brush_spin.setValue(int(self.canvas.brush_radius))
        self.brush_spin.valueChanged.connect(lambda v: self.set_brush_radius(v))
        tb.addWidget(self.brush_spin)
        tb.addSeparator()
        tb.addAction(self.act_auto_band)
        self.band_spin = QSpinBox(minimum=1, maximum=500, suffix=" px")
        self.band_spin.setValue(int(self.settings.value("band_radius", 12)))
        self.band_spin.setToolTip("Width of the unknown band made by Auto band")
        tb.addWidget(self.band_spin)
        tb.addAction(self.act_undo)
        tb.addAction(self.act_redo)
        self.addToolBarBreak()
        tb = QToolBar("Matte", self)
        tb.setObjectName("matte")
        self.addToolBar(tb)
        tb.addWidget(QLabel(" Model "))
        self.model_combo = QComboBox()
        self.model_combo.addItems(list(INSTALLED_MODELS))
        self.model_combo.setToolTip("Student: fast, for live work. Teacher: slower, best quality.")
        self.model_combo.setCurrentText(self.model_name)
        self.model_combo.currentTextChanged.connect(self.set_model)
        tb.addWidget(self.model_combo)
        self.device_combo = QComboBox()
        self.device_combo.addItem("CPU", "cpu")
        import torch

        if torch.cuda.is_available():
            self.device_combo.addItem("GPU (CUDA)", "cuda")
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(self.device)))
        self.device = self.device_combo.currentData()
        self.device_combo.currentIndexChanged.connect(lambda i: self.set_device(self.device_combo.itemData(i)))
        tb.addWidget(self.device_combo)
        tb.addSeparator()
        tb.addWidget(QLabel(" View "))
        self.view_combo = QComboBox()
        self.view_combo.addItems(list(VIEW_MODES))
        self.view_combo.setToolTip("Trimap (T), alpha (A), composite (C), photo (P); \\ toggles before/after")
        self.view_combo.currentTextChanged.connect(self.set_view_mode)
        tb.addWidget(self.view_combo)
        self.bg_combo = QComboBox()
        self.bg_combo.addItems(["checkerboard", "black", "white", "colour", "image", "blurred"])
        self.bg_combo.setToolTip("Background of the composite view and the exported composite")
        self.bg_combo.currentTextChanged.connect(self.set_background_kind)
        tb.addWidget(self.bg_combo)
        tb.addAction(self.act_before)
        tb.addAction(self.act_export)

    def _slider(self, form: QFormLayout, label: str, lo: int, hi: int, key: str) -> QSlider:
        s = QSlider(Qt.Orientation.Horizontal, minimum=lo, maximum=hi)
        s.setToolTip(label)
        s.valueChanged.connect(lambda v, k=key: self.set_adjustment(k, v))
        form.addRow(label, s)
        return s

    def _build_dock(self) -> None:
        dock = QDockWidget("Edges and view", self)
        dock.setObjectName("edges")
        w = QWidget()
        lay = QVBoxLayout(w)
        form = QFormLayout()
        self.sliders = {
            "smooth": self._slider(form, "Smooth", 0, 10, "smooth"),
            "feather": self._slider(form, "Feather (px)", 0, 20, "feather"),
            "contrast": self._slider(form, "Contrast (%)", 0, 100, "contrast"),
            "shift": self._slider(form, "Shift edge (%)", -100, 100, "shift"),
        }
        lay.addLayout(form)
        reset = QPushButton("Reset to raw matte")
        reset.clicked.connect(self.reset_adjustments)
        lay.addWidget(reset)
        self.decont_box = QCheckBox("Decontaminate colours")
        self.decont_box.setChecked(True)
        self.decont_box.toggled.connect(self.act_decont.setChecked)
        self.act_decont.toggled.connect(self.decont_box.setChecked)
        lay.addWidget(self.decont_box)
        form2 = QFormLayout()
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100)
        self.opacity_slider.setValue(int(self.style.opacity * 100))
        self.opacity_slider.valueChanged.connect(self.set_overlay_opacity)
        form2.addRow("Overlay opacity", self.opacity_slider)
        for key, label in (("fg_colour", "Foreground colour"), ("bg_colour", "Background colour"),
                           ("unknown_colour", "Unknown colour"), ("background_colour", "Composite colour")):
            b = QPushButton("Choose…")
            b.clicked.connect(lambda checked=False, k=key: self.choose_colour(k))
            form2.addRow(label, b)
        bg_img = QPushButton("Choose…")
        bg_img.clicked.connect(self.choose_background_image)
        form2.addRow("Composite image", bg_img)
        lay.addLayout(form2)
        lay.addStretch(1)
        dock.setWidget(w)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.busy_bar = QProgressBar(maximumWidth=90, maximum=0)  # indeterminate
        self.busy_bar.setVisible(False)
        self.info_label = QLabel("Open a photo (Ctrl+O) or the sample (Help → Open sample)")
        self.model_label = QLabel("")
        self.time_label = QLabel("")
        self.zoom_label = QLabel("100%")
        sb.addWidget(self.info_label, 1)
        sb.addPermanentWidget(self.model_label)
        sb.addPermanentWidget(self.time_label)
        sb.addPermanentWidget(self.busy_bar)
        sb.addPermanentWidget(self.zoom_label)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        for a in (self.act_open, self.act_sample, self.act_paste):
            m.addAction(a)
        self.recent_menu = m.addMenu("Open &recent")
        self._refresh_recent_menu()
        m.addSeparator()
        for a in (self.act_load_trimap, self.act_save, self.act_save_as):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_export)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Edit")
        for a in (self.act_undo, self.act_redo):
            m.addAction(a)
        m.addSeparator()
        for a in self.tool_actions.values():
            m.addAction(a)
        m.addAction(self.act_brush_down)
        m.addAction(self.act_brush_up)
        m.addSeparator()
        m.addAction(self.act_auto_band)
        m.addAction(self.act_reset)
        m = mb.addMenu("&View")
        for a in self.view_actions.values():
            m.addAction(a)
        m.addAction(self.act_before)
        m.addAction(self.act_decont)
        m.addSeparator()
        for a in (self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_100):
            m.addAction(a)
        m = mb.addMenu("&Model")
        for a in self.model_actions.values():
            m.addAction(a)
        self.model_actions.get(self.model_name, self.model_actions["student"]).setChecked(True)
        m = mb.addMenu("&Help")
        m.addAction(self.act_sample)
        m.addAction(self._action("&About", self.about))
        self.view_actions[self.view_mode if self.view_mode in VIEW_MODES else "trimap"].setChecked(True)
        self.view_combo.setCurrentText(self.view_mode)

    # ================================================================ documents
    def ask_unsaved(self) -> bool:
        """If the trimap has unsaved changes, ask Save/Discard/Cancel. True: go on."""
        if self.doc is None or not self.doc.dirty:
            return True
        answer = self.ask_save_choice()
        if answer == "save":
            return self.save_trimap()
        if answer == "discard":
            self._remove_recovery()
            return True
        return False

    def ask_save_choice(self) -> str:
        """'save', 'discard' or 'cancel' for unsaved changes (tests replace this method)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved trimap",
                          "The trimap has unsaved changes. Save them before continuing?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            QMessageBox.StandardButton(answer), "cancel")

    def open_dialog(self) -> None:
        folder = str(self.settings.value("last_folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open photo", folder, IMAGE_FILTER)
        if path:
            self.open_photo(path)

    def open_sample(self) -> None:
        saved = self._sidecar_trimap(SAMPLE_PHOTO)  # the user's own trimap of the sample, once saved
        self.open_photo(SAMPLE_PHOTO, saved if saved.exists() else SAMPLE_TRIMAP)

    def open_photo(self, path: str | Path, trimap: str | Path | None = None, ask: bool = True) -> bool:
        """Open a photo (and optionally its trimap). Errors are shown; the current document stays.

        Photos above ``BACKGROUND_OPEN_PIXELS`` are decoded in a thread (24 MP takes ~1 s) while
        the window stays responsive: True then means "loading started"; a failure arrives later
        as an error message, and a newer open supersedes an unfinished one.
        """
        if ask and not self.ask_unsaved():
            return False
        path = Path(path)
        tri_path = Path(trimap) if trimap else self._sidecar_trimap(path)
        explicit = trimap is not None
        self._load_token += 1  # any unfinished background open is superseded
        if self.loading is not None:
            self._set_loading(None)
        if BACKGROUND_OPEN_PIXELS < _header_pixels(path) <= MAX_PIXELS:  # too large: the error comes at once
            token = self._load_token
            self._set_loading(path)
            self._revision_at_open = self.doc.revision if self.doc is not None else None
            view_key = ("photo" if self.before else self.view_mode, dataclasses.replace(self.style))
            threading.Thread(target=self._load_in_thread, args=(token, path, tri_path, explicit, view_key),
                             daemon=True, name="photo-loader").start()
            return True
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            photo = load_photo(path, tri_path)
        except ImageError as exc:
            QGuiApplication.restoreOverrideCursor()
            self.show_error(str(exc))
            return False
        QGuiApplication.restoreOverrideCursor()
        self._finish_open(path, photo, explicit)
        return True

    def _load_in_thread(self, token: int, path: Path, tri_path: Path, explicit: bool, view_key: tuple) -> None:
        try:
            photo = load_photo(path, tri_path, view_key)
        except ImageError as exc:
            outcome: object = str(exc)
        except MemoryError:
            outcome = f"{path}: not enough memory to open this photo"
        except Exception as exc:  # noqa: BLE001 - whatever fails, the window must leave "Opening…"
            first = (str(exc).splitlines() or [""])[0][:200]
            outcome = f"{path}: cannot be opened ({type(exc).__name__}: {first})"
        else:
            outcome = photo
        try:
            self._photoLoaded.emit(token, (path, outcome, explicit))  # queued to the UI thread
        except RuntimeError:  # the window was closed meanwhile
            pass

    def _on_photo_loaded(self, token: int, payload: tuple) -> None:
        if token != self._load_token:
            return  # superseded by a newer open
        path, outcome, explicit = payload
        self._set_loading(None)
        if isinstance(outcome, str):
            self.show_error(outcome)
            return
        if self.doc is not None and self.doc.revision != self._revision_at_open and not self.ask_unsaved():
            return  # edited (keyboard) while it loaded, and the user keeps those edits
        self._finish_open(path, outcome, explicit)

    def _set_loading(self, path: Path | None) -> None:
        """While a photo loads, the canvas takes no edits (the old document is about to go)."""
        self.loading = path
        self.canvas.setEnabled(path is None)
        if path is not None:
            self.statusBar().showMessage(f"Opening {printable(path.name)}…")
        else:
            self.statusBar().clearMessage()

    def _finish_open(self, path: Path, photo: LoadedPhoto, explicit: bool) -> None:
        if photo.trimap_error and explicit:  # explicitly asked for: tell; a stale sidecar is just ignored
            self.show_error(photo.trimap_error)
        key = ("photo" if self.before else self.view_mode, self.style)
        frame = photo.view if photo.view is not None and photo.view_key == key else None  # view unchanged meanwhile
        self._set_document(photo.image, path, photo.trimap, photo.trimap_path, photo.display, frame)
        self.settings.setValue("last_folder", str(path.parent))
        self._add_recent(path)
        self._offer_recovery()

    @staticmethod
    def _sidecar_trimap(photo: Path) -> Path:
        """Where a photo's trimap is saved: ``<stem>_trimap.png`` next to it, except for the bundled
        samples, whose folder belongs to the installation: theirs go to the user's data folder."""
        return _outside_resources(photo.with_name(f"{photo.stem}_trimap.png"))

    def paste_image(self) -> None:
        img = QGuiApplication.clipboard().image()
        if img.isNull():
            self.show_error("the clipboard holds no image")
            return
        if not self.ask_unsaved():
            return
        self._load_token += 1  # supersedes a photo still loading
        if self.loading is not None:
            self._set_loading(None)
        rgb = qimage_to_rgb(img)
        self._set_document(LoadedImage(None, rgb, 8, "RGB", False, ["pasted"]), None, None, None)

    def _set_document(self, loaded: LoadedImage, path: Path | None, trimap: np.ndarray | None, tri_path: Path | None,
                      display: np.ndarray | None = None, frame: QImage | None = None) -> None:
        """Make ``loaded`` the current document; ``frame``: its first view, already rendered."""
        self.service.cancel_pending()
        self.loaded, self.path, self.image = loaded, path, loaded.rgb
        self.image_u8 = display if display is not None else to_display_u8(loaded.rgb)
        h, w = loaded.rgb.shape[:2]
        self.doc = TrimapDocument(h, w, trimap)
        self.trimap_path = tri_path
        self.raw_alpha = self.alpha = self.foreground = None
        self.alpha_info = None
        self._bg_cache = None
        self.adjust = self._stored_adjustments()
        self._sync_sliders()
        self._display = frame if frame is not None else QImage(w, h, QImage.Format.Format_RGB32)
        self._display_view = writable_rgb_view(self._display)
        self._display_out = render_target(self._display)
        self.canvas.set_image(None, fit=False)
        if frame is None:
            self.refresh_display()
        self.canvas.set_image(self._display, fit=True, pixels=self._display_view)
        notes = f" — {'; '.join(loaded.notes)}" if loaded.notes else ""
        self.info_label.setText(f"{w}×{h}, {loaded.bit_depth}-bit{notes}")
        self._update_title()
        self._update_actions()
        self._schedule_matte()

    def _update_title(self) -> None:
        name = printable(self.path.name) if self.path else ("pasted image" if self.image is not None else "no photo")
        star = "*" if self.doc is not None and self.doc.dirty else ""
        self.setWindowTitle(f"{name}{star} — matting-gui")

    def _update_actions(self) -> None:
        has = self.doc is not None
        self.act_undo.setEnabled(has and self.doc.can_undo())
        self.act_redo.setEnabled(has and self.doc.can_redo())
        for a in (self.act_save, self.act_save_as, self.act_export, self.act_auto_band, self.act_reset, self.act_load_trimap):
            a.setEnabled(has)

    # ---------------------------------------------------------------- trimap files
    def load_trimap_dialog(self) -> None:
        if self.doc is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Load trimap", str(self.path.parent if self.path else Path.home()), IMAGE_FILTER)
        if path:
            self.load_trimap(path)

    def load_trimap(self, path: str | Path) -> bool:
        try:
            tri = read_trimap_for(Path(path), self.image.shape)
        except (ImageError, TrimapError) as exc:
            self.show_error(str(exc))
            return False
        if self.doc.replace(tri):
            self._trimap_changed(None)
        return True

    def save_trimap(self) -> bool:
        if self.doc is None:
            return False
        target = self.trimap_path or (self._sidecar_trimap(self.path) if self.path else None)
        if target is None:
            return self.save_trimap_as()
        return self._write_trimap(target)

    def save_trimap_as(self) -> bool:
        if self.doc is None:
            return False
        start = str(self.trimap_path or (self._sidecar_trimap(self.path) if self.path else Path.home() / "trimap.png"))
        path, _ = QFileDialog.getSaveFileName(self, "Save trimap", start, "PNG (*.png)")
        return self._write_trimap(Path(path)) if path else False

    def _write_trimap(self, target: Path) -> bool:
        if target.suffix.lower() != ".png":
            target = target.with_suffix(".png")
        target = _outside_resources(target)  # never write over the bundled sample's trimap
        try:
            write_trimap(target, self.doc.trimap)
        except (OSError, ImageError) as exc:
            self.show_error(f"trimap not saved: {exc}")
            return False
        self.trimap_path = target
        self.doc.mark_saved()
        self._remove_recovery()
        self._update_title()
        self.statusBar().showMessage(f"Saved trimap to {printable(target)}", 4000)
        return True

    # ---------------------------------------------------------------- recovery (autosave)
    def _recovery_paths(self) -> tuple[Path, Path] | None:
        if self.path is None:
            return None
        key = _path_key(self.path)
        folder = cache_dir() / "recovery"
        return folder / f"{key}.png", folder / f"{key}.json"

    def autosave_recovery(self, wait: bool = False) -> Path | None:
        """Write the unsaved trimap to the recovery folder (offered after a crash).

        Encoding a 24 MP PNG takes ~130 ms, so it runs on a short-lived background thread
        with a copy of the trimap; ``wait`` joins it (tests, shutdown).
        """
        paths = self._recovery_paths()
        if paths is None or self.doc is None or not self.doc.dirty:
            return None
        previous = getattr(self, "_autosave_thread", None)
        if previous is not None and previous.is_alive():
            if not wait:
                return None  # the last autosave is still writing; the next tick catches up
            previous.join()
        png, meta = paths
        trimap, photo = self.doc.trimap.copy(), str(self.path.resolve())

        def write() -> None:
            try:
                png.parent.mkdir(parents=True, exist_ok=True)
                write_trimap(png, trimap)
                meta.write_text(json.dumps({"photo": photo, "time": time.time()}))
            except OSError:
                pass  # autosave is best effort; the document itself is untouched

        import threading

        self._autosave_thread = threading.Thread(target=write, name="trimap-autosave", daemon=True)
        self._autosave_thread.start()
        if wait:
            self._autosave_thread.join()
        return png

    def _remove_recovery(self) -> None:
        running = getattr(self, "_autosave_thread", None)
        if running is not None:
            running.join()  # else a write in flight could recreate the file after we remove it
        paths = self._recovery_paths()
        if paths:
            for p in paths:
                p.unlink(missing_ok=True)

    def _offer_recovery(self) -> None:
        paths = self._recovery_paths()
        if paths is None or not paths[0].exists():
            return
        png = paths[0]
        saved = self.trimap_path.stat().st_mtime if self.trimap_path and self.trimap_path.exists() else 0
        if png.stat().st_mtime <= saved:
            self._remove_recovery()
            return
        if self.confirm("Recover trimap", "An unsaved trimap of this photo was recovered from an earlier session "
                        "that did not close normally. Restore it?"):
            try:
                tri = read_trimap_for(png, self.image.shape)
            except (ImageError, TrimapError) as exc:
                self._remove_recovery()  # shown once: an unusable file is not offered again
                self.show_error(f"recovery file unusable: {exc}")
                return
            if self.doc.replace(tri):
                self._trimap_changed(None)
        else:
            self._remove_recovery()

    def confirm(self, title: str, text: str) -> bool:
        """Yes/No question (tests replace this method)."""
        return QMessageBox.question(self, title, text) == QMessageBox.StandardButton.Yes

    # ---------------------------------------------------------------- recent files
    def _recent(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if v]

    def _add_recent(self, path: Path) -> None:
        items = [str(path)] + [p for p in self._recent() if p != str(path)]
        self.settings.setValue("recent", items[:MAX_RECENT])
        self._refresh_recent_menu()

    def _refresh_recent_menu(self) -> None:
        if not hasattr(self, "recent_menu"):
            return
        self.recent_menu.clear()
        for p in self._recent():
            act = self.recent_menu.addAction(printable(p))
            act.triggered.connect(lambda checked=False, q=p: self.open_photo(q))
        self.recent_menu.setEnabled(bool(self._recent()))

    # ================================================================ painting
    def set_tool(self, name: str) -> None:
        self.tool = name
        self.tool_actions[name].setChecked(True)
        self.canvas.click_tool = name == "fill"
        self.canvas.setCursor(Qt.CursorShape.PointingHandCursor if name == "fill" else Qt.CursorShape.CrossCursor)

    def set_brush_radius(self, radius: float) -> None:
        radius = float(max(1.0, min(2000.0, radius)))
        self.canvas.brush_radius = radius
        if self.brush_spin.value() != int(round(radius)):
            self.brush_spin.blockSignals(True)
            self.brush_spin.setValue(int(round(radius)))
            self.brush_spin.blockSignals(False)
        self.settings.setValue("brush_radius", radius)
        self.canvas.update()

    def _stroke_started(self, x: float, y: float) -> None:
        if self.doc is None:
            return
        self.doc.begin_stroke(TOOLS[self.tool][1])
        self._throttle_revision = self.doc.revision
        self._throttle.start()

    def _stroke_moved(self, x0: float, y0: float, x1: float, y1: float) -> None:
        if self.doc is None or not self.doc.in_stroke:
            return
        rect = self.doc.paint_segment(x0, y0, x1, y1, self.canvas.brush_radius)
        if rect is not None:
            self.refresh_display(rect)

    def _stroke_finished(self) -> None:
        if self.doc is None or not self.doc.in_stroke:
            return
        self._throttle.stop()
        changed = self.doc.end_stroke()
        if changed:
            # a finished stroke is the moment the user waits for: request at once (the preview for
            # large photos); other edits (undo, fill, band, sliders) go through the 100 ms debounce
            self._trimap_changed(None, redraw=False, immediate=True)

    def _clicked(self, x: float, y: float) -> None:
        if self.doc is None or self.tool != "fill":
            return
        value = FOREGROUND if QGuiApplication.keyboardModifiers() != Qt.KeyboardModifier.AltModifier else BACKGROUND
        if self.doc.fill(int(x), int(y), value):
            self._trimap_changed(None)

    def _throttled_preview(self) -> None:
        if self.doc is not None and self.doc.revision != self._throttle_revision:
            self._throttle_revision = self.doc.revision
            self.request_matte(preview=True)

    def undo(self) -> None:
        if self.doc is not None and self.doc.undo() is not None:
            self._trimap_changed(None)

    def redo(self) -> None:
        if self.doc is not None and self.doc.redo() is not None:
            self._trimap_changed(None)

    def auto_band(self) -> None:
        if self.doc is None:
            return
        try:
            changed = self.doc.auto_band(self.band_spin.value())
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.settings.setValue("band_radius", self.band_spin.value())
        if changed:
            self._trimap_changed(None)

    def reset_trimap(self) -> None:
        if self.doc is not None and self.doc.replace(np.zeros_like(self.doc.trimap)):
            self._trimap_changed(None)

    def _trimap_changed(self, rect, redraw: bool = True, immediate: bool = False) -> None:
        if redraw and self.view_mode == "trimap":
            self.refresh_display(rect)
        self._update_title()
        self._update_actions()
        if immediate:
            self._debounce.stop()
            self.request_matte(preview=self._needs_preview())
        else:
            self._schedule_matte()

    # ================================================================ matting
    def _needs_preview(self) -> bool:
        return self.image is not None and self.image.shape[0] * self.image.shape[1] > PREVIEW_PIXELS * 1.5

    def _schedule_matte(self) -> None:
        self._debounce.start()

    def _trimap_problem(self) -> str | None:
        """Why the current trimap cannot be matted, or None (a full scan: for one-off actions only)."""
        return trimap_problem(self.doc.trimap)

    def request_matte(self, preview: bool = False, tag: str = "", want_foreground: bool | None = None,
                      mirror: bool = False, refine: bool = False) -> int | None:
        """Send the current image + trimap to the worker; returns the job id (None if nothing to do)."""
        if self.doc is None or self.image is None:
            return None
        if want_foreground is None:
            want_foreground = not preview and self.decontaminate and self.view_mode == "composite"
        job = MatteJob(
            job_id=self.service.new_id(), revision=self.doc.revision, image=self.image, trimap=self.doc.trimap.copy(),
            model=self.model_name, device=self.device, max_pixels=PREVIEW_PIXELS if preview else None,
            preview=preview, want_foreground=want_foreground, tag=tag, mirror=mirror, refine=refine,
        )
        self._latest_job = job.job_id
        self.service.submit(job)
        return job.job_id

    def _is_current(self, res: MatteJobResult) -> bool:
        return (self.doc is not None and res.job.revision == self.doc.revision and res.job.model == self.model_name
                and res.job.image is self.image)

    def _on_result(self, res: MatteJobResult) -> None:
        if res.job.tag == "export":
            self._finish_export(res)
            return
        if not self._is_current(res):
            self.stale_dropped += 1
            return
        if res.job.preview and self.alpha_info is not None and self.alpha_info[0] == res.job.revision and not self.alpha_info[2]:
            self.stale_dropped += 1  # a full matte of this revision is already shown
            return
        self.raw_alpha = res.alpha
        self.foreground = res.foreground if res.foreground is not None else None
        self.alpha_info = (res.job.revision, res.model_name, res.job.preview)
        self.alpha = apply_adjustments(self.raw_alpha, self.adjust)
        kind = ("preview" if res.job.preview else "full") + (" int8" if res.precision == "int8" else "")
        self.model_label.setText(f"{res.model_name} · {kind} {res.working_size[0]}×{res.working_size[1]}")
        self.time_label.setText(f"{res.seconds * 1000:.0f} ms")
        if self.view_mode != "trimap" or self.before:
            self.refresh_display()
        self.matteShown.emit(res)
        if res.job.preview and not self.doc.in_stroke:
            self.request_matte(preview=False)

    def _export_ended_by(self, job_id: int, message: str) -> bool:
        """If ``job_id`` is the pending export's job, end that export with ``message``; True if it was."""
        if self._pending_export is None or job_id != self._pending_export[1].get("job_id"):
            return False
        self._pending_export = None
        self._close_export_progress()
        self.show_error(message)
        return True

    def _on_failed(self, job_id: int, message: str) -> None:
        if not self._export_ended_by(job_id, f"export failed: {message}"):
            self.show_error(f"matting failed: {message}")

    def _on_notice(self, job_id: int, message: str) -> None:
        if self._export_ended_by(job_id, f"cannot export: {message}"):
            return
        self.statusBar().showMessage(message, 6000)
        self.noticeShown.emit(message)

    def _on_busy(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)

    def set_model(self, name: str) -> None:
        if name not in INSTALLED_MODELS or name == self.model_name and self.model_combo.currentText() == name:
            return
        self.model_name = name
        self.settings.setValue("model", name)
        self.model_actions[name].setChecked(True)
        if self.model_combo.currentText() != name:
            self.model_combo.setCurrentText(name)
        self.alpha_info = None
        self.request_matte(preview=False)

    def set_device(self, device: str) -> None:
        if device and device != self.device:
            self.device = device
            self.settings.setValue("device", device)
            self.request_matte(preview=False)

    # ================================================================ viewing
    def set_view_mode(self, mode: str) -> None:
        if mode not in VIEW_MODES:
            return
        self.view_mode = mode
        self.settings.setValue("view_mode", mode)
        self.view_actions[mode].setChecked(True)
        if self.view_combo.currentText() != mode:
            self.view_combo.setCurrentText(mode)
        if mode == "composite" and self.decontaminate and self.foreground is None and self.alpha_info and not self.alpha_info[2]:
            self.request_matte(preview=False, want_foreground=True)
        self.refresh_display()

    def toggle_before(self) -> None:
        self.before = self.act_before.isChecked()
        self.refresh_display()

    def toggle_decontaminate(self, checked: bool | None = None) -> None:
        """Follow the Decontaminate action (menu or the Edges panel's box): composite view and export."""
        self.decontaminate = self.act_decont.isChecked()
        if self.decontaminate and self.view_mode == "composite" and self.foreground is None:
            self.request_matte(preview=False, want_foreground=True)
        self.refresh_display()

    def set_background_kind(self, kind: str) -> None:
        self.style.background = kind
        self._bg_cache = None
        if kind == "image" and self.background_image is None:
            self.choose_background_image()
            return
        self.refresh_display()

    def choose_background_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Background image", str(self.settings.value("last_folder", "")), IMAGE_FILTER)
        if path:
            self.set_background_image(path)

    def set_background_image(self, path: str | Path) -> bool:
        try:
            self.background_image = read_image(path).rgb
        except ImageError as exc:
            self.show_error(str(exc))
            return False
        self._bg_cache = None
        self.style.background = "image"
        self.bg_combo.setCurrentText("image")
        self.refresh_display()
        return True

    def choose_colour(self, key: str) -> None:
        current = getattr(self.style, key)
        c = QColorDialog.getColor(QColor.fromRgbF(*current), self, "Choose colour")
        if c.isValid():
            setattr(self.style, key, (c.redF(), c.greenF(), c.blueF()))
            self.refresh_display()

    def set_overlay_opacity(self, value: int) -> None:
        self.style.opacity = value / 100.0
        if self.view_mode == "trimap":
            self.refresh_display()

    def _background_array(self) -> np.ndarray | None:
        if self.image is None:
            return None
        if self._bg_cache is None:
            h, w = self.image.shape[:2]
            kind = self.style.background
            if kind == "image" and self.background_image is not None:
                self._bg_cache = cover_resize(self.background_image, h, w)
            elif kind == "blurred":
                self._bg_cache = blurred_background(self.image)
            elif kind == "checkerboard" or kind == "image":
                self._bg_cache = checkerboard(h, w)
        return self._bg_cache

    def refresh_display(self, rect=None) -> None:
        """Re-render the view (or just ``rect`` = (x, y, w, h)) into the canvas image."""
        if self._display_view is None or self.doc is None:
            return
        mode = "photo" if self.before else self.view_mode
        fg = self.foreground if self.decontaminate else None
        bg = self._background_array() if mode == "composite" else None
        render(self._display_out, mode, self.image, self.doc.trimap, self.alpha, fg, bg, self.style, rect, self.image_u8)
        self.canvas.refresh_levels(rect)
        if rect is None:
            self.canvas.update()
        else:
            self.canvas.update_rect(*rect)

    # ================================================================ edge adjustments
    def set_adjustment(self, key: str, value: float) -> None:
        values = self.adjust.as_dict() | {key: float(value)}
        self.adjust = EdgeAdjustments(**values)
        self._store_adjustments()
        if self.raw_alpha is not None:
            self.alpha = apply_adjustments(self.raw_alpha, self.adjust)
            self.refresh_display()

    def reset_adjustments(self) -> None:
        self.adjust = EdgeAdjustments()
        self._sync_sliders()
        self._store_adjustments()
        if self.raw_alpha is not None:
            self.alpha = self.raw_alpha
            self.refresh_display()

    def _sync_sliders(self) -> None:
        for k, s in self.sliders.items():
            s.blockSignals(True)
            s.setValue(int(getattr(self.adjust, k)))
            s.blockSignals(False)

    def _adjust_key(self) -> str | None:
        return None if self.path is None else "adjust/" + _path_key(self.path)

    def _store_adjustments(self) -> None:
        key = self._adjust_key()
        if key:
            self.settings.setValue(key, json.dumps(self.adjust.as_dict()))

    def _stored_adjustments(self) -> EdgeAdjustments:
        key = self._adjust_key()
        if key and self.settings.value(key):
            try:
                return EdgeAdjustments(**json.loads(str(self.settings.value(key))))
            except (ValueError, TypeError):
                pass
        return EdgeAdjustments()

    # ================================================================ export
    def export_dialog(self) -> None:
        if self.doc is None:
            return
        from .export_dialog import ExportDialog

        folder = str(self.settings.value("export_folder", str(self.path.parent if self.path else Path.home())))
        mirror = str(self.settings.value("export_mirror", "true")).lower() == "true"
        refine = str(self.settings.value("export_refine", "true")).lower() == "true"
        dlg = ExportDialog(self, folder, self.path.stem if self.path else "pasted", self.loaded.bit_depth, mirror,
                           refine)
        if dlg.exec():
            opts = dlg.options()
            self.settings.setValue("export_folder", opts["folder"])
            self.settings.setValue("export_mirror", "true" if opts["mirror"] else "false")
            self.settings.setValue("export_refine", "true" if opts["refine"] else "false")
            self.export(Path(opts["folder"]), opts)

    def export(self, folder: Path, options: dict) -> int | None:
        """Export with ``options`` (keys: stem, matte, cutout, composite, cutout_format, composite_format,
        quality, mirror — average with the mirrored image's matte, default True; refine — finish with
        network-guided closed-form matting, default False). Computes the full-resolution matte of the selected model first; ``exported`` fires when done."""
        if self.doc is None:
            return None
        problem = self._trimap_problem()
        if problem:
            self.show_error(f"cannot export: {problem}")
            return None
        wants_colours = bool(options.get("cutout") or options.get("composite")) and self.decontaminate
        job_id = self.request_matte(preview=False, tag="export", want_foreground=wants_colours,
                                    mirror=bool(options.get("mirror", True)), refine=bool(options.get("refine", False)))
        self._pending_export = (folder, options | {"job_id": job_id})
        self.statusBar().showMessage("Computing the full-resolution matte for export…")
        self._show_export_progress()
        return job_id

    def _show_export_progress(self) -> None:
        from PySide6.QtWidgets import QProgressDialog

        dlg = QProgressDialog(f"Computing the full-resolution matte ({self.model_name}) and writing the files…",
                              "Cancel", 0, 0, self)
        dlg.setWindowTitle("Export")
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.setMinimumDuration(300)  # quick exports never flash a dialog
        dlg.canceled.connect(self._cancel_export)
        self._export_progress = dlg

    def _close_export_progress(self) -> None:
        dlg = getattr(self, "_export_progress", None)
        if dlg is not None:
            dlg.canceled.disconnect(self._cancel_export)
            dlg.close()
            dlg.deleteLater()
            self._export_progress = None

    def _cancel_export(self) -> None:
        """Forget the pending export: its result is ignored when it arrives; nothing is written."""
        self._pending_export = None
        self._close_export_progress()
        self.statusBar().showMessage("Export cancelled", 4000)

    def _finish_export(self, res: MatteJobResult) -> None:
        if self._pending_export is None or res.job.job_id != self._pending_export[1].get("job_id"):
            return
        folder, opts = self._pending_export
        self._pending_export = None
        self._close_export_progress()
        alpha = apply_adjustments(res.alpha, self.adjust)
        stem = opts.get("stem") or (self.path.stem if self.path else "pasted")
        depth = self.loaded.bit_depth if self.loaded else 8
        fg = res.foreground if res.foreground is not None else self.image
        written: list[Path] = []
        try:
            if opts.get("matte", True):
                p = folder / f"{stem}_matte.png"
                write_alpha(p, alpha, depth)
                written.append(p)
            if opts.get("cutout"):
                p = folder / f"{stem}_cutout.{opts.get('cutout_format', 'png')}"
                write_rgba(p, fg, alpha, depth)
                written.append(p)
            if opts.get("composite"):
                p = folder / f"{stem}_composite.{opts.get('composite_format', 'png')}"
                bg = self._export_background()
                write_composite(p, fg, alpha, bg, quality=int(opts.get("quality", 92)), bit_depth=depth)
                written.append(p)
        except (OSError, ImageError) as exc:
            self.show_error(f"export failed: {exc}")
            return
        self.statusBar().showMessage(f"Exported {len(written)} file(s) to {printable(folder)}", 6000)
        self.exported.emit(written)

    def _export_background(self):
        kind = self.style.background
        if kind in ("black", "white"):
            return (0.0, 0.0, 0.0) if kind == "black" else (1.0, 1.0, 1.0)
        if kind == "colour":
            return self.style.background_colour
        return self._background_array()

    # ================================================================ misc
    def show_error(self, message: str) -> None:
        """Show a one-line error without blocking (window-modal message box)."""
        message = printable(message)
        self.last_error = message
        self.statusBar().showMessage(message, 10000)
        box = getattr(self, "_error_box", None)
        if box is not None and box.isVisible():  # one box at a time: a failing model must not stack dialogs
            box.setText(message)
        else:
            box = QMessageBox(QMessageBox.Icon.Warning, "matting-gui", message, QMessageBox.StandardButton.Ok, self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.finished.connect(lambda _=0: setattr(self, "_error_box", None))
            self._error_box = box
            box.open()
        self.errorShown.emit(message)

    def about(self) -> None:
        QMessageBox.about(self, "About matting-gui",
                          "matting-gui: alpha matting with a student CNN distilled from a teacher by "
                          "similarity-preserving knowledge distillation (Yoon, Park, Cho, SPL 2020).")

    def keyPressEvent(self, e) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
            self.canvas.set_space_held(True)
        super().keyPressEvent(e)

    def keyReleaseEvent(self, e) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
            self.canvas.set_space_held(False)
        super().keyReleaseEvent(e)

    def dragEnterEvent(self, e) -> None:  # noqa: N802
        if e.mimeData().hasUrls():
            e.acceptProposedAction()

    def dropEvent(self, e) -> None:  # noqa: N802
        urls = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_photo(urls[0])

    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802
        if not self.ask_unsaved():
            e.ignore()
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self._autosave.stop()
        self.service.shutdown()
        e.accept()
