"""``python -m matting_gui`` launches the desktop app."""

import sys

from matting_gui.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
