"""When mattes are computed, and what happens to them: live previews while painting, the full
matte after an edit, then the settled one (export's matte, with *Refine edges* on). Exports have
their own controller (``export``)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from superqt.utils import QSignalDebouncer, QSignalThrottler

from matting_gui.core.editing.session import EditorSession
from matting_gui.core.nets.model_files import EXPORT_STEPS, FINAL_MODEL, INSTALLED_MODELS
from matting_gui.gui.controllers.export import ExportController
from matting_gui.gui.worker import MatteJob, MatteJobResult, MatteService

#: Photos above PREVIEW_PIXELS·1.5 get a reduced-size (int8 once ready) preview before the full matte.
PREVIEW_PIXELS = 512 * 512
DEBOUNCE_MS = 100  # after an edit, wait this long for the next before computing
THROTTLE_MS = 50  # while a stroke is painted, a new preview request at most this often (the worker keeps the newest)


class MatteController(QObject):
    """Schedules matte jobs for the session and shows their results (the exports' jobs are ``exports``')."""

    shown = Signal(object)  # MatteJobResult now on screen
    error = Signal(str)
    notice = Signal(str)  # why no matte was computed (an incomplete trimap)
    advice = Signal(str)  # a hint on the trimap of the matte just shown (once, until the hint changes)
    status = Signal(str)
    described = Signal(str, str)  # the matte on screen: "model · kind size", "time"

    def __init__(self, session: EditorSession, service: MatteService, exports: ExportController,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.session, self.service, self.exports = session, service, exports
        # the settled matte is export's: its network and steps (the export dialog's remembered choices)
        self.settle_model: str | None = None  # None: the live network
        self.settle_steps: dict = dict(EXPORT_STEPS)
        self._loading: str | None = None  # the model whose "Loading…" message is up, until its first matte
        self._advised: str | None = None
        self._descriptions: dict = {}  # stamp → (what, time) of the current trimap's mattes, for the status bar  # the hint last given, so that each new matte does not repeat it
        self._debounce = QSignalDebouncer(parent=self)  # edits: compute once they pause
        self._debounce.setTimeout(DEBOUNCE_MS)
        self._debounce.triggered.connect(self.request)
        self._throttle = QSignalThrottler(parent=self)  # painting: a preview at once, then at most every THROTTLE_MS
        self._throttle.setTimeout(THROTTLE_MS)
        self._throttle.triggered.connect(self._stroke_preview)
        service.finished.connect(self._on_result)
        service.errored.connect(self._on_error)
        service.notice.connect(self._on_notice)
        session.trimap_changed.connect(self._on_trimap_changed)
        session.photo_opened.connect(self._on_photo_opened)
        session.model_changed.connect(self._on_model_changed)

    # ---------------------------------------------------------------- scheduling
    def _on_photo_opened(self) -> None:
        self._advised = None
        self.service.cancel_pending()
        self._throttle.cancel()
        self._debounce.throttle()  # not at once: a photo opened and closed again at once never loads a model

    def _on_trimap_changed(self, rect, kind: str) -> None:
        if kind == "paint":  # live previews while the stroke goes on
            self._throttle.throttle()
            return
        self._throttle.cancel()
        if kind == "stroke":  # the moment the user waits for: at once; other edits are debounced
            self._debounce.cancel()
            self.request()
        else:
            self._debounce.throttle()

    def _stroke_preview(self) -> None:
        if self.session.doc is not None and self.session.doc.in_stroke:
            self.request(preview=True)

    def _on_model_changed(self) -> None:
        s = self.session
        shown = s.matte.stamp if s.matte is not None else None
        if shown in self._descriptions and s.matte_is_current and shown.model == s.model and not shown.refined \
                and not s.refine:  # Refine edges off: the network's matte is back on screen, nothing to compute
            self.described.emit(*self._descriptions[shown])
            return
        if not self.service.predictors.loaded(s.model, s.device):
            self.status.emit(f"Loading the {s.model} model…")  # the first matte of a model waits for it (1–2 s)
            self._loading = s.model
        self.request()

    def _large(self) -> bool:
        h, w = self.session.photo.rgb.shape[:2]
        return h * w > PREVIEW_PIXELS * 1.5

    def request(self, preview: bool | None = None) -> int | None:
        """Compute the current trimap's matte (None: a preview first on large photos, then the full
        matte, both from this one request); returns the job id, or None with no photo."""
        s = self.session
        if s.photo is None:
            return None
        large = self._large()
        preview = large if preview is None else preview and large
        follow_up = preview and not s.doc.in_stroke
        want_fg = s.decontaminate and s.view_mode == "composite"
        refine_after = s.refine and not s.doc.in_stroke  # never while painting: the next preview comes at once
        job = MatteJob(self.service.new_id(), s.stamp(preview), s.photo.rgb, s.doc.snapshot(), s.device,
                       PREVIEW_PIXELS if preview else None, want_fg, follow_up, refine_after,
                       settle_model=self.settle_model, settle_steps=dict(self.settle_steps))
        self.service.submit(job)
        return job.job_id

    def _on_result(self, res: MatteJobResult) -> None:
        if not self.session.show_matte(res.job.stamp, res.result.alpha, res.foreground):
            return
        r = res.result
        stamp = res.job.stamp
        kind = ("preview" if stamp.preview else "refined" if stamp.refined else "full") + (
            " int8" if r.precision == "int8" else "")
        text = (f"{r.model_name} · {kind} {r.working_size[0]}×{r.working_size[1]}", f"{r.seconds * 1000:.0f} ms")
        self._descriptions = {k: v for k, v in self._descriptions.items() if k.revision == stamp.revision} | {stamp: text}
        self.described.emit(*text)
        if self._loading == res.job.stamp.model:
            self._loading = None
            self.status.emit("")  # loaded: the message would otherwise claim it for six more seconds
        if not res.job.stamp.preview:
            if res.advice and res.advice != self._advised:
                self.advice.emit(res.advice)
            self._advised = res.advice
        self.shown.emit(res)

    def want_colours(self) -> None:
        """Decontaminated colours are needed now (composite view): compute them if the matte lacks them."""
        s = self.session
        if s.decontaminate and s.matte is not None and s.matte.foreground is None and s.matte_is_current:
            self.request()

    def _on_notice(self, job_id: int, message: str) -> None:
        if self.exports.owns(job_id):
            return
        what = ("no unknown pixels: paint the edge (U), or the subject (F) then Auto band (Ctrl+B)"
                if "no unknown" in message else "all unknown: mark some foreground (F) or background (B)")
        self.notice.emit(f"Nothing to matte yet — {what}")  # short: it must fit the status bar

    def _on_error(self, job_id: int, exc: BaseException) -> None:
        if self.exports.owns(job_id):
            return
        self._loading = None
        if isinstance(exc, MemoryError):
            message = "out of memory while computing the matte; try a smaller working size"
        else:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        self.error.emit(f"matting failed: {message}")

    def settle_to(self, settings) -> None:
        """Settle each edit on what export would write with ``settings``' remembered choices (typed ``Settings``)."""
        self.settle_model = settings.export_model if settings.export_model in INSTALLED_MODELS else FINAL_MODEL
        self.settle_steps = {"mirror": settings.export_mirror, "refine": settings.export_refine,
                             "fuse": settings.export_fuse}
