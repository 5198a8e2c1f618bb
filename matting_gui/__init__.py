"""matting-gui: alpha matting with a live, distilled CNN.

``matting_gui.core`` is the Qt-free engine (networks, data, training, inference,
metrics, image I/O); ``matting_gui.gui`` is the PySide6 desktop app on top of it.
"""

__version__ = "0.1.0"
