"""The cross-validation scripts' shared steps (docs/training/oof_lib.sh): what is trained, with which
arguments, and what a restarted chain skips. ``lab`` is replaced by a recorder, so nothing trains."""

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("bash") is None or shutil.which("pgrep") is None,
                                reason="needs bash and pgrep")


def _run(runs: Path, script: str) -> subprocess.CompletedProcess:
    """Source oof_lib.sh with RUNS=``runs``, record every ``lab`` call in RUNS/calls, then run ``script``."""
    prelude = 'source docs/training/oof_lib.sh\nlab() { echo "$*" >> "$RUNS/calls"; }\n'
    return subprocess.run(["bash", "-c", prelude + script], cwd=REPO, env={"RUNS": str(runs), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)


def _finish(runs: Path, *names: str) -> None:
    for name in names:
        (runs / name).mkdir(parents=True, exist_ok=True)
        (runs / name / "final.safetensors").write_bytes(b"")


def test_fold_stage_trains_only_the_unfinished_folds_from_their_fold_teachers(tmp_path):
    _finish(tmp_path, "teacher_fold0_x", "teacher_fold1_x", "teacher_fold3_x")
    done = _run(tmp_path, "fold_stage cfg.toml x; echo rc=$?")
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == [f"train --config cfg.toml --init {tmp_path}/teacher_fold2/final.safetensors --split fold2 "
                     f"--out {tmp_path}/teacher_fold2_x --resume"]
    # the recorder wrote no weights, so the stage reports fold 2 unfinished
    assert "fold 2 stage x did not finish" in done.stdout and "rc=1" in done.stdout


def test_a_finished_stage_trains_nothing_and_succeeds(tmp_path):
    _finish(tmp_path, *(f"teacher_fold{k}_x" for k in range(4)))
    done = _run(tmp_path, "fold_stage cfg.toml x; echo rc=$?")
    assert not (tmp_path / "calls").exists() and "rc=0" in done.stdout


def test_in_pairs_runs_every_fold_and_fold_teacher_uses_the_fold_recipe(tmp_path):
    _finish(tmp_path, "teacher_fold1")
    _run(tmp_path, "in_pairs fold_teacher")
    calls = sorted((tmp_path / "calls").read_text().splitlines())
    assert calls == [f"train --config docs/training/teacher_lite_fold.toml --split fold{k} "
                     f"--out {tmp_path}/teacher_fold{k} --resume" for k in (0, 2, 3)]


def test_report_field_reads_a_rule_and_a_missing_report_fails(tmp_path):
    (tmp_path / "r.json").write_text('{"rule5": {"ships": false, "tests": {}}, "rule1": {"choice": "export"}}')
    done = _run(tmp_path, f"report_field {tmp_path}/r.json rule5 ships; report_field {tmp_path}/r.json rule1 choice;"
                          f" report_field {tmp_path}/none.json rule5 ships || echo missing")
    assert done.stdout.split() == ["False", "export", "missing"]


def test_folds_finished_names_the_first_unfinished_fold(tmp_path):
    _finish(tmp_path, "teacher_fold0", "teacher_fold1", "teacher_fold2", "teacher_fold3", "teacher_fold0_y")
    done = _run(tmp_path, 'folds_finished "" teacher && echo all; folds_finished _y "stage y" || echo rc=$?')
    assert done.stdout.split("\n")[:2] == ["all", "fold 1 stage y did not finish"] and "rc=1" in done.stdout
