"""The wheel carries what the app needs: every code package, the shipped weights and the sample."""

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _setuptools() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_code_package_is_listed():
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "matting_gui").rglob("__init__.py")}
    listed = set(_setuptools()["packages"])
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"


def test_weights_and_sample_are_package_data():
    st = _setuptools()
    assert st["package-dir"] == {"matting_gui.models": "models", "matting_gui.resources": "resources"}
    models = st["package-data"]["matting_gui.models"]
    for name in ("teacher", "student"):
        assert f"{name}.safetensors" in models and f"{name}.json" in models
        assert (REPO / "models" / f"{name}.safetensors").is_file()
    assert "*.png" in st["package-data"]["matting_gui.resources.samples"]
    assert "*.png" in st["package-data"]["matting_gui.resources.icons"]


def test_bundled_folders_are_found_inside_an_installed_package(tmp_path, monkeypatch):
    """An installed wheel has matting_gui/models beside the code: that folder wins over the checkout's."""
    import matting_gui.core.files.paths as paths

    monkeypatch.delenv("MATTING_MODELS", raising=False)
    assert paths.models_dir() == REPO / "models"  # a checkout: no models folder inside the package
    (tmp_path / "models").mkdir()
    (tmp_path / "resources").mkdir()
    monkeypatch.setattr(paths, "PACKAGE_DIR", tmp_path)
    assert paths.models_dir() == tmp_path / "models"
    assert paths.resources_dir() == tmp_path / "resources"
