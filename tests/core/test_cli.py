"""The CLI end to end, on the bundled photo and on a corpus of bad inputs."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from matting_gui.cli.main import main, parse_colour
from tests.conftest import SAMPLE, SAMPLE_TRIMAP, make_photo, make_trimap


def test_matte_on_real_photo_writes_valid_alpha(models, tmp_path):
    code = main(["matte", str(SAMPLE), "--trimap", str(SAMPLE_TRIMAP), "--out", str(tmp_path),
                 "--cutout", "--composite", "#00ff00", "--fast"])
    assert code == 0
    alpha = cv2.imread(str(tmp_path / "astronaut_matte.png"), cv2.IMREAD_UNCHANGED)
    tri = cv2.imread(str(SAMPLE_TRIMAP), cv2.IMREAD_GRAYSCALE)
    assert alpha.shape == tri.shape and alpha.dtype == np.uint8
    assert np.all(alpha[tri == 0] == 0) and np.all(alpha[tri == 255] == 255)
    cut = np.asarray(Image.open(tmp_path / "astronaut_cutout.png"))
    assert cut.shape == (512, 512, 4) and np.array_equal(cut[..., 3], alpha)
    comp = cv2.imread(str(tmp_path / "astronaut_composite.png"))
    assert tuple(comp[0, 0]) == (0, 255, 0)  # background pixel replaced by green (BGR)
    assert main(["matte", str(SAMPLE), "--trimap", str(SAMPLE_TRIMAP), "--out", str(tmp_path / "m"), "--fast",
                 "--mirror"]) == 0
    mirrored = cv2.imread(str(tmp_path / "m" / "astronaut_matte.png"), cv2.IMREAD_UNCHANGED)
    assert mirrored.shape == alpha.shape and np.array_equal(mirrored[tri != 128], alpha[tri != 128])
    assert not np.array_equal(mirrored, alpha)  # the unknown band is averaged with the mirrored pass


def test_matte_defaults_to_the_teacher(models, tmp_path):
    """Final mattes from the command line use the better network, as the app's export does."""
    def matte(*extra):
        out = tmp_path / "-".join(extra or ("default",))
        assert main(["matte", str(SAMPLE), "--trimap", str(SAMPLE_TRIMAP), "--out", str(out), "--fast", *extra]) == 0
        return cv2.imread(str(out / "astronaut_matte.png"), cv2.IMREAD_UNCHANGED)

    default = matte()
    assert np.array_equal(default, matte("--model", "teacher"))
    assert not np.array_equal(default, matte("--model", "student"))


