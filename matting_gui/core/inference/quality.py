"""Export's last step: the network's matte beside the colour-line solvers, weighed by the fusion network.

The closed-form and KNN mattes of the photo (``solvers``) go through the fusion network
(``nets.fusion``), which learned per pixel which solver to trust; the result is combined with the
network's own (mirror-averaged, refined) matte by the rule stored in the fusion network's card
(``export_rule``), chosen by cross-validation (docs/fusion.md). A fusion network may also take the
network's matte as one of its inputs (``NETWORK`` in its config's solvers): it then weighs all three
itself, and the rule ``fusion`` returns its output. The rules:

* ``fusion``: the fused solver matte alone;
* ``mean``: the average of the network's and the fused matte;
* ``median``: the per-pixel median of the network's, the fused and the closed-form matte;
* ``median_solvers``: the per-pixel median of the network's, the closed-form and the KNN matte, untrained
  (the fusion network is not run; its card only names the rule, the solvers and their box).

Known trimap pixels stay exact. Without installed fusion weights the network's matte is returned.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from matting_gui.core.files.paths import models_dir
from matting_gui.core.inference.export_rules import (  # noqa: F401 (re-exported)
    DEFAULT_RULE,
    FUSION_FILE,
    NETWORK,
    RULE_SOLVERS,
    RULES,
    describe_rule,
    export_rule,
    installed_rule_text,
)
from matting_gui.core.inference.solvers import MAX_SOLVER_PIXELS, solver_mattes
from matting_gui.core.nets.fusion import FusionNet, load_fusion, run_fusion

_cache: dict[tuple, tuple[FusionNet, dict]] = {}
_lock = threading.Lock()


def installed_fusion() -> tuple[FusionNet, dict] | None:
    """The fusion network shipped in the models folder with its card; None when there is none
    (``WeightsError`` when the file exists but cannot be used). Loaded once per file version."""
    path = models_dir() / FUSION_FILE
    try:
        st = path.stat()
    except OSError:
        return None
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _lock:
        if key not in _cache:
            _cache.clear()
            _cache[key] = load_fusion(path)
        return _cache[key]


def solver_box(card: dict) -> int:
    """The solvers' box cap, in pixels, that a fusion card's network was trained with (its training recipe's
    ``box``; the solver cache solved with that cap), else ``solvers.MAX_SOLVER_PIXELS``: export solves as the
    network learned."""
    box = card.get("train", {}).get("box", 0) if isinstance(card.get("train"), dict) else 0
    return box if isinstance(box, int) and box > 0 else MAX_SOLVER_PIXELS


def combine(network: np.ndarray, fused: np.ndarray | None, mattes: dict[str, np.ndarray], rule: str) -> np.ndarray:
    """Combine float32 (H, W) mattes in [0, 1] by ``rule`` (see the module docstring); mattes: the solver
    mattes by solver name (``closed_form``, ``knn``); fused: the fusion network's output, unused (may be
    None) for ``median_solvers``. Returns float32 (H, W) in [0, 1]."""
    if rule == "median_solvers":
        return np.median(np.stack([network, mattes["closed_form"], mattes["knn"]]), 0).astype(np.float32)
    if fused is None:
        raise ValueError(f"rule {rule!r} needs the fusion network's output")
    if rule == "fusion":
        return fused
    if rule == "mean":
        return 0.5 * (network + fused)
    if rule == "median":
        return np.median(np.stack([network, fused, mattes["closed_form"]]), 0).astype(np.float32)
    raise ValueError(f"unknown rule {rule!r}; choose one of {RULES}")


def fuse_with_solvers(image: np.ndarray, trimap: np.ndarray, network: np.ndarray, fusion: FusionNet, rule: str,
                      abort: Callable[[], bool] | None = None, box: int = MAX_SOLVER_PIXELS) -> np.ndarray:
    """The export matte from the network's: image float32 (H, W, 3) in [0, 1], trimap uint8 (H, W),
    network float32 (H, W) α in [0, 1]. Runs the solvers (seconds; their box capped at ``box`` pixels;
    ``abort`` is asked throughout and raises ``solvers.SolveAborted``), the fusion network (not for
    ``median_solvers``), then ``combine``. Known pixels exact."""
    solvers = tuple(name for name in fusion.config.solvers if name != NETWORK)
    solvers = tuple(dict.fromkeys(solvers + RULE_SOLVERS.get(rule, ())))
    network = network.astype(np.float32, copy=False)
    computed = dict(zip(solvers, solver_mattes(image, trimap, solvers, max_pixels=box, abort=abort)))
    fused = None
    if rule != "median_solvers":
        fed = {**computed, NETWORK: network}
        fused = run_fusion(fusion, image, trimap, np.stack([fed[name] for name in fusion.config.solvers]))
    out = combine(network, fused, computed, rule)
    return np.where(trimap >= 255, 1.0, np.where(trimap == 0, 0.0, out)).astype(np.float32)
