import threading

import numpy as np
import pytest
import torch

from matting_gui.core.config import STUDENT_FAST
from matting_gui.core.network import build_network
from matting_gui.core.predictor import Predictor, run_network
from matting_gui.core.quantize import QuantizedMatting, calibration_inputs, quantize_int8
from matting_gui.core.trimap import UNKNOWN, encode_inputs
from matting_gui.core.weights import load_network
from tests.conftest import make_photo, make_trimap


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


def test_channels_last_encoding_is_the_same_values():
    img, tri = make_photo(40, 56), make_trimap(40, 56)
    chw, cl = encode_inputs(img, tri), encode_inputs(img, tri, channels_last=True)
    assert np.array_equal(chw, cl) and cl.shape == (8, 40, 56)
    assert torch.from_numpy(cl)[None].is_contiguous(memory_format=torch.channels_last)


def test_int8_build_leaves_torch_inductor_unloaded():
    """Loading torch._inductor holds the GIL for up to 0.2 s at a time: the background build must not."""
    import subprocess
    import sys

    code = ("import sys; from matting_gui.core.config import STUDENT; from matting_gui.core.network import "
            "build_network; from matting_gui.core.quantize import calibration_inputs, quantize_int8; "
            "quantize_int8(build_network(STUDENT).eval(), calibration_inputs(count=1, size=32)); "
            "import torch.fx.config as c; assert not c.do_not_emit_stack_traces, 'config not restored'; "
            "print('torch._inductor' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
