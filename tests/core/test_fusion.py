"""The fusion network: a softmax blend of the solver mattes plus a bounded residual; its weights files."""

import numpy as np
import pytest
import torch

from matting_gui.core.nets.fusion import FusionConfig, FusionNet, fusion_input, load_fusion, run_fusion, save_fusion
from matting_gui.core.nets.model_files import WeightsError
from tests.conftest import make_photo, make_trimap


def _inputs(h=40, w=52, seed=0):
    rng = np.random.default_rng(seed)
    return make_photo(h, w), make_trimap(h, w), rng.random((2, h, w)).astype(np.float32)


def test_a_new_network_returns_the_solvers_mean_on_unknown_pixels():
    image, trimap, mattes = _inputs()
    alpha = run_fusion(FusionNet(FusionConfig()).eval(), image, trimap, mattes)
    unknown = trimap == 128
    assert np.allclose(alpha[unknown], mattes.mean(0)[unknown], atol=1e-6)
    assert (alpha[trimap == 255] == 1).all() and (alpha[trimap == 0] == 0).all()


def test_output_stays_between_the_solvers_up_to_the_residual():
    torch.manual_seed(1)
    net = FusionNet(FusionConfig(width=8, dilations=(1, 2)))
    for p in net.parameters():
        torch.nn.init.normal_(p, std=1.0)
    image, trimap, mattes = _inputs()
    alpha = run_fusion(net.eval(), image, trimap, mattes)
    lo, hi = mattes.min(0) - 0.2 - 1e-5, mattes.max(0) + 0.2 + 1e-5
    unknown = trimap == 128
    assert ((alpha >= lo) | ~unknown).all() and ((alpha <= hi) | ~unknown).all()
    assert alpha.min() >= 0 and alpha.max() <= 1


def test_input_planes():
    image, trimap, mattes = _inputs()
    x = fusion_input(image, trimap, mattes)
    assert x.shape == (1, 7, *trimap.shape) and x.dtype == torch.float32
    assert torch.equal(x[0, 3], torch.from_numpy((trimap == 255).astype(np.float32)))
    assert torch.equal(x[0, 4], torch.from_numpy((trimap == 0).astype(np.float32)))


def test_weights_round_trip_with_config_in_the_header(tmp_path):
    torch.manual_seed(0)
    net = FusionNet(FusionConfig(width=12, dilations=(1, 3, 1)))
    torch.nn.init.normal_(net.head.weight)
    path = save_fusion(tmp_path / "fusion.safetensors", net, {"note": "test"})
    loaded, card = load_fusion(path)
    assert loaded.config == net.config and card["note"] == "test" and card["parameters"] > 0
    image, trimap, mattes = _inputs()
    assert np.array_equal(run_fusion(net.eval(), image, trimap, mattes), run_fusion(loaded, image, trimap, mattes))


@pytest.mark.parametrize("content", [b"", b"not safetensors", b"\x80\x04K\x01."])
def test_bad_weights_files_are_refused_in_one_line(tmp_path, content):
    path = tmp_path / "fusion.safetensors"
    path.write_bytes(content)
    with pytest.raises(WeightsError) as info:
        load_fusion(path)
    assert "\n" not in str(info.value)


def test_a_main_network_file_is_not_a_fusion_network(model_dir):
    with pytest.raises(WeightsError, match="not a matting-gui fusion network"):
        load_fusion(model_dir / "student.safetensors")


def test_config_bounds_are_checked():
    with pytest.raises(ValueError):
        FusionConfig(width=100000)
    with pytest.raises(ValueError):
        FusionConfig.from_json('{"width": 8, "evil": 1}')


