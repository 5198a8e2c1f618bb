#!/bin/bash
# Prepare a GPU training run on the `device` machine (see DEVELOPERS guide): copy what training
# reads into .devdata/ (git-ignored via .git/info/exclude, carried by the run tool), and check that
# the working tree plus .devdata travels under the tool's 64 MiB. Run here, in the repo root:
#     bash docs/training/device/pack.sh
# Then, with the device tool:  run(command="bash docs/training/device/train.sh CONFIG.toml [args]",
#                                  carry=[".devdata"], timeout_s=590)
# The backgrounds are re-encoded at JPEG quality 80 (half the bytes); the subjects' estimated
# foreground colours come from this machine's cache, so the device needs no pymatting.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
DATA=${MATTING_DATA:-../shared/data}
CACHE=${MATTING_CACHE:-$HOME/.cache/matting-gui}
grep -qx '/.devdata/' .git/info/exclude 2>/dev/null || echo '/.devdata/' >> .git/info/exclude
rm -rf .devdata && mkdir -p .devdata/data/backgrounds/bsds500 .devdata/cache
cp -r "$DATA/alphamatting" .devdata/data/
python - "$DATA" <<'PY'
import sys, pathlib, cv2
src = pathlib.Path(sys.argv[1]) / "backgrounds" / "bsds500"
for part in ("train", "val"):
    out = pathlib.Path(".devdata/data/backgrounds/bsds500") / part
    out.mkdir(parents=True)
    for f in sorted((src / part).glob("*.jpg")):
        cv2.imwrite(str(out / f.name), cv2.imread(str(f)), [cv2.IMWRITE_JPEG_QUALITY, 80])
PY
# the foreground cache: build it here first if it is missing (pymatting, ~1 min)
python -c "from matting_gui.research.data.sources import load_split, load_subjects; \
load_subjects(load_split('v2')['train'] + load_split('v2')['val'])"
cp -r "$CACHE/foreground" .devdata/cache/
tracked=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
untracked=$( (git ls-files -z --others --exclude-standard | xargs -0 -r du -cb | tail -1 | cut -f1) || echo 0)
packed=$(du -sb .devdata | cut -f1)
total=$((tracked + ${untracked:-0} + packed))
echo "travels: tracked $((tracked >> 20)) MiB + untracked $((${untracked:-0} >> 20)) MiB + .devdata $((packed >> 20)) MiB = $((total >> 20)) MiB (limit 64)"
if [ "$total" -gt $((64 << 20)) ]; then
    echo "too large for the device tool: move superseded weights out of the tree first" \
         "(models/ablation, models/experiments: they stay in git history)" >&2
    exit 1
fi
