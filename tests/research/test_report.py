"""The results report: per-subject grouping and the markdown tables."""

import numpy as np
import pytest

from matting_gui.research.data.validation import ValItem, evaluate
from matting_gui.research.report import markdown, photo_subjects


def _item(name: str, kind: str, value: float) -> ValItem:
    alpha = np.zeros((16, 16), np.float32)
    alpha[:, 8:] = 1
    tri = np.full((16, 16), 128, np.uint8)
    return ValItem(name, kind, np.full((16, 16, 3), value, np.float32), tri, alpha)


def test_photo_subjects_average_trimaps_and_skip_composites():
    items = [_item("A/trimap1", "photo", 0.2), _item("A/trimap2", "photo", 0.4), _item("B/trimap1", "photo", 0.6),
             _item("A/bg0", "composite", 0.8)]
    # predict α = the image's grey value everywhere: SAD depends on it, so subjects differ
    _, per_item = evaluate(lambda img, tri: img[..., 0].copy(), items)
    subjects = photo_subjects(per_item, items)
    assert sorted(subjects) == ["A", "B"]
    expected_a = (per_item["A/trimap1"].sad + per_item["A/trimap2"].sad) / 2
    assert np.isclose(subjects["A"]["sad"], expected_a) and np.isclose(subjects["B"]["sad"], per_item["B/trimap1"].sad)


def test_markdown_has_a_per_subject_table_for_main_models_only():
    metrics = {"photo": {"mse": 0.01, "sad": 2.0, "grad": 3.0, "conn": 1.5}}
    rows = [
        {"label": "teacher", "metrics": metrics, "photo_subjects": {"GT01": {"sad": 1.25, "grad": 0.5}}},
        {"label": "closed-form (pymatting)", "metrics": metrics,
         "photo_subjects": {"GT01": {"sad": 1.5, "grad": 2.0}, "GT10": {"sad": 3.5, "grad": 3.25}}},
        {"label": "ablation: none", "metrics": metrics, "photo_subjects": {"GT99": {"sad": 9.0, "grad": 9.0}}},
    ]
    text = markdown(rows)
    table = text.split("**Validation photos per subject**")[1]
    assert "| method | GT01 | GT10 |" in table and "GT99" not in table
    assert "| teacher | 1.25 / 0.50 | – |" in table
    assert "| closed-form (pymatting) | 1.50 / 2.00 | 3.50 / 3.25 |" in table


def test_wide_items_get_their_own_table_and_per_subject_rows():
    items = [_item("A/trimap1", "photo", 0.2), _item("A/wide", "wide", 0.4), _item("B/wide", "wide", 0.6)]
    _, per_item = evaluate(lambda img, tri: img[..., 0].copy(), items)
    wide = photo_subjects(per_item, items, "wide")
    assert sorted(wide) == ["A", "B"] and np.isclose(wide["A"]["sad"], per_item["A/wide"].sad)
    metrics = {"photo": {"mse": 0.01, "sad": 2.0, "grad": 3.0, "conn": 1.5},
               "wide": {"mse": 0.02, "sad": 7.0, "grad": 8.0, "conn": 6.5}}
    text = markdown([{"label": "teacher", "metrics": metrics, "photo_subjects": {}, "wide_subjects": wide}])
    assert "**Validation photos, wide painted-style trimaps**" in text and "| teacher | 0.0200 | 7.00 | 8.00 | 6.50 |" in text
    assert "(SAD / Grad, wide trimap)" in text


def test_refine_sweep_runs_the_network_once_and_scores_each_strength(models, monkeypatch):
    import matting_gui.research.report as report
    from tests.conftest import make_photo, make_trimap

    calls = []
    real = report.Predictor

    class Counting(real):
        def predict(self, *args, **kwargs):
            calls.append(1)
            return super().predict(*args, **kwargs)

    monkeypatch.setattr(report, "Predictor", Counting)
    alpha = (make_trimap() > 0).astype(np.float32)
    items = [ValItem(f"S{i}/trimap1", "photo", make_photo(seed=i), make_trimap(), alpha) for i in range(2)]
    rows = report.refine_sweep("student", items, strengths=(0.01, 1e6), sharpness=(0.0,))
    assert len(calls) == 2 and [r["strength"] for r in rows] == [None, 0.01, 1e6]
    # a huge strength returns the network's matte: the same scores as the network alone
    assert np.isclose(rows[2]["metrics"]["photo"]["sad"], rows[0]["metrics"]["photo"]["sad"], rtol=1e-3)
    assert not np.isclose(rows[1]["metrics"]["photo"]["sad"], rows[0]["metrics"]["photo"]["sad"], rtol=1e-3)
    # per subject too: a strength is chosen for the hard subjects, not only for the mean
    assert set(rows[1]["photo_subjects"]) == {"S0", "S1"} and rows[1]["wide_subjects"] == {}
    assert np.isclose(np.mean([s["sad"] for s in rows[1]["photo_subjects"].values()]), rows[1]["metrics"]["photo"]["sad"])


