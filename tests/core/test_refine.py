"""Network-guided closed-form refinement."""

import threading

import numpy as np
import pymatting
import pytest

from matting_gui.core.inference.refine import (
    RefineAborted,
    RefineSettings,
    closed_form,
    guided_closed_form,
    pinned_trimap,
    prior_weights,
)


def _scene(h=40, w=60):
    """A red square (α = 1) with a soft edge over a blue background, and a wide unknown band."""
    yy, xx = np.mgrid[0:h, 0:w]
    alpha = np.clip((30 - xx) / 6 + 0.5, 0, 1).astype(np.float32)  # soft vertical edge at x = 30
    fg, bg = np.array([0.9, 0.2, 0.1], np.float32), np.array([0.1, 0.3, 0.9], np.float32)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    trimap = np.full((h, w), 128, np.uint8)
    trimap[:, :8] = 255
    trimap[:, -8:] = 0
    return image, trimap, alpha


def test_keeps_the_trimap_and_removes_a_haze_the_network_left():
    image, trimap, alpha = _scene()
    haze = np.where(alpha > 0.99, 1.0, 0.5).astype(np.float32)  # grey haze over the whole background
    refined = guided_closed_form(image, trimap, haze)
    assert refined.dtype == np.float32 and refined.shape == alpha.shape
    assert np.all(refined[trimap == 255] == 1) and np.all(refined[trimap == 0] == 0)
    unknown = trimap == 128
    assert np.abs(refined - alpha)[unknown].mean() < 0.25 * np.abs(haze - alpha)[unknown].mean()


def test_strength_moves_between_closed_form_and_the_prior():
    image, trimap, alpha = _scene()
    prior = np.clip(alpha + 0.2, 0, 1)
    strong = guided_closed_form(image, trimap, prior, strength=1e6, sharpness=0.0, pin=0.0)
    unknown = trimap == 128
    assert np.abs(strong - prior)[unknown].max() < 1e-3
    weak = guided_closed_form(image, trimap, prior, strength=0.0, pin=0.0)
    assert np.abs(weak - alpha)[unknown].mean() < np.abs(strong - alpha)[unknown].mean()


def test_confidence_weights():
    w = prior_weights(np.array([0.0, 0.5, 1.0, 0.75]), strength=2.0, sharpness=2.0)
    assert np.allclose(w, [2.0, 0.0, 2.0, 0.5])


def test_nothing_unknown_returns_the_trimap():
    image, trimap, _ = _scene()
    trimap[trimap == 128] = 0
    out = guided_closed_form(image, trimap, np.full(trimap.shape, 0.5, np.float32))
    assert np.array_equal(out, (trimap == 255).astype(np.float32))


def test_reach_leaves_the_boundary_to_the_colour_model():
    """With ``reach`` the prior weighs little next to the painted (known) pixels: there the result
    moves towards plain closed-form, while deep inside the unknown region it still follows the prior."""
    image, trimap, alpha = _scene()
    prior = np.clip(alpha + 0.3, 0, 1).astype(np.float32)
    cf = guided_closed_form(image, trimap, prior, strength=0.0, pin=0.0)
    flat = guided_closed_form(image, trimap, prior, strength=1.0, sharpness=0.0, pin=0.0)
    reached = guided_closed_form(image, trimap, prior, strength=1.0, sharpness=0.0, reach=20.0, pin=0.0)
    near = (slice(None), slice(48, 52))  # 1-4 px from the known background (columns 52 on)
    assert np.abs(reached[near] - cf[near]).mean() < np.abs(flat[near] - cf[near]).mean()
    assert np.array_equal(reached[trimap != 128], flat[trimap != 128])


def test_closed_form_recovers_the_edge_and_answers_a_one_sided_trimap_without_a_solve():
    """With both sides painted it follows the soft edge; with only background painted (or only
    foreground) the constant 0 (or 1) is the energy's minimiser, where pymatting would raise."""
    image, trimap, alpha = _scene()
    unknown = trimap == 128
    assert np.abs(closed_form(image, trimap) - alpha)[unknown].mean() < 0.05
    no_fg = np.where(trimap == 255, np.uint8(128), trimap)
    no_bg = np.where(trimap == 0, np.uint8(128), trimap)
    assert (closed_form(image, no_fg) == 0).all() and (closed_form(image, no_bg) == 1).all()
    assert closed_form(image, np.full_like(trimap, 128)).dtype == np.float32


