"""Training the fusion network on the solver-matte cache, and its subject-disjoint cross-validation.

Every decision about the fusion (recipe, budget, whether export uses it) is made on folds whose
held-out subjects no run of that fold trained on: ``folds`` splits the 19 alphamatting subjects
into ``FOLDS`` groups by a fixed shuffle; a fold trains on the other groups' cases (and on every
procedural ``thin`` case, which belongs to no subject) and is scored on its own group's photos.
Runs checkpoint every few minutes and resume exactly (model, optimiser, step, sampler state).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from ..core.evaluation.metrics import evaluate_alpha
from ..core.files.safe_write import append_text, atomic_write_bytes
from ..core.inference.solvers import SOLVERS
from ..core.nets.fusion import FusionConfig, FusionNet, fusion_input, run_fusion, save_fusion
from .data.sources import FOLDS, subject_folds
from .run_files import load_state, save_state
from .schedule import optimiser_step, warmup_cosine
from .solver_cache import Case, cache_root, crop_window, is_out_of_fold, iter_cases, network_matte

#: Split v2's validation subjects: the shipped networks never trained on them, so their mattes there are
#: honest, and a fusion that reads the network's matte is cross-validated over them, one left out per fold.
V2_VAL = ("GT01", "GT02", "GT10", "GT18", "GT26")

#: The scored kinds of a held-out subject's cases (the photo itself, full size): official trimaps,
#: the validation's fixed wide rule, and the two painted-style ones.
EVAL_CASES = {"trimap1": "official", "trimap2": "official", "wide": "wide", "painted0": "painted",
              "unpainted0": "painted"}


@dataclasses.dataclass
class FusionTrainConfig:
    steps: int = 1500
    batch: int = 16
    crop: int = 128
    lr: float = 1e-3
    grad_weight: float = 0.5  # weight of the L1 loss on the α gradients (the Gradient metric's concern)
    network: str = ""  # a model whose stored export mattes are a third input (only its unseen subjects train)
    balance: bool = False  # each crop's loss is its own mean (else pixels pooled: wide unknown regions weigh more)
    seed: int = 0
    threads: int = 1
    checkpoint_minutes: float = 3.0
    width: int = 32
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 1)
    solvers: tuple[str, ...] = SOLVERS  # the solver mattes fed (what each earns is measured by leaving one out)
    box: int = 0  # the solver cache whose solvers' box was capped at this many pixels (0: export's cap)

    def __post_init__(self):
        self.solvers = tuple(self.solvers)
        if not self.solvers or any(s not in SOLVERS for s in self.solvers):
            raise ValueError(f"solvers must be some of {SOLVERS}, not {self.solvers}")


#: the folds of the fusion's cross-validation are the training splits "fold<k>"
folds = subject_folds


def _crop(case: tuple, rng: np.random.Generator, size: int) -> np.ndarray:
    """One training crop (planes (5 + K + 2, size, size) float32: the network input, α, unknown mask)."""
    image, trimap, alpha, mattes = case
    sl, side = crop_window(trimap, rng, size)
    rs = (lambda a, interp=cv2.INTER_LINEAR: cv2.resize(a, (size, size), interpolation=interp)) if side != size \
        else (lambda a, interp=None: a)
    img = rs(image[sl], cv2.INTER_AREA)
    tri = rs(trimap[sl], cv2.INTER_NEAREST)
    alp = rs(alpha[sl])
    mat = np.stack([rs(m[sl]) for m in mattes])
    if rng.random() < 0.5:
        img, tri, alp, mat = img[:, ::-1], tri[:, ::-1], alp[:, ::-1], mat[:, :, ::-1]
    x = fusion_input(np.ascontiguousarray(img), np.ascontiguousarray(tri), np.ascontiguousarray(mat))[0].numpy()
    unk = ((tri > 0) & (tri < 255)).astype(np.float32)
    return np.concatenate([x, alp[None].astype(np.float32), unk[None]])


def _gradients(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return a[..., :, 1:] - a[..., :, :-1], a[..., 1:, :] - a[..., :-1, :]


def loss_fn(pred: torch.Tensor, alpha: torch.Tensor, unknown: torch.Tensor, grad_weight: float,
            balance: bool = False) -> torch.Tensor:
    """L1 on the unknown pixels plus ``grad_weight`` × L1 of the horizontal and vertical differences there;
    all (B, 1, S, S). balance: the mean of each crop's own mean (else one mean over all unknown pixels)."""
    dims = (1, 2, 3) if balance else (0, 1, 2, 3)
    n = unknown.sum(dims).clamp_min(1)
    loss = ((pred - alpha).abs() * unknown).sum(dims) / n
    if grad_weight:
        for dp, da in zip(_gradients(pred), _gradients(alpha)):
            mask = unknown[..., : dp.shape[-2], : dp.shape[-1]]
            loss = loss + grad_weight * ((dp - da).abs() * mask).sum(dims) / n
    return loss.mean()


