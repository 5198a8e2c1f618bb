#!/usr/bin/env bash
# The out-of-fold cross-validation of issue 46, end to end on this 2-core CPU, resumable at every stage
# (rerun it after an interruption; finished stages are skipped, running ones waited for):
#   1. the four fold teachers (teacher_lite_fold.toml, split fold<k>: trained without fold k's subjects),
#      two at a time, one thread each (~3.3 h a pair here);
#   2. their out-of-fold export mattes for every case of the solver cache (network cache teacher_oof: each
#      subject's matte from the teacher that never saw it; final weights, never best);
#   3. the network-aware fusion (closed-form, KNN, the teacher's matte) cross-validated over the four
#      subject folds, two folds at a time: scores in RUNS/fusion_cv_oof/fold<k>/scores.json, the summary,
#      per-subject tables, paired changes against export and the rules' outcome in RUNS/logs/fusion_cv_oof.log;
#   4. the fusion trained on every subject's out-of-fold cases (only if rule 1 picks it);
#   5. the thin-structure stage on each fold teacher, and its out-of-fold exports against theirs (rule 5;
#      moved before 6-8 on 2026-12-07: thin structures are where the held-out photos fail);
#   6. the fold recipe's teacher on all 19 subjects (only if rule 2 ships it; then the thin-structure stage
#      on it if rule 5 ships that), beside 7 and 8;
#   7. the CV again fed closed-form alone and KNN alone beside the network: what each solver earns;
#   8. the CV on the cases solved with a smaller solver box (0.15 MP), which export's time budget needs
#      (7 and 8 also train their fusion on every subject, ready if rule 3 of docs/fusion.md picks them;
#      both only if rule 1 picks a candidate: rule 3 applies to nothing else);
#   9. if rules 2 and 5 leave a new teacher to ship, the distillation check (issue 46's point 4) from it.
# The decision rule is written in docs/fusion.md before stage 3 is scored. Usage:
#   cp docs/training/oof_chain.sh ~/runs/ && REPO=$PWD nohup bash ~/runs/oof_chain.sh > ~/runs/logs/oof_chain.log 2>&1 &
# (run from a copy: bash reads a script as it goes, so editing the checkout's copy would disturb a running chain)
set -uo pipefail
cd "${REPO:-$(dirname "$0")/../..}" || exit 1
source docs/training/oof_lib.sh  # RUNS, the thread limits, lab and the steps

in_pairs fold_teacher
folds_finished "" teacher || exit 1
lab fusion-network-cache --model teacher_oof --threads 2 \
  --fold-weights "$RUNS/teacher_fold{k}/final.safetensors" || exit 1
args="--steps 800 --batch 16 --crop 96 --width 32 --threads 1 --network teacher_oof"
for pair in "0 1" "2 3"; do
  for f in $pair; do
    lab fusion-cv --out "$RUNS/fusion_cv_oof" --fold "$f" $args > "$RUNS/logs/fusion_cv_oof_$f.log" 2>&1 &
  done
  wait
done
lab oof-report --cv "$RUNS/fusion_cv_oof" --json "$RUNS/fusion_cv_oof/report.json" > "$RUNS/logs/fusion_cv_oof.log" 2>&1
# the later stages build only what the rules can ship (docs/fusion.md: stage 4 only if rule 1 picks the
# fusion, 6 only if rule 2 ships the all-subject teacher, 7 and 8 only if rule 1 picks a candidate)
report="$RUNS/fusion_cv_oof/report.json"
choice=$(report_field "$report" rule1 choice) && ships=$(report_field "$report" rule2 ships) || { echo "no report"; exit 1; }
echo "rule 1: $choice; rule 2: $ships"
# 4. the network-aware fusion trained on every subject's out-of-fold cases: what ships if rule 1 picks it
[ "$choice" = fusion ] && lab fusion-train --out "$RUNS/fusion_final_oof" $args > "$RUNS/logs/fusion_final_oof.log" 2>&1
# 5. the thin-structure stage (teacher_lite_thin_structure.toml: thin subjects and background structure,
#    1,000 steps) on each fold teacher, its out-of-fold mattes, and rule 5 against the base fold teachers
fold_stage docs/training/teacher_lite_thin_structure.toml thin
lab fusion-network-cache --model teacher_thin_oof --threads 2 \
  --fold-weights "$RUNS/teacher_fold{k}_thin/final.safetensors" > "$RUNS/logs/network_thin_oof.log" 2>&1
