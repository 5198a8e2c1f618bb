"""What an export writes, for the CLI and the app alike: ``<stem>_matte.png``, ``<stem>_cutout.<fmt>``,
``<stem>_composite.<fmt>`` in one folder, each written atomically (``imagewrite``)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matting_gui.core.files.imagewrite import write_alpha, write_composite, write_rgba
from matting_gui.core.imaging.compose import cover_resize

CUTOUT_FORMATS = ("png", "webp")
COMPOSITE_FORMATS = ("png", "jpg")


@dataclass(frozen=True)
class OutputRequest:
    """Which files to write: matte (gray PNG), cutout (RGBA), composite (over a background)."""

    matte: bool = True
    cutout: bool = False
    composite: bool = False
    cutout_format: str = "png"
    composite_format: str = "png"
    quality: int = 92  # JPEG quality of a jpg composite, 1-100

    def __post_init__(self) -> None:
        if self.cutout_format not in CUTOUT_FORMATS:
            raise ValueError(f"cutout format {self.cutout_format!r}: choose one of {CUTOUT_FORMATS}")
        if self.composite_format not in COMPOSITE_FORMATS:
            raise ValueError(f"composite format {self.composite_format!r}: choose one of {COMPOSITE_FORMATS}")
        if not 1 <= int(self.quality) <= 100:
            raise ValueError(f"JPEG quality {self.quality}: choose 1-100")

    @property
    def needs_colours(self) -> bool:
        """True when a file shows colours (cutout or composite), so foreground colours matter."""
        return self.cutout or self.composite


def output_paths(folder: Path, stem: str, request: OutputRequest) -> dict[str, Path]:
    """kind ("matte", "cutout", "composite") → the path it is written to, for the kinds requested."""
    folder = Path(folder)
    paths = {"matte": folder / f"{stem}_matte.png",
             "cutout": folder / f"{stem}_cutout.{request.cutout_format}",
             "composite": folder / f"{stem}_composite.{request.composite_format}"}
    return {kind: path for kind, path in paths.items() if getattr(request, kind)}


def destination_problem(folder: Path, stem: str, request: OutputRequest, create: bool = False) -> str | None:
    """Why the files of ``request`` cannot be written as ``folder/<stem>_…``, in one line, or None: a
    name that is no plain file name, a folder that is a file or lies below one, a folder (or, not yet
    made, its nearest existing parent) that refuses a new file, an output name taken by a folder.
    The check writes and removes a probe file, so a read-only volume is caught too. create: make the
    folder (with its parents) first, as the export will. Checked before any computation starts."""
    folder = Path(folder)
    if not stem.strip() or stem in (".", "..") or any(c in stem for c in "/\\\0"):
        return f"{stem!r} is not a file name (no slashes, not empty)"
    if folder.exists() and not folder.is_dir():
        return f"{folder} is a file, not a folder"
    probe_dir = folder if folder.is_dir() else next((p for p in folder.parents if p.exists()), Path("."))
    if not probe_dir.is_dir():
        return f"{probe_dir} is a file, not a folder"
    if create and not folder.is_dir():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return f"cannot create {folder} ({exc.strerror or exc})"
        probe_dir = folder
    try:
        with tempfile.TemporaryFile(dir=probe_dir):
            pass
    except OSError as exc:
        return f"cannot write in {probe_dir} ({exc.strerror or exc})"
    for path in output_paths(folder, stem, request).values():
        if path.is_dir():
            return f"{path} is a folder; choose another file name"
    return None


def write_outputs(folder: Path, stem: str, request: OutputRequest, alpha: np.ndarray, colours: np.ndarray,
                  background: np.ndarray | tuple[float, float, float] | None = None, bit_depth: int = 8) -> list[Path]:
    """Write the requested files; returns their paths in the order matte, cutout, composite.

    alpha float32 (H, W) in [0, 1]; colours float32 (H, W, 3) in [0, 1] (decontaminated foreground
    or the photo itself); background: an RGB colour in [0, 1] or (h, w, 3) pixels of any size
    (cover-resized), needed for a composite. bit_depth 8 or 16 for the PNGs. Raises OSError or
    ImageError; a file already written stays (each is complete: atomic writes).
    """
    written = []
    for kind, path in output_paths(folder, stem, request).items():
        if kind == "matte":
            write_alpha(path, alpha, bit_depth)
        elif kind == "cutout":
            write_rgba(path, colours, alpha, bit_depth)
        else:
            if background is None:
                raise ValueError("a composite needs a background colour or image")
            if isinstance(background, np.ndarray) and background.shape[:2] != alpha.shape:
                background = cover_resize(background, *alpha.shape)
            write_composite(path, colours, alpha, background, quality=int(request.quality), bit_depth=bit_depth)
        written.append(path)
    return written
