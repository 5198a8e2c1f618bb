# Shared by oof_chain.sh and oof_stage.sh (sourced from the checkout they run in): the environment of a
# cross-validation run on this 2-core CPU and the resumable training steps.
RUNS=${RUNS:-$HOME/runs}
mkdir -p "$RUNS/logs"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1
# this checkout's code, whatever a later `pip install` (a CI run of another clone) makes `matting-lab` point at
export PYTHONPATH=$PWD
lab() { python3 -m matting_gui.research.cli "$@"; }

train_run() {  # train_run OUT ARGS…: wait for a trainer of OUT still running (a chain restarted), then
  local out=$1; shift  # train (or resume) it with ARGS unless its final weights exist
  while pgrep -f -- "--out $out --resume" >/dev/null; do sleep 30; done
  [ -f "$out/final.safetensors" ] && return 0
  mkdir -p "$out"
  lab train "$@" --out "$out" --resume >> "$out/stdout.log" 2>&1
}

in_pairs() {  # in_pairs COMMAND ARGS…: COMMAND ARGS… k for the folds k = 0 to 3, two at a time
  local pair k
  for pair in "0 1" "2 3"; do
    for k in $pair; do "$@" "$k" & done
    wait
  done
}

fold_teacher() {  # fold_teacher K: the fold recipe's teacher without fold K's subjects (RUNS/teacher_foldK)
  train_run "$RUNS/teacher_fold$1" --config docs/training/teacher_lite_fold.toml --split "fold$1"
}

stage_on_fold() {  # stage_on_fold CONFIG NAME K: CONFIG on fold K's teacher, fold K held out
  train_run "$RUNS/teacher_fold${3}_$2" --config "$1" --init "$RUNS/teacher_fold$3/final.safetensors" --split "fold$3"
}

folds_finished() {  # folds_finished SUFFIX WHAT: every RUNS/teacher_fold<k>SUFFIX has its final weights;
  local k           # else says which fold's WHAT did not finish, and fails
  for k in 0 1 2 3; do
    [ -f "$RUNS/teacher_fold$k$1/final.safetensors" ] || { echo "fold $k $2 did not finish"; return 1; }
  done
}

fold_stage() {  # fold_stage CONFIG NAME: CONFIG on each fold teacher (RUNS/teacher_fold<k>_NAME), two at a
  in_pairs stage_on_fold "$1" "$2"  # time, one thread each; fails unless all four finished
  folds_finished "_$2" "stage $2"
}

report_field() {  # report_field JSON KEY…: the value at KEY… in a report's JSON, as Python prints it
  python3 -c "import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[k]
print(v)" "$@"
}
