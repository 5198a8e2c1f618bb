"""Application entry point: ``matting-gui [PHOTO] [--trimap FILE]``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Start the desktop app; returns the exit code."""
    parser = argparse.ArgumentParser(prog="matting-gui", description="Paint a trimap, get a live alpha matte.")
    parser.add_argument("photo", nargs="?", help="photo to open")
    parser.add_argument("--trimap", help="trimap to load with the photo")
    parser.add_argument("--sample", action="store_true", help="open the bundled sample")
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("matting-gui")
    window.setCentralWidget(QLabel("matting-gui: the editor arrives with the GUI issue."))
    window.resize(800, 600)
    window.show()
    return app.exec()
