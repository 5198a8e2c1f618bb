"""Contact sheet of mattes on the 8 alphamatting.com test photos: docs/images/test_mattes.png.

    python docs/make_test_sheet.py [--model student|teacher|PATH] [--trimap Trimap3]
                                   [--pipeline export|fused|network|refined] [--out FILE]

Runs ``matting-cli matte`` (the same command a user runs) on
``$MATTING_DATA/alphamatting_test`` and tiles, per photo, the matte and the
composite over a flat colour. The photos themselves (research use, not ours) are
not reproduced; the figure shows only what the network computed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from matting_gui.core.files.paths import data_root

HERE = Path(__file__).resolve().parent
#: matting-cli matte's flags for each pipeline (its default is export's)
PIPELINES = {"export": [], "fused": ["--fuse"], "network": ["--fast"], "refined": ["--fast", "--refine"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="student")
    ap.add_argument("--trimap", default="Trimap3", help="Trimap1, Trimap2 or Trimap3 (the widest)")
    ap.add_argument("--pipeline", default="network", choices=sorted(PIPELINES),
                    help="export: what the app exports (mirror, refine, solver fusion); network: the network alone; "
                         "refined: the network refined with closed-form matting")
    ap.add_argument("--out", default=str(HERE / "images" / "test_mattes.png"))
    args = ap.parse_args()
    root = data_root() / "alphamatting_test"
    photos = sorted((root / "input_lowres").glob("*.png"))
    if not photos:
        sys.exit(f"no test photos under {root}")
    tmp = Path(tempfile.mkdtemp())
    cmd = [sys.executable, "-m", "matting_gui.cli.main", "matte", *map(str, photos),
           "--trimap-dir", str(root / "trimap_lowres" / args.trimap), "--out", str(tmp),
           "--model", args.model, "--composite", "#3a8a4a", *PIPELINES[args.pipeline]]
    subprocess.run(cmd, check=True)
    tiles = []
    for p in photos:
        alpha = cv2.imread(str(tmp / f"{p.stem}_matte.png"), cv2.IMREAD_GRAYSCALE)
        comp = cv2.imread(str(tmp / f"{p.stem}_composite.png"))
        scale = 240 / alpha.shape[0]
        size = (round(alpha.shape[1] * scale), 240)
        a = cv2.cvtColor(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA), cv2.COLOR_GRAY2BGR)
        c = cv2.resize(comp, size, interpolation=cv2.INTER_AREA)
        tile = np.concatenate([a, c], axis=0)
        cv2.putText(tile, p.stem, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 255), 2, cv2.LINE_AA)
        tiles.append(cv2.copyMakeBorder(tile, 3, 3, 3, 3, cv2.BORDER_CONSTANT, value=(255, 255, 255)))
    height = max(t.shape[0] for t in tiles)
    tiles = [cv2.copyMakeBorder(t, 0, height - t.shape[0], 0, 0, cv2.BORDER_CONSTANT, value=(255, 255, 255)) for t in tiles]
    rows = [np.concatenate(tiles[i : i + 4], axis=1) for i in range(0, len(tiles), 4)]
    width = max(r.shape[1] for r in rows)
    rows = [cv2.copyMakeBorder(r, 0, 0, 0, width - r.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255)) for r in rows]
    cv2.imwrite(args.out, np.concatenate(rows, axis=0))
    print(args.out)


if __name__ == "__main__":
    main()
