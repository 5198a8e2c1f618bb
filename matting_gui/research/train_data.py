"""The data of a training run: the sample stream and the validation items, from the shared
matting data or (without it) procedurally generated."""

from __future__ import annotations

import numpy as np
import torch

from matting_gui.core.nets.synthetic import generated_backgrounds
from matting_gui.research.train_config import TrainConfig


def synthetic_validation(seed: int, count: int = 6, side: int = 96) -> list:
    """Validation items without a data folder: ``count`` procedural subjects over generated backgrounds."""
    from matting_gui.core.editing.trimap import trimap_from_alpha
    from matting_gui.core.nets.synthetic import synthetic_foreground
    from matting_gui.research.data.validation import ValItem

    rng = np.random.default_rng(seed + 999)
    bgs = generated_backgrounds(seed + 999, count + 1, side)
    items = []
    for i in range(count):
        fg, alpha = synthetic_foreground(rng, side, bgs[-1])
        img = alpha[..., None] * fg + (1 - alpha[..., None]) * bgs[i]
        tri = trimap_from_alpha(alpha, 4, 4)
        if not ((tri == 128).any() and (tri == 0).any() and (tri == 255).any()):
            continue  # every validation trimap has all three regions (closed-form needs them)
        items.append(ValItem(f"synthetic{i}", "composite", img.astype(np.float32), tri, alpha))
    return items


def _data_mode(cfg: TrainConfig) -> str:
    from matting_gui.core.files.paths import data_root

    if cfg.data != "auto":
        return cfg.data
    return "shared" if (data_root() / "alphamatting" / "image").is_dir() else "synthetic"


def build_data(cfg: TrainConfig, encoding: str = "proximity"):
    """(training dataset, validation items, description of the data for the model card); the
    dataset's inputs in trimap ``encoding``."""
    from matting_gui.research.data.samples import MattingSamples

    mode = _data_mode(cfg)
    recipe = dict(p_painted=cfg.p_painted, realism=cfg.realism, p_fg_seeds=cfg.p_fg_seeds, p_foliage=cfg.p_foliage,
                  p_hair=cfg.p_hair, p_thin=cfg.p_thin, p_bg_structure=cfg.p_bg_structure,
                  structure_band=cfg.structure_band, p_islands=cfg.p_islands, p_two_fg=cfg.p_two_fg, p_affine=cfg.p_affine,
                  hue=cfg.hue, encoding=encoding)
    if mode == "synthetic":
        ds = MattingSamples([], generated_backgrounds(cfg.seed), cfg.size, cfg.seed, **recipe)
        return ds, synthetic_validation(cfg.seed), "generated synthetic foregrounds over generated backgrounds"
    if mode != "shared":
        raise ValueError(f"unknown data mode {cfg.data!r}; choose auto, shared or synthetic")
    from matting_gui.research.data.sources import background_paths, load_backgrounds, load_split, load_subjects
    from matting_gui.research.data.validation import build_validation_set, parse_val_kinds, with_kinds

    split = load_split(cfg.split)
    subjects = load_subjects(split["train"])
    backgrounds = load_backgrounds(background_paths("train"))
    ds = MattingSamples(subjects, backgrounds, cfg.size, cfg.seed, **recipe)
    desc = (
        f"alphamatting training images {split['train']} (split {cfg.split}; composited over BSDS500 train "
        "backgrounds, and as original photos) + procedural synthetic foregrounds"
        + (f" ({cfg.p_foliage:.0%} of all samples procedural plants)" if cfg.p_foliage else "")
        + (f" ({cfg.p_hair:.0%} of all samples procedural heads of hair)" if cfg.p_hair else "")
        + (f" ({cfg.p_thin:.0%} of all samples procedural thin structures: nets, yarn, strands, leaves)"
           if cfg.p_thin else "")
        + (f"; {cfg.p_bg_structure:.0%} of composites with a fence, girders, bars or branches painted into the "
           "background" if cfg.p_bg_structure else "")
        + (f" (under an unknown band 8-{cfg.structure_band} px wide at 256 px)" if cfg.structure_band else "")
        + (f"; {cfg.p_painted:.0%} hand-painted-style trimaps" if cfg.p_painted else "")
        + (f" ({cfg.p_fg_seeds:.0%} of them with the foreground unpainted but for seeds)" if cfg.p_fg_seeds else "")
        + (f" ({cfg.p_islands:.0%} of them with unknown islands inside the foreground)" if cfg.p_islands else "")
        + ("; defocused backgrounds, JPEG re-compression" if cfg.realism else "")
        + (f"; {cfg.p_two_fg:.0%} of real composites two subjects merged" if cfg.p_two_fg else "")
        + (f"; {cfg.p_affine:.0%} of composites warped (rotation, scale, shear)" if cfg.p_affine else "")
        + (f"; foreground hue rotated up to {cfg.hue:g} degrees" if cfg.hue else "")
        + ("; validation subjects trained on too: its numbers measure fit" if set(split["val"]) <= set(split["train"]) else "")
    )
    return ds, with_kinds(build_validation_set(cfg.split), parse_val_kinds(cfg.val_kinds)), desc


def worker_init(_: int) -> None:
    """DataLoader worker start: one torch and one OpenCV thread per worker, and deaf to SIGTERM, SIGINT and
    SIGHUP: a stop sent to the whole process group (a closing terminal, a scheduler, Ctrl+C) is the main
    process's to handle; it checkpoints, then ends its workers itself. A worker killed first would make
    the DataLoader raise in the middle of the checkpoint."""
    import signal

    import cv2

    for sig in (signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
