import pickle

import pytest
import torch

from matting_gui.core.config import STUDENT
from matting_gui.core.network import build_network
from matting_gui.core.weights import WeightsError, card_path, load_network, save_weights


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
    with pytest.raises(WeightsError, match="matting-cli train --preset student_wide "):
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
