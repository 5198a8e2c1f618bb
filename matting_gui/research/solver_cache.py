"""The solver-matte cache: training and cross-validation cases with their closed-form and KNN mattes.

Each case is one photo (a real alphamatting photo, the same at half size, a composite of its
estimated foreground over a BSDS500 *train* background, or a procedural thin-structure subject),
one trimap (official, the validation's fixed wide rule, or painted-style), the true alpha, and
the solvers' mattes of that photo and trimap (``core.solvers``). Solving is the slow part (seconds
per case, KNN about twice closed-form), so every case is solved once, written as one ``.npz``
(atomically) under ``<cache>/solver_cache/<VERSION>/``, and never again: the build resumes where
it stopped and adds only what is missing.

A case's subject (``GT04``, or ``thin`` for procedural ones) decides its cross-validation fold.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from matting_gui.core.files.paths import cache_dir
from matting_gui.core.files.safe_write import atomic_write_bytes
from matting_gui.core.imaging.compose import composite, cover_resize
from matting_gui.core.inference.solvers import MAX_SOLVER_PIXELS, SOLVERS, solver_mattes
from matting_gui.research.data.painted import painted_trimap, widen_trimap
from matting_gui.research.data.validation import WIDE_CLOSE, WIDE_GROW

#: Bump when a case's recipe changes: old entries then stay where they are, unused.
VERSION = "v1"
#: The cases of each real subject: (name, scale, source, trimap recipe).
SUBJECT_CASES = (
    ("trimap1", 1.0, "photo", "trimap1"),
    ("trimap2", 1.0, "photo", "trimap2"),
    ("wide", 1.0, "photo", "wide"),
    ("painted0", 1.0, "photo", "painted"),
    ("unpainted0", 1.0, "photo", "unpainted"),
    ("half_trimap2", 0.5, "photo", "trimap2"),
    ("half_painted0", 0.5, "photo", "painted"),
    ("comp0_trimap2", 1.0, "composite", "trimap2"),
    ("comp0_painted1", 1.0, "composite", "painted"),
)


@dataclass
class Case:
    """One cached case: image uint8 (H, W, 3) RGB; trimap uint8 (H, W) {0, 128, 255}; alpha uint8
    (H, W); mattes uint16 (len(SOLVERS), H, W), α × 65535."""

    key: str
    subject: str
    image: np.ndarray
    trimap: np.ndarray
    alpha: np.ndarray
    mattes: np.ndarray

    def float_inputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(image float32 (H, W, 3), trimap uint8 (H, W), alpha float32 (H, W), mattes float32 (S, H, W)),
        all in [0, 1] but the trimap."""
        return (self.image.astype(np.float32) / 255, self.trimap, self.alpha.astype(np.float32) / 255,
                self.mattes.astype(np.float32) / 65535)


def cache_root(box: int = 0) -> Path:
    """``<cache>/solver_cache/<VERSION>`` (not created); with ``box``, the same cases solved with the
    solvers' box capped at that many pixels (``<VERSION>_box<box>``; 0: ``MAX_SOLVER_PIXELS``, export's)."""
    return cache_dir() / "solver_cache" / (f"{VERSION}_box{box}" if box else VERSION)


def _seed(key: str) -> int:
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "little")


def _trimap(recipe: str, official: dict[str, np.ndarray], alpha: np.ndarray, rng: np.random.Generator,
            scale: float) -> np.ndarray:
    if recipe in official:
        return official[recipe]
    if recipe == "wide":
        return widen_trimap(official["trimap2"], WIDE_GROW, WIDE_CLOSE)
    # painted over an 800-px photo: a 256-px crop's bands scaled by ~3 (× the photo's own scale)
    k = 3.0 * scale
    if recipe == "painted":
        return painted_trimap(alpha, rng, k, p_fg_seeds=0.0, p_islands=0.3)
    if recipe == "unpainted":
        return painted_trimap(alpha, rng, k, p_fg_seeds=1.0)
    raise ValueError(f"unknown trimap recipe {recipe!r}")