def test_pinned_trimap_makes_the_confident_pixels_known_and_keeps_a_margin_around_the_unsure_ones():
    trimap = np.full((50, 100), 128, np.uint8)
    trimap[:, :5] = 255
    trimap[:, -5:] = 0
    prior = np.zeros(trimap.shape, np.float32)
    prior[:, :40] = 1.0
    prior[:, 40:50] = 0.5  # the network's unsure edge
    prior[0, 0] = 0.0  # a known pixel the network contradicts: the trimap wins
    out = pinned_trimap(trimap, prior, pin=0.03, grow=0.02)  # margin round(0.02 * 111.8) = 2 px
    assert out.dtype == np.uint8 and np.array_equal(out[trimap != 128], trimap[trimap != 128])
    assert (out[:, 5:38] == 255).all() and (out[:, 52:95] == 0).all()
    assert (out[:, 38:52] == 128).all()
    assert np.array_equal(pinned_trimap(trimap, prior, pin=0.0), trimap)
    assert (pinned_trimap(trimap, np.full(trimap.shape, 0.5, np.float32)) == trimap).all()


def test_pinning_keeps_a_foreground_coloured_stripe_in_the_background_out_of_the_matte():
    """A red stripe (the subject's colour) running from the subject's edge deep into a wide unknown
    background region: the colour model alone carries α = 1 along it (as a book's lettering leaked
    into a doll's hair); a network that is sure it is background pins it at 0, and the edge is
    still solved by the colour model."""
    image, trimap, alpha = _scene(80, 90)
    trimap[:, -8:] = 128
    trimap[:, -3:] = 0
    image[57:63, 30:75] = [0.9, 0.2, 0.1]
    prior = (alpha > 0.5).astype(np.float32)  # a hard network edge: sure everywhere but its transition
    prior[:, 27:34] = alpha[:, 27:34]
    free = guided_closed_form(image, trimap, prior, strength=0.0, pin=0.0)
    pinned = guided_closed_form(image, trimap, prior, strength=0.0)
    stripe = (slice(57, 63), slice(45, 75))
    assert free[stripe].mean() > 0.9 and pinned[stripe].max() == 0.0
    edge = (slice(0, 40), slice(27, 34))  # rows away from the stripe
    assert np.abs(pinned[edge] - alpha[edge]).mean() < 0.05


def test_settings_come_from_the_card_and_bad_values_fall_back_to_the_defaults():
    assert RefineSettings.from_card({}) == RefineSettings() == RefineSettings.from_card({"refine": [1, 2]})
    s = RefineSettings.from_card({"refine": {"pin": 0.0, "strength": 0.002, "sharpness": "6", "grow": float("nan")}})
    assert (s.pin, s.strength) == (0.0, 0.002) and (s.sharpness, s.grow) == (RefineSettings().sharpness, RefineSettings().grow)
    assert RefineSettings.from_card({"refine": {"pin": 0.9, "sharpness": 1e9, "strength": True}}) == RefineSettings()
    assert RefineSettings(pin=0.0).as_kwargs()["pin"] == 0.0


def test_the_predictor_refines_with_its_models_card_settings(tmp_path):
    """A weights card's ``refine`` entry is what export and ``--refine`` use for that network."""
    from matting_gui.core.inference.predictor import Predictor
    from matting_gui.core.nets.config import STUDENT_FAST
    from matting_gui.core.nets.network import build_network
    from matting_gui.core.nets.weights import save_weights

    image, trimap, _ = _scene(64, 96)
    net = build_network(STUDENT_FAST)
    own = RefineSettings(pin=0.0, strength=1000.0, sharpness=0.0)  # trusts the network everywhere
    save_weights(tmp_path / "plain.safetensors", net)
    save_weights(tmp_path / "own.safetensors", net, {"refine": own.as_kwargs()})
    refined = {}
    for name, settings in (("plain", RefineSettings()), ("own", own)):
        pred = Predictor(tmp_path / f"{name}.safetensors", "cpu")
        network = pred.predict(image, trimap).alpha
        result = pred.predict(image, trimap, refine=True)
        assert result.refined
        expected = guided_closed_form(image, trimap, network, **settings.as_kwargs())
        np.testing.assert_allclose(result.alpha, expected, atol=1e-5)
        refined[name] = result.alpha
    unknown = trimap == 128
    # same weights, different settings: the colour model's matte vs (almost) the network's own
    assert np.abs(refined["own"] - network)[unknown].max() < 0.01
    assert np.abs(refined["plain"] - refined["own"])[unknown].mean() > 0.05


