"""Smoke runs of the trainer on generated data: teacher, then a distilled student (resuming and
stopping: test_train_resume)."""

import json

import numpy as np
import pytest
import torch

from matting_gui.cli.main import main as cli_main
from matting_gui.core.inference.predictor import Predictor
from matting_gui.research.cli import main as lab_main
from matting_gui.research.train import TrainConfig, kd_scale_at, lr_at, main
from tests.conftest import make_photo, make_trimap
from tests.research.smoke import SMOKE, logged_losses


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("teacher")
    summary = main(TrainConfig(preset="teacher", out=str(out), steps=24, **SMOKE))
    return out, summary


def test_teacher_smoke_loss_decreases_and_exports(teacher_run):
    out, summary = teacher_run
    losses = logged_losses(out)
    assert len(losses) == 24
    assert np.mean(losses[-6:]) < np.mean(losses[:6])
    assert summary["step"] == 24
    for name in ("final", "best"):
        card = json.loads((out / f"{name}.json").read_text())
        assert card["name"] == "teacher"
        assert ("validation" in card) == (name == "best")  # the best weights carry the score that chose them
    p = Predictor(out / "final.safetensors", "cpu")
    assert p.predict(make_photo(), make_trimap()).alpha.shape == (48, 64)
    checks = [r for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "val" in r]
    assert checks and all(r["val_sad"] and all(isinstance(v, float) for v in r["val_sad"].values()) for r in checks)
    last = checks[-1]
    assert np.mean(list(last["val_sad"].values())) == pytest.approx(last["val"]["all"]["sad"], abs=1e-3)


def test_distilled_student_smoke_and_cli(teacher_run, tmp_path):
    t_out, _ = teacher_run
    out = tmp_path / "student"
    summary = main(TrainConfig(preset="student", out=str(out), steps=12, kd="spatial+channel+output",
                               teacher=str(t_out / "final.safetensors"), **SMOKE))
    rows = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert all({"kd_spatial", "kd_channel", "alpha_teacher"} <= set(r) for r in rows if "total" in r)
    assert summary["parameters"] < 1_000_000
    from PIL import Image

    Image.fromarray((make_photo() * 255).astype(np.uint8)).save(tmp_path / "p.png")
    Image.fromarray(make_trimap()).save(tmp_path / "t.png")
    code = cli_main(["matte", str(tmp_path / "p.png"), "--trimap", str(tmp_path / "t.png"),
                     "--model", str(out / "final.safetensors"), "--out", str(tmp_path / "res")])
    assert code == 0 and (tmp_path / "res" / "p_matte.png").exists()


def test_lr_schedule_is_pure():
    assert lr_at(0, 1.0, 10, 100, 0.1) == pytest.approx(0.1)
    assert lr_at(9, 1.0, 10, 100, 0.1) == pytest.approx(1.0)
    assert lr_at(100, 1.0, 10, 100, 0.1) == pytest.approx(0.1)
    assert lr_at(55, 1.0, 10, 100, 0.1) == pytest.approx(0.55)


