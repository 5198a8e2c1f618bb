"""Where things live: the shared data folder, the cache, the bundled models."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2]
#: The checkout's top level when run from one (an installed wheel's is site-packages: nothing there).
REPO_DIR = PACKAGE_DIR.parent


def data_root() -> Path:
    """The matting data folder: ``$MATTING_DATA``, else ``../shared/data`` beside the checkout.

    Never a folder found from the current directory: an installed (non-editable) copy that is
    run elsewhere needs ``MATTING_DATA``, rather than training on whatever lies at ``CWD/../shared``.
    """
    env = os.environ.get("MATTING_DATA")
    if env:
        return Path(env).expanduser()
    return (REPO_DIR / ".." / "shared" / "data").resolve()


def cache_dir() -> Path:
    """Per-user cache (``$MATTING_CACHE`` or ``~/.cache/matting-gui``), created on demand."""
    path = Path(os.environ.get("MATTING_CACHE", Path.home() / ".cache" / "matting-gui")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_data_dir(create: bool = True) -> Path:
    """Per-user data (``$MATTING_USER_DATA`` or ``~/.local/share/matting-gui``), created on demand unless
    ``create`` is False (``OSError`` when it cannot be): where files that belong next to read-only
    bundled resources are saved instead."""
    path = Path(os.environ.get("MATTING_USER_DATA", Path.home() / ".local" / "share" / "matting-gui")).expanduser()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def _bundled(name: str) -> Path:
    """A folder the wheel carries inside the package (``matting_gui/<name>``, mapped from the checkout's
    top-level ``<name>/`` at build time), else that top-level folder of the checkout."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else REPO_DIR / name


def models_dir() -> Path:
    """Folder of the shipped weights: ``$MATTING_MODELS``, else the installed package's ``models``
    (a wheel), else ``models/`` of the checkout."""
    env = os.environ.get("MATTING_MODELS")
    return Path(env).expanduser() if env else _bundled("models")


def resources_dir() -> Path:
    """Folder of the bundled resources (the sample photo and its trimap, the app icon)."""
    return _bundled("resources")


#: Control characters (C0, DEL, C1: newlines, escape sequences) → visible escapes such as ``\x1b``; and the
#: bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C), which can make a name read
#: backwards (``photo\u202egnp.exe``) → ``\u202e``.
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]}
_CONTROL |= {c: f"\\u{c:04x}" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C]}


def printable(text: object) -> str:
    """One line safe to print or show in Qt: bytes of file names that are not UTF-8 and control
    characters (a newline, a terminal escape sequence in a name) appear escaped."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8").translate(_CONTROL)


def trimap_beside(photo: Path) -> Path:
    """Where a photo's trimap is kept: ``<stem>_trimap.png`` in the photo's folder (the app saves it
    there; ``matting-cli matte`` reads it when no trimap is given)."""
    return photo.with_name(f"{photo.stem}_trimap.png")
