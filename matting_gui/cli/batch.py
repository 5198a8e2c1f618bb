"""What ``matting-cli``'s batch commands share: colours given on the command line, trimaps matched by
stem, the check that no output overwrites an input, and the one line a failed file gets."""

from __future__ import annotations

from pathlib import Path

import cv2

from matting_gui.core.editing.trimap import TrimapError
from matting_gui.core.files.imageio import SUPPORTED_SUFFIXES, ImageError
from matting_gui.core.files.outputs import OutputRequest, output_paths


def parse_colour(text: str) -> tuple[float, float, float] | None:
    """'#rrggbb', 'r,g,b' (0-255) or a name (white, black, red, green, blue, gray) → RGB in [0, 1]; else None."""
    names = {"white": (255, 255, 255), "black": (0, 0, 0), "red": (255, 0, 0), "green": (0, 255, 0),
             "blue": (0, 0, 255), "gray": (128, 128, 128), "grey": (128, 128, 128)}
    t = text.strip().lower()
    rgb = None
    if t in names:
        rgb = names[t]
    elif t.startswith("#") and len(t) == 7:
        try:
            rgb = tuple(int(t[i : i + 2], 16) for i in (1, 3, 5))
        except ValueError:
            return None
    elif t.count(",") == 2:
        try:
            rgb = tuple(int(v) for v in t.split(","))
        except ValueError:
            return None
        if not all(0 <= v <= 255 for v in rgb):
            return None
    return None if rgb is None else tuple(v / 255.0 for v in rgb)


def find_by_stem(folder: Path, stem: str) -> Path | None:
    """The file ``folder/stem.<supported suffix>`` (any case of the suffix), or None."""
    for suffix in SUPPORTED_SUFFIXES + tuple(s.upper() for s in SUPPORTED_SUFFIXES):
        p = folder / f"{stem}{suffix}"
        if p.exists():
            return p
    return None


def output_clash(images: list[Path], trimaps: list[Path], composite: str | None, out: Path,
                  trimap_dir: Path | None = None) -> str | None:
    """A one-line reason when the outputs of ``images`` in ``out`` would overwrite an input (a photo, a
    trimap, also any trimap in ``trimap_dir`` that a photo's stem could pick, the composite background) or
    each other. Names are compared case-folded: on macOS and Windows ``IMG.png`` and ``img.jpg`` collide."""
    stems: dict[str, Path] = {}
    for path in images:
        key = path.stem.casefold()
        if key in stems:
            return (f"{stems[key]} and {path} share the name {path.stem!r}: their outputs in {out} would "
                    "overwrite each other; matte them into different --out folders")
        stems[key] = path
    candidates = list(images) + list(trimaps)
    if trimap_dir is not None and trimap_dir.is_dir():
        candidates += [t for t in trimap_dir.iterdir() if t.stem.casefold() in stems]
    if composite and Path(composite).exists():
        candidates.append(Path(composite))
    inputs = {str(p.resolve()).casefold() for p in candidates if p.exists()}
    every = OutputRequest(matte=True, cutout=True, composite=True)
    for path in stems.values():
        for target in output_paths(out, path.stem, every).values():
            if str(target.resolve()).casefold() in inputs:
                return (f"{target.resolve()}: is an input and would be overwritten by an output; choose another "
                        "--out folder")
    return None


#: What one input file's failure may raise: the file fails with one line and the batch goes on.
#: RuntimeError is torch's "can't allocate memory" (and cv2.error, a subclass of Exception, OpenCV's).
FILE_FAILURES = (ImageError, TrimapError, OSError, ValueError, MemoryError, RuntimeError, cv2.error)


def file_failure(path: Path, exc: BaseException) -> str:
    """One line for ``exc`` raised while matting ``path``: its message, naming the file; running out
    of memory (Python's, torch's or OpenCV's) says so and what to try."""
    text = str(exc) or type(exc).__name__  # whole: print_error escapes any newline (a file name may hold one)
    first = text.splitlines()[0][:200] if text.strip() else text
    if isinstance(exc, MemoryError) or "allocate" in first or "Insufficient memory" in first:
        text = "not enough memory to matte it; try a smaller --working-pixels, --no-refine or --no-mirror"
    elif isinstance(exc, RuntimeError | cv2.error):
        text = f"failed ({type(exc).__name__}: {first})"
    return text if text.startswith(str(path)) else f"{path}: {text}"
