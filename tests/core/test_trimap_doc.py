import numpy as np
import pytest

from matting_gui.core.editing.trimap import BACKGROUND, FOREGROUND, UNKNOWN
from matting_gui.core.editing.trimap_doc import TrimapDocument
from matting_gui.core.editing.view import ViewStyle, render
from matting_gui.core.imaging.adjust import EdgeAdjustments, apply_adjustments


def test_stroke_is_one_undo_step_and_redo_restores():
    doc = TrimapDocument(100, 120)
    assert (doc.trimap == BACKGROUND).all() and not doc.dirty
    doc.begin_stroke(FOREGROUND)
    for x in range(10, 90, 5):
        doc.paint_segment(x, 50, x + 5, 50, 4)
    assert doc.end_stroke() and doc.dirty
    painted = doc.trimap.copy()
    assert painted[50, 50] == FOREGROUND and painted[50, 5] == BACKGROUND and painted[40, 50] == BACKGROUND
    assert doc.undo() is not None
    assert (doc.trimap == BACKGROUND).all()
    assert doc.redo() is not None
    assert np.array_equal(doc.trimap, painted)
    assert doc.undo() and doc.undo() is None  # only one step existed


def test_a_stroke_that_changes_nothing_adds_no_undo_step_but_still_ends_with_a_stroke_change():
    doc = TrimapDocument(100, 120)
    events = []
    doc.changed.connect(lambda rect, kind: events.append(kind))
    doc.begin_stroke(BACKGROUND)  # over a background trimap: every pixel stays as it was
    doc.paint_segment(10, 50, 60, 50, 4)
    doc.paint_segment(60, 50, 60, 80, 4)
    assert doc.dirty  # while painting
    revision = doc.revision
    assert not doc.end_stroke()
    assert events == ["paint", "paint", "stroke"]  # the end is announced: listeners compute the final matte
    assert not doc.dirty and not doc.can_undo() and doc.revision == revision and (doc.trimap == BACKGROUND).all()


def test_stroke_across_tiles_on_large_trimap():
    doc = TrimapDocument(1000, 1200)
    doc.begin_stroke(UNKNOWN)
    doc.paint_segment(10, 10, 1190, 990, 30)  # crosses many 256-px tiles
    doc.end_stroke()
    doc.begin_stroke(FOREGROUND)
    doc.paint_segment(600, 500, 610, 500, 50)
    doc.end_stroke()
    after_two = doc.trimap.copy()
    doc.undo()
    assert doc.trimap[500, 605] == UNKNOWN  # second stroke undone exactly to the first's result
    doc.undo()
    assert (doc.trimap == BACKGROUND).all()
    doc.redo()
    doc.redo()
    assert np.array_equal(doc.trimap, after_two)


def test_saved_point_and_new_edit_clears_redo():
    doc = TrimapDocument(20, 20)
    doc.begin_stroke(FOREGROUND)
    doc.paint_segment(5, 5, 5, 5, 2)
    doc.end_stroke()
    doc.mark_saved()
    assert not doc.dirty
    doc.undo()
    assert doc.dirty
    doc.begin_stroke(UNKNOWN)
    doc.paint_segment(10, 10, 10, 10, 2)
    doc.end_stroke()
    assert not doc.can_redo()


def test_empty_stroke_adds_no_history_and_bad_value():
    doc = TrimapDocument(20, 20)
    doc.begin_stroke(BACKGROUND)
    doc.paint_segment(5, 5, 6, 5, 2)  # paints background on background: no change
    assert not doc.end_stroke() and not doc.can_undo()
    with pytest.raises(ValueError):
        doc.begin_stroke(7)
    with pytest.raises(RuntimeError):
        doc.paint_segment(1, 1, 2, 2, 1)


def test_fill_and_auto_band():
    doc = TrimapDocument(60, 60)
    with pytest.raises(ValueError, match="foreground first"):
        doc.auto_band(3)
    tri = np.zeros((60, 60), np.uint8)
    tri[10:50, 10:50] = UNKNOWN
    tri[12:48, 12:48] = BACKGROUND  # a closed unknown outline
    doc.replace(tri)
    assert doc.fill(30, 30, FOREGROUND)
    assert doc.trimap[30, 30] == FOREGROUND and doc.trimap[0, 0] == BACKGROUND and doc.trimap[11, 11] == UNKNOWN
    assert doc.auto_band(4)
    assert doc.trimap[30, 30] == FOREGROUND and doc.trimap[12, 30] == UNKNOWN and doc.trimap[2, 2] == BACKGROUND
    doc.undo()
    doc.undo()
    assert doc.trimap[30, 30] == BACKGROUND


def test_adjustments_are_pure_and_ordered():
    alpha = np.zeros((40, 40), np.float32)
    alpha[:, 20:] = 1
    alpha[:, 19] = 0.5
    assert apply_adjustments(alpha, EdgeAdjustments()) is alpha  # identity: no copy
    feathered = apply_adjustments(alpha, EdgeAdjustments(feather=6))
    assert 0 < feathered[20, 17] < feathered[20, 22] < 1
    out = apply_adjustments(alpha, EdgeAdjustments(shift=50))
    assert out[20, 19] > 0.5  # positive shift grows the foreground
    assert apply_adjustments(alpha, EdgeAdjustments(shift=-50))[20, 19] < 0.5
    assert apply_adjustments(alpha, EdgeAdjustments(contrast=100))[20, 19] == pytest.approx(0.5)
    assert alpha[20, 19] == 0.5  # input untouched


