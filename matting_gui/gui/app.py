"""Application entry point: ``matting-gui [PHOTO] [--trimap FILE] [--sample]``."""

from __future__ import annotations

import argparse
import os
import sys

from matting_gui import __version__


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``matting-gui``."""
    parser = argparse.ArgumentParser(prog="matting-gui", description="Paint a trimap, get a live alpha matte.")
    parser.add_argument("photo", nargs="?", help="photo to open")
    parser.add_argument("--trimap", help="trimap to load with the photo")
    parser.add_argument("--sample", action="store_true", help="open the bundled sample photo and trimap")
    parser.add_argument("--version", action="version", version=f"matting-gui {__version__}")
    parser.add_argument("--install-desktop-entry", action="store_true",
                        help="add matting-gui to the desktop's application menu (Linux: a .desktop file and the "
                             "icon under ~/.local/share), then exit")
    parser.add_argument("--self-test", type=float, metavar="SECONDS",
                        help="open the photo (or --sample), exit 0 once its first matte is on screen, 1 on an "
                             "error or after SECONDS: checks an installation")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Start the desktop app; returns the exit code."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.install_desktop_entry:
        from matting_gui.gui.identity import install_desktop_entry

        try:
            for path in install_desktop_entry():
                print(f"wrote {path}")
        except OSError as exc:
            print(f"error: cannot install the desktop entry: {exc}", file=sys.stderr)
            return 1
        return 0

    os.environ.setdefault("QT_API", "pyside6")
    from matting_gui.core.inference.allocator import keep_freed_memory

    keep_freed_memory()  # before Qt and torch start threads: the worker shares the main arena
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from matting_gui.gui.identity import icon_path
    from matting_gui.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("matting-gui")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("matting-gui")
    app.setDesktopFileName("matting-gui")
    app.setWindowIcon(QIcon(str(icon_path())))
    window = MainWindow()
    window.show()
    _timing("window shown")
    if args.self_test is not None:
        _arm_self_test(app, window, args.self_test)
    if args.sample:
        window.open_sample()
    elif args.photo:
        window.open_photo(args.photo, args.trimap)
    code = app.exec()
    _timing("event loop ended")
    # The window has closed: every file is written (atomically) and the settings are synced. Leave at
    # once, without waiting for background work nobody needs now: a matte step nothing can interrupt
    # (pymatting's first JIT compile, ~45 s), the int8 copy's build (seconds after a model loads; a
    # thread killed inside a torch op at interpreter shutdown aborts the process instead).
    window.settings.qsettings.sync()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _timing(event: str) -> None:
    """With MATTING_TIMINGS set, print ``timing: <event> <wall clock>`` (bench/startup.py reads them)."""
    if os.environ.get("MATTING_TIMINGS"):
        import time

        print(f"timing: {event} {time.time():.3f}", flush=True)


def _arm_self_test(app, window, seconds: float) -> None:
    """Quit with 0 on the first matte shown, with 1 on an error message or after ``seconds``."""
    from PySide6.QtCore import QTimer

    timer = QTimer(window, singleShot=True, interval=int(seconds * 1000))
    ended = []

    def done(code: int, what: str) -> None:
        if ended:  # the first outcome counts; the window's close may emit more
            return
        ended.append(code)
        timer.stop()
        icon = "set" if not app.windowIcon().isNull() else "missing"
        print(f"self-test: {what} (window icon {icon})", flush=True)
        window.close()  # ends the matte worker, as quitting does
        app.exit(code)

    window.matteShown.connect(lambda _r: (_timing("first matte shown"), done(0, "first matte shown")))
    window.errorShown.connect(lambda msg: done(1, f"error: {msg}"))
    timer.timeout.connect(lambda: done(1, f"no matte after {seconds:g} s"))
    timer.start()


if __name__ == "__main__":
    sys.exit(main())
