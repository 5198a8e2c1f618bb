"""The solver-aware teacher: crops carry every channel together, training resumes exactly, scoring covers
the held-out cases."""

import numpy as np
import pytest
import torch

from matting_gui.core.inference.predictor import Predictor
from matting_gui.core.nets.config import STUDENT_FAST
from matting_gui.core.nets.network import build_network
from matting_gui.core.nets.weights import save_weights
from matting_gui.research import solver_teacher
from matting_gui.research.solver_teacher import SolverTeacherConfig, crop_sample, score, summary
from tests.research.test_fusion_train import _case


@pytest.fixture
def init(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "init.safetensors"
    save_weights(path, build_network(STUDENT_FAST))
    return str(path)


def test_a_crop_keeps_photo_trimap_mattes_and_alpha_aligned():
    case = _case("GT03", "trimap1", 0)
    case.mattes[0] = case.alpha.astype(np.uint16) * 257  # the first solver is exact: its plane equals α
    rng = np.random.default_rng(0)
    for _ in range(8):  # random sides, positions and flips
        sample = crop_sample(case, rng, 32)
        assert sample.shape == (12, 32, 32) and sample.dtype == np.float32
        x, alpha, unknown = sample[:10], sample[10], sample[11]
        np.testing.assert_allclose(x[8], alpha, atol=1e-3)
        np.testing.assert_array_equal(unknown, x[4])  # the unknown mask is the trimap's unknown plane


def test_training_starts_from_the_grown_network_and_resumes_exactly(tmp_path, init, monkeypatch):
    cases = [_case("GT03", "trimap1", 0), _case("thin", "0000", 1)]
    monkeypatch.setattr(solver_teacher, "training_cases", lambda cfg: cases)
    cfg = dict(batch=2, crop=32, init=init, checkpoint_minutes=0.0)
    whole = solver_teacher.train_solver_teacher(SolverTeacherConfig(steps=4, **cfg), tmp_path / "whole")
    solver_teacher.train_solver_teacher(SolverTeacherConfig(steps=2, **cfg), tmp_path / "split")
    (tmp_path / "split" / "teacher_solvers.safetensors").unlink()
    resumed = solver_teacher.train_solver_teacher(SolverTeacherConfig(steps=4, **cfg), tmp_path / "split")
    a, b = Predictor(whole, "cpu"), Predictor(resumed, "cpu")
    for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()):
        np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-6)
    assert a.model.config.trimap_encoding == "proximity+solvers" and a.card["steps"] == 4
    untrained = solver_teacher.grown_teacher(init)[0]
    moved = untrained.state_dict()["encoder.stem.0.0.weight"][:, 8:].abs().sum()
    assert moved == 0 and a.model.state_dict()["encoder.stem.0.0.weight"][:, 8:].abs().sum() > 0


def test_scores_compare_the_shipped_export_with_the_solver_teacher(tmp_path, init, monkeypatch):
    cases = [_case("GT01", "trimap1", 0), _case("GT01", "half_trimap2", 1), _case("thin", "0119", 2)]
    monkeypatch.setattr(solver_teacher, "scored_cases", lambda cfg: cases)
    monkeypatch.setattr("matting_gui.research.solver_cache.network_matte", lambda key, model: None)
    weights = tmp_path / "w.safetensors"
    save_weights(weights, solver_teacher.grown_teacher(init)[0])
    rows = score(weights, SolverTeacherConfig(init=init))
    assert {(r["case"], r["kind"]) for r in rows} == {("trimap1", "official"), ("0119", "thin")}
    table = summary(rows)
    assert set(table["official"]) == {"closed_form", "knn", "export", "solver_teacher"}
    # grown from the same weights and not trained: the same matte as the network it came from
    assert table["official"]["solver_teacher"]["sad"] == pytest.approx(table["official"]["export"]["sad"], abs=1e-3)
    assert list(table["thin"]["knn"]["subjects"]) == ["0119"]
    plain = summary(score(init, SolverTeacherConfig(init=init), name="plain"))  # a network without solver inputs
    assert plain["official"]["plain"]["sad"] == pytest.approx(plain["official"]["export"]["sad"], abs=1e-6)
    live = summary(score(init, SolverTeacherConfig(init=init), name="plain", live=True))  # network alone
    assert live["official"]["plain"]["sad"] == pytest.approx(live["official"]["shipped"]["sad"], abs=1e-6)
    assert live["official"]["plain"]["sad"] != pytest.approx(plain["official"]["plain"]["sad"], abs=1e-6)


def test_scoring_a_run_that_has_not_finished_is_one_line(tmp_path, capsys):
    from matting_gui.research.cli import main as lab

    assert lab(["solver-teacher", "--out", str(tmp_path / "run"), "--score"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no finished run to score" in err


def test_the_paired_change_counts_wins_and_brackets_its_mean():
    rows = [{"subject": s, "case": c, "kind": "official", "method": m, "sad": v}
            for s, base in (("GT01", 1.0), ("GT02", 2.0), ("GT10", 3.0)) for c in ("trimap1", "trimap2")
            for m, v in (("export", base), ("run", base - 0.5))]
    change = solver_teacher.paired_change(rows, "run", "export")["official"]
    assert change["wins"] == 6 and change["cases"] == 6 and change["mean"] == pytest.approx(-0.5)
    assert change["low"] == pytest.approx(-0.5) and change["high"] == pytest.approx(-0.5)  # the same everywhere