def test_kd_decay_fades_teacher_terms_to_zero_and_the_card_names_the_stages(teacher_run, tmp_path):
    assert kd_scale_at(0, 100, 1.0) == 1.0 and kd_scale_at(99, 100, 1.0) == 1.0
    assert kd_scale_at(49, 100, 0.5) == 1.0
    assert kd_scale_at(75, 100, 0.5) == pytest.approx(0.5)
    assert kd_scale_at(100, 100, 0.5) == 0.0
    t_out, _ = teacher_run
    out = tmp_path / "decay"
    assert lab_main(["train", "--preset", "student", "--kd", "spatial+output", "--teacher", str(t_out / "final.safetensors"),
                     "--kd-decay-from", "0.5", "--kd-stages", "2+1", "--steps", "8", "--batch", "2", "--size", "64", "--data", "synthetic",
                     "--workers", "0", "--val-every", "0", "--log-every", "1", "--out", str(out)]) == 0
    rows = [r for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "total" in r]
    scales = [r.get("kd_scale", 1.0) for r in rows]
    assert scales[:4] == [1.0] * 4 and scales[4:] == pytest.approx([1.0, 0.75, 0.5, 0.25])
    for r, sc in zip(rows, scales):  # w1 and the feature terms are both scaled
        w1 = 0.5 * sc
        assert r["alpha"] == pytest.approx(w1 * r["alpha_teacher"] + (1 - w1) * r["alpha_gt"], rel=1e-3, abs=1e-5)
        expected = r["alpha"] + 0.5 * r["comp"] + 0.5 * r["grad"] + sc * r["kd_total"]
        assert r["total"] == pytest.approx(expected, rel=1e-3, abs=1e-5)
    training = json.loads((out / "final.json").read_text())["training"]
    assert training["kd_decay_from"] == 0.5 and training["kd_stages"] == "1+2"


def test_train_config_rejects_unknown_keys(tmp_path):
    (tmp_path / "c.toml").write_text('preset = "student"\nstepz = 3\n')
    with pytest.raises(ValueError, match="stepz"):
        TrainConfig.from_toml(tmp_path / "c.toml")
    assert lab_main(["train", "--config", str(tmp_path / "c.toml"), "--out", str(tmp_path / "o")]) == 2
    (tmp_path / "k.toml").write_text('preset = "student"\n[kd_weights]\nspatial = 3.0\n')
    cfg = TrainConfig.from_toml(tmp_path / "k.toml", steps=5)
    assert cfg.kd_weights["spatial"] == 3.0 and cfg.kd_weights["channel"] == TrainConfig().kd_weights["channel"]
    assert cfg.steps == 5


def test_every_committed_training_config_is_valid():
    """The recipes under docs/training are what the README tells people to run: each must load."""
    from pathlib import Path

    configs = sorted((Path(__file__).parents[2] / "docs" / "training").glob("*.toml"))
    assert len(configs) >= 20
    for path in configs:
        cfg = TrainConfig.from_toml(path)
        assert cfg.steps > 0 and (cfg.kd == "none" or cfg.preset != "teacher"), path.name


def test_ablation_and_report_commands(teacher_run, tmp_path, monkeypatch, capsys):
    """The ablation runner trains the chosen variants (skipping finished ones); report tabulates them."""
    import matting_gui.research.cli as cli
    import matting_gui.research.train as train_mod

    t_out, _ = teacher_run
    real_main = train_mod.main
    monkeypatch.setattr(train_mod, "main", lambda cfg: real_main(
        TrainConfig(**{**cfg.__dict__, "data": "synthetic", "workers": 0, "val_every": 0, "size": 64})))
    args = ["ablation", "--teacher", str(t_out / "final.safetensors"), "--out", str(tmp_path / "abl"),
            "--variants", "none,spatial+channel", "--steps", "3", "--batch", "2", "--workers", "0"]
    assert cli.main(args) == 0
    assert (tmp_path / "abl" / "spatial_channel" / "final.safetensors").exists()
    assert cli.main(args) == 0 and "done already" in capsys.readouterr().err
    assert cli.main(["ablation", "--teacher", "x", "--out", str(tmp_path), "--variants", "magic"]) == 2
    assert cli.main(["report", "--kinds", "photo,hair"]) == 2 and "--kinds: validation kinds 'photo,hair'" in capsys.readouterr().err

    from matting_gui.research.report import evaluate_models, markdown
    from matting_gui.research.train_data import synthetic_validation

    rows = evaluate_models({"teacher": t_out / "final.safetensors",
                            "student (none)": tmp_path / "abl" / "none" / "final.safetensors",
                            "ablation: spatial+channel": tmp_path / "abl" / "spatial_channel" / "final.safetensors"},
                           include_closed_form=True, items=synthetic_validation(0, 2, 48),
                           mirror=("student (none)",), exported=("student (none)",))
    text = markdown(rows)
    plain, mirrored, exported = (next(r for r in rows if r["label"] == f"student (none){s}")
                                 for s in ("", ", mirror-averaged", ", as exported (mirror-averaged, refined)"))
    assert mirrored["mirror"] and mirrored["macs_512"] == 2 * plain["macs_512"]
    assert mirrored["metrics"]["composite"] != plain["metrics"]["composite"]
    assert exported["mirror"] and exported["refined"] and exported["metrics"]["composite"] != mirrored["metrics"]["composite"]
    assert "| student (none) |" in text and "closed-form" in text and "MACs at 512²" in text
    main_table, rest = text.split("**Ablation (narrow student), 3 steps per variant — validation composites**")
    ablation_table, size_table = rest.split("| model | parameters")
    assert "| spatial+channel |" in ablation_table and "| student (none) |" not in ablation_table
    assert "spatial+channel" not in main_table and "| ablation: spatial+channel | 458,769 |" in size_table
    from matting_gui.core.evaluation.metrics import evaluate_alpha
    from matting_gui.core.inference.refine import closed_form

    items = synthetic_validation(0, 2, 48)  # the closed-form row is closed-form scored by the metrics module
    direct = np.mean([evaluate_alpha(closed_form(i.image, i.trimap), i.alpha, i.trimap).sad for i in items])
    cf = next(r for r in rows if r["label"].startswith("closed-form"))
    assert cf["metrics"]["composite"]["sad"] == pytest.approx(direct, rel=1e-6) and direct > 0


