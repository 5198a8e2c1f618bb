"""The results report: per-subject grouping and the markdown tables."""

import numpy as np

from matting_gui.core.data.validation import ValItem, evaluate
from matting_gui.core.report import markdown, photo_subjects


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
