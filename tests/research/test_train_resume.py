"""The trainer stopped and resumed: exact continuation, the log cut back to the checkpoint, SIGTERM, a
stop of the whole process group, a time limit, the weight average, and never writing through a link."""

import json

import torch

from matting_gui.research.cli import main as lab_main
from matting_gui.research.train import TrainConfig, main
from tests.research.smoke import SMOKE, logged_losses


def test_resume_continues_exactly(tmp_path):
    """6 steps straight == 3 steps, stop, resume to 6: identical weights and loss log."""
    from matting_gui.core.nets.weights import load_network

    a, b = tmp_path / "a", tmp_path / "b"
    main(TrainConfig(preset="student", out=str(a), steps=6, seed=3, **SMOKE))
    assert main(TrainConfig(preset="student", out=str(b), steps=6, seed=3, stop_at=3, **SMOKE))["stopped"]
    assert torch.load(b / "checkpoint.pt", weights_only=True)["step"] == 3
    assert not (b / "final.safetensors").exists()
    main(TrainConfig(preset="student", out=str(b), steps=6, seed=3, resume=True, **SMOKE))
    assert logged_losses(a) == logged_losses(b)
    na, _ = load_network(a / "final.safetensors")
    nb, _ = load_network(b / "final.safetensors")
    for (k, x), (_, y) in zip(na.state_dict().items(), nb.state_dict().items()):
        assert torch.equal(x, y), k