lab oof-report --versus teacher_thin_oof --json "$RUNS/thin_stage_oof.json" > "$RUNS/logs/thin_stage_oof.log" 2>&1
# rule 5's outcome: does the thin-structure stage ship (on whichever teacher rule 2 leaves shipped)?
thin=$(report_field "$RUNS/thin_stage_oof.json" rule5 ships) || thin=False
echo "rule 5: $thin"
# 6. the teacher to ship if rule 2 says so: the fold recipe's teacher on all 19 subjects (its validation
#    numbers measure fit: take final, never best), then, if rule 5 ships the stage, the stage on it; in the
#    background beside 7 and 8
if [ "$ships" = True ]; then
  { train_run "$RUNS/teacher_all" --config docs/training/teacher_lite_fold.toml --split all
    [ "$thin" = True ] && train_run "$RUNS/teacher_all_thin" --config docs/training/teacher_lite_thin_structure.toml \
      --init "$RUNS/teacher_all/final.safetensors" --split all; } &
fi
if [ "$choice" != export ]; then  # rule 3 applies only to a candidate rule 1 picked
  # 7. what each solver earns (export's time is mostly theirs): the same CV fed one solver and the network
  for s in closed_form knn; do
    for f in 0 1 2 3; do
      lab fusion-cv --out "$RUNS/fusion_cv_oof_$s" --fold "$f" $args --solvers "$s" > "$RUNS/logs/fusion_cv_oof_${s}_$f.log" 2>&1
    done
    lab oof-report --cv "$RUNS/fusion_cv_oof_$s" --json "$RUNS/fusion_cv_oof_$s/report.json" > "$RUNS/logs/fusion_cv_oof_$s.log" 2>&1
    lab fusion-train --out "$RUNS/fusion_final_oof_$s" $args --solvers "$s" > "$RUNS/logs/fusion_final_oof_$s.log" 2>&1
  done
  # 8. export's speed: the same CV on the cases solved with the solvers' box capped at 0.15 MP (7-9x faster
  #    closed-form, 6x faster KNN at 1 MP: docs/speed.md)
  lab solver-cache --workers 2 --thin 120 --box 150000 > "$RUNS/logs/solver_cache_box150k.log" 2>&1
  for f in 0 1 2 3; do
    lab fusion-cv --out "$RUNS/fusion_cv_oof_box150k" --fold "$f" $args --box 150000 > "$RUNS/logs/fusion_cv_oof_box150k_$f.log" 2>&1
  done
  lab oof-report --cv "$RUNS/fusion_cv_oof_box150k" --json "$RUNS/fusion_cv_oof_box150k/report.json" \
    > "$RUNS/logs/fusion_cv_oof_box150k.log" 2>&1
  lab fusion-train --out "$RUNS/fusion_final_oof_box150k" $args --box 150000 > "$RUNS/logs/fusion_final_oof_box150k.log" 2>&1
fi
wait
# 9. the issue's point 4 with the teacher that will ship, if it is a new one: the distillation check
#    (student_fast_kd_check.toml, 3,000 steps, seeds 0 and 1) distilled from it; its undistilled twins
#    (--kd none) do not depend on the teacher and are the runs kd_check_nokd_s0/s1 already there
case "$ships/$thin" in
  True/True) new_teacher=$RUNS/teacher_all_thin/final.safetensors ;;
  True/False) new_teacher=$RUNS/teacher_all/final.safetensors ;;
  False/True) new_teacher=$PWD/models/experiments/teacher_lite_thin_structure.safetensors ;;
  *) new_teacher="" ;;
esac
if [ -n "$new_teacher" ] && [ -f "$new_teacher" ]; then
  for s in 0 1; do
    train_run "$RUNS/kd_check_new_s$s" --config docs/training/student_fast_kd_check.toml --teacher "$new_teacher" \
      --seed "$s" &
  done
  wait
  for s in 0 1; do
    mkdir -p "$RUNS/kd_check_new_s${s}_score"
    lab solver-teacher --out "$RUNS/kd_check_new_s${s}_score" --score --live --init student --threads 2 \
      --weights "$RUNS/kd_check_new_s$s/final.safetensors" > "$RUNS/kd_check_new_s${s}_score/score.log" 2>&1
  done
fi
echo "chain done"
echo "out-of-fold cross-validation done: $RUNS/logs/fusion_cv_oof.log"
