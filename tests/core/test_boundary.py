"""The layers: core never imports Qt, the GUI or research (import-linter, and importing every core
module with PySide6 blocked); research and the GUI never import each other."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CORE_MODULES = [
    "matting_gui.core." + p.stem
    for p in sorted((REPO / "matting_gui" / "core").glob("*.py"))
    if p.stem != "__init__"
]


def test_core_imports_with_pyside6_unimportable():
    code = (
        "import sys\n"
        "for name in ('PySide6', 'shiboken6', 'qimage2ndarray'):\n"
        "    sys.modules[name] = None  # any import of it now raises ImportError\n"
        f"import importlib\nfor m in {CORE_MODULES!r}:\n    importlib.import_module(m)\n"
        "from matting_gui.core.cli import main\n"
        "assert main(['info']) == 0\n"
        "assert not [m for m in sys.modules if m.startswith('PySide6') and sys.modules[m] is not None]\n"
        "print('core ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0, res.stderr
    assert "core ok" in res.stdout


def test_import_linter_contract():
    exe = shutil.which("lint-imports")
    assert exe, "import-linter is a test dependency"
    res = subprocess.run([exe], capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0, res.stdout + res.stderr
    for contract in ("The core never imports Qt", "The engine never imports the GUI or the research code",
                     "Research imports the engine, never the GUI; the GUI never imports research"):
        assert f"{contract} KEPT" in res.stdout