def _corpus(folder):
    """Good and bad inputs side by side; returns (images, trimap_dir)."""
    tri_dir = folder / "trimaps"
    tri_dir.mkdir()
    photo = (make_photo() * 255).astype(np.uint8)
    Image.fromarray(photo).save(folder / "good.png")
    Image.fromarray(make_trimap()).save(tri_dir / "good.png")
    cv2.imwrite(str(folder / "deep.png"), (make_photo()[..., ::-1] * 65535).astype(np.uint16))
    Image.fromarray(make_trimap()).save(tri_dir / "deep.png")
    Image.fromarray(photo).convert("CMYK").save(folder / "cmyk.jpg")
    Image.fromarray(make_trimap()).save(tri_dir / "cmyk.png")
    rot = Image.fromarray(photo.transpose(1, 0, 2).copy())  # stored 64x48 rotated; EXIF 6 → 48 high... shown upright
    exif = rot.getexif()
    exif[0x0112] = 8
    rot.save(folder / "rotated.jpg", exif=exif)
    Image.fromarray(make_trimap()).save(tri_dir / "rotated.png")
    (folder / "text.png").write_text("not an image")
    Image.fromarray(make_trimap()).save(tri_dir / "text.png")
    data = (folder / "good.png").read_bytes()
    (folder / "trunc.png").write_bytes(data[: len(data) // 2])
    Image.fromarray(make_trimap()).save(tri_dir / "trunc.png")
    Image.fromarray(photo).save(folder / "wrongsize.png")
    Image.fromarray(make_trimap(20, 20)).save(tri_dir / "wrongsize.png")
    names = ["good.png", "deep.png", "cmyk.jpg", "rotated.jpg", "text.png", "trunc.png", "wrongsize.png"]
    return [str(folder / n) for n in names], tri_dir


def test_bad_files_are_reported_and_the_rest_processed(models, tmp_path, capsys):
    images, tri_dir = _corpus(tmp_path)
    out = tmp_path / "out"
    code = main(["matte", *images, "--trimap-dir", str(tri_dir), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "3 of 7 images failed" in err
    assert "text.png: not a supported image format" in err
    assert "trunc.png: cannot be decoded" in err
    assert "does not match the image" in err
    for ok in ("good", "deep", "cmyk", "rotated"):
        assert (out / f"{ok}_matte.png").exists(), ok
    deep = cv2.imread(str(out / "deep_matte.png"), cv2.IMREAD_UNCHANGED)
    assert deep.dtype == np.uint16  # 16-bit in, 16-bit alpha out
    assert cv2.imread(str(out / "rotated_matte.png"), cv2.IMREAD_UNCHANGED).shape == (48, 64)  # EXIF applied
    assert not (out / "text_matte.png").exists()


def test_missing_model_exit_2_with_how_to(tmp_path, capsys):
    Image.fromarray((make_photo() * 255).astype(np.uint8)).save(tmp_path / "p.png")
    Image.fromarray(make_trimap()).save(tmp_path / "t.png")
    code = main(["matte", str(tmp_path / "p.png"), "--trimap", str(tmp_path / "t.png"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "matting-lab train" in capsys.readouterr().err


def test_trimap_count_mismatch(models, tmp_path, capsys):
    assert main(["matte", "a.png", "b.png", "--trimap", "t.png", "--out", str(tmp_path)]) == 2
    assert "one --trimap per image" in capsys.readouterr().err


def test_evaluate_prints_table_and_json(models, tmp_path, capsys):
    for d in ("img", "tri", "gt"):
        (tmp_path / d).mkdir()
    for i in range(2):
        Image.fromarray((make_photo(seed=i) * 255).astype(np.uint8)).save(tmp_path / "img" / f"x{i}.png")
        Image.fromarray(make_trimap()).save(tmp_path / "tri" / f"x{i}.png")
        Image.fromarray((make_trimap() > 100).astype(np.uint8) * 255).save(tmp_path / "gt" / f"x{i}.png")
    code = main(["evaluate", "--images", str(tmp_path / "img"), "--trimaps", str(tmp_path / "tri"),
                 "--alphas", str(tmp_path / "gt"), "--json", str(tmp_path / "s.json")])
    out = capsys.readouterr().out
    assert code == 0 and "| mean" in out and "SAD" in out
    data = json.loads((tmp_path / "s.json").read_text())
    assert set(data["images"]) == {"x0", "x1"} and data["mean"]["sad"] > 0
    # where the error lies: the split adds up to SAD per image, and its columns show on request only
    assert "holes" not in out
    for stem in ("x0", "x1"):
        assert sum(data["sad_by_truth"][stem].values()) == pytest.approx(data["images"][stem]["sad"])
    assert main(["evaluate", "--images", str(tmp_path / "img"), "--trimaps", str(tmp_path / "tri"),
                 "--alphas", str(tmp_path / "gt"), "--by-truth"]) == 0
    out = capsys.readouterr().out
    assert "holes |" in out and "haze |" in out and "haze (true α ≤ 0.05)" in out
    # the export path (mirror-averaged, refined) is scored and named as such; its SAD differs
    code = main(["evaluate", "--images", str(tmp_path / "img"), "--trimaps", str(tmp_path / "tri"),
                 "--alphas", str(tmp_path / "gt"), "--json", str(tmp_path / "e.json"), "--mirror", "--refine"])
    assert code == 0 and "(mirror-averaged, refined): 2 images" in capsys.readouterr().out
    exported = json.loads((tmp_path / "e.json").read_text())
    assert exported["model"].endswith("(mirror-averaged, refined)") and exported["mean"]["sad"] != data["mean"]["sad"]
    # closed-form has no network to mirror or refine: a usage error, not a silently ignored flag
    assert main(["evaluate", "--images", str(tmp_path / "img"), "--trimaps", str(tmp_path / "tri"),
                 "--alphas", str(tmp_path / "gt"), "--method", "closed-form", "--refine"]) == 2
    assert "not to --method closed-form" in capsys.readouterr().err


def test_info_lists_models(models, capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "student.safetensors" in out and "teacher.safetensors" in out and "torch" in out


def test_parse_colour():
    assert parse_colour("#ff0000") == (1.0, 0.0, 0.0)
    assert parse_colour("0,128,255") == (0.0, 128 / 255, 1.0)
    assert parse_colour("white") == (1.0, 1.0, 1.0)
    assert parse_colour("nonsense") is None and parse_colour("300,0,0") is None


def test_console_script_module_runs():
    res = subprocess.run([sys.executable, "-m", "matting_gui.cli.main", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "matte" in res.stdout


@pytest.mark.parametrize("bad", ["0,0", "#12"])
def test_bad_composite_argument(models, tmp_path, bad, capsys):
    assert main(["matte", str(SAMPLE), "--trimap", str(SAMPLE_TRIMAP), "--out", str(tmp_path), "--composite", bad]) == 2


@pytest.mark.parametrize("name", ["student", "teacher"])
def test_export_onnx_matches_torch(models, tmp_path, capsys, name):
    pytest.importorskip("onnxruntime")
    assert main(["export-onnx", "--model", name, "--out", str(tmp_path / f"{name}.onnx")]) == 0
    assert "onnxruntime matches torch" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}.onnx"]  # no temp file left


def test_export_onnx_refuses_a_bad_destination(models, tmp_path, capsys):
    weights = tmp_path / "mine.safetensors"
    weights.write_bytes((models / "student.safetensors").read_bytes())
    before = weights.read_bytes()
    # an --out that is not .onnx (here: the weights themselves) is refused before anything is written
    assert main(["export-onnx", "--model", str(weights), "--out", str(weights)]) == 2
    assert "must end in .onnx" in capsys.readouterr().err
    assert weights.read_bytes() == before
    assert main(["export-onnx", "--model", "student", "--out", str(tmp_path / "no" / "s.onnx")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.safetensors"]


def test_matte_never_overwrites_an_input(models, tmp_path, capsys):
    """Outputs carry a suffix; a batch whose outputs would land on an input, or on each other, is refused."""
    photo = tmp_path / "shot.png"
    Image.fromarray((make_photo() * 255).astype(np.uint8)).save(photo)
    trimap = tmp_path / "shot_matte.png"  # a trimap that happens to carry the matte's name
    Image.fromarray(make_trimap()).save(trimap)
    before = photo.read_bytes(), trimap.read_bytes()
    assert main(["matte", str(photo), "--trimap", str(trimap), "--out", str(tmp_path)]) == 2
    assert "is an input and would be overwritten" in capsys.readouterr().err
    assert (photo.read_bytes(), trimap.read_bytes()) == before
    other = tmp_path / "trimaps"
    other.mkdir()
    Image.fromarray(make_trimap()).save(other / "shot.png")
    assert main(["matte", str(photo), "--trimap", str(other / "shot.png"), "--out", str(tmp_path)]) == 0
    assert photo.read_bytes() == before[0] and trimap.read_bytes() != before[1]  # the matte, in its own file
    twin = tmp_path / "sub"
    twin.mkdir()
    Image.fromarray((make_photo() * 255).astype(np.uint8)).save(twin / "shot.jpg")
    code = main(["matte", str(photo), str(twin / "shot.jpg"), "--trimap-dir", str(other), "--out", str(tmp_path / "o")])
    assert code == 2 and "share the name 'shot'" in capsys.readouterr().err
    assert not (tmp_path / "o" / "shot_matte.png").exists()


def test_matte_refine_finishes_with_closed_form(models, tmp_path):
    args = ["matte", str(SAMPLE), "--trimap", str(SAMPLE_TRIMAP), "--fast"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b"), "--refine"]) == 0
    plain, refined = (cv2.imread(str(tmp_path / d / "astronaut_matte.png"), cv2.IMREAD_UNCHANGED) for d in "ab")
    tri = cv2.imread(str(SAMPLE_TRIMAP), cv2.IMREAD_GRAYSCALE)
    assert np.array_equal(plain[tri != 128], refined[tri != 128]) and not np.array_equal(plain, refined)


def test_control_characters_in_names_reach_the_terminal_escaped(models, tmp_path, capsys):
    """A newline or an escape sequence in a file name is shown escaped, on one line, never raw."""
    name = "evil\x1b[2J\nname.png"
    (tmp_path / name).write_text("not an image")
    Image.fromarray(make_trimap()).save(tmp_path / "t.png")
    assert main(["matte", str(tmp_path / name), "--trimap", str(tmp_path / "t.png"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "evil\\x1b[2J\\x0aname.png: not a supported image format" in err
    assert len(err.strip().splitlines()) == 2  # the file's line and the summary


def test_help_and_argument_errors_answer_without_loading_torch():
    # importing torch takes seconds; `matting-cli --help` or a usage error must not wait for it
    code = ("import sys\nfrom matting_gui.cli.main import main\n"
            "try:\n    main(['matte', 'x.png'])\nexcept SystemExit as exc:\n    code = exc.code\n"
            "print(code, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["2", "False"] and "--out" in out.stderr


def test_without_a_trimap_argument_each_image_uses_the_trimap_saved_beside_it(models, tmp_path):
    photo, other = tmp_path / "shot.png", tmp_path / "lone.png"
    rgb = (make_photo() * 255).astype(np.uint8)
    Image.fromarray(rgb).save(photo)
    Image.fromarray(rgb).save(other)
    Image.fromarray(make_trimap()).save(tmp_path / "shot_trimap.png")  # where the app saves it
    out = tmp_path / "out"
    assert main(["matte", str(photo), "--out", str(out)]) == 0
    matte = np.asarray(Image.open(out / "shot_matte.png"))
    assert matte.shape == make_trimap().shape and matte[24, 32] == 255 and matte[0, 0] == 0
    assert main(["matte", str(other), "--out", str(out)]) == 1  # no trimap beside it: that file fails, nothing written
    assert not (out / "lone_matte.png").exists()


def test_trimap_without_foreground_mattes_with_a_warning(models, tmp_path, capsys):
    Image.fromarray((make_photo() * 255).astype(np.uint8)).save(tmp_path / "p.png")
    tri = make_trimap()
    tri[tri == 255] = 128  # the subject's core left unpainted
    Image.fromarray(tri).save(tmp_path / "p_trimap.png")
    assert main(["matte", str(tmp_path / "p.png"), "--model", "student", "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning: no foreground is painted" in err and (tmp_path / "out" / "p_matte.png").exists()


def test_matte_computes_what_export_computes_by_default(models, fusion_model, tmp_path):
    """No quality flags: export's defaults (mirror-averaged and refined, no solver fusion), exactly as
    Predictor.predict(**EXPORT_STEPS); --fuse adds the fusion with the installed fusion network."""
    from matting_gui.core.files.imageio import read_image, read_trimap
    from matting_gui.core.inference.predictor import Predictor
    from matting_gui.core.nets.model_files import EXPORT_STEPS

    args = ["matte", str(SAMPLE), "--trimap", str(SAMPLE_TRIMAP), "--threads", "2"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b"), "--fuse"]) == 0
    default, fused = (cv2.imread(str(tmp_path / d / "astronaut_matte.png"), cv2.IMREAD_UNCHANGED) for d in "ab")
    predictor = Predictor("teacher")
    image, trimap = read_image(SAMPLE).rgb, read_trimap(SAMPLE_TRIMAP)
    for got, steps in ((default, EXPORT_STEPS), (fused, EXPORT_STEPS | {"fuse": True})):
        result = predictor.predict(image, trimap, **steps)
        assert result.fused == steps["fuse"] and result.mirrored and result.refined
        assert np.array_equal(got, np.round(result.alpha * 255).astype(np.uint8))
    assert not np.array_equal(default, fused)


def test_trimap_dir_equal_to_out_is_refused_when_an_output_would_overwrite_a_trimap(models, tmp_path, capsys):
    """`matte img/a.png img/a_matte.png --trimap-dir T --out T`: a.png's matte T/a_matte.png is a_matte.png's
    trimap; the batch is refused before anything is written."""
    from PIL import Image

    img, tri = tmp_path / "img", tmp_path / "T"
    img.mkdir()
    tri.mkdir()
    for stem in ("a", "a_matte"):
        Image.fromarray((make_photo(48, 64) * 255).astype(np.uint8)).save(img / f"{stem}.png")
        Image.fromarray(make_trimap(48, 64)).save(tri / f"{stem}.png")
    before = (tri / "a_matte.png").read_bytes()
    assert main(["matte", str(img / "a.png"), str(img / "a_matte.png"), "--trimap-dir", str(tri), "--out", str(tri),
                 "--fast"]) == 2
    assert "is an input" in capsys.readouterr().err and (tri / "a_matte.png").read_bytes() == before


def test_names_differing_only_in_case_are_refused(models, tmp_path, capsys):
    from PIL import Image

    for name in ("IMG.png", "img.jpg"):
        Image.fromarray((make_photo(48, 64) * 255).astype(np.uint8)).save(tmp_path / name)
    assert main(["matte", str(tmp_path / "IMG.png"), str(tmp_path / "img.jpg"), "--trimap-dir", str(tmp_path),
                 "--out", str(tmp_path / "o")]) == 2
    assert "share the name" in capsys.readouterr().err


def test_sigterm_ends_a_command_with_128_plus_its_number_and_no_temporary_file(tmp_path, monkeypatch, capsys):
    """A stop signal unwinds like Ctrl+C: the write in progress removes its .part file, the exit code says why."""
    import argparse
    import os
    import signal

    from matting_gui.console import run
    from matting_gui.core.files import imagewrite

    def fsync_then_stopped(fd):
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the file is being written

    monkeypatch.setattr(imagewrite.os, "fsync", fsync_then_stopped)
    parser = argparse.ArgumentParser()
    parser.set_defaults(func=lambda _args: imagewrite.atomic_write_bytes(tmp_path / "out.png", b"x" * 1000))
    before = signal.getsignal(signal.SIGTERM)
    assert run(parser, []) == 128 + signal.SIGTERM
    assert "stopped by SIGTERM" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # neither out.png nor a hidden .out.png.*.part
    assert signal.getsignal(signal.SIGTERM) == before  # the command's handlers are its own


def test_fuse_without_a_usable_fusion_network_is_a_one_line_error(models, tmp_path, capsys):
    args = ["matte", str(SAMPLE), "--trimap", str(SAMPLE_TRIMAP), "--out", str(tmp_path / "o"), "--fuse"]
    assert main(args) == 2
    assert "no fusion network" in capsys.readouterr().err
    (models / "fusion.safetensors").write_bytes(b"not weights")
    try:
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "fusion.safetensors" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    finally:
        (models / "fusion.safetensors").unlink()
    assert not (tmp_path / "o" / "astronaut_matte.png").exists()
