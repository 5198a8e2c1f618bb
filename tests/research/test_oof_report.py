"""The decision rules of docs/fusion.md's cross-validation 3, on rows whose outcome is known."""

import math

from matting_gui.research.oof_report import export_default, fold_means, subject_mean, teacher_rule


def _rows(method: str, sad: dict[str, float], subjects=("GT01", "GT02"), folds=(0, 1)) -> list[dict]:
    return [{"subject": s, "case": f"{kind}{i}", "kind": kind, "fold": f, "method": method, "sad": v + i,
             "grad": 2 * v} for s, f in zip(subjects, folds) for kind, v in sad.items() for i in (0, 1)]


EXPORT = {"official": 4.0, "wide": 8.0, "painted": 20.0}


def test_subject_means_weigh_subjects_not_cases():
    rows = _rows("export", EXPORT) + [{"subject": "GT02", "case": "x", "kind": "official", "fold": 1,
                                       "method": "export", "sad": 100.0, "grad": 0.0}] * 10
    # GT01: mean(4, 5) = 4.5; GT02: mean(4, 5, 100 × 10) ≈ 83.75
    assert math.isclose(subject_mean(rows, "export", "official"), (4.5 + (9 + 1000) / 12) / 2)
    assert fold_means(_rows("export", EXPORT), "export", "wide") == [8.5, 8.5]
    assert math.isnan(subject_mean(rows, "fusion", "official"))


def test_the_fusion_becomes_the_default_only_when_lower_with_official_and_wide_trimaps():
    fusion = _rows("fusion", {"official": 3.5, "wide": 7.0, "painted": 20.9})  # painted +4.4 %: allowed
    median = _rows("median", {"official": 3.0, "wide": 9.0, "painted": 15.0})  # worse with wide trimaps
    got = export_default(_rows("export", EXPORT) + fusion + median)
    assert got["choice"] == "fusion"
    assert got["tests"]["median"]["wide"][2] is False and got["tests"]["fusion"]["painted"][2] is True


def test_when_both_pass_the_lower_one_with_official_trimaps_wins_and_when_none_export_stays():
    fusion = _rows("fusion", {"official": 3.5, "wide": 7.0, "painted": 20.0})
    median = _rows("median", {"official": 3.0, "wide": 7.5, "painted": 19.0})
    assert export_default(_rows("export", EXPORT) + fusion + median)["choice"] == "median"
    too_painted = _rows("fusion", {"official": 3.5, "wide": 7.0, "painted": 22.0})  # +9.8 % painted
    assert export_default(_rows("export", EXPORT) + too_painted)["choice"] == "export"


def test_the_teacher_on_all_subjects_ships_when_the_fold_teachers_are_within_five_percent():
    shipped = _rows("shipped", EXPORT)
    close = _rows("folds", {"official": 4.1, "wide": 8.3, "painted": 40.0})  # painted is reported, not tested
    assert teacher_rule(shipped + close)["ships"] is True
    worse = _rows("folds", {"official": 4.1, "wide": 9.5, "painted": 20.0})
    got = teacher_rule(shipped + worse)
    assert got["ships"] is False and got["tests"]["wide"][2] is False


def test_a_further_stage_ships_when_level_with_official_and_wide_trimaps_and_lower_with_painted_ones():
    from matting_gui.research.oof_report import stage_rule

    base = _rows("base", EXPORT)
    level = _rows("stage", {"official": 4.08, "wide": 8.1, "painted": 18.0})  # +1.8 % and +1.2 %: level
    assert stage_rule(base + level)["ships"] is True
    worse = _rows("stage", {"official": 4.2, "wide": 8.0, "painted": 18.0})  # +4.4 % with official trimaps
    assert stage_rule(base + worse)["tests"]["official"][2] is False
    no_gain = _rows("stage", {"official": 4.0, "wide": 8.0, "painted": 20.0})
    assert stage_rule(base + no_gain)["ships"] is False


def test_the_markdown_table_has_one_row_per_method_with_fold_spans_and_the_worst_subject():
    from matting_gui.research.oof_report import markdown_table

    rows = _rows("export", EXPORT, subjects=("GT01", "GT02"), folds=(0, 1))
    rows += [dict(r, sad=r["sad"] + 2) for r in _rows("knn", EXPORT, subjects=("GT02",), folds=(1,))]
    rows += _rows("knn", EXPORT, subjects=("GT01",), folds=(0,))
    lines = markdown_table(rows).splitlines()
    assert "painted" in lines[0] and "nan" not in "".join(lines)
    assert len(lines) == 4 and lines[1].startswith("|---|---:")
    knn = lines[2]  # LABELS order: closed-form (absent), KNN, export
    assert knn.startswith("| KNN | 5.50 (4.50–6.50) | 9.50 (8.50–10.50)")
    assert knn.endswith("| 8.00 | GT02 6.50 |")  # Gradient 2 × 4; GT02 is 2 worse
    assert lines[3].startswith("| export (teacher, mirror, refine) | 4.50 (4.50–4.50)")
