"""Every window action in one table: text, shortcuts, tooltip; and the menus that list them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox

from matting_gui.core.editing.view import VIEW_MODES
from matting_gui.core.nets.model_files import INSTALLED_MODELS

STD = QKeySequence.StandardKey


@dataclass(frozen=True)
class ActionSpec:
    """One action: ``name`` (its key in the window's table and slot map), text, shortcuts, tooltip."""

    name: str
    text: str
    keys: tuple = ()
    tip: str = ""
    checkable: bool = False
    group: str = ""  # actions of one group are mutually exclusive


TOOL_SPECS = (
    ActionSpec("tool:foreground", "Foreground", ("F", "1"), "Foreground brush", True, "tool"),
    ActionSpec("tool:background", "Background", ("B", "2"), "Background brush", True, "tool"),
    ActionSpec("tool:unknown", "Unknown", ("U", "3"), "Unknown brush: the band where the network decides", True, "tool"),
    ActionSpec("tool:fill", "Fill", ("G",), "Fill a closed region with foreground (right-click or Shift+click: background)", True, "tool"),
    ActionSpec("tool:select", "Select subject", ("S",), "Select subject: drag a box around it", True, "tool"),
)
ACTIONS = (
    ActionSpec("open", "&Open photo…", (STD.Open,)),
    ActionSpec("sample", "Open &sample"),
    ActionSpec("paste", "&Paste photo", (STD.Paste,)),
    ActionSpec("load_trimap", "&Load trimap…"),
    ActionSpec("save", "&Save trimap", (STD.Save,)),
    ActionSpec("save_as", "Save trimap &as…", ("Ctrl+Shift+S",)),
    ActionSpec("export", "&Export…", ("Ctrl+E",)),
    ActionSpec("quit", "&Quit", (STD.Quit,)),
    ActionSpec("undo", "&Undo", ("Ctrl+Z",)),
    ActionSpec("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y")),
    ActionSpec("auto_band", "&Auto band", ("Ctrl+B",), "Turn the painted foreground into a trimap with an unknown band"),
    ActionSpec("reset", "Reset trimap"),
    ActionSpec("select_all", "Select subject in the &whole photo", ("Alt+S",)),
    ActionSpec("zoom_in", "Zoom &in", ("Ctrl++", "Ctrl+=")),
    ActionSpec("zoom_out", "Zoom &out", ("Ctrl+-",)),
    ActionSpec("fit", "&Fit", ("Ctrl+0",)),
    ActionSpec("zoom_100", "&100%", ("Ctrl+1",)),
    ActionSpec("before", "&Before/after", ("\\",), checkable=True),
    ActionSpec("decontaminate", "&Decontaminate colours", checkable=True),
    ActionSpec("refine", "&Refine edges", ("R",), "Refine each matte where the network is unsure with closed-form "
               "matting, as export's Refine edges does (seconds per megapixel, after the network's matte)", True),
    ActionSpec("brush_up", "Bigger brush", ("]",)),
    ActionSpec("brush_down", "Smaller brush", ("[",)),
    ActionSpec("about", "&About"),
    ActionSpec("shortcuts", "&Keyboard shortcuts", ("F1",)),
    *TOOL_SPECS,
    *(ActionSpec(f"view:{m}", f"View {m}", (m[0].upper(),), checkable=True, group="view") for m in VIEW_MODES),
    *(ActionSpec(f"model:{m}", f"{m.capitalize()} model", checkable=True, group="model") for m in INSTALLED_MODELS),
)
MENUS = (  # title, action names (None: a separator; "recent": the recent-files submenu)
    ("&File", ("open", "sample", "paste", "recent", None, "load_trimap", "save", "save_as", None, "export", None, "quit")),
    ("&Edit", ("undo", "redo", None, *(s.name for s in TOOL_SPECS), "brush_down", "brush_up", None, "select_all",
               "auto_band", "reset")),
    ("&View", (*(f"view:{m}" for m in VIEW_MODES), "before", "decontaminate", None, "zoom_in", "zoom_out", "fit",
               "zoom_100")),
    ("&Model", (*(f"model:{m}" for m in INSTALLED_MODELS), None, "refine")),
    ("&Help", ("shortcuts", "sample", "about")),
)


def build_actions(window: QMainWindow, slots: dict[str, Callable]) -> dict[str, QAction]:
    """Create every action on ``window``: checkable ones call their slot with the checked state on
    every change (``toggled``), the others on ``triggered``; tooltips name the shortcuts."""
    actions, groups = {}, {}
    for spec in ACTIONS:
        act = QAction(spec.text, window)
        act.setShortcuts([QKeySequence(k) for k in spec.keys])
        act.setCheckable(spec.checkable)
        keys = ", ".join(s.toString() for s in act.shortcuts())
        tip = spec.tip or spec.text.replace("&", "")
        act.setToolTip(f"{tip} ({keys})" if keys else tip)
        if spec.group:
            groups.setdefault(spec.group, QActionGroup(window)).addAction(act)
        slot = slots[spec.name]
        if spec.checkable and not spec.group:
            act.toggled.connect(slot)
        else:
            act.triggered.connect(lambda checked=False, f=slot: f())
        window.addAction(act)
        actions[spec.name] = act
    return actions


def build_menus(window: QMainWindow, actions: dict[str, QAction]) -> QMenu:
    """Fill the menu bar from ``MENUS``; returns the (empty) recent-files submenu."""
    recent = None
    for title, names in MENUS:
        menu = window.menuBar().addMenu(title)
        for name in names:
            if name is None:
                menu.addSeparator()
            elif name == "recent":
                recent = menu.addMenu("Open &recent")
            else:
                menu.addAction(actions[name])
    return recent


def show_shortcuts(window: QMainWindow, actions: dict[str, QAction]) -> QMessageBox:
    """Help → Keyboard shortcuts (F1): every action that has keys, from the table; non-blocking."""
    rows = "".join(f"<tr><td>{a.text().replace('&', '')}</td><td>&nbsp;&nbsp;<b>"
                   f"{', '.join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())}</b></td></tr>"
                   for a in actions.values() if a.shortcuts())
    extra = ("<tr><td>Pan</td><td>&nbsp;&nbsp;<b>Space + drag, middle mouse, wheel</b></td></tr>"
             "<tr><td>Zoom at the pointer</td><td>&nbsp;&nbsp;<b>Ctrl + wheel</b></td></tr>")
    box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", f"<table>{rows}{extra}</table>",
                      QMessageBox.StandardButton.Close, window)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.open()
    return box


def show_about(window: QMainWindow) -> None:
    """Help → About."""
    from matting_gui.gui.identity import about_html

    QMessageBox.about(window, "About matting-gui", about_html())
