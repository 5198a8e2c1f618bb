"""Where model weights live and how they fail, without importing torch.

The CLI's argument errors and ``--help`` and the app's model menus need the installed model
names and ``WeightsError``; loading the weights themselves (``core.weights``) imports torch.
"""

from __future__ import annotations

import os
from pathlib import Path

from matting_gui.core.files.paths import models_dir

# The models the app and CLI know by name → the network preset each is trained from.
INSTALLED_MODELS = {"student": "student_fast", "teacher": "teacher_lite"}
# The one that computes final mattes unless told otherwise: the app's export and `matting-cli matte`.
FINAL_MODEL = "teacher"
#: Export's steps by default (``Predictor.predict`` keywords), in the app and in ``matting-cli matte`` alike.
#: Solver fusion is off: on the subjects the teacher never saw it did not beat export's matte in
#: cross-validation (docs/fusion.md).
EXPORT_STEPS = {"mirror": True, "refine": True, "fuse": False}


class WeightsError(RuntimeError):
    """Missing, corrupt or incompatible weights. ``str()`` is a one-line reason."""


def card_path(weights: Path) -> Path:
    """The model card beside a weights file: ``x.safetensors`` → ``x.json``."""
    return weights.with_suffix(".json")


def resolve_model(name_or_path: str | os.PathLike) -> Path:
    """An installed model's name ('student', 'teacher') → ``models/<name>.safetensors``; else the path itself."""
    text = str(name_or_path)
    if text in INSTALLED_MODELS:
        path = models_dir() / f"{text}.safetensors"
        if not path.exists():
            raise WeightsError(
                f"no trained {text} weights at {path}; train them with "
                f"`matting-lab train --preset {INSTALLED_MODELS[text]} ...` (see README, 'Training') "
                f"or pass --model PATH"
            )
        return path
    path = Path(text)
    if not path.exists():
        raise WeightsError(f"{path}: weights file not found")
    return path
