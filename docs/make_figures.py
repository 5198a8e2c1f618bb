"""Contact sheet of procedurally generated training subjects: docs/images/training_samples.png.

    python docs/make_figures.py

Uses only the bundled sample photo as colour texture and generated backgrounds,
so the figure holds nothing from the research data sets. Each tile shows the
composite, the exact alpha and a trimap generated from it; the last two rows are
procedural plants (``p_foliage``) and heads of hair (``p_hair``) with hand-painted-style trimaps.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from matting_gui.core.files.imageio import read_image
from matting_gui.core.nets.synthetic import generated_backgrounds
from matting_gui.research.data.samples import MattingSamples

HERE = Path(__file__).resolve().parent


def main() -> None:
    texture = read_image(HERE.parent / "resources" / "samples" / "astronaut.png").rgb
    backgrounds = [texture] + generated_backgrounds(1, 6, 256)
    ds = MattingSamples([], backgrounds, size=160, seed=2)
    plants = MattingSamples([], backgrounds, size=160, seed=2, p_foliage=1.0, p_painted=1.0)
    hair = MattingSamples([], backgrounds, size=160, seed=2, p_hair=1.0, p_painted=1.0)
    tiles = []
    for i in range(18):
        s = ds[i] if i < 12 else plants[i] if i < 15 else hair[i]
        img = s["image"].permute(1, 2, 0).numpy()
        alpha = np.repeat(s["alpha"][0].numpy()[..., None], 3, axis=2)
        tri = np.repeat(s["trimap"][0].numpy()[..., None].astype(np.float32) / 255, 3, axis=2)
        tiles.append(np.concatenate([img, alpha, tri], axis=1))
    pad = lambda t: cv2.copyMakeBorder(t, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=(1, 1, 1))  # noqa: E731
    rows = [np.concatenate([pad(t) for t in tiles[r * 3:(r + 1) * 3]], axis=1) for r in range(6)]
    sheet = np.concatenate(rows, axis=0)
    out = HERE / "images" / "training_samples.png"
    cv2.imwrite(str(out), np.round(sheet[..., ::-1] * 255).astype(np.uint8))
    print(out)


if __name__ == "__main__":
    main()
