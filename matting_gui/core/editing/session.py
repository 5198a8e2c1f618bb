"""The editor's state, Qt-free: photo, trimap document, matte, edge adjustments, view and tool.

Widgets bind to its events; the GUI's controllers call its methods. It also holds the one
rule that decides whether a computed matte may be shown (``accepts``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matting_gui.core.editing.events import Event
from matting_gui.core.editing.trimap import BACKGROUND, FOREGROUND, UNKNOWN
from matting_gui.core.editing.trimap_doc import TrimapDocument
from matting_gui.core.editing.view import VIEW_MODES, ViewStyle, render, to_display_u8
from matting_gui.core.files.imageio import LoadedImage
from matting_gui.core.imaging.adjust import EdgeAdjustments, apply_adjustments
from matting_gui.core.imaging.compose import BACKGROUND_KINDS, background_for

#: Tools and the trimap value each paints (the fill tool fills foreground; Alt: background).
TOOL_VALUES = {"foreground": FOREGROUND, "background": BACKGROUND, "unknown": UNKNOWN, "fill": FOREGROUND}
#: Every tool: the painting ones and "select" (drag a box: select subject).
TOOLS = (*TOOL_VALUES, "select")
MIN_BRUSH, MAX_BRUSH = 1.0, 2000.0
OVERLAYS = ("fill", "outline")


def path_key(path: Path) -> str:
    """A stable short key for a file path (any bytes, including names that are not UTF-8)."""
    return hashlib.sha1(os.fsencode(str(Path(path).resolve()))).hexdigest()[:16]


@dataclass(frozen=True)
class Photo:
    """An open photo: ``image.rgb`` float32 (H, W, 3) in [0, 1], ``display`` its uint8 copy; ``serial``
    tells photos of one session apart (the same file opened twice gets two serials)."""

    image: LoadedImage
    path: Path | None
    display: np.ndarray
    serial: int

    @property
    def rgb(self) -> np.ndarray:
        """float32 (H, W, 3) in [0, 1]."""
        return self.image.rgb

    @property
    def name(self) -> str:
        """The file name, or "pasted image"."""
        return self.path.name if self.path else "pasted image"


@dataclass(frozen=True)
class MatteStamp:
    """What a matte was computed from: photo serial, trimap revision, the stroke in progress then
    (None if none), model name, whether it was a reduced-size preview, and whether it was refined
    (the network's full matte finished with closed-form matting where it is unsure)."""

    photo: int
    revision: int
    stroke: int | None
    model: str
    preview: bool
    refined: bool = False


class Matte:
    """A shown matte: ``raw`` float32 (H, W) in [0, 1] from the network, ``alpha`` with the edge
    adjustments ``adjust`` applied, ``foreground`` decontaminated colours (H, W, 3) or None.

    ``alpha`` is computed on first use and kept: at 24 MP a feather is ~1 s of filtering, which the
    app's display thread pays when it draws the matte, never the UI thread that changes a slider.
    """

    def __init__(self, stamp: MatteStamp, raw: np.ndarray, adjust: EdgeAdjustments,
                 foreground: np.ndarray | None = None):
        self.stamp, self.raw, self.adjust, self.foreground = stamp, raw, adjust, foreground
        self._alpha: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def alpha(self) -> np.ndarray:
        """float32 (H, W) in [0, 1]: ``raw`` with ``adjust`` applied (computed once, by whichever thread asks first)."""
        with self._lock:
            if self._alpha is None:
                self._alpha = apply_adjustments(self.raw, self.adjust)
            return self._alpha

    def adjusted(self, adjust: EdgeAdjustments) -> Matte:
        """The same matte with other edge adjustments (nothing computed yet)."""
        return Matte(self.stamp, self.raw, adjust, self.foreground)


class EditorSession:
    """The editor's state. ``store``: where per-photo edge adjustments are remembered (a str → str
    mapping; the app passes its settings, tests a dict)."""

    def __init__(self, store: MutableMapping[str, str] | None = None):
        self.store = store if store is not None else {}
        self.photo: Photo | None = None
        self.doc: TrimapDocument | None = None
        self.trimap_path: Path | None = None
        self.matte: Matte | None = None
        self.adjust = EdgeAdjustments()
        self.style = ViewStyle()
        self.view_mode = "trimap"
        self.before = False
        self.decontaminate = True
        self.background_picture: np.ndarray | None = None
        self.tool = "foreground"
        self.brush_radius = 20.0  # image pixels
        self.brush_fraction: float | None = None  # the radius as a share of the photo's diagonal
        self.model = "student"
        self.device = "cpu"
        self.refine = False  # refine each full matte once it is shown (export's Refine edges, live; the app's setting, on by default)
        self._serial = 0
        self._network_matte: Matte | None = None  # the last full, unrefined matte shown (kept under the refined one)
        self._background = None  # background_for(...) of the current photo and style, cached
        self.photo_opened = Event()  # ()
        self.trimap_changed = Event()  # (rect (x, y, w, h), kind): TrimapDocument.changed, forwarded
        self.matte_changed = Event()  # ()
        self.view_changed = Event()  # (): view mode, before/after, style, background, decontaminate
        self.adjust_changed = Event()  # ()
        self.tool_changed = Event()  # ()
        self.model_changed = Event()  # (): the network, its device or live refinement

    # ---------------------------------------------------------------- photo and trimap
    def open(self, image: LoadedImage, path: Path | None, trimap: np.ndarray | None = None,
             trimap_path: Path | None = None, display: np.ndarray | None = None) -> Photo:
        """Make ``image`` the current photo with ``trimap`` (uint8 (H, W) {0, 128, 255}; None: all
        background); restores the edge adjustments remembered for ``path``."""
        self._serial += 1
        image.rgb.setflags(write=False)  # read-only from here: caches (e.g. the predictor's) rely on it
        h, w = image.rgb.shape[:2]
        self.photo = Photo(image, path, display if display is not None else to_display_u8(image.rgb), self._serial)
        self.doc = TrimapDocument(h, w, trimap)
        self.doc.changed.connect(self.trimap_changed.emit)
        self.trimap_path = trimap_path
        self.matte = None
        self._background = None
        self.adjust = self._stored_adjustments()
        diagonal = math.hypot(h, w)
        if self.brush_fraction:  # the brush keeps its size relative to the photo, not in pixels
            self.brush_radius = float(min(MAX_BRUSH, max(MIN_BRUSH, self.brush_fraction * diagonal)))
        else:
            self.brush_fraction = self.brush_radius / diagonal
        self.photo_opened.emit()
        self.tool_changed.emit()
        return self.photo

    # ---------------------------------------------------------------- mattes
    def stamp(self, preview: bool) -> MatteStamp:
        """The stamp of a matte computed now from the current photo and trimap."""
        doc = self.doc
        return MatteStamp(self.photo.serial, doc.revision, doc.stroke_id if doc.in_stroke else None, self.model,
                          preview)

    def accepts(self, stamp: MatteStamp) -> bool:
        """The staleness rule: may a matte computed from ``stamp`` be shown now?

        Never one of another photo or model, nor a refined one once live refinement is off. One of
        the current trimap: yes, except a preview where the full matte of that trimap is shown, and
        the network's full matte where its refined matte is shown. One of an older trimap: only
        while the same stroke is still being painted (a slightly old matte beats none), and never
        one older than the matte on screen.
        """
        if self.photo is None or stamp.photo != self.photo.serial or stamp.model != self.model:
            return False
        if stamp.refined and not self.refine:
            return False
        shown = self.matte.stamp if self.matte is not None and self.matte.stamp.model == stamp.model else None
        if stamp.revision == self.doc.revision:
            if shown is None or shown.revision != stamp.revision:
                return True
            return not ((stamp.preview and not shown.preview)
                        or (self.refine and shown.refined and not stamp.refined))
        if self.doc.in_stroke and stamp.stroke == self.doc.stroke_id:
            return shown is None or stamp.revision > shown.revision
        return False

    def show_matte(self, stamp: MatteStamp, raw: np.ndarray, foreground: np.ndarray | None = None) -> bool:
        """Show ``raw`` (float32 (H, W) in [0, 1]) if ``accepts(stamp)``; True if it is shown now."""
        if not self.accepts(stamp):
            return False
        self.matte = Matte(stamp, raw, self.adjust, foreground)
        if not (stamp.preview or stamp.refined):
            self._network_matte = self.matte
        self.matte_changed.emit()
        return True

    @property
    def matte_is_current(self) -> bool:
        """True when the matte on screen is the full (not preview) matte of the current trimap."""
        m = self.matte
        return m is not None and not m.stamp.preview and m.stamp.revision == self.doc.revision

    # ---------------------------------------------------------------- edge adjustments
    def _adjust_key(self) -> str | None:
        return None if self.photo is None or self.photo.path is None else "adjust/" + path_key(self.photo.path)

    def _stored_adjustments(self) -> EdgeAdjustments:
        key = self._adjust_key()
        try:
            return EdgeAdjustments(**json.loads(str(self.store[key]))) if key and self.store.get(key) else EdgeAdjustments()
        except (ValueError, TypeError):
            return EdgeAdjustments()

    def set_adjustments(self, adjust: EdgeAdjustments) -> None:
        """Change the edge adjustments (remembered for this photo); the shown matte follows, non-destructively."""
        self.adjust = adjust
        key = self._adjust_key()
        if key:
            self.store[key] = json.dumps(adjust.as_dict())
        if self.matte is not None:
            self.matte = self.matte.adjusted(adjust)
        self.adjust_changed.emit()

    def set_adjustment(self, name: str, value: float) -> None:
        """Change one adjustment (smooth, feather, contrast, shift) by name."""
        self.set_adjustments(EdgeAdjustments(**(self.adjust.as_dict() | {name: float(value)})))

    # ---------------------------------------------------------------- view, tool, model
    def set_view(self, mode: str | None = None, before: bool | None = None, decontaminate: bool | None = None,
                 **style) -> None:
        """Change the view mode, before/after, decontamination or ``ViewStyle`` fields (e.g. background="white")."""
        if mode is not None and mode not in VIEW_MODES:
            raise ValueError(f"unknown view mode {mode!r}; choose one of {VIEW_MODES}")
        if style.get("overlay", self.style.overlay) not in OVERLAYS:
            raise ValueError(f"unknown overlay {style['overlay']!r}; choose one of {OVERLAYS}")
        if style.get("background", self.style.background) not in BACKGROUND_KINDS:
            raise ValueError(f"unknown background {style['background']!r}; choose one of {BACKGROUND_KINDS}")
        self.view_mode = mode if mode is not None else self.view_mode
        self.before = before if before is not None else self.before
        self.decontaminate = decontaminate if decontaminate is not None else self.decontaminate
        if style:
            self.style = dataclasses.replace(self.style, **style)
            self._background = None
        self.view_changed.emit()

    def set_background_picture(self, picture: np.ndarray) -> None:
        """Use ``picture`` (float32 (h, w, 3) in [0, 1], any size) behind the composite."""
        self.background_picture = picture
        self.set_view(background="image")

    def background(self) -> np.ndarray | tuple[float, float, float] | None:
        """The composite's background for the current photo (``compose.background_for``), cached."""
        if self.photo is None:
            return None
        if self._background is None:
            self._background = background_for(self.style.background, self.photo.rgb, self.style.background_colour,
                                              self.background_picture)
        return self._background

    @property
    def shown_mode(self) -> str:
        """The view mode on screen: "photo" while before/after shows the original."""
        return "photo" if self.before else self.view_mode

    def set_tool(self, name: str) -> None:
        """Choose a tool (see ``TOOLS``)."""
        if name not in TOOLS:
            raise ValueError(f"unknown tool {name!r}; choose one of {TOOLS}")
        self.tool = name
        self.tool_changed.emit()

    def set_brush_radius(self, radius: float) -> None:
        """Brush radius in image pixels, clamped to [MIN_BRUSH, MAX_BRUSH]; remembered relative to the
        photo's diagonal, so the next photo gets a brush of the same relative size."""
        self.brush_radius = float(min(MAX_BRUSH, max(MIN_BRUSH, radius)))
        if self.photo is not None:
            self.brush_fraction = self.brush_radius / math.hypot(*self.photo.rgb.shape[:2])
        self.tool_changed.emit()

    def set_model(self, name: str, device: str | None = None) -> None:
        """Switch the network (and device); the shown matte stays until the new model's arrives."""
        self.model = name
        self.device = device or self.device
        self.model_changed.emit()

    def set_refine(self, on: bool) -> None:
        """Refine every full matte with closed-form matting where the network is unsure, as export's
        *Refine edges* does (seconds per megapixel; the network's matte shows first). Turned off while
        a refined matte shows, the network's own matte of the same trimap comes back at once."""
        self.refine = bool(on)
        kept, shown = self._network_matte, self.matte
        restore = (not on and shown is not None and shown.stamp.refined and kept is not None
                   and kept.stamp == dataclasses.replace(shown.stamp, refined=False))
        if restore:
            self.matte = kept.adjusted(self.adjust)
        self.model_changed.emit()
        if restore:
            self.matte_changed.emit()

    # ---------------------------------------------------------------- drawing
    def render(self, out: np.ndarray, rect: tuple[int, int, int, int] | None = None) -> None:
        """Draw the shown view into ``out`` (uint8 (H, W, 3) RGB or (H, W, 4) BGRx) over ``rect`` or all."""
        if self.photo is None:
            return
        mode = self.shown_mode
        matte = self.matte
        fg = matte.foreground if matte is not None and self.decontaminate else None
        bg = self.background() if mode == "composite" else None
        render(out, mode, self.photo.rgb, self.doc.trimap, matte.alpha if matte else None, fg, bg, self.style, rect,
               self.photo.display)
