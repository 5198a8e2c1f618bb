"""Plot a training log (``log.jsonl``) to PNG with OpenCV: loss curves and validation SAD.

Drawn with OpenCV primitives so that plotting adds no dependency.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from matting_gui.core.files.safe_write import atomic_write_bytes

COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]  # matplotlib's tab10, RGB


#: A log larger than this is no training log of ours (a few MB after days): refused before reading.
MAX_LOG_BYTES = 256 * 2**20


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _val_row(row: dict) -> bool:
    """A validation row: a numeric step and {kind: {'sad': number, ...}}."""
    val = row.get("val")
    return (_number(row.get("step")) and isinstance(val, dict)
            and all(isinstance(v, dict) and _number(v.get("sad")) for v in val.values()))


def read_log(path: str | Path) -> tuple[list[dict], list[dict]]:
    """(training rows, validation rows) of a JSON-lines log. Lines that are not such rows are skipped; a
    path that is not a regular file (a FIFO, a device) or is over ``MAX_LOG_BYTES`` is a ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: not a regular file" if path.exists() else f"{path}: no such file")
    if path.stat().st_size > MAX_LOG_BYTES:
        raise ValueError(f"{path}: {path.stat().st_size / 2**20:.0f} MB is no training log (at most "
                         f"{MAX_LOG_BYTES // 2**20} MB)")
    train, val = [], []
    for line in path.read_text(errors="replace").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if not isinstance(row, dict):
            continue
        if "val" in row:
            if _val_row(row):
                val.append(row)
        elif _number(row.get("total")) and _number(row.get("step")):
            train.append(row)
    return train, val


def _write_png(out_path: str | Path, img: np.ndarray) -> Path:
    """Write ``img`` (uint8 BGR) as PNG atomically, never through a link at ``out_path``; the name must end
    in .png and its folder must exist (``ValueError`` / ``OSError`` otherwise)."""
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".png":
        raise ValueError(f"{out_path}: the plot is a PNG; give a name ending in .png")
    ok, data = cv2.imencode(".png", img)
    if not ok:
        raise ValueError(f"{out_path}: PNG encoding failed")
    atomic_write_bytes(out_path, data.tobytes())
    return out_path


def _panel(series: dict[str, tuple[np.ndarray, np.ndarray]], title: str, w: int, h: int, log_y: bool) -> np.ndarray:
    img = np.full((h, w, 3), 255, np.uint8)
    left, right, top, bottom = 70, 20, 30, 40
    cv2.putText(img, title, (left, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    xs = np.concatenate([s[0] for s in series.values() if len(s[0])]) if series else np.array([0, 1])
    ys = np.concatenate([s[1] for s in series.values() if len(s[1])]) if series else np.array([0, 1])
    ys = ys[np.isfinite(ys)]
    if len(xs) == 0 or len(ys) == 0:
        return img
    tf = (lambda v: np.log10(np.maximum(v, 1e-8))) if log_y else (lambda v: v)
    x0, x1 = float(xs.min()), float(max(xs.max(), xs.min() + 1))
    y0, y1 = float(tf(ys).min()), float(tf(ys).max())
    if y1 - y0 < 1e-9:
        y1 = y0 + 1
    px = lambda x: int(left + (x - x0) / (x1 - x0) * (w - left - right))  # noqa: E731
    py = lambda y: int(h - bottom - (tf(y) - y0) / (y1 - y0) * (h - top - bottom))  # noqa: E731
    cv2.rectangle(img, (left, top), (w - right, h - bottom), (180, 180, 180), 1)
    for frac in (0, 0.5, 1):
        yv = y0 + frac * (y1 - y0)
        label = f"{10**yv:.3g}" if log_y else f"{yv:.3g}"
        yy = int(h - bottom - frac * (h - top - bottom))
        cv2.putText(img, label, (5, yy + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
        xv = x0 + frac * (x1 - x0)
        cv2.putText(img, f"{xv:.0f}", (px(xv) - 15, h - bottom + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
    cv2.putText(img, "step", (w // 2, h - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    for i, (name, (sx, sy)) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)][::-1]
        pts = np.array([(px(x), py(y)) for x, y in zip(sx, sy) if np.isfinite(y)], np.int32)
        if len(pts) > 1:
            cv2.polylines(img, [pts.reshape(-1, 1, 2)], False, colour, 2, cv2.LINE_AA)
        elif len(pts) == 1:
            cv2.circle(img, tuple(pts[0]), 3, colour, -1)
        cv2.putText(img, name, (w - right - 150, top + 18 + 16 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    return img


def _smooth(v: np.ndarray, k: int = 10) -> np.ndarray:
    if len(v) < k:
        return v
    return np.convolve(v, np.ones(k) / k, mode="valid")


def plot_log(log_path: str | Path, out_path: str | Path, width: int = 900) -> Path:
    """Write a PNG with two panels: smoothed training losses (log scale) and validation SAD per kind."""
    train, val = read_log(log_path)
    losses = {}
    keys = [k for k in ("total", "alpha", "comp", "grad", "kd_total") if train and k in train[0]]
    for k in keys:
        rows = [r for r in train if _number(r.get(k))]
        steps = np.array([r["step"] for r in rows], float)
        vals = np.array([r[k] for r in rows], float)
        sm = _smooth(vals)
        losses[k] = (steps[len(steps) - len(sm):], sm)
    vals = {}
    for kind in ("photo", "composite"):
        rows = [r for r in val if kind in r["val"]]
        if rows:
            vals[f"SAD {kind}"] = (np.array([r["step"] for r in rows], float),
                                   np.array([r["val"][kind]["sad"] for r in rows], float))
    img = np.concatenate([_panel(losses, "training loss (smoothed)", width, 320, True),
                          _panel(vals, "validation SAD (lower is better)", width, 320, False)], axis=0)
    return _write_png(out_path, img)


def plot_validation(logs: dict[str, str | Path], out_path: str | Path, width: int = 900) -> Path:
    """Write a PNG comparing runs: validation SAD against step, one panel per validation kind.

    logs: label → log.jsonl path (e.g. teacher, student without and with distillation).
    """
    panels = []
    for kind in ("photo", "composite"):
        series = {}
        for label, path in logs.items():
            _, val = read_log(path)
            rows = [r for r in val if kind in r["val"]]
            if rows:
                series[label] = (np.array([r["step"] for r in rows], float),
                                 np.array([r["val"][kind]["sad"] for r in rows], float))
        panels.append(_panel(series, f"validation SAD, {kind}s (lower is better)", width, 320, False))
    return _write_png(out_path, np.concatenate(panels, axis=0))