def test_an_abort_stops_the_solve_at_the_step_it_answers_true_and_a_false_one_changes_nothing():
    image, trimap, alpha = _scene()
    haze = np.where(alpha > 0.99, 1.0, 0.5).astype(np.float32)
    asked = []
    plain = guided_closed_form(image, trimap, haze)
    np.testing.assert_array_equal(guided_closed_form(image, trimap, haze, abort=lambda: asked.append(1) and False),
                                  plain)
    assert len(asked) > 3  # before the Laplacian, while and after it, after the preconditioner, every iteration
    for stop_at in (1, 2, 3, 5):
        calls = []
        with pytest.raises(RefineAborted):
            guided_closed_form(image, trimap, haze, abort=lambda n=stop_at, c=calls: c.append(1) or len(c) >= n)
        assert len(calls) == stop_at  # nothing more was asked (nor computed) after the answer


def test_an_abort_during_the_factorisation_returns_without_waiting_for_it_and_later_solves_queue_behind_it(
        monkeypatch):
    image, trimap, alpha = _scene()
    haze = np.where(alpha > 0.99, 1.0, 0.5).astype(np.float32)
    plain = guided_closed_form(image, trimap, haze)
    started, release, factorised = threading.Event(), threading.Event(), []
    real = pymatting.ichol

    def blocked(matrix, *args, **kwargs):  # a factorisation that cannot be stopped and takes long
        factorised.append(1)
        started.set()
        assert release.wait(30)
        return real(matrix, *args, **kwargs)

    monkeypatch.setattr(pymatting, "ichol", blocked)
    with pytest.raises(RefineAborted):
        guided_closed_form(image, trimap, haze, abort=started.is_set)
    assert not release.is_set() and len(factorised) == 1  # it returned while the factorisation runs on
    # the next refinement's steps queue behind the abandoned one, still giving way while they wait
    asked = []
    with pytest.raises(RefineAborted):
        guided_closed_form(image, trimap, haze, abort=lambda: asked.append(1) or len(asked) > 5)
    release.set()
    np.testing.assert_array_equal(guided_closed_form(image, trimap, haze, abort=lambda: False), plain)
    assert len(factorised) == 2  # the abandoned step ran once; the one given up while queued never ran


def test_a_process_exits_without_waiting_for_an_abandoned_step():
    """The app closing while a factorisation it gave up on still runs: the process must end."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    import matting_gui

    script = textwrap.dedent("""
        import threading
        import numpy as np
        import pymatting
        from matting_gui.core.inference.refine import RefineAborted, guided_closed_form
        started = threading.Event()
        def never_ends(matrix, *args, **kwargs):
            started.set()
            threading.Event().wait()
        pymatting.ichol = never_ends
        yy, xx = np.mgrid[0:40, 0:60]
        alpha = np.clip((30 - xx) / 6 + 0.5, 0, 1).astype(np.float32)
        image = np.repeat(alpha[..., None], 3, axis=2)
        trimap = np.full((40, 60), 128, np.uint8)
        trimap[:, :8], trimap[:, -8:] = 255, 0
        try:
            guided_closed_form(image, trimap, np.full((40, 60), 0.5, np.float32), pin=0, abort=started.is_set)
        except RefineAborted:
            print("gave way")
    """)
    here = Path(matting_gui.__file__).resolve().parents[1]  # the package these tests import, not an installed one
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=here)
    assert done.returncode == 0 and done.stdout.strip() == "gave way", done.stderr


def test_the_factorisation_s_retries_print_nothing_and_others_output_is_kept(capsys):
    import scipy.sparse

    from matting_gui.core.inference.refine import quiet_ichol

    indefinite = scipy.sparse.csc_matrix(np.array([[1.0, 2.0], [2.0, 1.0]]))  # pymatting retries with shifts
    quiet_ichol(indefinite)
    print("mine")
    assert capsys.readouterr().out == "mine\n"
