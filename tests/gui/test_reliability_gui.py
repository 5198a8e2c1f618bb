"""The app under bad inputs, faults and load: a message each time, nothing lost, no leak."""

import os
import resource
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from matting_gui.core.editing.trimap import UNKNOWN
from matting_gui.core.files.outputs import OutputRequest
from tests.conftest import make_photo, make_trimap

TIMEOUT = 20000


def _bad_files(folder):
    good = (make_photo() * 255).astype(np.uint8)
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.png").write_text("hello")
    Image.fromarray(good).save(folder / "full.png")
    data = (folder / "full.png").read_bytes()
    (folder / "trunc.png").write_bytes(data[: len(data) // 2])
    Image.fromarray(good).save(folder / "full.jpg")
    jdata = (folder / "full.jpg").read_bytes()
    (folder / "trunc.jpg").write_bytes(jdata[: len(jdata) // 3])

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 70000, 70000, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")
    (folder / "bomb.png").write_bytes(bomb)
    return ["empty.png", "text.png", "trunc.png", "trunc.jpg", "bomb.png", "missing.png"]


def test_bad_inputs_each_show_a_message_and_keep_the_document(qtbot, window, photo, tmp_path):
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT):
        window.open_photo(photo)
    for name in _bad_files(tmp_path):
        with qtbot.waitSignal(window.errorShown, timeout=5000) as blocker:
            assert not window.open_photo(tmp_path / name)
        assert name in blocker.args[0]
        assert window.session.photo.path == photo and window.session.doc is not None
    # still usable: a stroke still produces a matte
    window.session.doc.begin_stroke(UNKNOWN)
    window.session.doc.paint_segment(80, 60, 82, 60, 4)
    window.session.doc.end_stroke()
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT):
        window.matte.request()


@pytest.mark.parametrize("mode", ["I;16", "L", "P", "RGBA", "CMYK"])
def test_odd_formats_open(qtbot, window, tmp_path, mode):
    arr = (make_photo() * 255).astype(np.uint8)
    img = Image.fromarray(arr)
    if mode == "I;16":
        img = Image.fromarray(arr[..., 0].astype(np.uint16) * 257)
    else:
        img = img.convert(mode)
    path = tmp_path / ("x.jpg" if mode == "CMYK" else "x.png")
    img.save(path)
    assert window.open_photo(path)
    assert window.session.photo.rgb.shape == (48, 64, 3)
    if mode == "I;16":
        assert window.session.photo.image.bit_depth == 16


def test_missing_and_corrupt_weights_reported(qtbot, window, photo, models):
    (models / "teacher.safetensors").rename(models / "teacher.bak")
    try:
        with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT):
            window.open_photo(photo)
        with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
            window.actions["model:teacher"].trigger()
        assert "no trained teacher weights" in blocker.args[0]
        (models / "teacher.safetensors").write_bytes(b"garbage")
        window.service.predictors.forget()
        with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
            window.matte.request()
        assert "not a valid safetensors" in blocker.args[0]
    finally:
        (models / "teacher.safetensors").unlink(missing_ok=True)
        (models / "teacher.bak").rename(models / "teacher.safetensors")
    window.actions["model:student"].trigger()  # its matte of this trimap is still on screen: kept, not recomputed
    assert window.session.matte.stamp.model == "student" and window.session.matte_is_current
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT):
        window.matte.request()


