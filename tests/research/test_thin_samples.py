"""Thin structures in the generated training samples (p_thin): drawn only when asked, with the foreground
mostly unpainted but both classes painted, and counted against every sample with plants and hair."""

import numpy as np
import pytest

from matting_gui.research.data.samples import MattingSamples
from matting_gui.research.train_config import TrainConfig
from matting_gui.research.train_data import generated_backgrounds


def test_samples_draw_thin_structures_only_when_asked():
    bgs = generated_backgrounds(0, 3, 96)
    plain = MattingSamples([], bgs, 64, seed=5, p_foliage=0.3, p_hair=0.2)
    off = MattingSamples([], bgs, 64, seed=5, p_foliage=0.3, p_hair=0.2, p_thin=0.0)
    for i in range(6):  # p_thin = 0 draws nothing extra: earlier runs' samples are unchanged
        assert np.array_equal(plain[i]["image"].numpy(), off[i]["image"].numpy())
    thin = MattingSamples([], bgs, 128, seed=5, p_thin=1.0)
    partial = []
    for i in range(8):
        s = thin[i]
        a, t = s["alpha"][0].numpy(), s["trimap"][0].numpy()
        assert (t == 0).any() and (t == 255).any() and (t == 128).any()  # both classes anchored
        # painted foreground is mostly opaque; threads nowhere opaque get their densest pixels as seeds
        assert np.all(a[t == 255] >= min(0.5, a.max() - 2e-3)) and np.all(a[t == 0] <= 0.5)
        partial.append(((a > 0.02) & (a < 0.98)).sum() / max(1, (a >= 0.98).sum()))
        assert s["has_fb"] == 1.0
    assert np.median(partial) > 0.5  # thin: as many partial pixels as opaque ones, or more


def test_thin_plants_and_hair_cannot_exceed_every_sample():
    bgs = generated_backgrounds(0, 1, 64)
    with pytest.raises(ValueError, match="more than every sample"):
        MattingSamples([], bgs, 64, p_foliage=0.5, p_hair=0.2, p_thin=0.4)
    with pytest.raises(ValueError, match="more than every sample"):
        TrainConfig(p_foliage=0.5, p_thin=0.6)
    with pytest.raises(ValueError, match="p_thin"):
        TrainConfig(p_thin=-0.1)


def test_a_stored_thin_case_tells_its_structure_from_its_seed(tmp_path, monkeypatch):
    """``solver_cache.thin_kind`` names the structure ``thin_case`` drew for a key's seed (the report's
    per-structure breakdown), and says 'unknown' without the background photos those draws depend on."""
    import cv2

    from matting_gui.research.data import thin
    from matting_gui.research.solver_cache import case_path, run_job, thin_kind

    monkeypatch.setenv("MATTING_DATA", str(tmp_path / "none"))
    assert thin_kind("thin/0000") == "unknown"
    folder = tmp_path / "data" / "backgrounds" / "bsds500" / "train"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(5):
        cv2.imwrite(str(folder / f"{i}.jpg"), (rng.random((40, 56, 3)) * 255).astype(np.uint8))
    monkeypatch.setenv("MATTING_DATA", str(tmp_path / "data"))
    drawn = []
    real = thin.thin_subject
    monkeypatch.setattr(thin, "thin_subject", lambda rng, kind, *a: drawn.append(kind) or real(rng, kind, *a))
    keys = [f"thin/{i:04d}" for i in range(12)]
    for key in keys:  # stored as the solver cache stores its thin cases
        run_job((key, "thin", ("thin", 48)), case_path(key).parents[1])
    assert [thin_kind(k) for k in keys] == drawn and len(set(drawn)) > 1
