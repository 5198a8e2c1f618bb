"""Training and experiments: imports the engine (``matting_gui.core``), never the GUI."""
