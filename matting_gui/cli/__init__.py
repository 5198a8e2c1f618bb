"""``matting-cli``, the app's headless interface: beside the GUI and ``matting-lab``, over the engine."""
