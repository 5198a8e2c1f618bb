"""Fusion training on cached cases: folds are subject-disjoint, runs resume exactly, scores cover each case."""

import numpy as np

from matting_gui.core.nets.fusion import load_fusion
from matting_gui.research.fusion_train import FusionTrainConfig, folds, get_lr, score_cases, summarise, train_fusion
from matting_gui.research.solver_cache import Case, load_case, run_job
from tests.conftest import make_photo, make_trimap


def _case(subject: str, name: str, seed: int) -> Case:
    h, w = 48, 64
    rng = np.random.default_rng(seed)
    trimap = make_trimap(h, w)
    alpha = np.where(trimap == 255, 1.0, np.where(trimap == 0, 0.0, rng.random((h, w)))).astype(np.float32)
    mattes = np.stack([np.clip(alpha + rng.normal(0, 0.1, alpha.shape), 0, 1), np.clip(alpha * 0.8, 0, 1)])
    return Case(f"{subject}/{name}", subject, np.round(make_photo(h, w, seed) * 255).astype(np.uint8), trimap,
                np.round(alpha * 255).astype(np.uint8), np.round(mattes * 65535).astype(np.uint16))


def test_folds_are_disjoint_and_cover_every_subject():
    stems = [f"GT{i:02d}" for i in range(1, 20)]
    groups = folds(stems, 4)
    assert sorted(s for g in groups for s in g) == sorted(stems)
    assert [len(g) for g in groups] == [5, 5, 5, 4]
    assert folds(stems, 4) == groups  # fixed


def test_learning_rate_warms_up_then_decays():
    cfg = FusionTrainConfig(steps=1000, lr=1e-3)
    assert get_lr(0, cfg) < get_lr(49, cfg) == cfg.lr
    assert get_lr(999, cfg) < 0.1 * cfg.lr


def test_training_resumes_exactly(tmp_path):
    cases = [_case("GT01", "trimap1", 0), _case("GT02", "trimap2", 1)]
    cfg = dict(batch=2, crop=32, width=8, dilations=(1, 2), checkpoint_minutes=0.0)
    whole = train_fusion(cases, FusionTrainConfig(steps=6, **cfg), tmp_path / "whole")
    train_fusion(cases, FusionTrainConfig(steps=3, **cfg), tmp_path / "split")
    resumed = train_fusion(cases, FusionTrainConfig(steps=6, **cfg), tmp_path / "split")
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        assert np.allclose(a.numpy(), b.numpy(), atol=1e-6)
    model, card = load_fusion(tmp_path / "whole" / "fusion.safetensors")
    assert card["steps"] == 6 and card["cases"] == 2


def test_scores_cover_the_scored_cases_and_summarise_by_kind(tmp_path):
    cases = [_case("GT01", "trimap1", 0), _case("GT01", "wide", 1), _case("GT01", "half_trimap2", 2)]
    rows = [r | {"fold": 0} for r in score_cases(None, cases)]
    assert {(r["case"], r["method"]) for r in rows} == {(c, m) for c in ("trimap1", "wide")
                                                        for m in ("closed_form", "knn")}
    summary = summarise(rows)
    assert set(summary) == {"official", "wide"} and summary["wide"]["knn"]["cases"] == 1


def test_cache_jobs_are_stored_once_and_read_back(tmp_path, monkeypatch):
    """A thin case is generated, solved and stored; a second run finds it and solves nothing."""
    from matting_gui.research.data import thin

    monkeypatch.setattr(thin, "thin_case", lambda rng, size: (make_photo(size, size), make_trimap(size, size),
                                                              (make_trimap(size, size) / 255).astype(np.float32)))
    job = ("thin/0000", "thin", ("thin", 40))
    assert run_job(job, tmp_path) == "thin/0000"
    stored = tmp_path / "thin" / "0000.npz"
    first = stored.stat().st_mtime_ns
    case = load_case(stored)
    assert case.subject == "thin" and case.mattes.shape == (2, 40, 40) and case.mattes.dtype == np.uint16
    run_job(job, tmp_path)
    assert stored.stat().st_mtime_ns == first


