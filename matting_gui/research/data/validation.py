"""The fixed validation set and its evaluation with the project's metrics.

Parts, reported separately:
* ``photo``: the validation alphamatting photos with their official trimap1
  and trimap2 (real images, real trimaps);
* ``wide``: the same photos with a wide, painted-style trimap grown from
  trimap2 by a fixed rule (``painted.widen_trimap``), as users paint over hair;
* ``composite``: the validation foregrounds (estimated colours) composited over
  fixed BSDS500 *val* backgrounds, trimaps generated from α with a fixed band;
* ``unpainted`` (on request, ``with_kinds``): the wide trimaps with the foreground
  unpainted too — only background painted, the whole subject unknown, as when a
  user brushes the unknown over all of it. Not in the default set (training runs
  choose checkpoints on the default set's mean).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matting_gui.core.editing.trimap import trimap_from_alpha
from matting_gui.core.evaluation.metrics import MattingScores, evaluate_alpha, mean_scores
from matting_gui.core.imaging.compose import composite, cover_resize
from matting_gui.research.data.painted import widen_trimap
from matting_gui.research.data.sources import (
    background_paths,
    load_backgrounds,
    load_official_trimaps,
    load_split,
    load_subjects,
)

KINDS = ("photo", "wide", "composite", "unpainted")
COMPOSITE_BACKGROUNDS = 3  # per foreground, the val split's backgrounds taken at a fixed stride
#: The wide trimap: trimap2's unknown grown by 24 px and closed with a 40-px disk (at 800 px).
WIDE_GROW, WIDE_CLOSE = 24, 40


@dataclass
class ValItem:
    """image float32 (H, W, 3); trimap uint8 (H, W); alpha float32 (H, W).

    kind: 'photo' | 'wide' | 'composite' (the validation set) or 'train' (a training photo, for fit checks).
    """

    name: str
    kind: str
    image: np.ndarray
    trimap: np.ndarray
    alpha: np.ndarray


def build_validation_set(split: str = "v1") -> list[ValItem]:
    """Load the validation items of ``split`` from the data folder (photos, wide photos, composites)."""
    stems = load_split(split)["val"]
    subjects = load_subjects(stems)
    items = []
    for subj in subjects:
        trimaps = load_official_trimaps(subj.stem)
        for tname, tri in trimaps.items():
            items.append(ValItem(f"{subj.stem}/{tname}", "photo", subj.image, tri, subj.alpha))
    for subj in subjects:  # both splits (v1's runs were chosen before it had them: "all" differs there)
        wide = widen_trimap(load_official_trimaps(subj.stem)["trimap2"], WIDE_GROW, WIDE_CLOSE)
        items.append(ValItem(f"{subj.stem}/wide", "wide", subj.image, wide, subj.alpha))
    bg_paths = background_paths("val")
    stride = max(1, len(bg_paths) // (COMPOSITE_BACKGROUNDS * len(subjects) or 1))
    chosen = bg_paths[::stride][: COMPOSITE_BACKGROUNDS * len(subjects)]
    backgrounds = load_backgrounds(chosen)
    for i, subj in enumerate(subjects):
        h, w = subj.alpha.shape
        tri = trimap_from_alpha(subj.alpha, 12, 12)
        for j in range(COMPOSITE_BACKGROUNDS):
            bg = cover_resize(backgrounds[(i * COMPOSITE_BACKGROUNDS + j) % len(backgrounds)], h, w)
            img = np.clip(composite(subj.fg, subj.alpha, bg), 0, 1)
            items.append(ValItem(f"{subj.stem}/bg{j}", "composite", img, tri, subj.alpha))
    return items


def parse_val_kinds(spec: str) -> tuple[str, ...]:
    """'photo,wide,unpainted' → ('photo', 'wide', 'unpainted'); empty or unknown kinds raise ValueError."""
    kinds = tuple(dict.fromkeys(k.strip() for k in spec.split(",") if k.strip()))
    _check_kinds(kinds, f"validation kinds {spec!r}: ")
    return kinds


def _check_kinds(kinds: tuple[str, ...], prefix: str = "") -> None:
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise ValueError(f"{prefix}unknown validation kind(s) {bad}; choose from {', '.join(KINDS)} (','-separated)")


def with_kinds(items: list[ValItem], kinds: tuple[str, ...]) -> list[ValItem]:
    """The items of ``kinds`` (names in ``KINDS``), in that order; 'unpainted' items are the 'wide'
    ones with every foreground (255) pixel of the trimap made unknown (128). Unknown kinds raise."""
    _check_kinds(kinds)
    out = []
    for kind in kinds:
        if kind == "unpainted":
            out += [ValItem(i.name.rsplit("/", 1)[0] + "/unpainted", "unpainted", i.image,
                            np.where(i.trimap == 255, np.uint8(128), i.trimap), i.alpha)
                    for i in items if i.kind == "wide"]
        else:
            out += [i for i in items if i.kind == kind]
    return out


def evaluate(
    predict: Callable[[np.ndarray, np.ndarray], np.ndarray], items: list[ValItem]
) -> tuple[dict[str, MattingScores], dict[str, MattingScores]]:
    """Run ``predict(image, trimap) -> alpha`` on every item.

    Returns (mean scores per kind — 'photo', 'wide', 'composite', 'all' —, scores per item name).
    """
    per_item: dict[str, MattingScores] = {}
    for item in items:
        per_item[item.name] = evaluate_alpha(predict(item.image, item.trimap), item.alpha, item.trimap)
    means = {}
    for kind in KINDS:
        if any(i.kind == kind for i in items):
            means[kind] = mean_scores([per_item[i.name] for i in items if i.kind == kind])
    means["all"] = mean_scores(list(per_item.values()))
    return means, per_item
