"""Draw the app icon (resources/icons/matting-gui.png, 256 px): a head-and-shoulders silhouette whose
hair fades into a checkerboard, the cut-out over transparency that the app makes. Made by the project;
run ``python docs/make_icon.py`` to redraw it."""

from pathlib import Path

import cv2
import numpy as np

from matting_gui.core.files.imagewrite import write_rgba

SIZE, SS = 256, 4


def main() -> None:
    big = SIZE * SS
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    checker = np.where(((yy // 32) + (xx // 32)) % 2 == 0, 0.93, 0.78).astype(np.float32)
    rgb = np.repeat(checker[..., None], 3, 2) * np.array([0.95, 0.97, 1.0], np.float32)
    body = np.zeros((big, big), np.uint8)
    cv2.circle(body, (big // 2, int(big * 0.40)), int(big * 0.2), 255, -1, cv2.LINE_AA)
    cv2.ellipse(body, (big // 2, int(big * 1.02)), (int(big * 0.36), int(big * 0.3)), 0, 180, 360, 255, -1, cv2.LINE_AA)
    rng = np.random.default_rng(7)
    for _ in range(160):  # hair strands fanning out of the head's top
        ang = rng.uniform(-np.pi * 0.95, -np.pi * 0.05)
        r0 = big * 0.18
        pts = []
        for t in np.linspace(0, 1, 10):
            rr = r0 + t * big * rng.uniform(0.08, 0.2)
            a = ang + t * rng.normal(0, 0.25)
            pts.append((big / 2 + rr * np.cos(a), big * 0.40 + rr * np.sin(a)))
        cv2.polylines(body, [np.array(pts, np.int32).reshape(-1, 1, 2)], False, 255, SS, cv2.LINE_AA)
    alpha = cv2.resize(body, (SIZE, SIZE), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    fg = np.zeros((SIZE, SIZE, 3), np.float32) + np.array([0.16, 0.42, 0.86], np.float32)
    fg *= (1.1 - 0.4 * yy / SIZE)[..., None]
    out = alpha[..., None] * fg + (1 - alpha[..., None]) * rgb
    round_mask = np.zeros((big, big), np.uint8)
    r = big // 8
    cv2.rectangle(round_mask, (r, 0), (big - r, big), 255, -1)
    cv2.rectangle(round_mask, (0, r), (big, big - r), 255, -1)
    for cx, cy in ((r, r), (big - r, r), (r, big - r), (big - r, big - r)):
        cv2.circle(round_mask, (cx, cy), r, 255, -1, cv2.LINE_AA)
    icon_alpha = cv2.resize(round_mask, (SIZE, SIZE), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    path = Path(__file__).resolve().parents[1] / "resources" / "icons" / "matting-gui.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_rgba(path, np.clip(out, 0, 1), icon_alpha)
    print(path)


if __name__ == "__main__":
    main()
