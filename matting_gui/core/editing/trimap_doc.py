"""The editable trimap of one photo, with per-stroke undo/redo. Qt-free.

Painting happens in strokes: ``begin_stroke(value)``, any number of
``paint_segment`` calls, ``end_stroke()``. Each stroke (or fill, or auto band)
becomes one history entry holding only the changed rectangle's old and new
pixels, so undo on a 24 MP trimap costs memory proportional to what was painted.

Every change is announced on ``changed(rect, kind)``: rect = the (x, y, w, h) it touched;
kind = "paint" (a segment of a stroke in progress), "stroke" (a stroke closed into one
undo step), "edit" (replace, fill, auto band), "undo" or "redo". Views bind to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from matting_gui.core.editing.events import Event
from matting_gui.core.editing.trimap import BACKGROUND, FOREGROUND, UNKNOWN, band_trimap

#: The state of a new document: all background.
#: The user paints (or fills) the subject as foreground, then the unknown band by
#: brush or Auto band, as with Select and Mask's refine-edge brush.
INITIAL_VALUE = BACKGROUND


@dataclass
class _Edit:
    y0: int
    x0: int
    old: np.ndarray
    new: np.ndarray


@dataclass
class BandResult:
    """``compute_band``'s result: the revision it was computed at, the trimap as painted (the band's
    source), the pixels the band made unknown, and the undo step (None: nothing changes)."""

    revision: int
    source: np.ndarray
    mask: np.ndarray
    edit: _Edit | None


class TrimapDocument:
    """trimap: uint8 (H, W) in {0, 128, 255}. ``revision`` changes on every edit, undo and redo."""

    def __init__(self, height: int, width: int, trimap: np.ndarray | None = None, history_limit: int = 200):
        if trimap is not None and trimap.shape != (height, width):
            raise ValueError(f"trimap shape {trimap.shape} != image ({height}, {width})")
        self.trimap = np.full((height, width), INITIAL_VALUE, np.uint8) if trimap is None else trimap.copy()
        self._undo: list[_Edit] = []
        self._redo: list[_Edit] = []
        self._history_limit = history_limit
        self._stroke_backup: dict[tuple[int, int], np.ndarray] | None = None  # tile → pre-stroke pixels
        self._stroke_box: list[int] | None = None  # y0, x0, y1, x1
        self._stroke_value = UNKNOWN
        self.revision = 0
        self._snapshot: tuple[int, np.ndarray] | None = None  # (revision, read-only copy), see snapshot()
        self.stroke_id = 0  # counts strokes begun: a result computed during a stroke knows which one
        self.changed = Event()  # (rect (x, y, w, h), kind)
        # the last auto band: the pixels it made unknown and not edited since, and what they were before
        self._band_mask: np.ndarray | None = None
        self._band_source: np.ndarray | None = None
        self._saved_top: _Edit | None = None  # the newest undo step at the saved state (None: none)

    # ---------------------------------------------------------------- state
    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) of the trimap."""
        return self.trimap.shape  # type: ignore[return-value]

    @property
    def dirty(self) -> bool:
        """True when the trimap differs from the last ``mark_saved`` point. Undoing (or redoing) back
        to that point makes it clean again; a stroke in progress is always dirty."""
        top = self._undo[-1] if self._undo else None
        return self._stroke_box is not None or top is not self._saved_top

    def mark_saved(self) -> None:
        """Record the current state as saved (``dirty`` becomes False)."""
        self._saved_top = self._undo[-1] if self._undo else None

    @property
    def in_stroke(self) -> bool:
        """True between ``begin_stroke`` and ``end_stroke``."""
        return self._stroke_backup is not None

    def can_undo(self) -> bool:
        """True when there is a step to undo."""
        return bool(self._undo)

    def can_redo(self) -> bool:
        """True when there is an undone step to redo."""
        return bool(self._redo)

    # ---------------------------------------------------------------- strokes
    def begin_stroke(self, value: int) -> None:
        """Start a stroke painting ``value`` (0, 128 or 255)."""
        if value not in (BACKGROUND, UNKNOWN, FOREGROUND):
            raise ValueError(f"brush value must be 0, 128 or 255, got {value}")
        self._stroke_backup = {}
        self._stroke_box = None
        self._stroke_value = value
        self.stroke_id += 1

    def paint_segment(self, x0: float, y0: float, x1: float, y1: float, radius: float) -> tuple[int, int, int, int] | None:
        """Paint a round-capped line (image pixel coords). Returns the touched (x, y, w, h) or None."""
        if self._stroke_backup is None:
            raise RuntimeError("paint_segment outside a stroke")
        h, w = self.trimap.shape
        r = max(0.5, float(radius))
        bx0 = int(max(0, np.floor(min(x0, x1) - r - 1)))
        by0 = int(max(0, np.floor(min(y0, y1) - r - 1)))
        bx1 = int(min(w, np.ceil(max(x0, x1) + r + 2)))
        by1 = int(min(h, np.ceil(max(y0, y1) + r + 2)))
        if bx0 >= bx1 or by0 >= by1:
            return None
        self._backup_tiles(by0, bx0, by1, bx1)
        region = self.trimap[by0:by1, bx0:bx1]
        # cv2.line with a thick round brush; coordinates shifted by 4 fractional bits
        shift = 4
        p0 = (int(round((x0 - bx0) * 16)), int(round((y0 - by0) * 16)))
        p1 = (int(round((x1 - bx0) * 16)), int(round((y1 - by0) * 16)))
        mask = np.zeros(region.shape, np.uint8)
        thickness = max(1, int(round(2 * r)))
        cv2.line(mask, p0, p1, 1, thickness, cv2.LINE_8, shift)
        cv2.circle(mask, p0, int(round(r * 16)), 1, -1, cv2.LINE_8, shift)
        cv2.circle(mask, p1, int(round(r * 16)), 1, -1, cv2.LINE_8, shift)
        region[mask.astype(bool)] = self._stroke_value
        if self._band_mask is not None:  # painted over: these pixels are the user's now, not the band's
            self._band_mask[by0:by1, bx0:bx1][mask.astype(bool)] = False
        self._grow_box(by0, bx0, by1, bx1)
        self.revision += 1
        rect = (bx0, by0, bx1 - bx0, by1 - by0)
        self.changed.emit(rect, "paint")
        return rect

    def end_stroke(self) -> bool:
        """Close the stroke into one undo step. Returns False if it changed nothing (no undo step).

        A stroke that painted anything ends with a "stroke" change, even one that changed nothing
        (the brush over pixels of its own value): its "paint" changes moved ``revision`` on, and
        listeners wait for the stroke's end to compute the final matte and to show the document
        clean again."""
        box, backup = self._stroke_box, self._stroke_backup or {}
        self._stroke_box, self._stroke_backup = None, None
        if box is None:
            return False
        y0, x0, y1, x1 = box
        old = self._assemble_backup(backup, y0, x0, y1, x1)
        new = self.trimap[y0:y1, x0:x1].copy()
        changed = not np.array_equal(old, new)
        if changed:
            self._push(_Edit(y0, x0, old, new))
        self.changed.emit((x0, y0, x1 - x0, y1 - y0), "stroke")
        return changed

    TILE = 256

    def _backup_tiles(self, y0: int, x0: int, y1: int, x1: int) -> None:
        """Keep the pre-stroke pixels of every tile the stroke touches (first touch only)."""
        t = self.TILE
        for ty in range(y0 // t, (y1 - 1) // t + 1):
            for tx in range(x0 // t, (x1 - 1) // t + 1):
                key = (ty, tx)
                if key not in self._stroke_backup:
                    self._stroke_backup[key] = self.trimap[ty * t : (ty + 1) * t, tx * t : (tx + 1) * t].copy()

    def _assemble_backup(self, backup: dict, y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
        old = self.trimap[y0:y1, x0:x1].copy()
        t = self.TILE
        for (ty, tx), tile in backup.items():
            ty0, tx0 = ty * t, tx * t
            sy0, sx0 = max(y0, ty0), max(x0, tx0)
            sy1, sx1 = min(y1, ty0 + tile.shape[0]), min(x1, tx0 + tile.shape[1])
            if sy0 < sy1 and sx0 < sx1:
                old[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = tile[sy0 - ty0 : sy1 - ty0, sx0 - tx0 : sx1 - tx0]
        return old

    def _grow_box(self, y0: int, x0: int, y1: int, x1: int) -> None:
        if self._stroke_box is None:
            self._stroke_box = [y0, x0, y1, x1]
        else:
            b = self._stroke_box
            self._stroke_box = [min(b[0], y0), min(b[1], x0), max(b[2], y1), max(b[3], x1)]

    def snapshot(self) -> np.ndarray:
        """A read-only copy of the trimap (uint8 (H, W)) as it is now, for work in other threads. Callers
        share one copy until the next edit (``revision``): a view switch or a second request copies
        nothing (at 24 MP each copy cost the UI thread 10–150 ms when the other cores were busy)."""
        if self._snapshot is None or self._snapshot[0] != self.revision:
            copy = self.trimap.copy()
            copy.flags.writeable = False
            self._snapshot = (self.revision, copy)
        return self._snapshot[1]

    # ---------------------------------------------------------------- whole-image edits
    def replace(self, new_trimap: np.ndarray) -> bool:
        """Replace the whole trimap as one undo step (fill, auto band, load). False if unchanged."""
        if self._band_mask is not None:
            self._band_mask &= new_trimap == self.trimap
        return self._replace(new_trimap)

    def _replace(self, new_trimap: np.ndarray) -> bool:
        edit = self._edit_to(new_trimap)
        if edit is not None:
            self._install(edit)
        return edit is not None

    def _edit_to(self, new_trimap: np.ndarray) -> _Edit | None:
        """The undo step that turns the trimap into ``new_trimap`` (its changed box only), or None."""
        if new_trimap.shape != self.trimap.shape:
            raise ValueError(f"trimap shape {new_trimap.shape} != document {self.trimap.shape}")
        diff = new_trimap != self.trimap
        rows = np.flatnonzero(diff.any(axis=1))  # the changed box, without listing every changed pixel
        if len(rows) == 0:
            return None
        cols = np.flatnonzero(diff[rows[0]:rows[-1] + 1].any(axis=0))
        y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        return _Edit(y0, x0, self.trimap[y0:y1, x0:x1].copy(), new_trimap[y0:y1, x0:x1].copy())

    def _install(self, edit: _Edit) -> None:
        h, w = edit.new.shape
        self.trimap[edit.y0:edit.y0 + h, edit.x0:edit.x0 + w] = edit.new
        self._push(edit)
        self.changed.emit((edit.x0, edit.y0, w, h), "edit")

    def fill(self, x: int, y: int, value: int) -> bool:
        """Flood-fill the 4-connected region of equal trimap value at (x, y) with ``value``."""
        h, w = self.trimap.shape
        if not (0 <= x < w and 0 <= y < h) or self.trimap[y, x] == value:
            return False
        new = self.trimap.copy()
        mask = np.zeros((h + 2, w + 2), np.uint8)
        cv2.floodFill(new, mask, (int(x), int(y)), int(value), 0, 0, 4)
        return self.replace(new)

    def auto_band(self, radius: int) -> bool:
        """Put an unknown band of ``radius`` px around the painted foreground (value 255).

        A pure function of what the user painted and the width: the pixels an earlier auto band
        made unknown (and that were not painted over since) count as what they were before it,
        and painted unknown strokes stay unknown. So pressing it twice changes nothing, and a
        new width replaces the old band rather than eroding the foreground again.
        """
        return self.apply_band(self.compute_band(radius))

    def compute_band(self, radius: int) -> BandResult:
        """The work of ``auto_band`` without changing anything, down to its undo step: safe in another
        thread while the document is not edited (the app checks the revision before ``apply_band``);
        ~1 s at 24 MP, which leaves ``apply_band`` a copy into the trimap."""
        revision = self.revision
        source = self.trimap.copy()
        if self._band_mask is not None:
            source[self._band_mask] = self._band_source[self._band_mask]
        fg = source == FOREGROUND
        if not fg.any():
            raise ValueError("paint or fill some foreground first: the band is built around it")
        new = band_trimap(fg, max(1, int(radius)))
        new[source == UNKNOWN] = UNKNOWN
        return BandResult(revision, source, (new == UNKNOWN) & (source != UNKNOWN), self._edit_to(new))

    def apply_band(self, result: BandResult) -> bool:
        """Apply a ``compute_band`` result as one undo step; ValueError if the document changed since."""
        if result.revision != self.revision:
            raise ValueError("the trimap changed while the band was computed: press Auto band again")
        if result.edit is not None:
            self._install(result.edit)
        self._band_mask, self._band_source = result.mask, result.source
        return result.edit is not None

    # ---------------------------------------------------------------- history
    def _push(self, edit: _Edit) -> None:
        self._undo.append(edit)
        if len(self._undo) > self._history_limit:
            self._undo.pop(0)
        self._redo.clear()
        self.revision += 1

    def undo(self) -> tuple[int, int, int, int] | None:
        """Undo one step; returns the changed (x, y, w, h) or None if there was nothing."""
        return self._step(self._undo, self._redo, "old", "undo")

    def redo(self) -> tuple[int, int, int, int] | None:
        """Redo one step; returns the changed (x, y, w, h) or None."""
        return self._step(self._redo, self._undo, "new", "redo")

    def _step(self, source: list[_Edit], target: list[_Edit], side: str, kind: str) -> tuple[int, int, int, int] | None:
        if not source:
            return None
        e = source.pop()
        self._band_mask = self._band_source = None  # history moved: the next auto band starts from what is shown
        pixels = getattr(e, side)
        self.trimap[e.y0 : e.y0 + pixels.shape[0], e.x0 : e.x0 + pixels.shape[1]] = pixels
        target.append(e)
        self.revision += 1
        rect = (e.x0, e.y0, pixels.shape[1], pixels.shape[0])
        self.changed.emit(rect, kind)
        return rect
