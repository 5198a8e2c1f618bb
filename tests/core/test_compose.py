import numpy as np

from matting_gui.core.imaging.compose import checkerboard, composite, cover_resize, estimate_foreground


def _scene(h=60, w=80):
    yy, xx = np.mgrid[0:h, 0:w]
    alpha = np.clip((xx - w * 0.4) / (w * 0.2), 0, 1).astype(np.float32)
    fg = np.zeros((h, w, 3), np.float32)
    fg[..., 0] = 0.9  # red subject
    bg = np.zeros((h, w, 3), np.float32)
    bg[..., 2] = 0.9  # blue background
    return composite(fg, alpha, bg), alpha, fg


def test_foreground_estimate_removes_background_spill():
    image, alpha, fg = _scene()
    est = estimate_foreground(image, alpha)
    band = (alpha > 0.2) & (alpha < 0.8)
    assert np.abs(est[band] - fg[band]).mean() < np.abs(image[band] - fg[band]).mean() / 3


def test_large_photo_path_matches_full_solve():
    image, alpha, _ = _scene(120, 160)
    full = estimate_foreground(image, alpha)
    reduced = estimate_foreground(image, alpha, max_pixels=120 * 160 // 4)  # solved at half size
    band = (alpha > 0.2) & (alpha < 0.8)
    assert np.abs(full[band] - reduced[band]).mean() < 0.05


def test_composite_cover_and_checkerboard():
    fg = np.ones((4, 4, 3), np.float32)
    a = np.zeros((4, 4), np.float32)
    a[:, 2:] = 1
    out = composite(fg, a, (0.0, 0.5, 0.0))
    assert np.allclose(out[0, 0], (0, 0.5, 0)) and np.allclose(out[0, 3], 1)
    bg = np.random.default_rng(0).random((10, 30, 3)).astype(np.float32)
    assert cover_resize(bg, 40, 20).shape == (40, 20, 3)
    board = checkerboard(5, 40, cell=16)
    assert board.shape == (5, 40, 3) and board[0, 0, 0] != board[0, 16, 0]