def test_init_from_weights_starts_from_them(teacher_run, tmp_path, capsys):
    """--init: a new schedule from committed weights (how a run continues on a replaced machine)."""
    from matting_gui.core.nets.weights import load_network

    t_out, _ = teacher_run
    out = tmp_path / "cont"
    main(TrainConfig(preset="teacher", out=str(out), steps=1, init=str(t_out / "final.safetensors"),
                     **(SMOKE | {"lr": 1e-12, "warmup": 1})))
    assert "initialised from" in capsys.readouterr().err
    start, _ = load_network(t_out / "final.safetensors")
    after, _ = load_network(out / "final.safetensors")
    convs = [k for k in start.state_dict() if k.endswith("conv1.weight")]
    assert all(torch.allclose(start.state_dict()[k], after.state_dict()[k], atol=1e-6) for k in convs)


def test_plot_log_draws_losses_and_validation(teacher_run, tmp_path):
    import cv2

    t_out, _ = teacher_run
    assert lab_main(["plot-log", str(t_out / "log.jsonl"), "--out", str(tmp_path / "p.png")]) == 0
    img = cv2.imread(str(tmp_path / "p.png"))
    assert img.shape == (640, 900, 3)
    assert (img < 250).any(axis=2).mean() > 0.01  # curves and labels were drawn, not a blank canvas
    assert lab_main(["plot-log", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "q.png")]) == 2