def subject_jobs(stems: list[str]) -> list[tuple[str, str, tuple]]:
    """(key, subject, case spec) of every real-subject case, in a fixed order."""
    return [(f"{stem}/{spec[0]}", stem, spec) for stem in stems for spec in SUBJECT_CASES]


def _build_subject_case(stem: str, spec: tuple, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """image float32 (H, W, 3), trimap uint8, alpha float32 of a real-subject case."""
    from matting_gui.research.data.sources import (
        background_paths,
        load_backgrounds,
        load_official_trimaps,
        load_subjects,
    )

    _, scale, source, recipe = spec
    rng = np.random.default_rng(_seed(key))
    subject = load_subjects([stem])[0] if source == "composite" else None
    official = load_official_trimaps(stem)
    if subject is None:
        from matting_gui.core.files.imageio import read_alpha, read_image
        from matting_gui.core.files.paths import data_root

        root = data_root() / "alphamatting"
        image, alpha = read_image(root / "image" / f"{stem}.png").rgb, read_alpha(root / "alpha" / f"{stem}.png")
    else:
        paths = background_paths("train")
        bg = load_backgrounds([paths[int(rng.integers(len(paths)))]])[0]
        h, w = subject.alpha.shape
        image = composite(subject.fg, subject.alpha, cover_resize(bg, h, w)).astype(np.float32)
        alpha = subject.alpha
    if scale != 1.0:
        h, w = alpha.shape
        size = (max(8, round(w * scale)), max(8, round(h * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        official = {k: cv2.resize(v, size, interpolation=cv2.INTER_NEAREST) for k, v in official.items()}
    return image, _trimap(recipe, official, alpha, rng, scale), alpha


def _solve_and_store(path: Path, key: str, subject: str, image: np.ndarray, trimap: np.ndarray,
                     alpha: np.ndarray, box: int = 0) -> None:
    mattes = solver_mattes(image, trimap, SOLVERS, max_pixels=box or MAX_SOLVER_PIXELS)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, key=key, subject=subject, image=np.round(image * 255).astype(np.uint8),
                        trimap=trimap, alpha=np.round(alpha * 255).astype(np.uint8),
                        mattes=np.round(mattes * 65535).astype(np.uint16), solvers=np.array(SOLVERS))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())


def case_path(key: str, root: Path | None = None) -> Path:
    """Where case ``key`` (``subject/name``) is stored."""
    return (root or cache_root()) / f"{key}.npz"


def run_job(job: tuple[str, str, tuple], root: Path, box: int = 0) -> str:
    """Build, solve and store one job unless it is stored already (the solvers' box capped at ``box``
    pixels; 0: ``MAX_SOLVER_PIXELS``); returns its key."""
    key, subject, spec = job
    path = case_path(key, root)
    if path.exists():
        return key
    if spec[0] == "thin":
        from matting_gui.research.data.thin import thin_case

        image, trimap, alpha = thin_case(np.random.default_rng(_seed(key)), spec[1])
    else:
        image, trimap, alpha = _build_subject_case(subject, spec, key)
    _solve_and_store(path, key, subject, image, trimap, alpha, box)
    return key


def thin_jobs(count: int, size: int = 384) -> list[tuple[str, str, tuple]]:
    """``count`` procedural thin-structure cases (subject 'thin': in every training fold)."""
    return [(f"thin/{i:04d}", "thin", ("thin", size)) for i in range(count)]


def _worker_init() -> None:
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)


def build_cache(jobs: list[tuple[str, str, tuple]], workers: int = 1, root: Path | None = None, box: int = 0) -> int:
    """Solve every job not stored yet (``workers`` processes; the solvers' box capped at ``box`` pixels, 0:
    ``MAX_SOLVER_PIXELS``), with a progress bar; returns how many were solved now. Interrupt it at any
    time: what is stored stays, the rest is solved next time."""
    from tqdm import tqdm

    root = root or cache_root(box)
    todo = [j for j in jobs if not case_path(j[0], root).exists()]
    if not todo:
        return 0
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), unit="case", desc="solver cache")
    if workers <= 1:
        for job in todo:
            bar.set_postfix_str(job[0])
            run_job(job, root, box)
            bar.update()
    else:
        import concurrent.futures
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init) as pool:
            for key in pool.map(run_job, todo, [root] * len(todo), [box] * len(todo)):
                bar.set_postfix_str(key)
                bar.update()
    bar.close()
    return len(todo)