def test_resume_drops_log_records_written_after_the_checkpoint(tmp_path):
    """A run killed between checkpoints logged steps the resume repeats: they are not kept twice."""
    out = tmp_path / "r"
    main(TrainConfig(preset="student", out=str(out), steps=5, seed=1, stop_at=3, **SMOKE))
    with open(out / "log.jsonl", "a") as f:  # what a SIGKILL after the checkpoint leaves behind
        f.write(json.dumps({"step": 4, "total": 99.0}) + "\n" + json.dumps({"step": 5, "total": 99.0}) + "\n")
    main(TrainConfig(preset="student", out=str(out), steps=5, seed=1, resume=True, **SMOKE))
    steps = [r["step"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "total" in r]
    assert steps == [1, 2, 3, 4, 5]
    assert 99.0 not in logged_losses(out)


def test_sigterm_checkpoints_and_resume_continues(tmp_path):
    """A session ending (SIGTERM) must not lose the run: the trainer checkpoints and exits 0."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    code = ("from matting_gui.research.train import TrainConfig, main; "
            f"main(TrainConfig(preset='student', out={str(out)!r}, steps=100000, batch=2, size=64, "
            "data='synthetic', workers=0, warmup=2, log_every=1, val_every=0))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = out / "log.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and len(log.read_text().splitlines()) >= 3:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    assert "on SIGTERM" in output
    state = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)
    stopped = int(state["step"])
    assert stopped >= 3 and not (out / "final.safetensors").exists()
    summary = main(TrainConfig(preset="student", out=str(out), steps=stopped + 2, batch=2, size=64, data="synthetic",
                               workers=0, warmup=2, log_every=1, val_every=0, resume=True))
    assert summary["step"] == stopped + 2


def test_training_never_writes_through_a_planted_link(tmp_path, capsys):
    """Temporary files get unique names (a link at the old fixed names is left alone), and a link at a
    fixed name in the run folder stops the run with a one-line error before anything is written."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "run"
    out.mkdir()
    for name in ("checkpoint.tmp", "log.tmp"):
        (out / name).symlink_to(victim)
    main(TrainConfig(preset="student", out=str(out), steps=2, **SMOKE))
    assert victim.read_text() == "precious" and (out / "checkpoint.pt").is_file()
    assert not list(out.glob(".*.part"))  # no temporary file left behind
    for name in ("log.jsonl", "checkpoint.pt"):
        run = tmp_path / f"run_{name}"
        run.mkdir()
        (run / name).symlink_to(victim)
        assert lab_main(["train", "--preset", "student", "--steps", "2", "--batch", "2", "--size", "64",
                         "--data", "synthetic", "--workers", "0", "--out", str(run)]) == 2
        assert "is a symbolic link" in capsys.readouterr().err
        assert victim.read_text() == "precious"


def test_max_minutes_stops_with_a_checkpoint_that_resumes_exactly(tmp_path, capsys):
    """A time limit ends the invocation like stop_at (checkpoint, no final weights); resuming
    then gives the same losses as an uninterrupted run. device='auto' trains here on the CPU."""
    a, b = tmp_path / "a", tmp_path / "b"
    main(TrainConfig(preset="student_fast", out=str(a), steps=4, seed=2, **SMOKE))
    summary = main(TrainConfig(preset="student_fast", out=str(b), steps=4, seed=2, max_minutes=1e-6,
                               device="auto", **SMOKE))
    assert summary == {"step": 1, "stopped": True}
    assert "stopped at step 1 after 1e-06 min; continue with --resume" in capsys.readouterr().err
    assert not (b / "final.safetensors").exists()
    main(TrainConfig(preset="student_fast", out=str(b), steps=4, seed=2, resume=True, **SMOKE))
    assert logged_losses(a) == logged_losses(b)


def test_weight_average_is_what_validation_and_exports_hold_and_it_resumes_exactly(tmp_path):
    """ema > 0: best/final weights are the running average (not the raw weights the checkpoint
    trains on), it is checkpointed, and 3 + 3 resumed steps equal 6 straight ones."""
    from matting_gui.core.nets.weights import load_network
    from matting_gui.research.train import update_ema

    a, b = tmp_path / "a", tmp_path / "b"
    cfg = dict(preset="student", steps=6, seed=4, ema=0.5, **SMOKE)
    main(TrainConfig(out=str(a), **cfg))
    main(TrainConfig(out=str(b), stop_at=3, **cfg))
    main(TrainConfig(out=str(b), resume=True, **cfg))
    raw = {k[len("net."):]: v for k, v in torch.load(a / "checkpoint.pt", weights_only=True)["module"].items()
           if k.startswith("net.")}
    avg = torch.load(a / "checkpoint.pt", weights_only=True)["ema"]
    final_a, final_b = load_network(a / "final.safetensors")[0].state_dict(), load_network(b / "final.safetensors")[0].state_dict()
    for k in avg:
        assert torch.equal(final_a[k], avg[k]) and torch.equal(final_a[k], final_b[k]), k
    assert any(not torch.equal(avg[k], raw[k]) for k in avg if avg[k].is_floating_point())
    # the update itself: halfway for decay 0.5, integer counters copied
    x, y = torch.nn.BatchNorm2d(2), torch.nn.BatchNorm2d(2)
    with torch.no_grad():
        y.weight.fill_(3.0)
    y.num_batches_tracked.fill_(7)
    update_ema(x, y, 0.5)
    assert torch.allclose(x.weight, torch.full((2,), 2.0)) and int(x.num_batches_tracked) == 7


def test_a_stop_of_the_whole_process_group_leaves_a_resumable_checkpoint(tmp_path):
    """`kill -TERM -- -PGID` on a run with two DataLoader workers (a closing terminal, a job scheduler): the
    workers ignore it, the trainer checkpoints and exits 0, and --resume continues from that step. Twice."""
    import os
    import signal
    import subprocess
    import sys
    import time

    for attempt in range(2):
        out = tmp_path / f"run{attempt}"
        code = ("from matting_gui.research.train import TrainConfig, main; "
                f"main(TrainConfig(preset='student', out={str(out)!r}, steps=100000, batch=2, size=64, "
                "data='synthetic', workers=2, warmup=2, log_every=1, val_every=0))")
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        log = out / "log.jsonl"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and len(log.read_text().splitlines()) >= 2 + attempt:
                break
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, output
        assert "on SIGTERM" in output and "Traceback" not in output
        stopped = int(torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)["step"])
        assert stopped >= 1
        summary = main(TrainConfig(preset="student", out=str(out), steps=stopped + 1, batch=2, size=64,
                                   data="synthetic", workers=0, warmup=2, log_every=1, val_every=0, resume=True))
        assert summary["step"] == stopped + 1
