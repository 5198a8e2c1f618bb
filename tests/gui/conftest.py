import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings

from tests.conftest import make_photo, make_trimap


@pytest.fixture
def settings(tmp_path):
    """QSettings isolated in a per-test INI file."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings, models):
    from matting_gui.gui.main_window import MainWindow

    w = MainWindow(settings)
    w.ask_save_choice = lambda: "discard"  # teardown closes the window: never block on a dialog
    qtbot.addWidget(w)
    w.resize(900, 700)
    w.show()
    yield w
    w.doc = None  # never prompt on teardown
    w.service.shutdown()


@pytest.fixture
def photo(tmp_path):
    """A 160x120 photo with its sidecar trimap (fg disc, unknown ring)."""
    p = tmp_path / "photo.png"
    Image.fromarray((make_photo(120, 160) * 255).astype(np.uint8)).save(p)
    Image.fromarray(make_trimap(120, 160)).save(tmp_path / "photo_trimap.png")
    return p
