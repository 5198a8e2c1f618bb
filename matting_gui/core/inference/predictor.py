"""Inference: the one object the CLI and the GUI use to compute an alpha matte."""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from matting_gui.core.editing.trimap import BACKGROUND, FOREGROUND, SOLVER_ENCODINGS
from matting_gui.core.imaging.upsample import guided_upsample
from matting_gui.core.nets.model_files import INSTALLED_MODELS
from matting_gui.core.nets.network import MattingNet, fuse_for_inference
from matting_gui.core.nets.weights import load_network

from .forward import force_known, run_network, trimap_encoding
from .working import working_size

#: int8 builds still running; joined at exit (a thread killed inside a torch op aborts the process)
_BUILDS: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


@atexit.register
def _join_int8_builds() -> None:
    for thread in list(_BUILDS):
        thread.join(timeout=60)


#: Images larger than this many pixels are matted at reduced size, then upsampled.
DEFAULT_WORKING_PIXELS = 2_000_000
#: A background int8 build is preferred for previews only when it is at least this much faster than
#: fp32 on this CPU: without VNNI / AVX-512 (many AVX2-only CPUs) int8 convolutions run no faster,
#: even slower (measured: fast student 204 vs 145 ms at 1 MP on an AVX2-only EPYC; README, Speed).
INT8_MIN_SPEEDUP = 1.1
#: Side of the square probe image the two precisions are timed on (a live preview is 512²; the forward lock is held meanwhile).
SPEED_PROBE_SIDE = 384


def forward_times(model: torch.nn.Module, image: np.ndarray, trimap: np.ndarray, device: torch.device | None = None,
                  repeats: int = 3, mirror: bool = False) -> list[float]:
    """Wall seconds of each of ``repeats`` ``run_network`` calls, after one warm-up call.

    image: float32 (H, W, 3) in [0, 1]; trimap: uint8 (H, W) {0, 128, 255}; mirror: time the
    mirror-averaged result (two passes per call). A network that reads solver mattes gets zeros (the
    same time; the solvers are not timed).
    """
    solvers = np.zeros((2, *trimap.shape), np.float32) if trimap_encoding(model) in SOLVER_ENCODINGS else None
    run_network(model, image, trimap, device, mirror, solvers=solvers)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_network(model, image, trimap, device, mirror, solvers=solvers)
        times.append(time.perf_counter() - start)
    return times


def time_forward(model: torch.nn.Module, image: np.ndarray, trimap: np.ndarray, device: torch.device,
                 repeats: int = 3) -> float:
    """Seconds of the fastest of ``forward_times`` (the fastest, not the median: other processes
    only ever add time)."""
    return min(forward_times(model, image, trimap, device, repeats))


def speed_probe(side: int = SPEED_PROBE_SIDE) -> tuple[np.ndarray, np.ndarray]:
    """A fixed photo-like probe: float32 (side, side, 3) in [0, 1] and a trimap with a wide unknown ring."""
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.random((side, side, 3), dtype=np.float32), (0, 0), 3)
    yy, xx = np.mgrid[:side, :side]
    r = np.hypot(yy - side / 2, xx - side / 2) / side
    trimap = np.where(r < 0.2, FOREGROUND, np.where(r < 0.4, 128, BACKGROUND)).astype(np.uint8)
    return image, trimap


def pick_device(device: str = "auto") -> torch.device:
    """'auto' → cuda, then mps, then cpu; otherwise the named device (checked available)."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but no CUDA GPU is available")
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise RuntimeError("device 'mps' requested but MPS is not available")
    if device not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unknown device {device!r}; choose auto, cpu, cuda or mps")
    return torch.device(device)


@dataclass
class MatteResult:
    """alpha: float32 (H, W) in [0, 1] at the image's full size."""

    alpha: np.ndarray
    model_name: str
    seconds: float
    working_size: tuple[int, int]  # (width, height) the network ran at
    precision: str = "fp32"  # "int8" when the quantized network computed it
    mirrored: bool = False  # averaged with the mirrored image's matte
    refined: bool = False  # finished with network-guided closed-form matting
    fused: bool = False  # combined with the fusion network's weighing of the solver mattes (``quality``)
    working_alpha: np.ndarray | None = None  # the matte at working_size before upsampling (None: alpha is)


