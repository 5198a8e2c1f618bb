"""The layers: core never imports Qt, an interface or research (import-linter, and importing every core
module with PySide6 blocked); the interfaces and research never import each other; the engine's
roles are layered."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CORE_MODULES = [
    ".".join(p.relative_to(REPO).with_suffix("").parts)
    for p in sorted((REPO / "matting_gui" / "core").rglob("*.py"))
    if p.stem != "__init__"
]


def test_core_imports_with_pyside6_unimportable():
    code = (
        "import sys\n"
        "for name in ('PySide6', 'shiboken6', 'qimage2ndarray'):\n"
        "    sys.modules[name] = None  # any import of it now raises ImportError\n"
        f"import importlib\nfor m in {CORE_MODULES!r}:\n    importlib.import_module(m)\n"
        "from matting_gui.cli.main import main\n"
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
    for contract in ("The core never imports Qt", "The engine never imports an interface or the research code",
                     "The interfaces and the research code are independent", "The engine's roles are layered"):
        assert f"{contract} KEPT" in res.stdout
