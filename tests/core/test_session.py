"""EditorSession without Qt: the staleness rule, change rects, adjustments remembered per photo."""

from pathlib import Path

import numpy as np
import pytest

from matting_gui.core.editing.session import EditorSession
from matting_gui.core.editing.trimap import FOREGROUND, UNKNOWN
from matting_gui.core.files.imageio import LoadedImage
from matting_gui.core.imaging.adjust import EdgeAdjustments
from tests.conftest import make_photo, make_trimap


def _open(session, path="a.png", seed=0):
    image = LoadedImage(Path(path), make_photo(48, 64, seed), 8, "RGB", False, [])
    return session.open(image, Path(path), make_trimap(48, 64))


def _alpha(value):
    return np.full((48, 64), value, np.float32)


def test_a_matte_of_the_current_trimap_is_shown_one_of_another_photo_or_model_never():
    s = EditorSession()
    first = _open(s)
    stamp = s.stamp(preview=False)
    _open(s, seed=1)  # the same file opened again is another photo
    assert s.photo.serial != first.serial and not s.show_matte(stamp, _alpha(0.5))
    stamp = s.stamp(preview=False)
    s.set_model("teacher")
    assert not s.accepts(stamp)
    assert s.show_matte(s.stamp(preview=False), _alpha(0.5)) and s.matte_is_current


def test_a_preview_never_replaces_the_full_matte_of_the_same_trimap():
    s = EditorSession()
    _open(s)
    preview, full = s.stamp(preview=True), s.stamp(preview=False)
    assert s.show_matte(full, _alpha(0.3))
    assert not s.show_matte(preview, _alpha(0.9))
    assert s.matte.raw[0, 0] == pytest.approx(0.3)


def test_a_refined_matte_replaces_the_network_s_and_is_never_replaced_by_it_until_refinement_is_off():
    import dataclasses

    s = EditorSession()
    _open(s)
    changed = []
    s.model_changed.connect(lambda: changed.append(s.refine))
    s.set_refine(True)
    assert changed == [True]
    full = s.stamp(preview=False)
    refined = dataclasses.replace(full, refined=True)
    assert s.show_matte(full, _alpha(0.3)) and s.show_matte(refined, _alpha(0.4))
    assert not s.show_matte(full, _alpha(0.5))  # a late network matte of the same trimap stays hidden
    assert not s.show_matte(s.stamp(preview=True), _alpha(0.6))
    assert s.matte.raw[0, 0] == pytest.approx(0.4) and s.matte_is_current
    s.set_refine(False)
    assert not s.accepts(refined)  # switched off: a refinement still in flight is not shown
    assert s.show_matte(full, _alpha(0.5)) and s.matte.raw[0, 0] == pytest.approx(0.5)
    s.set_refine(True)
    s.doc.replace(s.doc.trimap * 0)  # an edit: a new trimap revision
    assert not s.accepts(refined)  # a refinement of an older trimap: never
    assert s.show_matte(s.stamp(preview=False), _alpha(0.7))


def test_during_a_stroke_older_mattes_of_the_same_stroke_are_shown_but_never_after_it():
    s = EditorSession()
    _open(s)
    s.doc.begin_stroke(UNKNOWN)
    s.doc.paint_segment(5, 5, 10, 5, 2)
    early = s.stamp(preview=True)
    s.doc.paint_segment(10, 5, 20, 5, 2)
    middle = s.stamp(preview=True)
    s.doc.paint_segment(20, 5, 30, 5, 2)
    assert s.show_matte(middle, _alpha(0.2))  # older than the trimap, but of this stroke: shown
    assert not s.show_matte(early, _alpha(0.1))  # never older than what is on screen
    s.doc.end_stroke()
    late = s.stamp(preview=True)
    s.doc.begin_stroke(UNKNOWN)
    s.doc.paint_segment(30, 30, 31, 30, 2)
    assert not s.accepts(middle) and not s.accepts(late)  # another stroke has begun


def test_trimap_changes_arrive_with_their_rect_and_kind():
    s = EditorSession()
    _open(s)
    seen = []
    s.trimap_changed.connect(lambda rect, kind: seen.append((rect, kind)))
    s.doc.begin_stroke(FOREGROUND)
    s.doc.paint_segment(10, 10, 12, 10, 1)
    s.doc.end_stroke()
    s.doc.undo()
    s.doc.redo()
    kinds = [k for _, k in seen]
    assert kinds == ["paint", "stroke", "undo", "redo"]
    x, y, w, h = seen[2][0]
    assert x <= 9 and y <= 9 and x + w >= 13 and y + h >= 11 and w * h < 100  # only what the stroke touched


def test_adjustments_are_remembered_per_photo_and_applied_without_touching_the_raw_matte():
    store = {}
    s = EditorSession(store)
    _open(s, "a.png")
    assert s.show_matte(s.stamp(preview=False), np.linspace(0, 1, 48 * 64, dtype=np.float32).reshape(48, 64))
    raw = s.matte.raw.copy()
    s.set_adjustment("contrast", 60)
    assert not np.array_equal(s.matte.alpha, raw) and np.array_equal(s.matte.raw, raw)
    _open(s, "b.png")
    assert s.adjust == EdgeAdjustments()  # another photo: its own (none)
    _open(s, "a.png")
    assert s.adjust.contrast == 60  # reopened: remembered
    store[next(iter(store))] = "{not json"
    _open(s, "a.png")
    assert s.adjust == EdgeAdjustments()  # a damaged entry is ignored


def test_the_composite_background_follows_the_style():
    s = EditorSession()
    _open(s)
    s.set_view(mode="composite", background="white")
    assert s.background() == (1.0, 1.0, 1.0)
    s.set_view(background="blurred")
    assert s.background().shape == (48, 64, 3)
    with pytest.raises(ValueError, match="unknown background"):
        s.set_view(background="plaid")
    out = np.zeros((48, 64, 3), np.uint8)
    s.render(out)
    assert out.any()  # no matte yet: the composite view shows the photo


def test_outline_overlay_keeps_true_colours_and_marks_only_borders():
    """Issue 16, defect 14: the trimap view can outline the regions instead of tinting them."""
    s = EditorSession()
    _open(s)
    s.set_view(mode="trimap", overlay="outline")
    out = np.zeros((48, 64, 3), np.uint8)
    s.render(out)
    tri, photo = s.doc.trimap, s.photo.display
    assert np.array_equal(out[24, 32], photo[24, 32])  # inside the foreground: the photo itself
    assert np.array_equal(out[0, 0], photo[0, 0])
    k = np.ones((3, 3), np.uint8)
    import cv2

    border = cv2.dilate(tri, k) != cv2.erode(tri, k)
    assert border.any() and not np.array_equal(out[border], photo[border])
    part = np.zeros_like(out)
    s.render(part, (10, 10, 30, 20))  # a rect renders exactly what the whole view shows there
    assert np.array_equal(part[10:30, 10:40], out[10:30, 10:40])
    with pytest.raises(ValueError, match="unknown overlay"):
        s.set_view(overlay="glow")
