"""Trimap encodings: the FBA-style Gaussian maps, configs that must fit them, and inference with them."""

import json

import numpy as np
import pytest

from matting_gui.core.editing.trimap import ENCODINGS, GAUSSIAN_SCALES, SOLVER_ENCODINGS, encode_inputs
from matting_gui.core.inference.predictor import Predictor
from matting_gui.core.nets.config import STUDENT_FAST, TEACHER_LITE, NetConfig, with_encoding
from matting_gui.core.nets.network import build_network
from matting_gui.core.nets.weights import save_weights
from tests.conftest import make_photo, make_trimap


def _band(h=40, w=60):
    tri = np.full((h, w), 128, np.uint8)
    tri[:, :5] = 255
    tri[:, -5:] = 0
    return tri


def _solvers(h, w):
    return np.random.default_rng(3).random((2, h, w), dtype=np.float32)


def test_solver_mattes_extend_the_proximity_encoding():
    image, tri = make_photo(40, 60), _band()
    solvers = _solvers(40, 60)
    rich = encode_inputs(image, tri, encoding="proximity+solvers", solvers=solvers)
    assert rich.shape == (10, 40, 60)
    np.testing.assert_array_equal(rich[:8], encode_inputs(image, tri))  # a prefix: weights can grow into it
    np.testing.assert_array_equal(rich[8:], solvers)
    with pytest.raises(ValueError, match="needs solver mattes"):
        encode_inputs(image, tri, encoding="proximity+solvers")
    with pytest.raises(ValueError, match="takes no solver mattes"):
        encode_inputs(image, tri, solvers=solvers)
    with pytest.raises(ValueError, match="do not fit"):
        encode_inputs(image, tri, encoding="proximity+solvers", solvers=solvers[:, :20])


def test_gaussian_maps_extend_the_proximity_encoding():
    image, tri = make_photo(40, 60), _band()
    base = encode_inputs(image, tri)
    rich = encode_inputs(image, tri, encoding="proximity+gaussian")
    assert base.shape == (8, 40, 60) and rich.shape == (ENCODINGS["proximity+gaussian"], 40, 60)
    np.testing.assert_array_equal(rich[:8], base)  # a prefix: weights can grow into it
    np.testing.assert_array_equal(encode_inputs(image, tri, True, "proximity+gaussian"), rich)  # channels_last view
    gauss = rich[8:].reshape(len(GAUSSIAN_SCALES), 2, 40, 60)  # (σ, foreground / background, H, W)
    assert np.all(gauss[:, 0][:, :, :5] == 1) and np.all(gauss[:, 1][:, :, -5:] == 1)  # 1 on the known pixels
    row = gauss[:, 0, 20]
    assert np.all(np.diff(row[:, 4:], axis=1) <= 0)  # falling with the distance to the foreground
    d = -16 * np.log(rich[6, 20, 30])  # the distance the proximity map encodes (OpenCV's, ≈ 26 px · 0.955)
    assert 24 < d < 27
    np.testing.assert_allclose(row[:, 30], np.exp(-(d**2) / (2 * np.array(GAUSSIAN_SCALES) ** 2)), rtol=1e-3, atol=1e-6)
    assert row[2, 50] > 0.3 > np.exp(-50 / 16)  # the widest still tells depth where exp(-d/16) has faded


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize(("h", "w", "pad", "mode"), [
    (40, 60, (24, 4), "reflect"),  # as network_input pads to multiples of 32
    (33, 31, (31, 1), "reflect"),  # the mirror reaches row 0
    (20, 30, (0, 2), "reflect"),
    (9, 40, (23, 24), "edge"),  # too small to mirror
])
def test_padding_while_encoding_equals_padding_afterwards(encoding, channels_last, h, w, pad, mode):
    image, tri = make_photo(h, w), _band(h, w)
    solvers = _solvers(h, w) if encoding in SOLVER_ENCODINGS else None
    padded = encode_inputs(image, tri, channels_last, encoding, pad=pad, solvers=solvers)
    expected = np.pad(encode_inputs(image, tri, encoding=encoding, solvers=solvers),
                      ((0, 0), (0, pad[0]), (0, pad[1])), mode=mode)
    assert padded.shape == expected.shape
    np.testing.assert_array_equal(padded, expected)
    assert padded.flags.c_contiguous != channels_last  # (C, H, W) contiguous, or a view of (H, W, C)


def test_an_unpainted_foreground_gives_zero_maps_and_unknown_encodings_are_refused():
    tri = np.full((20, 30), 128, np.uint8)
    tri[:, -4:] = 0
    rich = encode_inputs(make_photo(20, 30), tri, encoding="proximity+gaussian")
    assert np.all(rich[8::2] == 0) and np.all(rich[9::2][:, :, -4:] == 1)
    with pytest.raises(ValueError, match="unknown trimap encoding"):
        encode_inputs(make_photo(20, 30), tri, encoding="fba")


