"""The Qt-free engine. Importing it (or any submodule) never imports PySide6."""
