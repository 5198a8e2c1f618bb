import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings

from tests.conftest import make_photo, make_trimap


class FakePrompter:
    """Answers the app's questions without dialogs: ``choice`` for unsaved changes, ``yes`` for
    confirmations, ``files`` (consumed in order) for file choosers. ``asked`` records the titles."""

    def __init__(self):
        self.choice, self.yes, self.files, self.asked = "discard", True, [], []
        self.export_choice = "cancel"  # closing during an export: 'wait', 'cancel' or 'stay'

    def save_choice(self):
        self.asked.append("Unsaved trimap")
        return self.choice

    def export_running(self):
        self.asked.append("Export running")
        return self.export_choice

    def confirm(self, title, text):
        self.asked.append(title)
        return self.yes

    def open_image(self, title, folder):
        return self.files.pop(0) if self.files else None

    def save_png(self, title, start):
        return self.files.pop(0) if self.files else None

    def colour(self, current):
        return (1.0, 0.0, 1.0)


@pytest.fixture
def settings(tmp_path):
    """QSettings isolated in a per-test INI file, with *Refine edges* off: most tests check the network's
    own matte, and a refinement after every matte would only slow them (tests/gui/test_refine_preview.py
    removes the key to test the default, on)."""
    qsettings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    qsettings.setValue("refine", "false")
    return qsettings


@pytest.fixture
def make_window(qtbot, settings, models):
    """Build windows that share the test's settings and answer questions with a FakePrompter."""
    from matting_gui.gui.main_window import MainWindow

    made = []

    def make(**kwargs):
        w = MainWindow(settings, prompter=FakePrompter(), **kwargs)
        qtbot.addWidget(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.prompter.choice = "discard"  # teardown closes windows: never block on a question
        w.service.shutdown()


@pytest.fixture
def window(make_window):
    w = make_window()
    w.resize(900, 700)
    w.show()
    return w


@pytest.fixture
def photo(tmp_path):
    """A 160x120 photo with its sidecar trimap (fg disc, unknown ring)."""
    p = tmp_path / "photo.png"
    Image.fromarray((make_photo(120, 160) * 255).astype(np.uint8)).save(p)
    Image.fromarray(make_trimap(120, 160)).save(tmp_path / "photo_trimap.png")
    return p