class Predictor:
    """Loads a model by name ('student', 'teacher') or path and computes mattes.

    Thread-safe: one lock serialises forward passes (the GUI's worker and an
    export may share one Predictor). ``working_pixels`` caps the size the network
    runs at; larger photos are matted at reduced size and brought back with
    ``guided_upsample``.
    """

    def __init__(
        self,
        model: str | os.PathLike = "student",
        device: str = "auto",
        working_pixels: int = DEFAULT_WORKING_PIXELS,
        threads: int | None = None,
        precision: str = "fp32",
    ):
        if precision not in ("fp32", "int8"):
            raise ValueError(f"unknown precision {precision!r}; choose fp32 or int8")
        self.device = pick_device(device)
        if precision == "int8" and self.device.type != "cpu":
            raise ValueError("int8 inference is CPU-only; use --device cpu")
        if threads:
            torch.set_num_threads(threads)
        self.model, self.card = load_network(model, self.device)
        self.precision = precision
        self._int8: torch.nn.Module | None = None
        self._int8_thread: threading.Thread | None = None
        self._int8_error: str | None = None
        #: fp32 time / int8 time on ``speed_probe`` after a comparing background build; None: not measured
        self.int8_speedup: float | None = None
        if precision == "int8":
            self._build_int8(self.model)
            if self._int8 is None:
                raise RuntimeError(self._int8_error)
        fuse_for_inference(self.model)  # BN folded into convs: ~35% faster for the student on CPU
        if self.device.type == "cpu":
            self.model = self.model.to(memory_format=torch.channels_last)
        # The installed models are shown by the name the user chose them by ("student" is built from
        # the student_fast preset); any other weights file by its card's network name.
        self.name = str(model) if str(model) in INSTALLED_MODELS else str(self.card.get("name", Path(str(model)).stem))
        self.source = str(model)
        self.working_pixels = working_pixels
        self._lock = threading.Lock()
        self._reduced_cache: tuple | None = None  # (weakref to image, (w, h), reduced image)

    def _build_int8(self, unfused: MattingNet) -> None:
        from matting_gui.core.nets.quantize import quantize_int8

        try:
            self._int8 = quantize_int8(unfused)
        except Exception as exc:  # noqa: BLE001 - previews fall back to fp32; the reason is kept
            self._int8_error = f"int8 unavailable: {exc}"

    def _build_and_compare(self, unfused: MattingNet, compare: bool) -> None:
        self._build_int8(unfused)
        if not compare or self._int8 is None:
            return
        image, trimap = speed_probe()
        with self._lock:  # timed with no other forward pass running: a matte asked meanwhile waits for the
            # timing (not the build), once per model load
            fp32 = time_forward(self.model, image, trimap, self.device)
            int8 = time_forward(self._int8, image, trimap, self.device)
        self.int8_speedup = fp32 / max(int8, 1e-9)

    def start_int8_build(self, compare: bool = False) -> None:
        """Quantize a copy of the network in a background thread (a few seconds, CPU only).

        Until it is ready (or if it fails) ``predict(..., int8=True)`` uses fp32. compare: then time
        both precisions on ``speed_probe`` (``int8_speedup``), so that ``prefers_int8`` can tell
        whether int8 previews pay on this CPU.
        """
        if self.device.type != "cpu" or self._int8 is not None or self._int8_thread is not None:
            return
        unfused, _ = load_network(self.source, "cpu")  # self.model is BN-fused; FX fuses on its own
        self._int8_thread = threading.Thread(target=self._build_and_compare, args=(unfused, compare),
                                             daemon=True, name="int8-quantize")
        _BUILDS.add(self._int8_thread)
        self._int8_thread.start()

    @property
    def network(self) -> torch.nn.Module:
        """The network ``predict`` runs by default (the int8 copy when precision is int8)."""
        return self._int8 if self.precision == "int8" and self._int8 is not None else self.model

    @property
    def prefers_int8(self) -> bool:
        """True when the int8 network is built and not measured slower than ``INT8_MIN_SPEEDUP`` × fp32."""
        return self._int8 is not None and (self.int8_speedup is None or self.int8_speedup >= INT8_MIN_SPEEDUP)

    def wait_int8(self, timeout: float | None = None) -> bool:
        """Block until a started int8 build ends; True when the int8 network is usable."""
        if self._int8_thread is not None:
            self._int8_thread.join(timeout)
        return self._int8 is not None

    def _reduced(self, image: np.ndarray, width: int, height: int) -> np.ndarray:
        """``image`` resized to (width, height) with INTER_AREA; the last one is kept while that image
        lives, so the previews drawn while painting on a 24 MP photo skip a ~50 ms resize each.
        Callers never change an image in place (the app's photos are read-only arrays)."""
        cached = self._reduced_cache
        if cached is not None and cached[0]() is image and cached[1] == (width, height):
            return cached[2]
        small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        try:
            self._reduced_cache = (weakref.ref(image), (width, height), small)
        except TypeError:  # an array subclass without weak references: no caching
            pass
        return small

    def predict(self, image: np.ndarray, trimap: np.ndarray, max_pixels: int | None = None,
                fast_upsample: bool = False, int8: bool | None = None, mirror: bool = False,
                refine: bool = False, superseded: Callable[[], bool] | None = None,
                fuse: bool = False, solvers: np.ndarray | None = None) -> MatteResult | None:
        """Full alpha for image float32 (H, W, 3) in [0, 1] and trimap uint8 (H, W).

        max_pixels (default: ``working_pixels``) lets callers ask for a faster,
        lower-resolution preview; fast_upsample brings it back with a bilinear resize
        instead of the guided filter (10x cheaper at 24 MP, softer edges). int8 (default: the
        predictor's precision) runs the quantized network when it is ready, else fp32. mirror
        averages with the mirrored image's matte (``run_network``; twice the time, the same
        peak memory). refine: finish with network-guided closed-form matting (``refine``, with the
        settings in the model's card, else the defaults; one sparse solve at the working size, seconds
        at 1 MP). fuse: then combine with the solvers' fused matte (``quality.fuse_with_solvers``, the
        installed fusion network; a no-op without one: ``fused`` says which). superseded: asked after
        the network runs, and during refinement and fusion at every step;
        True means the caller no longer wants this matte, and None is returned before the rest of
        the work (upsampling a 24 MP preview costs more than its network; a refinement, seconds).
        A network that reads the solvers' mattes (``trimap.SOLVER_ENCODINGS``) gets ``solvers``,
        float32 (2, H, W) in [0, 1] (closed-form, KNN; resized to the working size), or has them
        solved at the working size first (seconds; superseded is asked at every solver step).
        Returns a ``MatteResult`` at full size, or None when superseded.
        """
        start = time.perf_counter()
        img_work, tri_work = self._working(image, trimap, max_pixels)
        use_int8 = (self.precision == "int8" if int8 is None else int8) and self._int8 is not None
        net = self._int8 if use_int8 else self.model
        if trimap_encoding(net) in SOLVER_ENCODINGS:
            if (solvers := self._solver_inputs(img_work, tri_work, trimap.shape, solvers, superseded)) is None:
                return None
        else:
            solvers = None
        with self._lock:  # the network only: refinement and upsampling run outside it
            alpha = run_network(net, img_work, tri_work, self.device, mirror, superseded, solvers)
        if alpha is None:
            return None
        if refine and (alpha := self._refined(img_work, tri_work, alpha, superseded)) is None:
            return None
        fused = fuse and self.fusion is not None
        if fused and (alpha := self._fused(img_work, tri_work, alpha, superseded)) is None:
            return None
        if superseded is not None and superseded():
            return None
        return MatteResult(self._full_size(alpha, img_work, image, trimap, fast_upsample), self.name,
                           time.perf_counter() - start, (tri_work.shape[1], tri_work.shape[0]),
                           "int8" if use_int8 else "fp32", mirror, refine, fused=fused,
                           working_alpha=None if alpha.shape == trimap.shape else alpha)

    def refine_matte(self, image: np.ndarray, trimap: np.ndarray, alpha: np.ndarray,
                     superseded: Callable[[], bool] | None = None) -> MatteResult | None:
        """``predict(..., refine=True)``'s refinement of a matte already computed, without running the
        network again (the app refines the full matte it shows).

        image float32 (H, W, 3) in [0, 1], trimap uint8 (H, W), alpha float32 in [0, 1] at the working
        size (``MatteResult.working_alpha`` of a full matte: the result then equals
        ``predict(..., refine=True)`` for the same network matte) or at full size (resized to the
        working size with INTER_AREA first). Photos above the working size are refined at that size
        and brought back with ``guided_upsample``. superseded: asked at every step of the solve;
        True returns None. ``seconds`` covers the refinement alone.
        """
        start = time.perf_counter()
        img_work, tri_work = self._working(image, trimap, None)
        if alpha.shape == trimap.shape and tri_work.shape != trimap.shape:
            alpha = cv2.resize(alpha, tri_work.shape[::-1], interpolation=cv2.INTER_AREA)
        elif alpha.shape != tri_work.shape:
            raise ValueError(f"matte size {alpha.shape[::-1]} does not match trimap {trimap.shape[::-1]}"
                             f" nor the working size {tri_work.shape[::-1]}")
        refined = self._refined(img_work, tri_work, alpha.astype(np.float32, copy=False), superseded)
        if refined is None or (superseded is not None and superseded()):
            return None  # given way: before the guided upsampling too (0.5–1 s at 24 MP)
        return MatteResult(self._full_size(refined, img_work, image, trimap, False), self.name,
                           time.perf_counter() - start, (tri_work.shape[1], tri_work.shape[0]), refined=True)

    def _working(self, image: np.ndarray, trimap: np.ndarray, max_pixels: int | None) -> tuple[np.ndarray, np.ndarray]:
        """image and trimap at the size the network runs at (unchanged at or below ``max_pixels``)."""
        if image.shape[:2] != trimap.shape:
            raise ValueError(f"trimap size {trimap.shape[::-1]} does not match image {image.shape[1::-1]}")
        sh, sw = working_size(*trimap.shape, max_pixels or self.working_pixels)  # a 1×N strip too
        if (sh, sw) == trimap.shape:
            return image, trimap
        return self._reduced(image, sw, sh), cv2.resize(trimap, (sw, sh), interpolation=cv2.INTER_NEAREST)

    @staticmethod
    def _solver_inputs(img_work: np.ndarray, tri_work: np.ndarray, photo_shape: tuple[int, int],
                       given: np.ndarray | None, superseded: Callable[[], bool] | None) -> np.ndarray | None:
        """The closed-form and KNN mattes at the working size: ``given`` (at the photo's size ``photo_shape``)
        resized, or solved (None when superseded meanwhile)."""
        from .solvers import SolveAborted, solver_mattes

        h, w = tri_work.shape
        if given is not None:
            if given.shape != (2, *photo_shape):
                raise ValueError(f"expected 2 solver mattes of the photo's size {photo_shape}, got {given.shape}")
            return np.stack([m if m.shape == (h, w) else cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA)
                             for m in given.astype(np.float32, copy=False)])
        try:
            return solver_mattes(img_work, tri_work, abort=superseded)
        except SolveAborted:
            return None

    def _refined(self, img_work: np.ndarray, tri_work: np.ndarray, alpha: np.ndarray,
                 superseded: Callable[[], bool] | None) -> np.ndarray | None:
        from matting_gui.core.inference.refine import RefineAborted, RefineSettings, guided_closed_form

        try:
            return guided_closed_form(img_work, tri_work, alpha, abort=superseded,
                                      **RefineSettings.from_card(self.card).as_kwargs())
        except RefineAborted:
            return None

    @property
    def fusion(self):
        """The installed fusion network (``quality.installed_fusion``) or None; loaded on first use."""
        from .quality import installed_fusion

        found = installed_fusion()
        return None if found is None else found[0]

    def _fused(self, img_work: np.ndarray, tri_work: np.ndarray, alpha: np.ndarray,
               superseded: Callable[[], bool] | None) -> np.ndarray | None:
        from .quality import export_rule, fuse_with_solvers, installed_fusion, solver_box
        from .solvers import SolveAborted

        model, card = installed_fusion()
        try:
            return fuse_with_solvers(img_work, tri_work, alpha, model, export_rule(card), abort=superseded,
                                     box=solver_box(card))
        except SolveAborted:
            return None

    @staticmethod
    def _full_size(alpha: np.ndarray, img_work: np.ndarray, image: np.ndarray, trimap: np.ndarray,
                   fast: bool) -> np.ndarray:
        """``alpha`` at the working size brought to the photo's size (bilinear if fast, else guided)."""
        if alpha.shape == trimap.shape:
            return alpha
        h, w = trimap.shape
        alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR) if fast else guided_upsample(alpha, img_work, image)
        return force_known(alpha, trimap)