def test_render_rect_only_touches_rect():
    img = np.full((10, 10, 3), 0.5, np.float32)
    tri = np.zeros((10, 10), np.uint8)
    out = np.zeros((10, 10, 3), np.uint8)
    render(out, "trimap", img, tri, None, None, None, ViewStyle(), (2, 3, 4, 2))
    assert out[3:5, 2:6].any() and not out[:3].any() and not out[5:].any()
    render(out, "alpha", img, tri, np.ones((10, 10), np.float32), None, None, ViewStyle())
    assert (out == 255).all()
    with pytest.raises(ValueError):
        render(out, "bogus", img, tri, None, None, None, ViewStyle())


@pytest.mark.parametrize("mode", ["photo", "trimap", "alpha", "composite"])
def test_render_into_bgrx_bytes_matches_rgb(mode):
    """The editor renders straight into Qt's RGB32 memory (B, G, R, x): same colours as the RGB path."""
    rng = np.random.default_rng(1)
    img = rng.random((12, 16, 3), dtype=np.float32)
    tri = np.zeros((12, 16), np.uint8)
    tri[3:9, 4:12] = 128
    tri[5:7, 6:10] = 255
    alpha = rng.random((12, 16), dtype=np.float32)
    rgb = np.zeros((12, 16, 3), np.uint8)
    bgrx = np.zeros((12, 16, 4), np.uint8)
    for rect in (None, (3, 2, 7, 5)):
        render(rgb, mode, img, tri, alpha, None, None, ViewStyle(), rect)
        render(bgrx, mode, img, tri, alpha, None, None, ViewStyle(), rect)
        assert np.array_equal(bgrx[..., 2::-1], rgb)
    assert (bgrx[..., 3] == 255).all() and rgb.any()


def test_undo_back_to_the_saved_state_is_clean_again():
    """Issue 16, defect 9: undoing to the saved point needs no save prompt; any other state does."""
    from matting_gui.core.editing.trimap import UNKNOWN
    from matting_gui.core.editing.trimap_doc import TrimapDocument

    doc = TrimapDocument(40, 40)
    assert not doc.dirty

    def stroke(x):
        doc.begin_stroke(UNKNOWN)
        doc.paint_segment(x, 5, x, 30, 2)
        assert doc.dirty  # a stroke in progress is unsaved work
        doc.end_stroke()

    stroke(10)
    doc.mark_saved()
    assert not doc.dirty
    stroke(20)
    assert doc.dirty
    doc.undo()
    assert not doc.dirty  # back at the saved state
    doc.undo()
    assert doc.dirty  # before it
    doc.redo()
    assert not doc.dirty
    doc.undo()
    stroke(30)  # a new branch: the saved state can no longer be reached by undo/redo
    assert doc.dirty
    doc.undo()
    assert doc.dirty and doc.redo() is not None


def test_auto_band_is_a_pure_function_of_what_was_painted_and_the_width():
    """Pressing it twice changes nothing; another width replaces the band instead of eroding the
    foreground again; unknown strokes painted before survive (issue 16, defect 4)."""
    doc = TrimapDocument(80, 80)
    doc.begin_stroke(FOREGROUND)
    doc.paint_segment(40, 40, 40, 40, 20)
    doc.end_stroke()
    doc.begin_stroke(UNKNOWN)
    doc.paint_segment(5, 5, 10, 5, 2)  # a painted unknown stroke far from the subject
    doc.end_stroke()
    assert doc.auto_band(4)
    once = doc.trimap.copy()
    assert not doc.auto_band(4) and np.array_equal(doc.trimap, once)  # again: nothing new
    assert doc.auto_band(8) and doc.auto_band(4)
    assert np.array_equal(doc.trimap, once)  # back to width 4: the same band, the foreground not eroded twice
    assert doc.trimap[5, 7] == UNKNOWN  # the painted stroke stayed
    doc.begin_stroke(FOREGROUND)
    doc.paint_segment(40, 21, 40, 21, 1)  # painted over the band: the user's now
    doc.end_stroke()
    doc.auto_band(4)
    assert doc.trimap[40, 40] == FOREGROUND


def test_a_band_computed_before_an_edit_is_refused():
    """Auto band runs in a thread: its result applies only to the trimap it was computed from."""
    doc = TrimapDocument(40, 40)
    doc.begin_stroke(FOREGROUND)
    doc.paint_segment(20, 20, 20, 20, 8)
    doc.end_stroke()
    result = doc.compute_band(3)
    doc.begin_stroke(UNKNOWN)
    doc.paint_segment(2, 2, 4, 2, 1)
    doc.end_stroke()
    with pytest.raises(ValueError, match="changed while"):
        doc.apply_band(result)
    assert doc.apply_band(doc.compute_band(3)) and doc.trimap[20, 20] == FOREGROUND


def test_snapshot_is_one_read_only_copy_per_revision():
    """Work handed to other threads shares one copy of the trimap until the next edit, undo or redo."""
    doc = TrimapDocument(40, 60)
    first = doc.snapshot()
    assert doc.snapshot() is first and not first.flags.writeable
    assert np.array_equal(first, doc.trimap) and first is not doc.trimap
    doc.begin_stroke(255)
    doc.paint_segment(10, 10, 12, 10, 3)
    painted = doc.snapshot()
    assert painted is not first and np.array_equal(painted, doc.trimap)
    assert not np.array_equal(first, painted)  # the earlier snapshot kept what it was
    doc.end_stroke()
    doc.undo()
    assert np.array_equal(doc.snapshot(), first)
    doc.redo()
    assert np.array_equal(doc.snapshot(), painted)
