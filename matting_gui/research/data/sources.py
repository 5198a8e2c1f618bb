"""Real training material: alphamatting foregrounds, their split, and background photos.

The split of the alphamatting images into training and validation stems is made
once and committed (``alphamatting_split.json``). Each training foreground's
colours are estimated from image + ground-truth alpha and cached on disk outside
the repository (``<cache>/foreground/<sha1>.npz``, keyed by the files' hash).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from matting_gui.core.files.imageio import read_alpha, read_image, read_trimap
from matting_gui.core.files.paths import cache_dir, data_root
from matting_gui.core.files.safe_write import atomic_write_bytes
from matting_gui.core.imaging.compose import estimate_foreground

SPLIT_FILES = {"v1": Path(__file__).with_name("alphamatting_split.json"),
               "v2": Path(__file__).with_name("alphamatting_split_v2.json")}
#: The split names, for command-line choices and config checks. "all" is for final models: every
#: subject of v2 trained on, v2's validation stems kept as 'val' so that the code paths run, though
#: their numbers then measure fit, not generalisation (take final.safetensors, not best).
#: Subject-disjoint cross-validation folds over all 19 subjects (``subject_folds``): split "fold<k>"
#: trains on every other fold and validates on fold k's subjects (out-of-fold networks).
FOLDS = 4
SPLITS = (*SPLIT_FILES, "all", *(f"fold{k}" for k in range(FOLDS)))


def subject_folds(stems: list[str], count: int = FOLDS, seed: int = 0) -> list[list[str]]:
    """``stems`` in ``count`` subject-disjoint groups of near-equal size, by a fixed shuffle."""
    order = sorted(stems)
    np.random.default_rng(seed).shuffle(order)
    return [sorted(order[i::count]) for i in range(count)]


@dataclass
class Subject:
    """A real foreground: image (H, W, 3), alpha (H, W), estimated fg (H, W, 3), float32 in [0, 1]."""

    stem: str
    image: np.ndarray
    alpha: np.ndarray
    fg: np.ndarray


def load_split(version: str = "v1") -> dict[str, list[str]]:
    """{'train': [...], 'val': [...]} stems of the alphamatting images for split ``version`` (v1, v2;
    all: every subject trained on, v2's validation stems repeated as 'val' for fit only; fold<k>: the
    other folds of ``subject_folds`` trained on, fold k validated)."""
    if version == "all":
        v2 = load_split("v2")
        return {"train": sorted(v2["train"] + v2["val"]), "val": v2["val"]}
    if version.startswith("fold") and version in SPLITS:
        groups = subject_folds(load_split("all")["train"])
        k = int(version[4:])
        return {"train": sorted(s for i, g in enumerate(groups) if i != k for s in g), "val": groups[k]}
    if version not in SPLIT_FILES:
        raise ValueError(f"unknown split {version!r}; choose one of {sorted(SPLITS)}")
    return json.loads(SPLIT_FILES[version].read_text())


def _cached_foreground(image_path: Path, alpha_path: Path, image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    digest = hashlib.sha1(image_path.read_bytes() + alpha_path.read_bytes()).hexdigest()
    path = cache_dir() / "foreground" / f"{digest}.npz"
    if path.exists():
        try:
            with np.load(path) as data:
                return data["fg"].astype(np.float32) / 255.0
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)
    fg = estimate_foreground(image, alpha)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, fg=np.round(fg * 255).astype(np.uint8))
    # a unique temp name per writer: two trainings started together fill the same cache entry
    atomic_write_bytes(path, buffer.getvalue())
    return fg


def load_subjects(stems: list[str], root: Path | None = None) -> list[Subject]:
    """Load alphamatting subjects (image, alpha, cached estimated foreground)."""
    root = root or data_root() / "alphamatting"
    out = []
    for stem in stems:
        ip, ap = root / "image" / f"{stem}.png", root / "alpha" / f"{stem}.png"
        image = read_image(ip).rgb
        alpha = read_alpha(ap)
        out.append(Subject(stem, image, alpha, _cached_foreground(ip, ap, image, alpha)))
    return out


def load_official_trimaps(stem: str, root: Path | None = None) -> dict[str, np.ndarray]:
    """{'trimap1': uint8 (H, W), 'trimap2': ...} for an alphamatting stem."""
    root = root or data_root() / "alphamatting"
    return {name: read_trimap(root / name / f"{stem}.png") for name in ("trimap1", "trimap2")}


def background_paths(split: str, root: Path | None = None) -> list[Path]:
    """Sorted BSDS500 background photos of a split ('train', 'val' or 'test')."""
    root = root or data_root() / "backgrounds" / "bsds500"
    return sorted((root / split).glob("*.jpg"))


def load_backgrounds(paths: list[Path]) -> list[np.ndarray]:
    """Read background photos as RGB float32 (h, w, 3) in [0, 1]."""
    out = []
    for p in paths:
        bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if bgr is not None:
            out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0)
    return out