def test_plot_log_compares_validation_curves_of_several_runs(tmp_path):
    import cv2

    logs = []
    for name, scale in (("a", 1.0), ("b", 0.8)):
        (tmp_path / name).mkdir()
        rows = [{"step": s, "val": {k: {"sad": scale * 4 / (1 + s / 500)} for k in ("photo", "composite")}}
                for s in range(500, 3001, 500)]
        (tmp_path / name / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        logs.append(str(tmp_path / name / "log.jsonl"))
    out = tmp_path / "cmp.png"
    assert lab_main(["plot-log", *logs, "--out", str(out)]) == 0
    img = cv2.imread(str(out))
    assert img.shape == (640, 900, 3)
    colours = {tuple(int(v) for v in px) for px in img.reshape(-1, 3)[::7] if max(px) - min(px) > 60}
    assert len(colours) >= 2  # two differently coloured curves
    assert lab_main(["plot-log", *logs, "--labels", "only-one", "--out", str(out)]) == 2


def test_ablation_processes_share_the_list_without_training_a_variant_twice(tmp_path, capsys):
    import os
    import subprocess
    import sys

    import matting_gui.research.cli as cli

    lock = tmp_path / "abl" / "none" / "ablation.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(str(os.getpid()))  # a live process is training this variant
    args = ["ablation", "--teacher", "unused", "--out", str(tmp_path / "abl"), "--variants", "none", "--steps", "1"]
    assert cli.main(args) == 0 and "another process" in capsys.readouterr().err
    assert not (tmp_path / "abl" / "none" / "checkpoint.pt").exists()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock.write_text(dead.stdout.strip())  # its process is gone: the lock is stale
    assert cli.claim_lock(lock) == lock and lock.read_text() == str(os.getpid())
    assert cli.claim_lock(lock) is None  # now held by us


def test_ablation_stops_after_a_variant_was_stopped(tmp_path, monkeypatch, capsys):
    """A SIGTERM'd variant must end the ablation run, not hand the CPU to the next variant."""
    import matting_gui.research.cli as cli
    import matting_gui.research.train as train_mod

    started = []
    monkeypatch.setattr(train_mod, "main", lambda cfg: started.append(cfg.kd) or {"step": 7, "stopped": True})
    args = ["ablation", "--teacher", "t.safetensors", "--out", str(tmp_path), "--variants", "none,output", "--steps", "9"]
    assert cli.main(args) == 0
    assert started == ["none"] and "stopped at step 7" in capsys.readouterr().err
    assert not (tmp_path / "none" / "ablation.lock").exists()  # released


def test_cuda_without_a_gpu_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU is visible"):
        main(TrainConfig(preset="student", out=str(tmp_path / "run"), steps=1, device="cuda", **SMOKE))


@pytest.mark.parametrize("bad", [{"steps": "ten"}, {"steps": -5}, {"size": 0}, {"size": 48}, {"log_every": 0},
                                 {"lr": -1.0}, {"p_painted": 1.5}, {"split": "v9"}, {"resume": "yes"},
                                 {"preset": "huge"}, {"batch": 2.5}, {"device": "tpu"}, {"max_minutes": -1.0},
                                 {"ema": 1.0}, {"val_kinds": "photo,hair"}, {"kd_stages": "5"}])
def test_bad_training_values_are_one_line_errors(bad):
    with pytest.raises(ValueError, match="training config|multiple of 32") as info:
        TrainConfig.from_dict(bad)
    assert "\n" not in str(info.value)


def test_corrupt_checkpoint_and_wrong_init_are_one_line_errors(tmp_path, teacher_run, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"PK\x03\x04 truncated zip")
    args = ["train", "--preset", "student", "--steps", "2", "--batch", "2", "--size", "64", "--data", "synthetic",
            "--workers", "0", "--out", str(run), "--resume"]
    assert lab_main(args) == 2
    err = capsys.readouterr().err
    assert "checkpoint is corrupt or truncated" in err and "Traceback" not in err
    t_out, _ = teacher_run
    assert lab_main(args[:-3] + ["--out", str(tmp_path / "other"), "--init", str(t_out / "final.safetensors")]) == 2
    assert "cannot initialise 'student'" in capsys.readouterr().err


def test_splits_keep_validation_apart_except_the_final_one():
    """v1, v2 and the folds never train on their validation subjects; 'all' (final models) trains on all 19."""
    from matting_gui.research.data.sources import SPLITS, load_split

    v2, final = load_split("v2"), load_split("all")
    for name in ("v1", "v2", "fold0", "fold1", "fold2", "fold3"):
        s = load_split(name)
        assert not set(s["train"]) & set(s["val"]) and len(s["train"]) + len(s["val"]) == 19, name
    assert set(final["train"]) == set(v2["train"]) | set(v2["val"]) and final["val"] == v2["val"]
    assert set(SPLITS) == {"v1", "v2", "all", "fold0", "fold1", "fold2", "fold3"}
