"""matting-gui: alpha matting with a live, distilled CNN.

``matting_gui.core`` is the Qt-free engine, a package per role (nets, files, imaging, inference,
editing, evaluation); the interfaces sit beside it: ``gui`` (the PySide6 desktop app), ``cli``
(``matting-cli``), and ``research`` (training and experiments, ``matting-lab``).
"""

__version__ = "0.2.0"
