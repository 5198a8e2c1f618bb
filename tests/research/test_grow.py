"""Growing weights into a richer trimap encoding keeps what they compute; training from them."""

import numpy as np
import pytest
import torch

from matting_gui.core.inference.predictor import Predictor
from matting_gui.core.nets.config import STUDENT_FAST, TEACHER_LITE, with_encoding
from matting_gui.core.nets.network import build_network
from matting_gui.core.nets.weights import save_weights
from matting_gui.research.grow import grow_into
from matting_gui.research.train import TrainConfig, main
from tests.conftest import make_photo, make_trimap

SMOKE = dict(batch=2, size=64, data="synthetic", workers=0, warmup=1, log_every=1, val_every=0)


@pytest.mark.parametrize("encoding", ["proximity+gaussian", "proximity+solvers"])
@pytest.mark.parametrize("base", [STUDENT_FAST, TEACHER_LITE])  # sub-pixel and plain refinement heads
def test_grown_weights_give_the_same_matte(base, encoding, tmp_path):
    torch.manual_seed(1)
    old = build_network(base)
    with torch.no_grad():  # random BN statistics too, so that every tensor's copy matters
        for m in old.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
    new = build_network(with_encoding(base, encoding))
    assert grow_into(new, old) >= 2  # the stem and the refinement head read the input
    save_weights(tmp_path / "old.safetensors", old)
    save_weights(tmp_path / "new.safetensors", new)
    img, tri = make_photo(64, 96), make_trimap(64, 96)
    a = Predictor(tmp_path / "old.safetensors", "cpu").predict(img, tri).alpha
    b = Predictor(tmp_path / "new.safetensors", "cpu").predict(img, tri).alpha
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_grow_refuses_other_networks_and_poorer_encodings():
    rich = build_network(with_encoding(STUDENT_FAST, "proximity+gaussian"))
    with pytest.raises(ValueError, match="differ in more than"):
        grow_into(rich, build_network(TEACHER_LITE))
    with pytest.raises(ValueError, match="poorer encoding"):
        grow_into(build_network(STUDENT_FAST), rich)


def test_training_grows_init_weights_and_distils_across_encodings(tmp_path, capsys):
    """--init with 8-channel weights into a 14-channel run; a 14-channel teacher distilled into an
    8-channel student (the batch carries the richer encoding, each network reads its prefix)."""
    save_weights(tmp_path / "s.safetensors", build_network(STUDENT_FAST))
    rich = tmp_path / "rich"
    main(TrainConfig(preset="student_fast", trimap_encoding="proximity+gaussian", init=str(tmp_path / "s.safetensors"),
                     out=str(rich), steps=2, **SMOKE))
    assert "grown from trimap encoding 'proximity' to 'proximity+gaussian'" in capsys.readouterr().err
    assert Predictor(rich / "final.safetensors", "cpu").model.config.in_channels == 14
    plain = tmp_path / "plain"
    summary = main(TrainConfig(preset="student_fast", kd="spatial+output", teacher=str(rich / "final.safetensors"),
                               out=str(plain), steps=2, **SMOKE))
    assert summary["step"] == 2 and Predictor(plain / "final.safetensors", "cpu").model.config.in_channels == 8
    with pytest.raises(ValueError, match="trimap_encoding"):
        TrainConfig(trimap_encoding="fba")


def test_generated_samples_cannot_train_or_teach_a_solver_network(tmp_path):
    """Generated samples have no closed-form and KNN mattes: a solver encoding is refused up front."""
    with pytest.raises(ValueError, match="trimap_encoding"):
        TrainConfig(trimap_encoding="proximity+solvers")
    save_weights(tmp_path / "s.safetensors", build_network(with_encoding(STUDENT_FAST, "proximity+solvers")))
    with pytest.raises(ValueError, match="generated training samples"):
        main(TrainConfig(preset="student_fast", init=str(tmp_path / "s.safetensors"), out=str(tmp_path / "a"),
                         steps=1, **SMOKE))
    with pytest.raises(ValueError, match="cannot teach"):
        main(TrainConfig(preset="student_fast", kd="output", teacher=str(tmp_path / "s.safetensors"),
                         out=str(tmp_path / "b"), steps=1, **SMOKE))
