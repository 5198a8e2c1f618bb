#!/bin/bash
# Train on the device machine's GPU from data packed by pack.sh; runs there, in the repo root:
#     bash docs/training/device/train.sh CONFIG.toml [more matting-lab train arguments]
# The machine's own python3 (torch with CUDA, numpy, OpenCV, Pillow, safetensors, tqdm) runs the
# repo in place; nothing is installed. It stops itself after $MINUTES (default 7) of training,
# checkpointed, and puts under $OUT what resumes here on the CPU:
#     best.safetensors/.json, log.jsonl, checkpoint.pt in 15 MiB parts (cat checkpoint.pt.part-* >
#     checkpoint.pt), plus nvidia-smi and timing in device.txt (7 files, ~60 MB for the teacher: the
#     tool brings back at most 8 files, 64 MiB). A finished run's final weights are the checkpoint's;
#     a resume here at the last step writes final.safetensors. DEVICE=cpu tests this script here.
# Back here: mkdir -p RUN && cp FILES_AT/* RUN/ && cat RUN/checkpoint.pt.part-* > RUN/checkpoint.pt
set -uo pipefail
CONFIG=$1; shift
export MATTING_DATA=$PWD/.devdata/data MATTING_CACHE=$PWD/.devdata/cache PYTHONUNBUFFERED=1
RUN=${RUN:-/tmp/run}
WORKERS=${WORKERS:-$(( $(nproc) - 2 ))}
{ nvidia-smi --query-gpu=name,memory.total --format=csv; python3 -c "import torch; print(torch.__version__)"; } \
    > "$OUT/device.txt" 2>&1
start=$(date +%s)
PYTHONPATH=$PWD python3 -m matting_gui.research.cli train --config "$CONFIG" --device "${DEVICE:-cuda}" \
    --workers "$WORKERS" --threads 4 --max-minutes "${MINUTES:-7}" --out "$RUN" --resume "$@" 2>&1 | tail -n 40
echo "wall $(( $(date +%s) - start )) s, $WORKERS data workers" >> "$OUT/device.txt"
cp "$RUN"/best.safetensors "$RUN"/best.json "$RUN"/log.jsonl "$OUT"/ 2>/dev/null
split -b 15M "$RUN"/checkpoint.pt "$OUT"/checkpoint.pt.part-
ls -la "$OUT"