def test_a_fusion_fed_one_solver_reads_only_it_and_is_scored_beside_both(tmp_path):
    """What each solver earns is measured by leaving the other out: the network's inputs and its card say
    which mattes it reads, and the scores still show both solvers alone."""
    cases = [_case("GT01", "trimap1", 0), _case("GT02", "wide", 1)]
    cfg = FusionTrainConfig(steps=2, batch=2, crop=32, width=8, dilations=(1, 2), solvers=("closed_form",))
    model = train_fusion(cases, cfg, tmp_path / "cf")
    assert model.config.solvers == ("closed_form",)
    _, card = load_fusion(tmp_path / "cf" / "fusion.safetensors")
    assert card["train"]["solvers"] == ["closed_form"]
    rows = score_cases(model, cases, cfg=cfg)
    assert {r["method"] for r in rows} == {"closed_form", "knn", "fusion"}


def test_unknown_solvers_are_refused():
    import pytest

    with pytest.raises(ValueError, match="solvers must be some of"):
        FusionTrainConfig(solvers=("closed_form", "laplacian"))
    with pytest.raises(ValueError):
        FusionTrainConfig(solvers=())


def test_the_command_line_names_the_solvers_it_accepts(capsys):
    import pytest

    from matting_gui.research.cli import main

    with pytest.raises(SystemExit):
        main(["fusion-cv", "--out", "x", "--solvers", "closed_form,lbdm"])
    assert "choose some of closed_form, knn" in capsys.readouterr().err


def test_a_cache_solved_with_a_smaller_box_holds_the_same_cases_and_its_own_mattes(monkeypatch):
    """solver-cache --box: the same photos and trimaps, the solvers run as export would with that cap; the
    fusion's cross-validation then trains and scores on it (FusionTrainConfig.box)."""
    from matting_gui.core.evaluation.metrics import sad
    from matting_gui.core.inference.solvers import solver_mattes
    from matting_gui.research.data import thin
    from matting_gui.research.data.sources import load_split
    from matting_gui.research.fusion_train import run_fold
    from matting_gui.research.solver_cache import build_cache, cache_root, iter_cases

    monkeypatch.setattr(thin, "thin_case", lambda rng, size: (make_photo(size, size, 3), make_trimap(size, size),
                                                              (make_trimap(size, size) / 255).astype(np.float32)))
    jobs = [("GT01/trimap1", "GT01", ("thin", 40)), ("GT02/trimap1", "GT02", ("thin", 40))]
    assert build_cache(jobs) == 2 and build_cache(jobs, box=400) == 2
    assert build_cache(jobs, box=400) == 0  # resumed: nothing left
    full, small = list(iter_cases()), list(iter_cases(cache_root(400)))
    assert [c.key for c in full] == [c.key for c in small]
    for a, b in zip(full, small):
        assert np.array_equal(a.image, b.image) and np.array_equal(a.trimap, b.trimap)
        image, trimap, _, mattes = b.float_inputs()  # the photo as stored (8 bits): solves again within ~0.01
        small_solve, full_solve = solver_mattes(image, trimap, max_pixels=400), solver_mattes(image, trimap)
        assert np.abs(mattes - small_solve).mean() < 0.3 * np.abs(mattes - full_solve).mean()
        assert np.abs(a.float_inputs()[3] - full_solve).mean() < 0.3 * np.abs(a.float_inputs()[3] - small_solve).mean()
    assert not np.array_equal(full[0].mattes, small[0].mattes)  # 1,600 px boxes: solved smaller
    cfg = FusionTrainConfig(steps=1, batch=2, crop=32, width=8, dilations=(1, 2), box=400)
    groups = folds(load_split("all")["train"])
    fold = next(k for k, g in enumerate(groups) if "GT01" in g)
    rows = run_fold(fold, cfg, cache_root(400).parent / "cv")
    knn = next(r for r in rows if r["subject"] == "GT01" and r["method"] == "knn")
    a = small[0] if small[0].subject == "GT01" else small[1]
    assert abs(knn["sad"] - sad(a.mattes[1] / 65535, a.alpha / 255, a.trimap)) < 1e-3
