import numpy as np
import pytest

from matting_gui.core.imaging.upsample import guided_upsample
from matting_gui.core.inference.predictor import Predictor, pick_device, run_network
from matting_gui.core.nets.weights import load_network
from tests.conftest import make_photo, make_trimap


def test_run_network_pads_crops_and_forces_known(models):
    net, _ = load_network(models / "student.safetensors")
    img, tri = make_photo(37, 53), make_trimap(37, 53)
    alpha = run_network(net, img, tri)
    assert alpha.shape == (37, 53) and alpha.dtype == np.float32
    assert np.all(alpha[tri == 0] == 0) and np.all(alpha[tri == 255] == 1)
    assert 0 <= alpha.min() and alpha.max() <= 1


def test_predictor_by_name_and_working_size(models):
    p = Predictor("student", "cpu", working_pixels=40 * 40)
    img, tri = make_photo(80, 120), make_trimap(80, 120)
    res = p.predict(img, tri)
    assert res.alpha.shape == (80, 120)
    assert res.working_size[0] * res.working_size[1] <= 40 * 40 * 1.1
    assert res.model_name == "student"  # the name it was chosen by, not the preset's (student_fast)
    assert Predictor(models / "student.safetensors", "cpu").name == "student_fast"  # a file: its network
    full = p.predict(img, tri, max_pixels=10**7)
    assert full.working_size == (120, 80)
    with pytest.raises(ValueError, match="does not match"):
        p.predict(img, tri[:10])


def test_pick_device():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(ValueError):
        pick_device("tpu")


def test_guided_upsample_keeps_sharp_edge():
    h, w = 64, 64
    img = np.zeros((h, w, 3), np.float32)
    img[:, 33:] = 1.0  # a sharp edge not on the low-res grid
    alpha_true = img[..., 0]
    import cv2

    low_img = cv2.resize(img, (16, 16), interpolation=cv2.INTER_AREA)
    low_alpha = low_img[..., 0].copy()
    guided = guided_upsample(low_alpha, low_img, img)
    plain = cv2.resize(low_alpha, (w, h), interpolation=cv2.INTER_LINEAR)
    assert np.abs(guided - alpha_true).mean() < 0.5 * np.abs(plain - alpha_true).mean()


def test_fast_upsample_preview(models):
    p = Predictor("student", "cpu", working_pixels=40 * 40)
    img, tri = make_photo(80, 120), make_trimap(80, 120)
    fast = p.predict(img, tri, fast_upsample=True).alpha
    guided = p.predict(img, tri).alpha
    assert fast.shape == guided.shape == (80, 120)
    assert np.all(fast[tri == 255] == 1) and np.all(fast[tri == 0] == 0)


def test_mirror_averages_with_the_mirrored_images_matte(models):
    net, _ = load_network(models / "student.safetensors")
    img, tri = make_photo(64, 96), make_trimap(64, 96)  # multiples of 32: padding is the same both ways
    plain = run_network(net, img, tri)
    flipped = run_network(net, img[:, ::-1].copy(), tri[:, ::-1].copy())[:, ::-1]
    mirrored = run_network(net, img, tri, mirror=True)
    np.testing.assert_allclose(mirrored, (plain + flipped) / 2, atol=1e-5)
    assert not np.allclose(mirrored, plain, atol=1e-4)  # the random net is not mirror-symmetric
    odd_img, odd_tri = make_photo(37, 53), make_trimap(37, 53)  # padded: still crops back, still forces known
    odd = Predictor("student", "cpu").predict(odd_img, odd_tri, mirror=True)
    assert odd.alpha.shape == (37, 53) and odd.mirrored
    assert np.all(odd.alpha[odd_tri == 0] == 0) and np.all(odd.alpha[odd_tri == 255] == 1)


def test_previews_reuse_the_reduced_photo_while_it_lives(models, monkeypatch):
    """The 24 MP preview path resizes the photo once, not per preview; another photo is resized anew."""
    import matting_gui.core.inference.predictor as predictor_mod

    calls = []
    real = predictor_mod.cv2.resize

    def counting(src, size, *args, **kwargs):
        if src.ndim == 3:
            calls.append(size)
        return real(src, size, *args, **kwargs)

    monkeypatch.setattr(predictor_mod.cv2, "resize", counting)
    pred = predictor_mod.Predictor("student", "cpu")
    image, trimap = make_photo(96, 128), make_trimap(96, 128)
    first = pred.predict(image, trimap, max_pixels=48 * 64, fast_upsample=True).alpha
    again = pred.predict(image, trimap, max_pixels=48 * 64, fast_upsample=True).alpha
    assert len(calls) == 1 and np.array_equal(first, again)
    pred.predict(image.copy(), trimap, max_pixels=48 * 64, fast_upsample=True)
    assert len(calls) == 2


def test_a_superseded_matte_is_dropped_before_the_full_size_work(models):
    pred = Predictor("student", "cpu")
    image, trimap = make_photo(96, 128), make_trimap(96, 128)
    assert pred.predict(image, trimap, max_pixels=48 * 64, superseded=lambda: True) is None
    assert pred.predict(image, trimap, max_pixels=48 * 64, superseded=lambda: False).alpha.shape == (96, 128)


def test_refining_a_shown_matte_equals_predicting_refined_and_gives_way_when_superseded(models):
    """``refine_matte`` (the app's live refinement) starts from the matte on screen instead of running
    the network again; at the working size it gives export's refined matte exactly."""
    p = Predictor("student", "cpu")
    img, tri = make_photo(60, 90), make_trimap(60, 90)
    shown = p.predict(img, tri).alpha
    refined = p.refine_matte(img, tri, shown)
    assert refined.refined and refined.working_size == (90, 60)
    assert np.abs(refined.alpha - shown)[tri == 128].mean() > 0.01  # the refinement did change the matte
    np.testing.assert_array_equal(refined.alpha, p.predict(img, tri, refine=True).alpha)
    assert p.refine_matte(img, tri, shown, superseded=lambda: True) is None
    with pytest.raises(ValueError, match="does not match"):
        p.refine_matte(img, tri, shown[:10])

    small = Predictor("student", "cpu", working_pixels=30 * 45)  # above the working size: refined there
    res = small.refine_matte(img, tri, shown)
    assert res.alpha.shape == (60, 90) and res.working_size[0] * res.working_size[1] <= 30 * 45 * 1.1
    assert np.all(res.alpha[tri == 255] == 1) and np.all(res.alpha[tri == 0] == 0)
    reference = small.predict(img, tri, refine=True).alpha  # refined from the network's own working-size matte
    assert np.abs(res.alpha - reference)[tri == 128].mean() < 0.05
    network = small.predict(img, tri)
    assert network.working_alpha.shape[::-1] == network.working_size  # ... which the app refines: export's exactly
    np.testing.assert_array_equal(small.refine_matte(img, tri, network.working_alpha).alpha, reference)
