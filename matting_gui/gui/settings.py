"""The app's persistent settings, typed: one property per key, in one place (QSettings underneath)."""

from __future__ import annotations

import math
from collections.abc import Iterator, MutableMapping
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from matting_gui.core.nets.model_files import EXPORT_STEPS, FINAL_MODEL, INSTALLED_MODELS

MAX_RECENT = 10


def _flag(value) -> bool:
    return str(value).lower() in ("true", "1")


def _within(lo: float, hi: float):
    """A check that a number is finite and in [lo, hi]."""
    return lambda v: math.isfinite(v) and lo <= v <= hi


class _Setting:
    """A typed property over one QSettings key. A stored value that cannot be read as ``kind``, or that
    ``valid`` refuses (for numbers: also anything not finite), reads as the default and is listed in the
    owner's ``rejected`` (once), so the app can say so."""

    def __init__(self, key: str, default, kind=str, valid=None):
        self.key, self.default, self.kind, self.valid = key, default, kind, valid

    def __get__(self, owner: Settings | None, _type=None):
        if owner is None:
            return self
        raw = owner.qsettings.value(self.key, None)
        if raw is None:
            return self.default
        try:
            value = _flag(raw) if self.kind is bool else self.kind(raw)
            if self.kind in (int, float) and not math.isfinite(value) or self.valid and not self.valid(value):
                raise ValueError(raw)
        except (TypeError, ValueError, OverflowError):
            note = f"{self.key}={str(raw)[:40]}"
            if note not in owner.rejected:
                owner.rejected.append(note)
            return self.default
        return value

    def __set__(self, owner: Settings, value) -> None:
        owner.qsettings.setValue(self.key, ("true" if value else "false") if self.kind is bool else value)


class Settings:
    """Typed access to the app's QSettings (injectable: tests pass an INI file in a temp folder)."""

    model = _Setting("model", "student")
    device = _Setting("device", "cpu")
    refine = _Setting("refine", True, bool)
    view_mode = _Setting("view_mode", "trimap")
    brush_radius = _Setting("brush_radius", 20.0, float, _within(0.5, 5000))
    brush_fraction = _Setting("brush_fraction", 0.0, float, _within(0, 1))  # radius / photo diagonal (0: unknown)
    band_radius = _Setting("band_radius", 12, int, _within(1, 500))
    last_folder = _Setting("last_folder", str(Path.home()))
    export_folder = _Setting("export_folder", "")
    export_mirror = _Setting("export_mirror", EXPORT_STEPS["mirror"], bool)
    export_refine = _Setting("export_refine", EXPORT_STEPS["refine"], bool)
    export_fuse = _Setting("export_fuse", EXPORT_STEPS["fuse"], bool)
    export_model = _Setting("export_model", FINAL_MODEL)
    export_cutout = _Setting("export_cutout", True, bool)
    export_composite = _Setting("export_composite", False, bool)
    export_cutout_format = _Setting("export_cutout_format", "png")
    export_composite_format = _Setting("export_composite_format", "png")

    def __init__(self, qsettings: QSettings | None = None):
        self.qsettings = qsettings or QSettings("matting-gui", "matting-gui")
        self.rejected: list[str] = []  # "key=value" of stored values out of range: their defaults are used

    def restore(self, session, devices: list[str]) -> None:
        """Give ``session`` the saved model, device, live refinement, view mode and brush (unknown
        values: defaults)."""
        from matting_gui.core.editing.view import VIEW_MODES

        session.model = self.model if self.model in INSTALLED_MODELS else "student"
        session.device = self.device if self.device in devices else "cpu"
        session.refine = self.refine
        session.view_mode = self.view_mode if self.view_mode in VIEW_MODES else "trimap"
        session.brush_radius = self.brush_radius
        session.brush_fraction = self.brush_fraction or None

    @property
    def recent(self) -> list[str]:
        """Recently opened photos, newest first."""
        value = self.qsettings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if v]

    def add_recent(self, path: Path) -> None:
        """Put ``path`` first in the recent list (at most MAX_RECENT entries)."""
        items = [str(path)] + [p for p in self.recent if p != str(path)]
        self.qsettings.setValue("recent", items[:MAX_RECENT])

    @property
    def geometry(self) -> QByteArray | None:
        """The main window's saved geometry, if any."""
        return self.qsettings.value("geometry")

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self.qsettings.setValue("geometry", value)

    def adjustments(self) -> MutableMapping[str, str]:
        """The per-photo edge adjustments, as the str → str mapping ``EditorSession`` stores them in."""
        return _Group(self.qsettings)


class _Group(MutableMapping):
    """A QSettings seen as a mapping of str → str (keys like "adjust/<photo key>")."""

    def __init__(self, qsettings: QSettings):
        self.q = qsettings

    def __getitem__(self, key: str) -> str:
        value = self.q.value(key)
        if value is None:
            raise KeyError(key)
        return str(value)

    def __setitem__(self, key: str, value: str) -> None:
        self.q.setValue(key, value)

    def __delitem__(self, key: str) -> None:
        self.q.remove(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.q.allKeys())

    def __len__(self) -> int:
        return len(self.q.allKeys())


def available_devices() -> list[tuple[str, str]]:
    """(menu label, torch device) of each device the Model menu offers: the CPU, and a CUDA GPU if any."""
    import torch

    return [("CPU", "cpu")] + ([("GPU (CUDA)", "cuda")] if torch.cuda.is_available() else [])