def test_disk_full_on_export_keeps_trimap_and_matte(qtbot, window, photo, tmp_path, monkeypatch):
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT):
        window.open_photo(photo)
    window.session.doc.begin_stroke(UNKNOWN)
    window.session.doc.paint_segment(10, 10, 20, 10, 3)
    window.session.doc.end_stroke()
    tri = window.session.doc.trimap.copy()
    import matting_gui.core.files.imagewrite as imagewrite

    monkeypatch.setattr(imagewrite.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    out = tmp_path / "out"
    out.mkdir()
    with qtbot.waitSignal(window.errorShown, timeout=60000) as blocker:
        window.exports.export(out, "x", OutputRequest(matte=True, cutout=True))
    assert "No space left on device" in blocker.args[0]
    assert list(out.iterdir()) == []
    assert np.array_equal(window.session.doc.trimap, tri) and window.session.doc.dirty


def test_200_rapid_edits_no_stale_bounded_memory(qtbot, window, photo):
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT):
        window.open_photo(photo)
    stale = []
    window.matteShown.connect(lambda r: stale.append(r.job.stamp.revision != window.session.doc.revision))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(200):
        window.session.doc.begin_stroke(UNKNOWN if i % 2 else 0)
        window.session.doc.paint_segment(5 + i % 150, 5, 5 + i % 150, 20, 3)
        window.session.doc.end_stroke()
        window.matte.request(preview=bool(i % 3))
        assert window.service.waiting <= 1  # one slot: a new request replaces the waiting one
        if i % 20 == 0:
            qtbot.wait(1)  # let results arrive in between, as they would while painting
    rev = window.session.doc.revision
    qtbot.waitUntil(lambda: window.session.matte_is_current and window.session.matte.stamp.revision == rev,
                    timeout=TIMEOUT)
    assert not any(stale)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert rss_after - rss_before < 100_000  # KB


def test_no_worker_thread_leak_after_100_cycles(qtbot, settings, models, photo):
    from matting_gui.gui.main_window import MainWindow

    def os_threads():  # QThreads are OS threads that threading.active_count() does not see
        return len(os.listdir("/proc/self/task"))

    w0 = MainWindow(settings)  # warm-up: torch's and Qt's own pools start once
    w0.close()
    before = os_threads()
    for _ in range(100):
        w = MainWindow(settings)
        w.open_photo(photo)
        w.session.doc.mark_saved()
        w.close()
        w.deleteLater()
    qtbot.wait(50)
    assert os_threads() <= before + 2


def test_repeated_errors_reuse_one_dialog(qtbot, window, photo):
    from PySide6.QtWidgets import QMessageBox

    window.show_error("first")
    window.show_error("second")
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert len(boxes) == 1 and boxes[0].text() == "second"


def test_strange_file_names_open_save_and_export(qtbot, window, tmp_path):
    folder = tmp_path / ("é" * 40 + "-long-folder")
    folder.mkdir()
    raw = os.fsencode(str(folder)) + b"/photo\xff" + b"x" * 150 + b".png"
    Image.fromarray((make_photo() * 255).astype(np.uint8)).save(raw)
    path = os.fsdecode(raw)
    with qtbot.waitSignal(window.noticeShown, timeout=TIMEOUT):
        assert window.open_photo(path)
    window.session.doc.replace(make_trimap())
    assert window.documents.save_trimap()
    assert os.path.exists(os.fsencode(str(window.session.trimap_path)))
    assert "photo\\udcff" in window.windowTitle()  # undecodable byte shown escaped
    with qtbot.waitSignal(window.exported, timeout=60000) as blocker:
        window.exports.export(folder, "photo", OutputRequest())
    assert all(p.exists() for p in blocker.args[0])


def test_an_unexpected_failure_in_the_background_open_reaches_the_user(qtbot, window, tmp_path, monkeypatch):
    """Whatever the loader thread raises, the window says so and leaves "Opening…" with the canvas enabled."""
    import matting_gui.gui.controllers.document as document

    big = tmp_path / "big.png"
    side = int(document.BACKGROUND_OPEN_PIXELS ** 0.5) + 64  # large enough to open in the background
    Image.fromarray(np.zeros((side, side, 3), np.uint8)).save(big)

    def broken(path, *args, **kwargs):
        raise RuntimeError("decoder exploded\nsecond line")

    monkeypatch.setattr(document, "read_image", broken)
    with qtbot.waitSignal(window.errorShown, timeout=TIMEOUT) as blocker:
        window.open_photo(big)
    assert "big.png" in blocker.args[0] and "decoder exploded" in blocker.args[0] and "\n" not in blocker.args[0]
    assert window.canvas.isEnabled() and "Opening" not in window.statusBar().currentMessage()
