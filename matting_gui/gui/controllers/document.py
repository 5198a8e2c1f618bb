"""Opening photos (large ones off the UI thread), pasting, trimap files, crash recovery, recent files."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage

from matting_gui.core.editing.session import EditorSession, path_key
from matting_gui.core.editing.trimap import TrimapError, check_trimap_shape
from matting_gui.core.editing.trimap_doc import INITIAL_VALUE
from matting_gui.core.editing.view import ViewStyle, render, to_display_u8
from matting_gui.core.files.imageio import DECODERS, MAX_PIXELS, ImageError, LoadedImage, read_image, read_trimap
from matting_gui.core.files.imagewrite import write_trimap
from matting_gui.core.files.paths import cache_dir, printable, resources_dir, trimap_beside, user_data_dir
from matting_gui.core.files.safe_write import atomic_write_bytes
from matting_gui.gui.convert import qimage_to_rgb, render_target
from matting_gui.gui.prompter import Prompter
from matting_gui.gui.settings import Settings

SAMPLE_PHOTO = resources_dir() / "samples" / "astronaut.png"
SAMPLE_TRIMAP = resources_dir() / "samples" / "astronaut_trimap.png"
#: Photos with more pixels than this are decoded in a background thread when opened.
BACKGROUND_OPEN_PIXELS = 1_000_000
AUTOSAVE_MS = 20_000


@dataclass
class LoadedPhoto:
    """What opening a photo produces off the UI thread: the image, its display copy, its trimap."""

    image: LoadedImage
    display: np.ndarray  # uint8 (H, W, 3)
    trimap: np.ndarray | None  # uint8 (H, W) {0, 128, 255}
    trimap_path: Path | None
    trimap_error: str | None = None
    frame: QImage | None = None  # the first frame, rendered off the UI thread for frame_key
    frame_key: tuple | None = None  # (view mode, ViewStyle) it was rendered with


def read_trimap_for(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """A trimap file that fits a photo of ``shape``: uint8 (H, W) {0, 128, 255}; ImageError or TrimapError."""
    return check_trimap_shape(read_trimap(path, photo_shape=shape), shape, str(path))


def load_photo(path: Path, tri_path: Path | None, frame_key: tuple[str, ViewStyle] | None = None) -> LoadedPhoto:
    """Decode a photo and its trimap (if the file exists); raises ImageError for the photo only.

    Safe in any thread (QImage is reentrant; no widgets). A trimap that fails to load is reported
    in ``trimap_error`` and left out. frame_key = (view mode, style): also render the first frame
    (a 24 MP overlay takes ~200 ms: not on the UI thread).
    """
    loaded = read_image(path)
    tri, error = None, None
    if tri_path is not None and tri_path.exists():
        try:
            tri = read_trimap_for(tri_path, loaded.rgb.shape)
        except (ImageError, TrimapError) as exc:
            error = str(exc)
    photo = LoadedPhoto(loaded, to_display_u8(loaded.rgb), tri, tri_path if tri is not None else None, error)
    if frame_key is not None:
        h, w = loaded.rgb.shape[:2]
        frame = QImage(w, h, QImage.Format.Format_RGB32)
        first = tri if tri is not None else np.full((h, w), INITIAL_VALUE, np.uint8)
        render(render_target(frame), frame_key[0], loaded.rgb, first, None, None, None, frame_key[1], None,
               photo.display)
        photo.frame, photo.frame_key = frame, frame_key
    return photo


def outside_resources(path: Path) -> Path:
    """``path``, or its namesake in the user's data folder when it lies in the bundled resources."""
    if path.resolve().is_relative_to(resources_dir().resolve()):
        try:
            folder = user_data_dir() / "samples"
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:  # unusable data folder: a missing file there; saving says why it cannot be written
            folder = user_data_dir(create=False) / "samples"
        return folder / path.name
    return path


def sidecar_trimap(photo: Path) -> Path:
    """Where a photo's trimap is saved: ``<stem>_trimap.png`` beside it (bundled samples: the user's data folder)."""
    return outside_resources(trimap_beside(photo))


