"""The distillation diagnostics: CKA and similarity gaps, and the per-student measurements."""

import numpy as np
import pytest
import torch

from matting_gui.core.nets.config import STUDENT, TEACHER
from matting_gui.core.nets.network import build_network
from matting_gui.research import kd_diagnostics
from matting_gui.research.cli import main as cli_main
from matting_gui.research.data.validation import ValItem
from matting_gui.research.kd_diagnostics import diagnose, linear_cka, markdown, stage_similarity
from tests.conftest import make_photo, make_trimap


def test_linear_cka_invariances_and_independence():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 16, generator=g)
    q, _ = torch.linalg.qr(torch.randn(16, 16, generator=g))
    assert linear_cka(x, x) == pytest.approx(1.0)
    assert linear_cka(x, 3.0 * x @ q + 5.0) == pytest.approx(1.0)  # rotation, scale and shift
    assert linear_cka(x, torch.randn(2000, 24, generator=g)) < 0.05  # unrelated features
    assert 0.3 < linear_cka(x, torch.cat([x[:, :8], torch.randn(2000, 8, generator=g)], 1)) < 0.9


def test_stage_similarity_is_zero_gap_for_identical_maps():
    f = torch.randn(1, 8, 40, 40)
    gap, cka = stage_similarity(f, f.clone())
    assert gap == pytest.approx(0.0, abs=1e-12) and cka == pytest.approx(1.0)
    gap2, cka2 = stage_similarity(torch.randn(1, 4, 40, 40), f)
    assert gap2 > 0.01 and cka2 < 0.5


def _items():
    items = []
    for i, (stem, kind) in enumerate((("A", "photo"), ("B", "composite"), ("C", "train"))):
        tri = make_trimap(64, 96)
        alpha = (tri / 255.0).astype(np.float32)
        items.append(ValItem(f"{stem}/t1", kind, make_photo(64, 96, seed=i), tri, alpha))
    return items


def test_diagnose_teacher_against_itself_and_a_student():
    torch.manual_seed(0)
    teacher, student = build_network(TEACHER).eval(), build_network(STUDENT).eval()
    summary, reports = diagnose(teacher, {"itself": teacher, "student": student}, _items())
    same, other = reports
    assert set(summary) == {"val", "train", "subject:A", "subject:B"}
    assert same.sad["val"] == pytest.approx(summary["val"]) and same.sad["train"] == pytest.approx(summary["train"])
    assert same.sad_to_teacher == pytest.approx(0.0, abs=1e-9) and same.teacher_wins == 0.0
    assert same.error_correlation == pytest.approx(1.0)
    assert all(g == pytest.approx(0.0, abs=1e-9) for g in same.spatial_gap)
    assert all(c == pytest.approx(1.0) for c in same.cka)
    assert other.sad_to_teacher > 0 and len(other.cka) == 8 and all(0 <= c <= 1 for c in other.cka)
    assert set(other.sad_by_subject) == {"A", "B"}
    text = markdown({"teacher": {"sad": summary}, "students": [r.as_dict() for r in reports]})
    assert "| itself |" in text and "decoder 1/2" in text and "encoder 4" in text and "| A | B |" in text


def test_cli_without_data_fails_clearly(models, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MATTING_DATA", str(tmp_path / "nowhere"))
    code = cli_main(["kd-diagnostics", "--student", f"s={models / 'student.safetensors'}", "--no-train-photos"])
    assert code == 2
    assert "nowhere" in capsys.readouterr().err


def test_items_come_from_the_chosen_validation_split(monkeypatch):
    asked = []
    monkeypatch.setattr(kd_diagnostics, "build_validation_set", lambda split="v1": asked.append(split) or [])
    assert kd_diagnostics.load_items(train_photos=False, split="v2") == [] and asked == ["v2"]
    kd_diagnostics.load_items(train_photos=False)
    assert asked == ["v2", "v1"]  # v1 stays the default, as the committed v1 diagnostics were measured
