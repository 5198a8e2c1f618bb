import pickle

import pytest
import torch

from matting_gui.core.nets.config import STUDENT
from matting_gui.core.nets.model_files import WeightsError, card_path
from matting_gui.core.nets.network import build_network
from matting_gui.core.nets.weights import load_network, save_weights


def test_roundtrip_rebuilds_from_stored_config(tmp_path):
    net = build_network(STUDENT)
    path = save_weights(tmp_path / "s.safetensors", net, {"training": {"steps": 3}})
    loaded, card = load_network(path)
    assert loaded.config == STUDENT
    assert card["training"]["steps"] == 3 and card["parameters"] > 0 and card["macs_512"] > 0
    for (k, a), (_, b) in zip(net.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    assert card_path(path).exists()


def test_missing_preset_says_how_to_train():
    with pytest.raises(WeightsError, match="matting-lab train --preset student_fast "):
        load_network("student")


def test_missing_path(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_network(tmp_path / "none.safetensors")


def test_truncated_and_garbage_files(tmp_path):
    path = save_weights(tmp_path / "s.safetensors", build_network(STUDENT))
    data = path.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) // 3])
    (tmp_path / "garbage.safetensors").write_bytes(b"\x00" * 100)
    for name in ("trunc.safetensors", "garbage.safetensors"):
        with pytest.raises(WeightsError, match="not a valid safetensors"):
            load_network(tmp_path / name)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_payload_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"w": _Payload(str(marker))}))
    torch_style = tmp_path / "evil2.safetensors"
    torch.save({"w": _Payload(str(marker))}, torch_style)
    for path in (evil, torch_style):
        with pytest.raises(WeightsError):
            load_network(path)
    assert not marker.exists()


def test_safetensors_without_config_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, tmp_path / "other.safetensors")
    with pytest.raises(WeightsError, match="not a matting-gui network"):
        load_network(tmp_path / "other.safetensors")


def _with_header(tmp_path, name, config: dict, tensors=None):
    import json

    from safetensors.torch import save_file

    tensors = tensors if tensors is not None else {"x": torch.zeros(2)}
    path = tmp_path / name
    save_file(tensors, path, metadata={"format": "matting-gui/1", "config": json.dumps(config)})
    return path


@pytest.mark.parametrize("change", [{"stem": 20000}, {"widths": [24, 40, 80, 8000]}, {"depths": [1, 1, 1, 500]},
                                    {"in_channels": 3}, {"refine": -1}, {"widths": [24, 40]}, {"stem": "16"},
                                    {"encoder": "vgg"}, {"name": ""}])
def test_a_hostile_header_is_refused_before_anything_is_built(tmp_path, change, monkeypatch):
    import json

    import matting_gui.core.nets.weights as weights

    def no_build(cfg):
        raise AssertionError("a network was built from an unchecked header")

    config = json.loads(STUDENT.to_json()) | change
    path = _with_header(tmp_path, "h.safetensors", config)
    monkeypatch.setattr(weights, "build_network", no_build)
    with pytest.raises(WeightsError, match="invalid network config"):
        load_network(path)


def test_tensor_shapes_are_checked_against_the_config_before_loading(tmp_path):
    import json

    state = {k: v.clone() for k, v in build_network(STUDENT).state_dict().items()}
    key = next(k for k, v in state.items() if v.ndim == 4)
    state[key] = torch.zeros(*state[key].shape[:-1], state[key].shape[-1] + 2)
    path = _with_header(tmp_path, "s.safetensors", json.loads(STUDENT.to_json()), state)
    with pytest.raises(WeightsError, match="do not match their config"):
        load_network(path)


def test_non_finite_weights_are_refused(tmp_path):
    net = build_network(STUDENT)
    with torch.no_grad():
        next(net.parameters()).view(-1)[0] = float("nan")
    path = save_weights(tmp_path / "nan.safetensors", net)
    with pytest.raises(WeightsError, match="NaN or infinite"):
        load_network(path)


def test_fifo_and_malformed_card(tmp_path):
    import os

    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    with pytest.raises(WeightsError, match="not a regular file"):
        load_network(fifo)  # returns at once instead of blocking on the pipe
    path = save_weights(tmp_path / "s.safetensors", build_network(STUDENT))
    for text in ("[1, 2]", '{"name": 5, "parameters": "many"}', "not json"):
        card_path(path).write_text(text)
        _, card = load_network(path)
        assert card["name"] == "student" and isinstance(card["parameters"], int)
