"""The app's identity: --version, the window icon, About with the installed models, the desktop entry,
and the --self-test that CI runs on the installed wheel."""

import json
import os
import subprocess
import sys

from matting_gui import __version__
from matting_gui.gui import app as app_module
from matting_gui.gui.identity import about_html, desktop_entry_text, icon_path, install_desktop_entry


def test_version_flags_print_the_package_version(capsys):
    for main, prog in ((app_module.main, "matting-gui"),):
        try:
            main(["--version"])
        except SystemExit as exc:
            assert exc.code == 0
        assert capsys.readouterr().out.strip() == f"{prog} {__version__}"
    from matting_gui.cli.main import main as cli_main
    from matting_gui.research.cli import main as lab_main

    for main, prog in ((cli_main, "matting-cli"), (lab_main, "matting-lab")):
        try:
            main(["--version"])
        except SystemExit as exc:
            assert exc.code == 0
        assert capsys.readouterr().out.strip() == f"{prog} {__version__}"


def test_icon_is_a_bundled_square_png():
    from PIL import Image

    with Image.open(icon_path()) as im:
        assert im.format == "PNG" and im.size == (256, 256) and im.mode == "RGBA"


def test_about_lists_installed_models_with_their_cards(models):
    card = json.loads((models / "student.json").read_text())
    card["status"] = "shipped for the test"
    (models / "student.json").write_text(json.dumps(card))
    text = about_html()
    assert __version__ in text
    assert "<b>student</b>" in text and "<b>teacher</b>" in text
    assert "shipped for the test" in text
    assert "Apache-2.0" in text  # the pretrained encoder's licence


def test_about_says_when_weights_are_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("MATTING_MODELS", str(tmp_path))
    (tmp_path / "teacher.json").write_text("[1, 2]")  # a card that is not an object says nothing
    text = about_html()
    assert text.count("weights missing") == 2


def test_desktop_entry_is_written_under_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    written = install_desktop_entry()
    entry = tmp_path / "applications" / "matting-gui.desktop"
    icon = tmp_path / "icons" / "hicolor" / "256x256" / "apps" / "matting-gui.png"
    assert written == [entry, icon]
    text = entry.read_text()
    assert text.startswith("[Desktop Entry]\n") and "Icon=matting-gui\n" in text and "Type=Application\n" in text
    assert icon.read_bytes() == icon_path().read_bytes()


def test_desktop_entry_quotes_the_launcher():
    text = desktop_entry_text("/opt/my apps/bin/matting-gui")
    assert "Exec='/opt/my apps/bin/matting-gui' %f\n" in text


def test_install_desktop_entry_command(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    res = subprocess.run([sys.executable, "-m", "matting_gui.gui.app", "--install-desktop-entry"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "applications" / "matting-gui.desktop").is_file()


def test_self_test_opens_the_sample_with_the_app_icon(models, tmp_path):
    """``--self-test`` (what CI runs on the installed wheel) exits 0 once the sample's first matte is on
    screen, with the app's icon set; run in its own process, as a user starts the app."""
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"), QT_QPA_PLATFORM="offscreen")
    res = subprocess.run([sys.executable, "-m", "matting_gui.gui.app", "--sample", "--self-test", "120"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "self-test: first matte shown (window icon set)" in res.stdout


def test_the_window_shows_before_torch_loads(tmp_path):
    """7-8 s to the window under load: torch (~2 s of imports) loaded before the window was built."""
    code = ("import sys, threading\n"
            "import matting_gui.gui.main_window as mw\n"
            "assert 'torch' not in sys.modules, 'imported with the window module'\n"
            "release = threading.Event()\n"
            "real = mw.warm_up\n"
            "mw.warm_up = lambda: (release.wait(30), real())[1]  # the start-up imports: held until shown\n"
            "from PySide6.QtWidgets import QApplication\n"
            "app = QApplication([])\n"
            "w = mw.MainWindow()\n"
            "w.show()\n"
            "app.processEvents()\n"
            "print('torch' in sys.modules, w.isVisible(), w.toolbars.device.count())\n"
            "release.set()\n"
            "w.service.shutdown()\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["False", "True", "1"]  # shown without torch; the CPU offered so far


def test_quitting_never_waits_for_background_work(models, tmp_path):
    """The process lingered 4.8 s after the window closed: exit joined the int8 build's thread."""
    code = ("import atexit, time\n"
            "atexit.register(time.sleep, 90)  # as the int8 build's join at exit did, while it ran\n"
            "from matting_gui.gui import app\n"
            "app.main(['--sample', '--self-test', '60'])\n")
    (tmp_path / "matting-gui").mkdir()  # Refine edges off: the matte worker is idle when the window closes
    (tmp_path / "matting-gui" / "matting-gui.conf").write_text("[General]\nrefine=false\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "self-test: first matte shown" in run.stdout, run.stderr[-2000:]


def test_the_start_up_imports_are_kept_out_of_garbage_collection():
    """A full GC pass over torch's and pymatting's objects took ~200 ms on the UI thread, at random
    moments (the first composite view at 24 MP stalled 0.2-0.5 s): the start-up warm-up freezes them."""
    code = ("import gc\n"
            "from matting_gui.gui.worker import warm_up\n"
            "warm_up()\n"
            "print(gc.get_freeze_count() > 100_000)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "True", run.stderr[-2000:]
