"""matting-lab's inputs are checked (issue 49, class 4): training-config types and a step's memory, log
plots from odd logs and to odd destinations; matting-cli info with odd model cards."""

import json
import os

import pytest

from matting_gui.cli.main import main as cli_main
from matting_gui.research.cli import main as lab_main
from matting_gui.research.train_config import TrainConfig


@pytest.mark.parametrize("data, words", [
    ({"kd_weights": 5}, "should be a table"),
    ({"kd_weights": {"spatial": "x"}}, "should be a number"),
    ({"kd_weights": {"spatial": float("nan")}}, "should be a number"),
    ({"kd_weights": {"evil": 1.0}}, "unknown kind"),
    ({"batch": 1_000_000, "size": 4096}, "per step; this machine has"),
])
def test_bad_training_configs_are_one_line_errors(data, words):
    with pytest.raises(ValueError, match=words) as info:
        TrainConfig.from_dict(data)
    assert "\n" not in str(info.value)


def test_a_training_config_from_toml_with_a_bad_table_is_exit_2(tmp_path, capsys):
    toml = tmp_path / "c.toml"
    toml.write_text('[kd_weights]\nspatial = "x"\n')
    assert lab_main(["train", "--config", str(toml), "--out", str(tmp_path / "run")]) == 2
    assert "kd_weights.spatial" in capsys.readouterr().err


def _log(tmp_path, rows):
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_plot_log_skips_rows_that_are_not_log_rows(tmp_path):
    log = _log(tmp_path, [{"val": 5}, [1, 2], {"step": 1, "total": "x"}, {"step": 2, "total": 0.5},
                          {"step": 2, "val": {"photo": {"sad": 3.0}}}])
    assert lab_main(["plot-log", str(log), "--out", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").stat().st_size > 1000


@pytest.mark.parametrize("source", ["fifo", "device"])
def test_plot_log_refuses_what_is_not_a_regular_file(tmp_path, capsys, source):
    path = "/dev/zero" if source == "device" else str(tmp_path / "fifo")
    if source == "fifo":
        os.mkfifo(path)
    assert lab_main(["plot-log", path, "--out", str(tmp_path / "p.png")]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_plot_log_destinations(tmp_path, capsys):
    log = _log(tmp_path, [{"step": 1, "total": 0.5}, {"step": 2, "total": 0.4}])
    assert lab_main(["plot-log", str(log), "--out", str(tmp_path / "plot.txt")]) == 2
    assert "ending in .png" in capsys.readouterr().err
    assert lab_main(["plot-log", str(log), "--out", str(tmp_path / "missing" / "p.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "link.png").symlink_to(victim)
    assert lab_main(["plot-log", str(log), "--out", str(tmp_path / "link.png")]) == 0
    assert victim.read_text() == "precious" and not (tmp_path / "link.png").is_symlink()


def test_info_with_a_card_whose_training_is_a_list(models, capsys):
    card = json.loads((models / "student.json").read_text())
    (models / "student.json").write_text(json.dumps(card | {"training": [1, 2]}))
    try:
        assert cli_main(["info"]) == 0
        assert "student.safetensors" in capsys.readouterr().out
    finally:
        (models / "student.json").write_text(json.dumps(card))
