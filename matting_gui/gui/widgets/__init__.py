"""The window's widgets; each binds to the editor session or reports user input as signals."""
