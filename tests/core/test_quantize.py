import threading

import numpy as np
import pytest
import torch

from matting_gui.core.editing.trimap import UNKNOWN, encode_inputs
from matting_gui.core.inference.predictor import Predictor, run_network
from matting_gui.core.nets.config import STUDENT_FAST
from matting_gui.core.nets.network import build_network
from matting_gui.core.nets.quantize import QuantizedMatting, calibration_inputs, quantize_int8
from matting_gui.core.nets.weights import load_network
from tests.conftest import make_photo, make_trimap, python_output


def test_calibration_inputs_are_deterministic_network_inputs():
    a = calibration_inputs(count=3, size=64, seed=5)
    b = calibration_inputs(count=3, size=64, seed=5)
    assert len(a) == 3 and a[0].shape == (1, 8, 64, 64) and a[0].dtype == torch.float32
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    onehot = a[0][0, 3:6]
    assert torch.allclose(onehot.sum(0), torch.ones(64, 64))  # every pixel in exactly one trimap class


@pytest.mark.parametrize("preset", ["installed", "student_fast"])
def test_int8_network_tracks_fp32_at_any_size(models, preset):
    """The installed student and the fast preset (pixel shuffle, strided 2x2 head) both quantize."""
    torch.manual_seed(0)
    net = load_network(models / "student.safetensors")[0] if preset == "installed" else build_network(STUDENT_FAST)
    q = quantize_int8(net, calibration_inputs(count=4, size=64))
    assert isinstance(q, QuantizedMatting) and q.config == net.config
    assert any("quantized" in type(m).__module__ for m in q.modules())  # really int8 kernels
    for h, w in ((48, 64), (37, 53), (96, 160)):
        img, tri = make_photo(h, w), make_trimap(h, w)
        a32, a8 = run_network(net.eval(), img, tri), run_network(q, img, tri)
        assert a8.shape == (h, w) and a8.dtype == np.float32
        assert np.all(a8[tri == 0] == 0) and np.all(a8[tri == 255] == 1)
        unknown = tri == UNKNOWN
        assert np.abs(a8 - a32)[unknown].mean() < 0.03


def test_predictor_int8_precision_and_fallback(models):
    img, tri = make_photo(64, 96), make_trimap(64, 96)
    p8 = Predictor("student", "cpu", precision="int8")
    res = p8.predict(img, tri)
    assert res.precision == "int8" and res.alpha.shape == (64, 96)
    assert p8.predict(img, tri, int8=False).precision == "fp32"
    p = Predictor("student", "cpu")
    assert p.predict(img, tri, int8=True).precision == "fp32"  # not built yet: fp32, no error
    with pytest.raises(ValueError, match="precision"):
        Predictor("student", "cpu", precision="fp16")


def test_background_int8_build_does_not_break_concurrent_inference(models):
    """FX tracing patches nn.Module.__call__ process-wide; forwards in other threads must still work."""
    p = Predictor("student", "cpu")
    img, tri = make_photo(64, 64), make_trimap(64, 64)
    errors: list[BaseException] = []
    done = threading.Event()

    def hammer():
        while not done.is_set():
            try:
                p.predict(img, tri)
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)
                return

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    p.start_int8_build()
    ok = p.wait_int8(timeout=120)
    done.set()
    for t in threads:
        t.join(30)
    assert ok and not errors
    assert p.predict(img, tri, int8=True).precision == "int8"


@pytest.mark.parametrize(("int8_seconds", "prefers"), [(0.05, True), (0.2, False), (0.095, False)])
def test_comparing_build_keeps_int8_for_previews_only_where_it_is_faster(models, monkeypatch, int8_seconds, prefers):
    """On CPUs without fast int8 kernels (AVX2 without VNNI) the quantized copy can be slower than fp32."""
    import matting_gui.core.inference.predictor as predictor

    p = Predictor("student", "cpu")
    timed = []

    def fake_time(model, image, trimap, device, repeats=3):
        timed.append((model is p.model, image.shape, trimap.dtype))
        return 0.1 if model is p.model else int8_seconds

    monkeypatch.setattr(predictor, "time_forward", fake_time)
    assert not p.prefers_int8  # nothing built yet
    p.start_int8_build(compare=True)
    assert p.wait_int8(timeout=120)
    side = predictor.SPEED_PROBE_SIDE
    assert sorted(timed) == [(False, (side, side, 3), np.uint8), (True, (side, side, 3), np.uint8)]
    assert p.int8_speedup == pytest.approx(0.1 / int8_seconds) and p.prefers_int8 is prefers
    img, tri = make_photo(64, 64), make_trimap(64, 64)
    assert p.predict(img, tri, int8=True).precision == "int8"  # an explicit request still gets int8


def test_time_forward_and_probe_are_real_measurements(models):
    from matting_gui.core.inference.predictor import speed_probe, time_forward

    image, trimap = speed_probe(96)
    assert image.shape == (96, 96, 3) and image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1
    assert set(np.unique(trimap)) == {0, 128, 255}
    p = Predictor("student", "cpu")
    assert 0 < time_forward(p.model, image, trimap, p.device, repeats=2) < 60
    assert p.int8_speedup is None and not p.prefers_int8  # no comparing build: nothing measured


def test_channels_last_encoding_is_the_same_values():
    img, tri = make_photo(40, 56), make_trimap(40, 56)
    chw, cl = encode_inputs(img, tri), encode_inputs(img, tri, channels_last=True)
    assert np.array_equal(chw, cl) and cl.shape == (8, 40, 56)
    assert torch.from_numpy(cl)[None].is_contiguous(memory_format=torch.channels_last)


def test_int8_build_leaves_torch_inductor_unloaded():
    """Loading torch._inductor holds the GIL for up to 0.2 s at a time: the background build must not."""
    code = ("import sys; from matting_gui.core.nets.config import STUDENT; from matting_gui.core.nets.network import "
            "build_network; from matting_gui.core.nets.quantize import calibration_inputs, quantize_int8; "
            "quantize_int8(build_network(STUDENT).eval(), calibration_inputs(count=1, size=32)); "
            "import torch.fx.config as c; assert not c.do_not_emit_stack_traces, 'config not restored'; "
            "print('torch._inductor' in sys.modules)")
    assert python_output(code) == "False"
