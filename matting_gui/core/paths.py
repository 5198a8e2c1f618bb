"""Where things live: the shared data folder, the cache, the bundled models."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = PACKAGE_DIR.parent


def data_root() -> Path:
    """The matting data folder: ``$MATTING_DATA``, else ``../shared/data`` beside the checkout."""
    env = os.environ.get("MATTING_DATA")
    if env:
        return Path(env).expanduser()
    for base in (REPO_DIR, Path.cwd()):
        candidate = (base / ".." / "shared" / "data").resolve()
        if candidate.is_dir():
            return candidate
    return (REPO_DIR / ".." / "shared" / "data").resolve()


def cache_dir() -> Path:
    """Per-user cache (``$MATTING_CACHE`` or ``~/.cache/matting-gui``), created on demand."""
    path = Path(os.environ.get("MATTING_CACHE", Path.home() / ".cache" / "matting-gui")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    """Folder of the shipped weights: ``$MATTING_MODELS`` or ``models/`` beside the package."""
    env = os.environ.get("MATTING_MODELS")
    return Path(env).expanduser() if env else REPO_DIR / "models"


def printable(text: object) -> str:
    """Text safe to print or show in Qt: bytes of file names that are not UTF-8 appear escaped."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")
