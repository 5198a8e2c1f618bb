"""Bad inputs and load through the CLI: one clear line per bad file, the rest processed."""

import os
import resource

import cv2
import numpy as np
import pytest
from PIL import Image

from matting_gui.cli.main import main
from tests.conftest import make_photo, make_trimap


def _save_pair(folder, stem, photo, trimap):
    Image.fromarray((photo * 255).astype(np.uint8)).save(folder / f"{stem}.png")
    Image.fromarray(trimap).save(folder / "tri" / f"{stem}.png")


@pytest.fixture
def corpus(tmp_path):
    (tmp_path / "tri").mkdir()
    return tmp_path


def test_tiny_and_extreme_aspect_images(models, corpus, capsys):
    one = np.full((1, 1, 3), 0.5, np.float32)
    _save_pair(corpus, "one", one, np.array([[128]], np.uint8))
    Image.fromarray(np.array([[0, 128]], np.uint8)).save(corpus / "tri" / "one.png")  # 1x1 photo, 1x2 trimap
    wide_tri = np.zeros((10, 40000), np.uint8)
    wide_tri[:, 20000:] = 128
    wide_tri[:, 30000:] = 255
    _save_pair(corpus, "wide", np.full((10, 40000, 3), 0.3, np.float32), wide_tri)
    Image.fromarray(np.array([[128, 255], [0, 128]], np.uint8)).save(corpus / "tri" / "two.png")
    Image.fromarray(np.full((2, 2, 3), 100, np.uint8)).save(corpus / "two.png")
    code = main(["matte", str(corpus / "wide.png"), str(corpus / "one.png"), str(corpus / "two.png"),
                 "--trimap-dir", str(corpus / "tri"), "--out", str(corpus / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "does not match" in err  # the 1x1 photo has a 1x2 trimap
    assert cv2.imread(str(corpus / "out" / "wide_matte.png"), cv2.IMREAD_UNCHANGED).shape == (10, 40000)
    assert cv2.imread(str(corpus / "out" / "two_matte.png"), cv2.IMREAD_UNCHANGED).shape == (2, 2)


def test_trimap_problems_each_get_a_clear_line(models, corpus, capsys):
    photo = make_photo()
    odd = make_trimap().copy()
    odd[odd == 128] = 77  # any gray counts as unknown: accepted
    cases = {
        "odd": odd,
        "nounknown": np.where(make_trimap() > 0, 255, 0).astype(np.uint8),
        "noknown": np.full((48, 64), 128, np.uint8),
    }
    for stem, tri in cases.items():
        _save_pair(corpus, stem, photo, tri)
    rgb = np.dstack([make_trimap(), make_trimap(), 255 - make_trimap()])
    Image.fromarray((photo * 255).astype(np.uint8)).save(corpus / "rgbtri.png")
    Image.fromarray(rgb).save(corpus / "tri" / "rgbtri.png")
    images = [str(corpus / f"{s}.png") for s in (*cases, "rgbtri")]
    code = main(["matte", *images, "--trimap-dir", str(corpus / "tri"), "--out", str(corpus / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "no unknown pixels (blue in the app, 128 in a trimap file)" in err and "no known pixels" in err and "colour image" in err
    assert (corpus / "out" / "odd_matte.png").exists()
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 4  # 3 files + summary


def test_unwritable_output_and_strange_names(models, corpus, capsys):
    long_stem = "é" * 60 + "x" * 60  # 180 bytes in UTF-8, still a legal name
    _save_pair(corpus, long_stem, make_photo(), make_trimap())
    raw = os.fsencode(str(corpus)) + b"/bad\xff.png"  # not valid UTF-8
    with open(raw, "wb") as f:
        f.write((corpus / f"{long_stem}.png").read_bytes())
    with open(os.fsencode(str(corpus / "tri")) + b"/bad\xff.png", "wb") as f:
        f.write((corpus / "tri" / f"{long_stem}.png").read_bytes())
    out = corpus / "out"
    code = main(["matte", str(corpus / f"{long_stem}.png"), os.fsdecode(raw), "--trimap-dir", str(corpus / "tri"),
                 "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert (out / f"{long_stem}_matte.png").exists() and os.path.exists(os.fsencode(str(out)) + b"/bad\xff_matte.png")
    if os.geteuid() != 0:  # root ignores permissions
        ro = corpus / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        assert main(["matte", str(corpus / f"{long_stem}.png"), "--trimap-dir", str(corpus / "tri"), "--out", str(ro)]) == 1
    blocked = corpus / "file_not_folder"
    blocked.write_text("x")
    assert main(["matte", str(corpus / f"{long_stem}.png"), "--trimap-dir", str(corpus / "tri"),
                 "--out", str(blocked)]) == 2
    assert "cannot create output folder" in capsys.readouterr().err


def test_disk_full_on_export_leaves_no_partial_file(models, corpus, capsys, monkeypatch):
    _save_pair(corpus, "p", make_photo(), make_trimap())
    out = corpus / "out"
    out.mkdir()
    import matting_gui.core.files.imagewrite as imagewrite

    monkeypatch.setattr(imagewrite.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    code = main(["matte", str(corpus / "p.png"), "--trimap-dir", str(corpus / "tri"), "--out", str(out)])
    assert code == 1 and "No space left on device" in capsys.readouterr().err
    assert list(out.iterdir()) == []  # neither the final name nor a temp file


@pytest.mark.slow
def test_batch_of_500_images_constant_memory(models, corpus, capsys):
    rng = np.random.default_rng(0)
    names = []
    for i in range(500):
        photo = make_photo(32, 32, seed=i)
        _save_pair(corpus, f"i{i:03d}", photo, make_trimap(32, 32))
        names.append(str(corpus / f"i{i:03d}.png"))
    (corpus / "i250.png").write_bytes(b"broken")  # one failing file in the middle
    rng.shuffle(names)
    rss = []
    import matting_gui.core.files.outputs as outputs

    real = outputs.write_alpha

    def spy(path, alpha, depth=8):
        real(path, alpha, depth)
        rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    outputs.write_alpha = spy
    try:
        code = main(["matte", *names, "--trimap-dir", str(corpus / "tri"), "--out", str(corpus / "out")])
    finally:
        outputs.write_alpha = real
    err = capsys.readouterr().err
    assert code == 1 and "1 of 500 images failed" in err and "i250.png" in err
    assert len(list((corpus / "out").iterdir())) == 499
    assert rss[-1] - rss[50] < 50_000  # KB: peak RSS flat after warm-up (< 50 MB growth over 450 images)
    out = cv2.imread(str(corpus / "out" / "i007_matte.png"), cv2.IMREAD_UNCHANGED)
    tri = make_trimap(32, 32)
    assert np.all(out[tri == 255] == 255) and np.all(out[tri == 0] == 0)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_weights_through_cli_never_execute(corpus, capsys):
    import pickle

    _save_pair(corpus, "p", make_photo(), make_trimap())
    marker = corpus / "pwned"
    evil = corpus / "evil.safetensors"
    evil.write_bytes(pickle.dumps(_Payload(str(marker))))
    truncated = corpus / "trunc.safetensors"
    truncated.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":")
    for weights in (evil, truncated, corpus / "missing.safetensors"):
        code = main(["matte", str(corpus / "p.png"), "--trimap-dir", str(corpus / "tri"), "--out", str(corpus / "o"),
                     "--model", str(weights)])
        assert code == 2
    err = capsys.readouterr().err
    assert err.count("not a valid safetensors") == 2 and "weights file not found" in err
    assert not marker.exists()