def test_configs_must_fit_their_encoding_and_old_headers_read_as_proximity():
    cfg = with_encoding(TEACHER_LITE, "proximity+gaussian")
    assert cfg.in_channels == 14 and NetConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ValueError, match="does not fit its trimap encoding"):
        NetConfig(in_channels=14)
    with pytest.raises(ValueError, match="unknown trimap encoding"):
        with_encoding(TEACHER_LITE, "fba")
    old = json.loads(STUDENT_FAST.to_json())
    del old["trimap_encoding"]  # weights saved before encodings existed
    assert NetConfig.from_dict(old) == STUDENT_FAST


def test_a_gaussian_network_is_saved_loaded_and_run_with_its_own_encoding(tmp_path):
    net = build_network(with_encoding(STUDENT_FAST, "proximity+gaussian"))
    save_weights(tmp_path / "g.safetensors", net)
    pred = Predictor(tmp_path / "g.safetensors", "cpu")
    img, tri = make_photo(64, 96), make_trimap(64, 96)
    result = pred.predict(img, tri, mirror=True, refine=True)
    assert result.alpha.shape == (64, 96) and np.all(result.alpha[tri == 0] == 0)


@pytest.mark.parametrize("painted", ["both", "no foreground", "no background"])
def test_large_inputs_encode_as_the_planar_reference(painted):
    """Above the size where the two distance transforms run in parallel and RGB is scaled in one
    OpenCV pass, the channels-last encoding still equals the planar one bit for bit."""
    h, w = 300, 260  # 78,000 pixels: the parallel path
    image = np.random.default_rng(3).integers(0, 256, (h, w, 3)).astype(np.float32) / np.float32(255)
    image[0, :4, 0] = [0.0, 1.0, 0.5, 1e-30]  # exact ends and a tiny value
    tri = _band(h, w)
    if painted == "no foreground":
        tri[tri == 255] = 128
    elif painted == "no background":
        tri[tri == 0] = 128
    reference = encode_inputs(image, tri)  # planar: (x - 0.5) * 4, one distance after the other
    np.testing.assert_array_equal(encode_inputs(image, tri, channels_last=True), reference)
    np.testing.assert_array_equal(encode_inputs(image, tri, channels_last=True, pad=(4, 28))[:, :h, :w], reference)


def test_a_solver_network_reads_the_mattes_it_is_given_or_solves_them(tmp_path):
    """A network of the "proximity+solvers" encoding: predict solves closed-form and KNN at the working
    size when none are given, and takes given ones (resized to the working size) instead."""
    import torch

    from matting_gui.core.inference.predictor import forward_times
    from matting_gui.core.inference.solvers import solver_mattes

    torch.manual_seed(0)
    net = build_network(with_encoding(STUDENT_FAST, "proximity+solvers"))
    with torch.no_grad():  # make the solver channels matter: the stem's filters for them at full weight
        stem = next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d))
        stem.weight[:, 8:] = 1.0
    save_weights(tmp_path / "s.safetensors", net)
    pred = Predictor(tmp_path / "s.safetensors", "cpu")
    img, tri = make_photo(64, 96), make_trimap(64, 96)
    solved = pred.predict(img, tri, mirror=True).alpha
    mattes = solver_mattes(img, tri)
    np.testing.assert_allclose(pred.predict(img, tri, mirror=True, solvers=mattes).alpha, solved, atol=1e-5)
    other = pred.predict(img, tri, solvers=np.zeros_like(mattes)).alpha
    assert np.abs(other - pred.predict(img, tri).alpha).max() > 1e-3  # the mattes are read
    small = Predictor(tmp_path / "s.safetensors", "cpu", working_pixels=32 * 48)
    assert small.predict(img, tri, solvers=mattes).alpha.shape == (64, 96)  # given mattes resized
    with pytest.raises(ValueError, match="expected 2 solver mattes"):
        pred.predict(img, tri, solvers=mattes[:1])
    with pytest.raises(ValueError, match="of the photo's size"):  # never stretched to fit
        pred.predict(img, tri, solvers=mattes[:, :32])
    assert len(forward_times(pred.model, img, tri, repeats=1)) == 1  # benchmarks time it with zero mattes


def test_a_solver_network_quantizes_and_runs_in_int8():
    """The int8 build calibrates a solver network with the true α as its solver mattes, and runs on given ones."""
    from matting_gui.core.inference.forward import run_network
    from matting_gui.core.nets.quantize import calibration_inputs, quantize_int8

    net = build_network(with_encoding(STUDENT_FAST, "proximity+solvers")).eval()
    calibration = calibration_inputs(count=1, size=32, encoding="proximity+solvers")
    assert calibration[0].shape == (1, 10, 32, 32)
    q = quantize_int8(net, calibration)
    img, tri = make_photo(64, 96), make_trimap(64, 96)
    alpha = run_network(q, img, tri, solvers=np.stack([tri / 255.0, tri / 255.0]).astype(np.float32))
    assert alpha.shape == (64, 96) and np.all(alpha[tri == 0] == 0) and np.all(alpha[tri == 255] == 1)