def _header_pixels(path: Path) -> int:
    """Pixel count from the file header (cheap), or 0 when it cannot be read (the full read will say why)."""
    try:
        from PIL import Image

        with Image.open(path, formats=DECODERS) as im:  # never a decoder we did not choose
            return im.width * im.height
    except Exception:  # noqa: BLE001 - any failure: decide by the normal, synchronous path
        return 0


class DocumentController(QObject):
    """Opens and saves; ``opened(frame, key)`` fires once a photo is the session's: its first view, rendered
    off the UI thread for key = (view mode, style), or None and None."""

    opened = Signal(object, object)
    loading = Signal(object)  # the path being decoded in the background, or None when done
    error = Signal(str)
    status = Signal(str)
    saved = Signal(object)  # the trimap was written to this path (the document is clean now)
    _loaded = Signal(int, object)  # load token, (path, LoadedPhoto or error message, explicit trimap)

    def __init__(self, session: EditorSession, settings: Settings, prompter: Prompter, parent: QObject | None = None):
        super().__init__(parent)
        self.session, self.settings, self.prompter = session, settings, prompter
        self.loading_path: Path | None = None
        self._token = 0
        self._revision_at_open: int | None = None
        self._autosave_thread: threading.Thread | None = None
        self._recovery_off = False  # the cache folder is unusable: no recovery files, said once
        self._loaded.connect(self._on_loaded)
        self.autosave_timer = QTimer(self, interval=AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    # ---------------------------------------------------------------- opening
    def ask_unsaved(self) -> bool:
        """If the trimap has unsaved changes, ask Save/Discard/Cancel. True: go on."""
        doc = self.session.doc
        if doc is None or not doc.dirty:
            return True
        answer = self.prompter.save_choice()
        if answer == "save":
            return self.save_trimap()
        if answer == "discard":
            self.remove_recovery()
            return True
        return False

    def open_photo(self, path: str | Path, trimap: str | Path | None = None, ask: bool = True,
                   frame_key: tuple[str, ViewStyle] | None = None) -> bool:
        """Open a photo (and its trimap: ``trimap``, else the sidecar). Errors are reported; the current
        photo stays. Large photos decode in a thread: True then means "started", and a newer open wins."""
        if ask and not self.ask_unsaved():
            return False
        path = Path(path)
        tri_path = Path(trimap) if trimap else sidecar_trimap(path)
        self._set_loading(None)
        self._token += 1  # any unfinished background open is superseded
        if BACKGROUND_OPEN_PIXELS < _header_pixels(path) <= MAX_PIXELS:  # too large: the error comes at once
            self._set_loading(path)
            self._revision_at_open = self.session.doc.revision if self.session.doc is not None else None
            threading.Thread(target=self._load_in_thread, args=(self._token, path, tri_path, trimap is not None,
                                                                frame_key), daemon=True, name="photo-loader").start()
            return True
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            photo = load_photo(path, tri_path)
        except ImageError as exc:
            self.error.emit(str(exc))
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
        self._finish(path, photo, trimap is not None, None)
        return True

    def open_dialog(self) -> None:
        """Ask for a photo and open it (Ctrl+O), its first view rendered for the session's view."""
        path = self.prompter.open_image("Open photo", self.settings.last_folder)
        if path:
            self.open_photo(path, frame_key=(self.session.shown_mode, self.session.style))

    def load_trimap_dialog(self) -> None:
        """Ask for a trimap file and load it onto the open photo."""
        photo = self.session.photo
        path = self.prompter.open_image("Load trimap", str(photo.path.parent if photo.path else Path.home()))
        if path:
            self.load_trimap(path)

    def save_trimap_as(self) -> bool:
        """Ask where to save the trimap (default: beside the photo); True if it was written."""
        s = self.session
        start = s.trimap_path or (sidecar_trimap(s.photo.path) if s.photo.path else None)
        path = self.prompter.save_png("Save trimap", str(start or Path.home() / "trimap.png"))
        return self.save_trimap(Path(path), asked=True) if path else False

    def open_sample(self, frame_key=None) -> bool:
        """The bundled sample photo, with the user's own trimap of it once saved."""
        saved = sidecar_trimap(SAMPLE_PHOTO)
        return self.open_photo(SAMPLE_PHOTO, saved if saved.exists() else SAMPLE_TRIMAP, frame_key=frame_key)

    def showing_sample_trimap(self) -> bool:
        """True while the bundled sample shows its bundled, pre-painted trimap, unedited."""
        s = self.session
        return (s.doc is not None and not s.doc.dirty and s.trimap_path is not None
                and s.trimap_path.resolve() == SAMPLE_TRIMAP.resolve())

    def paste(self) -> bool:
        """Open the clipboard's image as a new, unnamed photo."""
        img = QGuiApplication.clipboard().image()
        if img.isNull():
            self.error.emit("the clipboard holds no image")
            return False
        if not self.ask_unsaved():
            return False
        self._token += 1
        self._set_loading(None)
        self.session.open(LoadedImage(None, qimage_to_rgb(img), 8, "RGB", False, ["pasted"]), None)
        self.opened.emit(None, None)
        return True

    def _load_in_thread(self, token: int, path: Path, tri_path: Path, explicit: bool, frame_key) -> None:
        try:
            outcome: object = load_photo(path, tri_path, frame_key)
        except ImageError as exc:
            outcome = str(exc)
        except MemoryError:
            outcome = f"{path}: not enough memory to open this photo"
        except Exception as exc:  # noqa: BLE001 - whatever fails, the window must leave "Opening…"
            first = (str(exc).splitlines() or [""])[0][:200]
            outcome = f"{path}: cannot be opened ({type(exc).__name__}: {first})"
        try:
            self._loaded.emit(token, (path, outcome, explicit, frame_key))  # queued to the UI thread
        except RuntimeError:  # the window was closed meanwhile
            pass

    def _on_loaded(self, token: int, payload: tuple) -> None:
        if token != self._token:
            return  # superseded by a newer open
        path, outcome, explicit, frame_key = payload
        self._set_loading(None)
        if isinstance(outcome, str):
            self.error.emit(outcome)
            return
        doc = self.session.doc
        if doc is not None and doc.revision != self._revision_at_open and not self.ask_unsaved():
            return  # edited (keyboard) while it loaded, and the user keeps those edits
        self._finish(path, outcome, explicit, frame_key)

    def _set_loading(self, path: Path | None) -> None:
        if path != self.loading_path:
            self.loading_path = path
            self.loading.emit(path)
            self.status.emit(f"Opening {printable(path.name)}…" if path else "")

    def _finish(self, path: Path, photo: LoadedPhoto, explicit: bool, frame_key) -> None:
        if photo.trimap_error:  # a sidecar too: say why it was not loaded (and Save will not overwrite it unasked)
            self.error.emit(photo.trimap_error if explicit else
                            f"{photo.trimap_error}; that trimap was not loaded, and saving asks before replacing it")
        self.session.open(photo.image, path, photo.trimap, photo.trimap_path, photo.display)
        self.settings.last_folder = str(path.parent)
        self.settings.add_recent(path)
        self.opened.emit(photo.frame, photo.frame_key)
        self._offer_recovery()

    # ---------------------------------------------------------------- trimap files
    def load_trimap(self, path: str | Path) -> bool:
        """Replace the trimap with a file's (one undo step)."""
        try:
            tri = read_trimap_for(Path(path), self.session.photo.rgb.shape)
        except (ImageError, TrimapError) as exc:
            self.error.emit(str(exc))
            return False
        self.session.doc.replace(tri)
        return True

    def save_trimap(self, target: Path | None = None, asked: bool = False) -> bool:
        """Save to ``target``, else where it came from, else beside the photo (pasted: ask). A file there
        that this trimap did not come from is replaced only once the user agrees (asked: a save dialog's
        overwrite question already did, for ``target`` itself)."""
        s = self.session
        if s.doc is None:
            return False
        chosen = target if asked else None
        target = target or s.trimap_path or (sidecar_trimap(s.photo.path) if s.photo.path else None)
        if target is None:
            picked = self.prompter.save_png("Save trimap", str(Path.home() / "trimap.png"))
            if not picked:
                return False
            target = chosen = Path(picked)
        target = outside_resources(target if target.suffix.lower() == ".png" else target.with_suffix(".png"))
        if (target.exists() or target.is_symlink()) and target != chosen and target != s.trimap_path \
                and not self.prompter.confirm("Replace file?", f"{printable(target)} already exists and this trimap "
                                              "was not loaded from it. Replace it?"):
            return False
        try:
            write_trimap(target, s.doc.trimap)
        except (OSError, ImageError) as exc:
            self.error.emit(f"trimap not saved: {exc}")
            return False
        s.trimap_path = target
        s.doc.mark_saved()
        self.remove_recovery()
        self.status.emit(f"Saved trimap to {printable(target)}")
        self.saved.emit(target)
        return True

    # ---------------------------------------------------------------- recovery (autosave)
    def _recovery_paths(self) -> tuple[Path, Path] | None:
        photo = self.session.photo
        if photo is None or photo.path is None:
            return None
        key = path_key(photo.path)
        try:
            folder = cache_dir() / "recovery"
            if folder.exists() and not folder.is_dir():
                raise NotADirectoryError(f"{folder} is not a folder")
        except OSError as exc:  # a regular file where the cache folder belongs: recovery only is off
            if not self._recovery_off:
                self._recovery_off = True
                self.error.emit(f"crash recovery is off: the cache folder is unusable ({printable(exc)})")
            return None
        return folder / f"{key}.png", folder / f"{key}.json"

    def autosave(self, wait: bool = False) -> Path | None:
        """Write the unsaved trimap to the recovery folder (offered after a crash), on a short-lived
        thread (a 24 MP PNG takes ~130 ms); ``wait`` joins it. Returns the file, or None if nothing to save."""
        paths, doc = self._recovery_paths(), self.session.doc
        if paths is None or doc is None or not doc.dirty:
            return None
        if self._autosave_thread is not None and self._autosave_thread.is_alive():
            if not wait:
                return None  # the last autosave is still writing; the next tick catches up
            self._autosave_thread.join()
        png, meta = paths
        trimap, photo = doc.snapshot(), str(self.session.photo.path.resolve())

        def write() -> None:
            try:
                png.parent.mkdir(parents=True, exist_ok=True)
                write_trimap(png, trimap)
                atomic_write_bytes(meta, json.dumps({"photo": photo, "time": time.time()}).encode())
            except OSError:
                pass  # best effort; the document itself is untouched

        self._autosave_thread = threading.Thread(target=write, name="trimap-autosave", daemon=True)
        self._autosave_thread.start()
        if wait:
            self._autosave_thread.join()
        return png

    def remove_recovery(self) -> None:
        """Delete this photo's recovery files (after a save or a discard)."""
        if self._autosave_thread is not None:
            self._autosave_thread.join()  # else a write in flight could recreate the file
        for p in self._recovery_paths() or ():
            if not p.is_dir():  # a folder planted at a recovery file's name is left alone
                p.unlink(missing_ok=True)

    def _offer_recovery(self) -> None:
        paths = self._recovery_paths()
        if paths is None or not paths[0].is_file():
            return
        png, tri_path = paths[0], self.session.trimap_path
        saved = tri_path.stat().st_mtime if tri_path and tri_path.exists() else 0
        if png.stat().st_mtime > saved and self.prompter.confirm(
                "Recover trimap", "An unsaved trimap of this photo was recovered from an earlier session "
                "that did not close normally. Restore it?"):
            try:
                self.session.doc.replace(read_trimap_for(png, self.session.photo.rgb.shape))
                return
            except (ImageError, TrimapError) as exc:
                self.error.emit(f"recovery file unusable: {exc}")  # shown once: the file goes
        self.remove_recovery()