def _inputs_of(cfg: FusionTrainConfig) -> tuple[str, ...]:
    return tuple(s for s in SOLVERS if s in cfg.solvers) + (("network",) if cfg.network else ())


def fed_mattes(mattes: np.ndarray, cfg: FusionTrainConfig) -> np.ndarray:
    """The fusion's input mattes (float32 (K, H, W)) out of ``case_inputs``' (every solver in ``SOLVERS``
    order, then the network's when ``cfg.network``): ``cfg.solvers`` and the network, in that order."""
    keep = [i for i, s in enumerate(SOLVERS) if s in cfg.solvers] + ([len(SOLVERS)] if cfg.network else [])
    return mattes[keep]


def case_inputs(case: Case, network: str = "") -> tuple | None:
    """``case.float_inputs()``, with the stored export matte of ``network`` appended to the mattes when
    given (None when it has none stored)."""
    image, trimap, alpha, mattes = case.float_inputs()
    if not network:
        return image, trimap, alpha, mattes
    net = network_matte(case.key, network)
    return None if net is None else (image, trimap, alpha, np.concatenate([mattes, net[None]]))


def get_lr(step: int, cfg: FusionTrainConfig) -> float:
    """Learning rate at ``step`` (0-based): ``schedule.warmup_cosine`` of ``cfg.lr`` over ``cfg.steps``."""
    return warmup_cosine(step, cfg.lr, cfg.steps)


def _state_path(out: Path) -> Path:
    return out / "state.pt"


def train_fusion(cases: list[Case], cfg: FusionTrainConfig, out: Path, log_name: str = "log.jsonl") -> FusionNet:
    """Train (or resume) a fusion network on ``cases``; checkpoints ``out/state.pt``; writes
    ``out/fusion.safetensors`` at the end. Returns the trained network."""
    torch.set_num_threads(cfg.threads)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    model = FusionNet(FusionConfig(width=cfg.width, dilations=tuple(cfg.dilations), solvers=_inputs_of(cfg)))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    step = load_state(_state_path(out), model, opt, rng)
    data = [(*x[:3], fed_mattes(x[3], cfg)) for x in (case_inputs(c, cfg.network) for c in cases) if x is not None]
    last_save = time.monotonic()
    model.train()
    while step < cfg.steps:
        batch = torch.from_numpy(np.stack([_crop(data[int(rng.integers(len(data)))], rng, cfg.crop)
                                           for _ in range(cfg.batch)]))
        k = batch.shape[1] - 2
        pred = model(batch[:, :k])
        loss = loss_fn(pred, batch[:, k:k + 1], batch[:, k + 1:], cfg.grad_weight, cfg.balance)
        optimiser_step(opt, loss, get_lr(step, cfg))
        step += 1
        if step % 25 == 0:
            append_text(out / log_name, json.dumps({"step": step, "loss": round(loss.item(), 5)}) + "\n")
        if time.monotonic() - last_save > cfg.checkpoint_minutes * 60 or step == cfg.steps:
            save_state(_state_path(out), model, opt, step, rng)
            last_save = time.monotonic()
    model.eval()
    save_fusion(out / "fusion.safetensors", model, {"train": dataclasses.asdict(cfg), "steps": step,
                                                     "cases": len(cases)})
    return model


