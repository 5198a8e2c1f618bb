"""Network configuration: one frozen dataclass and its presets (teachers and students).

The config is serialised into every checkpoint and weights file, and the network
is always rebuilt from it (``build_network(config)``), never from code defaults.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from matting_gui.core.editing.trimap import ENCODINGS

#: Input channels of the default trimap encoding: RGB (3) + trimap one-hot (3: background, unknown,
#: foreground) + 2 distance-to-known maps (foreground, background). See ``trimap.encode_inputs``.
INPUT_CHANNELS = ENCODINGS["proximity"]

ENCODERS = ("resnet", "efficientnet_lite0")
#: Output channels of the efficientnet_lite0 encoder at strides 2, 4, 8, 16, 32.
LITE0_CHANNELS = (16, 24, 40, 112, 320)


@dataclass(frozen=True)
class NetConfig:
    """Encoder–decoder shape. Channel lists go from high to low resolution."""

    name: str = "teacher"
    in_channels: int = INPUT_CHANNELS
    # stem width at stride 2 (two 3x3 convs)
    stem: int = 24
    # encoder stage widths at strides 4, 8, 16, 32 (the letter's conv2..conv5)
    widths: tuple[int, int, int, int] = (40, 80, 160, 256)
    # residual blocks per encoder stage; the first block of a stage downsamples
    depths: tuple[int, int, int, int] = (2, 2, 3, 2)
    # decoder widths after fusing the skip at strides 16, 8, 4, 2
    decoder: tuple[int, int, int, int] = (128, 80, 40, 24)
    # width of the full-resolution refinement head
    refine: int = 16
    # Light decoder: each fusion is up(1x1(x)) + 3x3(skip) instead of 3x3(cat(up(x), skip)).
    # A 1x1 conv commutes with bilinear upsampling, so the coarse path is mixed at low
    # resolution and no full-size concatenation is ever copied (cat was 21% of the
    # student's CPU time at 1 MP); the refinement head likewise.
    light_decoder: bool = False
    # Encoder family: "resnet" (stem + residual stages built from stem/widths/depths) or
    # "efficientnet_lite0" (fixed layout, see mobile_encoder; stem/widths must be its channels,
    # depths are ignored), which training can start from ImageNet weights.
    encoder: str = "resnet"
    # 3x3 convs in the resnet encoder's stride-2 stem (2, or 1 for a cheaper high-resolution end)
    stem_convs: int = 2
    # Sub-pixel refinement (light decoder only): the full-resolution head runs at stride 2 on the
    # pixel-unshuffled input (a 1x1 conv over each 2x2 block) and predicts the four full-resolution
    # logits of each block, put in place by pixel shuffle. No convolution runs at full resolution
    # (at 1 MP the full-resolution head was 60 % of the wide student's time).
    subpixel_refine: bool = False
    # How the trimap reaches the network (``trimap.ENCODINGS``); in_channels must be its channel count.
    trimap_encoding: str = "proximity"

    def __post_init__(self) -> None:
        # bounds first: a weights header asking for width 20000 must fail here, before anything
        # is allocated (a 1024-wide layer is 4x the widest we train)
        if not isinstance(self.name, str) or not 0 < len(self.name) <= 64:
            raise ValueError(f"network name must be a string of 1-64 characters, got {self.name!r}")
        if self.trimap_encoding not in ENCODINGS:
            raise ValueError(f"unknown trimap encoding {self.trimap_encoding!r}; choose one of {list(ENCODINGS)}")
        if type(self.in_channels) is not int or self.in_channels != ENCODINGS[self.trimap_encoding]:
            raise ValueError(f"network config in_channels={self.in_channels!r} does not fit its trimap encoding "
                             f"{self.trimap_encoding!r} ({ENCODINGS[self.trimap_encoding]} channels)")
        for key, lo, hi in (("stem", 1, 1024), ("widths", 1, 1024),
                            ("depths", 1, 16), ("decoder", 1, 1024), ("refine", 1, 1024)):
            value = getattr(self, key)
            values = value if isinstance(value, tuple) else (value,)
            if isinstance(value, tuple) and len(value) != 4:
                raise ValueError(f"network config {key} needs 4 values, got {len(value)}")
            if not all(type(v) is int and lo <= v <= hi for v in values):
                raise ValueError(f"network config {key}={value!r} is outside {lo}..{hi}")
        for key in ("light_decoder", "subpixel_refine"):
            if type(getattr(self, key)) is not bool:
                raise ValueError(f"network config {key} must be true or false, got {getattr(self, key)!r}")
        if self.subpixel_refine and not self.light_decoder:
            raise ValueError("network config subpixel_refine needs light_decoder")
        if type(self.stem_convs) is not int or self.stem_convs not in (1, 2):
            raise ValueError(f"network config stem_convs must be 1 or 2, got {self.stem_convs!r}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"unknown encoder {self.encoder!r}; choose one of {list(ENCODERS)}")
        if self.encoder == "efficientnet_lite0" and (self.stem, *self.widths) != LITE0_CHANNELS:
            raise ValueError(f"encoder efficientnet_lite0 has channels {LITE0_CHANNELS} (stem, widths), "
                             f"config says {(self.stem, *self.widths)}")

    def to_json(self) -> str:
        """Serialise to a JSON string (tuples become lists)."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> NetConfig:
        """Rebuild from ``to_json`` output; unknown keys raise ``ValueError``."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown network config keys: {sorted(unknown)}")
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> NetConfig:
        """Inverse of ``to_json``."""
        return cls.from_dict(json.loads(text))


TEACHER = NetConfig()
# About half the teacher's channels, one block per stage (fewer encoder layers).
# Widths are multiples of 8: with torch 2.13 on CPU, channels_last backward through
# a 12-channel stem corrupts the heap (seen here: "double free or corruption").
STUDENT = NetConfig(
    name="student",
    stem=16,
    widths=(24, 40, 80, 128),
    depths=(1, 1, 1, 1),
    decoder=(64, 40, 24, 16),
    refine=8,
    light_decoder=True,
)

# The student's encoder with a high-resolution end as wide as the teacher's (decoder outputs at
# strides 4 and 2, and the full-resolution refinement): +29 % MACs, +1.5 % parameters. The shipped
# student (models/student.safetensors) uses it: distilled, it beats the narrow preset on every
# photo metric, and distillation keeps a clear lead over the same preset trained alone (README).
STUDENT_WIDE = dataclasses.replace(STUDENT, name="student_wide", decoder=(64, 40, 40, 24), refine=16)

# The wide-end student made cheap where CPU convolutions are slowest, at full and half resolution:
# a one-conv stem and the sub-pixel refinement head (same encoder stages, decoder and widths).
# At 1 MP on 2 threads its forward pass took ~0.6x the time of student_wide's (bench/latency.py).
STUDENT_FAST = dataclasses.replace(STUDENT_WIDE, name="student_fast", stem_convs=1, subpixel_refine=True)

# A teacher on an EfficientNet-Lite0 encoder, so training can start from ImageNet weights
# (the letter's teacher starts from an ImageNet VGG16); the decoder is the teacher's.
TEACHER_LITE = NetConfig(name="teacher_lite", stem=16, widths=(24, 40, 112, 320), depths=(2, 2, 6, 5),
                         encoder="efficientnet_lite0")

PRESETS: dict[str, NetConfig] = {"teacher": TEACHER, "student": STUDENT, "student_wide": STUDENT_WIDE,
                                 "student_fast": STUDENT_FAST,
                                 "teacher_lite": TEACHER_LITE}


def with_encoding(config: NetConfig, encoding: str) -> NetConfig:
    """``config`` with the trimap encoding ``encoding`` (and its input channel count)."""
    # an unknown encoding is refused by NetConfig's own check, with the same message
    return dataclasses.replace(config, trimap_encoding=encoding, in_channels=ENCODINGS.get(encoding, 0))


def preset(name: str) -> NetConfig:
    """Return the preset called ``name`` (one of ``PRESETS``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
