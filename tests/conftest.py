"""Shared fixtures: tiny generated images and trimaps, and model files with random weights."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from matting_gui.core.nets.config import STUDENT_FAST, TEACHER_LITE  # noqa: E402
from matting_gui.core.nets.network import build_network  # noqa: E402
from matting_gui.core.nets.weights import save_weights  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "resources" / "samples" / "astronaut.png"
SAMPLE_TRIMAP = REPO / "resources" / "samples" / "astronaut_trimap.png"


def make_photo(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth random RGB float32 (h, w, 3) image in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(3 * xx + c) * 0.5 + 0.5 for c in range(3)], axis=2)
    return np.clip(base * 0.8 + rng.random((h, w, 3)) * 0.2, 0, 1).astype(np.float32)


def make_trimap(h: int = 48, w: int = 64) -> np.ndarray:
    """A disc of foreground with an unknown ring, uint8 (h, w) {0, 128, 255}."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot(yy - h / 2, xx - w / 2)
    tri = np.zeros((h, w), np.uint8)
    tri[r < min(h, w) * 0.4] = 128
    tri[r < min(h, w) * 0.25] = 255
    return tri


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """Each test gets its own cache and an empty models folder unless it provides one."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("MATTING_CACHE", str(cache))
    monkeypatch.setenv("MATTING_USER_DATA", str(tmp_path_factory.mktemp("userdata")))
    monkeypatch.setenv("MATTING_MODELS", str(tmp_path_factory.mktemp("models-empty")))
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A models folder with random-weight student and teacher files (as `models/` will hold)."""
    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    for name, cfg in (("student", STUDENT_FAST), ("teacher", TEACHER_LITE)):  # the presets models/ ships
        save_weights(folder / f"{name}.safetensors", build_network(cfg), {"note": "random weights (test fixture)"})
    return folder


@pytest.fixture
def models(model_dir, monkeypatch) -> Path:
    """Point the app and CLI at the fixture models folder."""
    monkeypatch.setenv("MATTING_MODELS", str(model_dir))
    return model_dir


@pytest.fixture
def fusion_model(models):
    """A fusion network with random weights installed beside the fixture models (removed afterwards)."""
    from matting_gui.core.nets.fusion import FusionConfig, FusionNet, save_fusion

    torch.manual_seed(3)
    net = FusionNet(FusionConfig(width=8, dilations=(1, 2)))
    torch.nn.init.normal_(net.head.weight, std=0.5)
    path = save_fusion(models / "fusion.safetensors", net, {"export_rule": "mean"})
    yield path
    path.unlink()
    path.with_suffix(".json").unlink()


def python_output(code: str, timeout: float = 300) -> str:
    """Run ``code`` in a fresh Python interpreter (this one); assert it exits 0 (its stderr's tail in the
    message otherwise) and return its stdout, stripped."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.strip()
