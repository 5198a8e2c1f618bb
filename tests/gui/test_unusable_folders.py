"""A regular file where the cache or the user-data folder belongs never stops the app: only what needs
that folder is off (crash recovery; the sample's own trimap copy), said once; recovery files are written
atomically and never through a link planted at their name."""

import json

import numpy as np
from PIL import Image

from tests.gui.driving import TIMEOUT, open_and_wait, stroke


def test_a_file_at_the_cache_path_turns_recovery_off_with_one_message(qtbot, make_window, photo, tmp_path,
                                                                       monkeypatch):
    blocker_file = tmp_path / "not-a-folder"
    blocker_file.write_text("x")
    monkeypatch.setenv("MATTING_CACHE", str(blocker_file))
    window = make_window()
    window.show()
    errors = []
    window.errorShown.connect(errors.append)
    open_and_wait(qtbot, window, photo)
    stroke(qtbot, window, [(20, 20), (60, 20)])
    assert window.documents.autosave(wait=True) is None
    assert window.documents.autosave(wait=True) is None
    assert len([e for e in errors if "crash recovery is off" in e]) == 1
    assert blocker_file.read_text() == "x" and window.session.doc.dirty


def test_a_file_at_the_user_data_path_still_opens_the_sample(qtbot, make_window, tmp_path, monkeypatch, models):
    blocker_file = tmp_path / "userdata-file"
    blocker_file.write_text("x")
    monkeypatch.setenv("MATTING_USER_DATA", str(blocker_file))
    window = make_window()
    window.show()
    with qtbot.waitSignal(window.matteShown, timeout=TIMEOUT):
        assert window.open_sample()
    assert window.session.photo is not None and blocker_file.read_text() == "x"


def test_recovery_json_is_not_written_through_a_symlink(qtbot, window, photo, tmp_path, monkeypatch):
    open_and_wait(qtbot, window, photo)
    stroke(qtbot, window, [(20, 20), (60, 20)])
    png = window.documents.autosave(wait=True)
    meta = png.with_suffix(".json")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    meta.unlink()
    meta.symlink_to(victim)
    stroke(qtbot, window, [(20, 40), (60, 40)])
    window.documents.autosave(wait=True)
    assert victim.read_text() == "precious"
    assert not meta.is_symlink() and json.loads(meta.read_text())["photo"].endswith("photo.png")
    assert np.asarray(Image.open(png)).shape == (120, 160)