def untrained_methods(mattes: np.ndarray, network: bool) -> dict[str, np.ndarray]:
    """The mattes scored without any training, from ``case_inputs``' float32 (S, H, W) stack: closed-form,
    KNN and, with ``network`` (its export matte appended third), that matte ('export') and the per-pixel
    median of the three ('median')."""
    methods = {"closed_form": mattes[0], "knn": mattes[1]}
    if network:
        methods |= {"export": mattes[2], "median": np.median(mattes[:3], axis=0)}
    return methods


def score_cases(model: FusionNet | None, cases: list[Case], network: str = "",
                cfg: FusionTrainConfig | None = None) -> list[dict]:
    """Per held-out case: SAD, MSE, Gradient, Connectivity of closed-form, KNN, (network given) that
    network's export matte and the per-pixel median of the three, and (model given, trained by ``cfg``:
    which mattes it reads) the fusion."""
    cfg = cfg or FusionTrainConfig(network=network)
    rows = []
    for case in cases:
        name = case.key.split("/", 1)[1]
        if name not in EVAL_CASES or (inputs := case_inputs(case, network)) is None:
            continue
        image, trimap, alpha, mattes = inputs
        methods = untrained_methods(mattes, bool(network))
        if model is not None:
            methods["fusion"] = run_fusion(model, image, trimap, fed_mattes(mattes, cfg))
        for method, pred in methods.items():
            s = evaluate_alpha(pred, alpha, trimap)
            rows.append({"subject": case.subject, "case": name, "kind": EVAL_CASES[name], "method": method,
                         "sad": s.sad, "mse": s.mse, "grad": s.grad, "conn": s.conn})
    return rows


def run_fold(fold: int, cfg: FusionTrainConfig, out: Path, count: int = FOLDS) -> list[dict]:
    """Train on every fold but ``fold`` (plus the thin cases) and score ``fold``'s subjects; rows are
    written to ``out/fold<k>/scores.json`` and returned. With ``cfg.network`` the shipped network's stored
    mattes, the folds are ``V2_VAL``'s subjects one by one (``count`` is ignored); with an out-of-fold cache
    (``solver_cache.is_out_of_fold``) they are the subject folds, as without one."""
    from .data.sources import load_split

    if cfg.network and not is_out_of_fold(cfg.network):  # only the subjects the network never saw, one a fold
        groups = [[s] for s in V2_VAL]
        allowed = set(V2_VAL) | {"thin"}
    else:  # solvers only, or out-of-fold network mattes: honest on every subject
        groups = folds(load_split("all")["train"], count)
        allowed = None
    held = set(groups[fold])
    root = cache_root(cfg.box)
    train = [c for c in iter_cases(root) if c.subject not in held and (allowed is None or c.subject in allowed)]
    fold_dir = out / f"fold{fold}"
    model = train_fusion(train, cfg, fold_dir)
    rows = [r | {"fold": fold} for r in score_cases(model, list(iter_cases(root, subjects=held)), cfg.network, cfg)]
    atomic_write_bytes(fold_dir / "scores.json", (json.dumps(rows, indent=1) + "\n").encode())
    return rows


def summarise(rows: list[dict]) -> dict:
    """{kind: {method: {'sad': mean, 'grad': mean, 'sad_folds': [per-fold means]}}} over ``rows``."""
    out: dict = {}
    for kind in sorted({r["kind"] for r in rows}):
        for method in sorted({r["method"] for r in rows}):
            sel = [r for r in rows if r["kind"] == kind and r["method"] == method]
            if not sel:
                continue
            per_fold = [float(np.mean([r["sad"] for r in sel if r["fold"] == f])) for f in sorted({r["fold"] for r in sel})]
            out.setdefault(kind, {})[method] = {"sad": float(np.mean([r["sad"] for r in sel])),
                                                "grad": float(np.mean([r["grad"] for r in sel])),
                                                "sad_folds": per_fold, "cases": len(sel)}
    return out
