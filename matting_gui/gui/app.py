"""Application entry point: ``matting-gui [PHOTO] [--trimap FILE] [--sample]``."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Start the desktop app; returns the exit code."""
    parser = argparse.ArgumentParser(prog="matting-gui", description="Paint a trimap, get a live alpha matte.")
    parser.add_argument("photo", nargs="?", help="photo to open")
    parser.add_argument("--trimap", help="trimap to load with the photo")
    parser.add_argument("--sample", action="store_true", help="open the bundled sample photo and trimap")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    os.environ.setdefault("QT_API", "pyside6")
    from matting_gui.core.inference.allocator import keep_freed_memory

    keep_freed_memory()  # before Qt and torch start threads: the worker shares the main arena
    from PySide6.QtWidgets import QApplication

    from matting_gui.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("matting-gui")
    app.setOrganizationName("matting-gui")
    window = MainWindow()
    window.show()
    if args.sample:
        window.open_sample()
    elif args.photo:
        window.open_photo(args.photo, args.trimap)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
