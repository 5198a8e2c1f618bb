"""Real training subjects: the cached foreground estimate, shared by trainings started together."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from matting_gui.core.files.paths import cache_dir
from matting_gui.core.imaging.compose import estimate_foreground
from matting_gui.research.data import sources
from matting_gui.research.data.sources import load_subjects
from tests.conftest import make_photo, make_trimap


def _alphamatting_folder(root, stems=("GT90", "GT91")):
    """A tiny alphamatting-style folder: image/<stem>.png and alpha/<stem>.png."""
    (root / "image").mkdir(parents=True)
    (root / "alpha").mkdir()
    for i, stem in enumerate(stems):
        rgb = (make_photo(seed=i) * 255).round().astype(np.uint8)
        cv2.imwrite(str(root / "image" / f"{stem}.png"), rgb[..., ::-1])
        alpha = cv2.GaussianBlur(make_trimap(), (9, 9), 3)  # soft edges, as a real matte has
        cv2.imwrite(str(root / "alpha" / f"{stem}.png"), alpha)
    return root


def _cache_files():
    return sorted(p.name for p in (cache_dir() / "foreground").iterdir())


def test_foreground_is_cached_once_and_read_back(tmp_path):
    root = _alphamatting_folder(tmp_path / "am")
    first = load_subjects(["GT90", "GT91"], root)
    names = _cache_files()
    assert len(names) == 2 and all(n.endswith(".npz") and not n.startswith(".") for n in names)
    second = load_subjects(["GT90", "GT91"], root)
    for a, b in zip(first, second, strict=True):
        assert a.fg.shape == a.image.shape and a.fg.dtype == np.float32
        # the cache holds 8-bit colours: read back within half a level of the estimate
        assert np.abs(a.fg - b.fg).max() <= 0.5 / 255 + 1e-6
    assert _cache_files() == names


def test_concurrent_loaders_fill_one_entry_without_leftovers(tmp_path, monkeypatch):
    # Two trainings started together used to share one temp name and one lost its rename. The
    # barrier holds every loader after its estimate so that all of them write the entry at once.
    root = _alphamatting_folder(tmp_path / "am", stems=("GT90",))
    n = 6
    barrier = threading.Barrier(n, timeout=30)

    def estimate_together(image, alpha):
        fg = estimate_foreground(image, alpha)
        barrier.wait()
        return fg

    monkeypatch.setattr(sources, "estimate_foreground", estimate_together)
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(lambda _: load_subjects(["GT90"], root)[0].fg, range(n)))
    assert all(np.abs(r - results[0]).max() <= 0.5 / 255 + 1e-6 for r in results)
    names = _cache_files()
    assert len(names) == 1 and names[0].endswith(".npz") and not names[0].startswith(".")


def test_a_corrupt_cache_entry_is_recomputed(tmp_path):
    root = _alphamatting_folder(tmp_path / "am", stems=("GT90",))
    good = load_subjects(["GT90"], root)[0].fg
    (entry,) = (cache_dir() / "foreground").iterdir()
    entry.write_bytes(b"not an npz")
    again = load_subjects(["GT90"], root)[0].fg
    assert np.abs(again - good).max() <= 0.5 / 255 + 1e-6
    assert os.path.getsize(entry) > len(b"not an npz")


def test_fold_splits_are_subject_disjoint_and_cover_every_subject():
    """split fold<k>: train on the other folds, validate on fold k; the four validation sets partition the 19."""
    from matting_gui.research.data.sources import FOLDS, SPLITS, load_split, subject_folds
    from matting_gui.research.train_config import TrainConfig

    everyone = load_split("all")["train"]
    vals = []
    for k in range(FOLDS):
        split = load_split(f"fold{k}")
        assert not set(split["train"]) & set(split["val"])
        assert sorted(split["train"] + split["val"]) == sorted(everyone)
        assert split["val"] == subject_folds(everyone)[k]
        vals += split["val"]
        assert TrainConfig(split=f"fold{k}").split in SPLITS
    assert sorted(vals) == sorted(everyone) and len(everyone) == 19
    with pytest.raises(ValueError, match="split"):
        load_split(f"fold{FOLDS}")
