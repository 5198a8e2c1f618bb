#!/usr/bin/env bash
# Rule 5 of docs/fusion.md for one further training stage, resumably on this 2-core CPU (rerun it after an
# interruption; finished steps are skipped, running trainers waited for):
#   1. the stage (CONFIG) on each fold teacher of docs/training/oof_chain.sh, two at a time, one thread each
#      (RUNS/teacher_fold<k>_NAME, ~35 min a pair here);
#   2. their out-of-fold export mattes (network cache teacher_NAME_oof) and `oof-report --versus` against the
#      fold teachers': rule 5's outcome in RUNS/logs/NAME_oof.log and RUNS/NAME_oof.json;
#   3. only if rule 5 ships the stage: the stage on the shipped teacher (CONFIG's own init and split,
#      RUNS/teacher_NAME, ~65 min on one thread) and its five-subject score with the lattice check
#      (RUNS/teacher_NAME_score), the weights and numbers its model card needs.
# Usage (from a copy, as bash reads a script as it goes):
#   cp docs/training/oof_stage.sh ~/runs/ && REPO=$PWD nohup bash ~/runs/oof_stage.sh \
#     docs/training/teacher_lite_thin_balanced.toml thin_balanced >> ~/runs/logs/oof_stage.log 2>&1 &
set -uo pipefail
config=${1:?usage: oof_stage.sh CONFIG NAME}
name=${2:?usage: oof_stage.sh CONFIG NAME}
cd "${REPO:-$(dirname "$0")/../..}" || exit 1
source docs/training/oof_lib.sh  # RUNS, the thread limits, lab and the steps

folds_finished "" teacher || { echo "run oof_chain.sh first"; exit 1; }
fold_stage "$config" "$name" || exit 1
lab fusion-network-cache --model "teacher_${name}_oof" --threads 2 \
  --fold-weights "$RUNS/teacher_fold{k}_$name/final.safetensors" > "$RUNS/logs/network_${name}_oof.log" 2>&1 || exit 1
lab oof-report --versus "teacher_${name}_oof" --json "$RUNS/${name}_oof.json" > "$RUNS/logs/${name}_oof.log" 2>&1 || exit 1
ships=$(report_field "$RUNS/${name}_oof.json" rule5 ships)
echo "rule 5, $name: $ships"
if [ "$ships" = True ]; then
  train_run "$RUNS/teacher_$name" --config "$config"
  mkdir -p "$RUNS/teacher_${name}_score"
  lab solver-teacher --out "$RUNS/teacher_${name}_score" --score --threads 2 \
    --weights "$RUNS/teacher_$name/final.safetensors" > "$RUNS/teacher_${name}_score/score.log" 2>&1
fi
echo "stage $name done"