def test_model_table_shows_unknown_provenance_as_unknown_not_as_no_distillation():
    metrics = {"photo": {"mse": 0.01, "sad": 2.0, "grad": 3.0, "conn": 1.5}}
    common = {"metrics": metrics, "photo_subjects": {}, "parameters": 1000, "macs_512": 2e9, "latency_ms_512": 10.0}
    rows = [{"label": "carded", **common, "steps": 3500, "kd": "spatial+channel+output"},
            {"label": "undistilled", **common, "steps": 4000, "kd": "none"},
            {"label": "no card", **common, "steps": None, "kd": None}]
    text = markdown(rows)
    assert "| carded | 1,000 | 2.00 G | 10 ms | 3500 | spatial+channel+output |" in text
    assert "| undistilled | 1,000 | 2.00 G | 10 ms | 4000 | none |" in text
    assert "| no card | 1,000 | 2.00 G | 10 ms | ? | ? |" in text


def test_unpainted_items_are_the_wide_ones_with_the_foreground_made_unknown():
    from matting_gui.research.data.validation import with_kinds

    wide = _item("A/wide", "wide", 0.4)
    wide.trimap[:, :4], wide.trimap[:, 12:] = 0, 255
    items = [_item("A/trimap1", "photo", 0.2), wide, _item("A/bg0", "composite", 0.8)]
    (unpainted,) = with_kinds(items, ("unpainted",))
    assert unpainted.name == "A/unpainted" and unpainted.kind == "unpainted"
    assert not (unpainted.trimap == 255).any() and (unpainted.trimap[:, 12:] == 128).all()
    assert (unpainted.trimap[:, :4] == 0).all() and (wide.trimap[:, 12:] == 255).all()  # the wide item is untouched
    assert [i.name for i in with_kinds(items, ("composite", "photo"))] == ["A/bg0", "A/trimap1"]
    means, _ = evaluate(lambda img, tri: img[..., 0].copy(), with_kinds(items, ("wide", "unpainted")))
    assert set(means) == {"wide", "unpainted", "all"}
    text = markdown([{"label": "teacher", "metrics": {k: v.as_dict() for k, v in means.items()},
                      "unpainted_subjects": {"A": means["unpainted"].as_dict()}}])
    assert "**Validation photos, wide trimaps with the foreground unpainted**" in text
    assert "(SAD / Grad, wide trimap, foreground unpainted)" in text
    with pytest.raises(ValueError, match="unknown validation kind"):
        with_kinds(items, ("photo", "hair"))


def test_refine_sweep_command_prints_each_subject_per_setting(monkeypatch, capsys):
    import matting_gui.research.data.validation as validation
    import matting_gui.research.report as report
    from matting_gui.research.cli import main as lab_main

    def scores(sad):
        return {"mse": 0.01, "sad": sad, "grad": 2 * sad, "conn": sad}

    rows = [{"strength": s, "sharpness": sh, "reach": 0.0,
             "metrics": {"photo": scores(base), "wide": scores(base + 1), "all": scores(base)},
             "photo_subjects": {"GT02": scores(base - 1), "GT26": scores(base + 1)},
             "wide_subjects": {"GT02": scores(base), "GT26": scores(base + 2)}}
            for s, sh, base in ((None, None, 5.0), (0.01, 6.0, 4.0))]
    monkeypatch.setattr(validation, "build_validation_set", lambda split: [])
    monkeypatch.setattr(report, "refine_sweep", lambda *a, **k: rows)
    assert lab_main(["refine-sweep", "--strengths", "0.01", "--sharpness", "6"]) == 0
    out = capsys.readouterr().out
    assert "| network alone |  | 5.00 / 10.00 | 6.00 / 12.00 | 5.00 / 10.00 |" in out
    assert "wide SAD per subject\n| strength | sharpness | GT02 | GT26 |" in out
    assert "| 0.01 | 6.0 | 4.00 | 6.00 |" in out  # the wide row of the refined setting
