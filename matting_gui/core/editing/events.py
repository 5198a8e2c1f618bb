"""A minimal observer, so Qt-free models (trimap document, editor session) can announce changes."""

from __future__ import annotations

from collections.abc import Callable


class Event:
    """A list of callbacks: ``connect(f)``, ``disconnect(f)``, ``emit(*args)`` calls each in order."""

    def __init__(self) -> None:
        self._callbacks: list[Callable] = []

    def connect(self, callback: Callable) -> None:
        """Call ``callback(*args)`` on every ``emit``."""
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable) -> None:
        """Stop calling ``callback``; unknown callbacks are ignored."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args) -> None:
        """Call every connected callback with ``args``."""
        for callback in list(self._callbacks):
            callback(*args)
