"""The trainer under torchrun with 2 processes (gloo on CPU), on tiny generated data."""

import json
import shutil
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_torchrun_two_processes(tmp_path):
    torchrun = shutil.which("torchrun")
    cmd = [torchrun] if torchrun else [sys.executable, "-m", "torch.distributed.run"]
    cmd += ["--standalone", "--nproc_per_node=2", "-m", "matting_gui.research.cli", "train", "--preset", "student",
            "--data", "synthetic", "--steps", "4", "--batch", "2", "--size", "64", "--workers", "0",
            "--warmup", "1", "--log-every", "1", "--val-every", "0", "--out", str(tmp_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "total" in r] == [1, 2, 3, 4]  # rank 0 logs once per step
    summary = [r["summary"] for r in rows if "summary" in r][0]
    assert summary["step"] == 4
    card = json.loads((tmp_path / "final.json").read_text())
    assert card["training"]["batch"] == 4  # 2 processes x batch 2