def load_case(path: Path) -> Case:
    """Read one stored case (``np.load`` without pickles)."""
    with np.load(path, allow_pickle=False) as data:
        return Case(str(data["key"]), str(data["subject"]), data["image"], data["trimap"], data["alpha"],
                    data["mattes"])


def crop_window(trimap: np.ndarray, rng: np.random.Generator, size: int) -> tuple[tuple[slice, slice], int]:
    """A random square window of a training crop of a case whose trimap is ``trimap`` (uint8 (H, W)):
    side 0.7–1.5 × ``size`` (within the photo), centred on an unknown pixel 90 % of the time, else
    anywhere. Returns ((rows, columns) slices, side)."""
    h, w = trimap.shape
    side = int(np.clip(size * rng.uniform(0.7, 1.5), 16, min(h, w)))
    unknown = np.argwhere((trimap > 0) & (trimap < 255))
    if len(unknown) and rng.random() < 0.9:
        cy, cx = unknown[rng.integers(len(unknown))]
        y0, x0 = int(np.clip(cy - side // 2, 0, h - side)), int(np.clip(cx - side // 2, 0, w - side))
    else:
        y0, x0 = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    return (slice(y0, y0 + side), slice(x0, x0 + side)), side


def case_paths(root: Path | None = None, subjects: set[str] | None = None) -> list[Path]:
    """The files of every stored case (of ``subjects`` when given), in sorted order of keys; nothing is read."""
    root = root or cache_root()
    return [p for p in sorted(root.glob("*/*.npz")) if subjects is None or p.parent.name in subjects]


def iter_cases(root: Path | None = None, subjects: set[str] | None = None) -> Iterator[Case]:
    """Every stored case (of ``subjects`` when given), in sorted order of keys."""
    for path in case_paths(root, subjects):
        yield load_case(path)


def network_cache(model: str = "teacher") -> Path:
    """Where the export mattes of ``model`` are kept for the solver cache's cases (``<cache>/solver_cache/…``)."""
    return cache_root().parent / f"network_{model}"


def network_matte(case_key: str, model: str = "teacher") -> np.ndarray | None:
    """The stored export matte (mirror, refine; no fusion) of ``model`` for a cached case, float32 (H, W), or None."""
    path = network_cache(model) / f"{case_key.replace('/', '__')}.npz"
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        return data["alpha"].astype(np.float32) / 65535


#: A network cache named ``<model>_oof`` holds out-of-fold mattes: each subject's from the network of the
#: cross-validation fold that held that subject out (``fusion_eval.build_oof_network_cache``), so every
#: subject's matte is an unseen-photo matte and a fusion reading it is cross-validated over all subjects.
OUT_OF_FOLD = "_oof"


def is_out_of_fold(model: str) -> bool:
    """Whether ``model`` names a network cache of out-of-fold mattes (honest on every subject)."""
    return model.endswith(OUT_OF_FOLD)


def thin_kind(key: str) -> str:
    """The kind (``data.thin.THIN_KINDS``: mesh, yarn, sheet, leaves) of the stored procedural thin case ``key``
    (``thin/0007``), from the draws its seed starts with: the background photos the cache was built from
    must be there ('unknown' without any)."""
    from .data.thin import thin_plan

    try:
        return thin_plan(np.random.default_rng(_seed(key)))[2]
    except FileNotFoundError:
        return "unknown"


def case_fold(key: str, subject: str, groups: list[list[str]]) -> int:
    """The fold of a case: its subject's group in ``groups``; a procedural case (no subject) by a fixed hash
    of its key, so the thin cases spread evenly and always over the same folds."""
    for k, group in enumerate(groups):
        if subject in group:
            return k
    return _seed(key) % len(groups)
