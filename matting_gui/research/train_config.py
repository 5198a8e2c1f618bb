"""What a training run is: ``TrainConfig`` (stored in every checkpoint) and its schedules."""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, field

from matting_gui.core.editing.trimap import ENCODINGS, SOLVER_ENCODINGS
from matting_gui.core.nets.config import PRESETS
from matting_gui.research.data.sources import SPLITS
from matting_gui.research.data.validation import parse_val_kinds
from matting_gui.research.distill import parse_stages

#: The feature terms' default weights (see TrainConfig.kd_weights).
KD_WEIGHTS = {"spatial": 1.0, "channel": 0.5, "batch": 5.0, "attention": 50.0, "decoder": 1.0}
#: Bytes one training pixel costs at most, all in: the teacher's activations kept for the backward pass
#: and their gradients (fp32), the student's, and the batch's input planes. An upper bound from the
#: teacher_lite preset's encoder and decoder widths at each stride, summed as if at full resolution.
BYTES_PER_TRAINING_PIXEL = 6_000


def step_memory_bytes(batch: int, size: int) -> int:
    """An upper estimate of one training step's memory for ``batch`` crops of ``size``² pixels."""
    return batch * size * size * BYTES_PER_TRAINING_PIXEL


def physical_memory_bytes() -> int:
    """This machine's physical memory in bytes (0 where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0

#: The fixed names a run writes in its folder.
RUN_FILES = ("checkpoint.pt", "log.jsonl", "best.safetensors", "best.json", "final.safetensors", "final.json")


@dataclass
class TrainConfig:
    """Everything a run needs; stored in the checkpoint. Unknown keys are rejected."""

    preset: str = "teacher"  # network preset: teacher | teacher_lite | student | student_wide
    out: str = "runs/teacher"  # folder for checkpoint, logs and exported weights
    steps: int = 20000  # total optimisation steps (the schedule's length)
    batch: int = 8  # samples per step per process
    size: int = 256  # training crop side in pixels (multiple of 32)
    lr: float = 1e-3  # peak learning rate (AdamW)
    min_lr_ratio: float = 0.02  # cosine decays to lr * min_lr_ratio
    warmup: int = 300  # linear warm-up steps
    weight_decay: float = 1e-4
    clip: float = 1.0  # gradient-norm clip
    ema: float = 0.0  # weight-average decay per step (e.g. 0.998); validation and exports use the average; 0: off
    w_alpha: float = 1.0
    w_comp: float = 0.5
    w_grad: float = 0.5
    kd: str = "none"  # distillation kinds joined with '+': spatial, channel, batch, attention, output
    teacher: str = ""  # teacher weights (.safetensors) for distillation
    kd_stages: str = "all"  # encoder stages the feature terms cover, 1-4 joined with '+' (strides 4…32), or all
    w1: float = 0.5  # output term: weight of the teacher's alpha vs the ground truth
    # Output term only where the teacher's alpha is within this of the ground truth (elsewhere the
    # ground truth alone); 1.0: everywhere, the letter's term.
    teacher_gate: float = 1.0
    # From this fraction of `steps` on, every teacher term (feature terms and w1) fades linearly
    # to zero at the last step, so training ends on the ground truth alone; 1.0: constant weights.
    kd_decay_from: float = 1.0
    # Per-kind weights of the feature terms. Calibrated so each starts near the alpha loss
    # (0.44 for an untrained student): measured against the teacher at step 1000, the raw
    # terms summed over 4 stages were spatial 0.51, channel 1.47, batch 0.096, attention 0.0105;
    # decoder (untrained student vs the final teacher, 16 training crops): 0.59, spatial 0.53 there.
    kd_weights: dict = field(default_factory=lambda: dict(KD_WEIGHTS))
    init: str = ""  # start from these weights (.safetensors) instead of random
    data: str = "auto"  # auto | shared | synthetic (generated only: for tests)
    split: str = "v1"  # alphamatting train/validation split: v1 (4 easy val subjects) | v2 (hard ones, wide trimaps)
    p_painted: float = 0.0  # share of samples with a hand-painted-style trimap (data.painted) instead of a band
    p_fg_seeds: float = 0.0  # of the painted trimaps, the share with the foreground unpainted but for 0-2 seeds
    p_foliage: float = 0.0  # share of samples that are procedural plants / tree crowns (core.synthetic)
    p_hair: float = 0.0  # share of samples that are procedural heads of long fine hair (data.hair)
    p_thin: float = 0.0  # share of samples that are procedural thin structures, foreground mostly unpainted (data.thin)
    p_bg_structure: float = 0.0  # share of composites whose background gets fences/girders/bars/branches (data.structure)
    structure_band: int = 0  # with p_bg_structure: those samples' band dilated 8..this px (at 256); 0: usual trimaps
    p_islands: float = 0.0  # of the painted trimaps, the share with unknown islands inside the foreground
    realism: bool = False  # defocused backgrounds and JPEG re-compression in composites
    p_two_fg: float = 0.0  # share of real composites merging a second subject behind the first (data.augment)
    p_affine: float = 0.0  # share of composites warped: rotation, scale, shear, random interpolation
    hue: float = 0.0  # largest hue rotation (degrees) of a composite's foreground, applied to half of them
    trimap_encoding: str = ""  # the network's trimap encoding (core.trimap.ENCODINGS); "": the preset's
    pretrained: str = ""  # "imagenet": start an efficientnet_lite0 encoder from ImageNet weights (pretrained.py)
    encoder_lr_scale: float = 1.0  # with `pretrained`: the encoder's learning rate is lr × this
    seed: int = 0
    workers: int = 1  # DataLoader worker processes
    threads: int = 1  # torch threads per process
    device: str = "cpu"  # cpu | cuda | auto (cuda when available): where the networks train and validate
    val_every: int = 500  # validate every N steps (0: only at the end)
    val_limit: int = 0  # evaluate only the first N validation items (0: all)
    # validation kinds (data.validation.KINDS), ','-separated; their mean over all items picks best.safetensors
    val_kinds: str = "photo,wide,composite"
    log_every: int = 20
    checkpoint_minutes: float = 5.0
    resume: bool = False
    stop_at: int = 0  # end this invocation at this step (checkpointed), schedule unchanged; 0: run to `steps`
    max_minutes: float = 0.0  # end this invocation after this much wall time (checkpointed); 0: no limit

    def __post_init__(self) -> None:
        """Every value checked against its field's type and range: a bad config is a one-line ValueError."""
        for f in dataclasses.fields(self):
            value, kind = getattr(self, f.name), f.type
            ok = {"int": type(value) is int, "float": type(value) in (int, float), "str": isinstance(value, str),
                  "bool": type(value) is bool, "dict": isinstance(value, dict)}.get(str(kind), True)
            if not ok:
                raise ValueError(f"training config {f.name} = {value!r} should be of type {kind}")
        for name, low, high in (("steps", 1, None), ("batch", 1, None), ("size", 32, 4096), ("warmup", 0, None),
                                ("workers", 0, 64), ("threads", 1, 1024), ("val_every", 0, None), ("val_limit", 0, None),
                                ("log_every", 1, None), ("stop_at", 0, None), ("lr", 1e-20, 10.0),
                                ("min_lr_ratio", 0.0, 1.0), ("w1", 0.0, 1.0), ("teacher_gate", 0.0, 1.0),
                                ("kd_decay_from", 0.0, 1.0),
                                ("p_painted", 0.0, 1.0), ("p_fg_seeds", 0.0, 1.0), ("p_foliage", 0.0, 1.0),
                                ("p_hair", 0.0, 1.0), ("p_thin", 0.0, 1.0), ("p_islands", 0.0, 1.0), ("p_bg_structure", 0.0, 1.0), ("structure_band", 0, 256),
                                ("p_two_fg", 0.0, 1.0), ("p_affine", 0.0, 1.0), ("hue", 0.0, 180.0),
                                ("encoder_lr_scale", 1e-6, 100.0), ("clip", 1e-9, None),
                                ("checkpoint_minutes", 1e-3, None), ("weight_decay", 0.0, 1.0),
                                ("max_minutes", 0.0, None), ("ema", 0.0, 0.99999)):
            value = getattr(self, name)
            if value < low or (high is not None and value > high) or value != value:
                raise ValueError(f"training config {name} = {value!r} is outside {low}..{high if high is not None else ''}")
        if self.size % 32:
            raise ValueError(f"size must be a multiple of 32, got {self.size}")
        for kind, weight in self.kd_weights.items():
            if kind not in KD_WEIGHTS:
                raise ValueError(f"training config kd_weights: unknown kind {kind!r}; choose from {sorted(KD_WEIGHTS)}")
            if not (type(weight) in (int, float) and math.isfinite(weight) and weight >= 0):
                raise ValueError(f"training config kd_weights.{kind} = {weight!r} should be a number ≥ 0")
        need = step_memory_bytes(self.batch, self.size)
        have = physical_memory_bytes()
        if have and need > have:
            raise ValueError(f"training config batch {self.batch} × size {self.size}² needs about "
                             f"{need / 2**30:.0f} GB per step; this machine has {have / 2**30:.0f} GB")
        if self.p_foliage + self.p_hair + self.p_thin > 1:
            raise ValueError(f"p_foliage + p_hair + p_thin = {self.p_foliage + self.p_hair + self.p_thin:g} "
                             "is more than every sample")
        try:
            parse_stages(self.kd_stages)
        except ValueError as exc:
            raise ValueError(f"training config kd_stages: {exc}") from None
        try:
            parse_val_kinds(self.val_kinds)
        except ValueError as exc:
            raise ValueError(f"training config val_kinds: {exc}") from None
        choices = {"preset": tuple(PRESETS), "split": SPLITS, "data": ("auto", "shared", "synthetic"),
                   "pretrained": ("", "imagenet"), "device": ("cpu", "cuda", "auto"),
                   "trimap_encoding": ("", *(e for e in ENCODINGS if e not in SOLVER_ENCODINGS))}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"training config {name} = {getattr(self, name)!r}; choose one of {list(allowed)}")

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """Build from a dict (e.g. a TOML file), rejecting unknown keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown training config keys: {unknown}")
        if "kd_weights" in data:  # a partial table overrides only the kinds it names
            if not isinstance(data["kd_weights"], dict):
                raise ValueError(f"training config kd_weights = {data['kd_weights']!r} should be a table of "
                                 f"kind = weight, e.g. kd_weights = {{spatial = 1.0}}")
            data = data | {"kd_weights": cls().kd_weights | dict(data["kd_weights"])}
        return cls(**data)

    @classmethod
    def from_toml(cls, path: str | os.PathLike, **overrides) -> TrainConfig:
        """Read a TOML file, then apply ``overrides`` (also checked)."""
        with open(path, "rb") as f:
            data = tomllib.load(f)
        return cls.from_dict(data | overrides)


def kd_scale_at(step: int, total: int, decay_from: float) -> float:
    """Multiplier in [0, 1] of the distillation terms at ``step``: 1 until ``decay_from``·total, then linear to 0."""
    start = decay_from * total
    if decay_from >= 1.0 or step < start:
        return 1.0
    return max(0.0, 1.0 - (step - start) / max(1e-9, total - start))


def lr_at(step: int, base: float, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warm-up to ``base`` over ``warmup`` steps, then cosine down to base·min_ratio at ``total``."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))