def test_export_solves_with_the_box_the_fusion_network_was_trained_with(models):
    """A fusion card whose recipe capped the solvers' box (fusion-train --box) makes export solve the same
    way; a card without one solves with export's default cap."""
    from matting_gui.core.inference.predictor import Predictor
    from matting_gui.core.inference.quality import fuse_with_solvers, solver_box
    from matting_gui.core.inference.solvers import MAX_SOLVER_PIXELS

    assert solver_box({}) == solver_box({"train": {"box": 0}}) == solver_box({"train": "x"}) == MAX_SOLVER_PIXELS
    assert solver_box({"train": {"box": 400}}) == 400
    torch.manual_seed(3)
    net = FusionNet(FusionConfig(width=8, dilations=(1, 2), solvers=("closed_form", "knn", "network")))
    torch.nn.init.normal_(net.head.weight, std=0.5)
    path = save_fusion(models / "fusion.safetensors", net, {"export_rule": "fusion", "train": {"box": 400}})
    try:
        image, trimap = make_photo(40, 48, 5), make_trimap(40, 48)
        pred = Predictor("teacher", device="cpu")
        network = pred.predict(image, trimap).alpha
        fused = pred.predict(image, trimap, fuse=True)
        assert fused.fused
        small = fuse_with_solvers(image, trimap, network, net.eval(), "fusion", box=400)
        full = fuse_with_solvers(image, trimap, network, net, "fusion")
        assert np.abs(fused.alpha - small).max() < 1e-5 and np.abs(small - full).max() > 1e-3
    finally:
        path.unlink()
        path.with_suffix(".json").unlink()


def test_the_untrained_median_rule_ignores_the_fusion_weights_and_reads_both_solvers():
    """``median_solvers`` is the per-pixel median of the network's, the closed-form and the KNN matte, even
    when the fusion network reads only one solver; the fusion weights do not change it; known pixels exact."""
    from matting_gui.core.inference.quality import combine, fuse_with_solvers
    from matting_gui.core.inference.solvers import solver_mattes

    image, trimap = make_photo(36, 40, 7), make_trimap(36, 40)
    network = np.random.default_rng(0).random((36, 40), dtype=np.float32)
    cf, knn = solver_mattes(image, trimap, ("closed_form", "knn"))
    want = np.median(np.stack([network, cf, knn]), 0)
    want = np.where(trimap >= 255, 1.0, np.where(trimap == 0, 0.0, want))
    outs = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        net = FusionNet(FusionConfig(width=8, dilations=(1, 2), solvers=("knn",))).eval()
        outs.append(fuse_with_solvers(image, trimap, network, net, "median_solvers"))
    assert outs[0].dtype == np.float32
    assert np.abs(outs[0] - want).max() < 1e-6 and np.array_equal(outs[0], outs[1])
    assert np.abs(fuse_with_solvers(image, trimap, network, net, "fusion") - want).max() > 1e-3
    with pytest.raises(ValueError, match="needs the fusion network"):
        combine(network, None, {"closed_form": cf, "knn": knn}, "mean")


def test_help_texts_describe_the_rule_the_installed_card_names(models, capsys):
    """The export dialog's and ``matting-cli --fuse``'s text say what the installed fusion card's rule does:
    the untrained median names the three mattes and no fusion network; a network reading its own matte says
    so; an unreadable or missing card falls back to the default rule's text, without raising."""
    from matting_gui.cli.main import main
    from matting_gui.core.inference.export_rules import DEFAULT_RULE, RULES, describe_rule, installed_rule_text

    texts = {rule: describe_rule(rule, ("closed_form", "knn", "network")) for rule in RULES}
    assert len(set(texts.values())) == len(RULES)
    assert "fusion network" not in texts["median_solvers"] and "KNN" in texts["median_solvers"]
    assert "the network's, the closed-form and the KNN mattes" in texts["fusion"]
    assert "network's" not in describe_rule("fusion", ("closed_form", "knn"))
    assert installed_rule_text() == describe_rule(DEFAULT_RULE)  # no fusion network installed
    card = models / "fusion.json"
    try:
        card.write_text('{"export_rule": "median_solvers", "config": {"solvers": ["knn", "network"]}}')
        assert installed_rule_text() == texts["median_solvers"]
        with pytest.raises(SystemExit):
            main(["matte", "--help"])
        assert "median of the network's" in " ".join(capsys.readouterr().out.split())
        card.write_text('{"export_rule": "fusion", "config": {"solvers": ["closed_form", 3]}}')
        assert installed_rule_text() == describe_rule("fusion")
        card.write_text("[not json")
        assert installed_rule_text() == describe_rule(DEFAULT_RULE)
    finally:
        card.unlink()
