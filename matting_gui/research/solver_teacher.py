"""The teacher that sees the solvers: the shipped teacher grown into the "proximity+solvers" encoding.

Cho, Tai & Kweon (ECCV 2016) gave a CNN the closed-form (local) and KNN (nonlocal) mattes beside the
photo and let it learn where to trust which. Here the shipped teacher's input filters get two more
channels for those mattes, zero-initialised (``grow.grow_into``: the grown network starts as today's
teacher, bit for bit), and the whole network is fine-tuned on the solver-matte cache
(``solver_cache``): the cases of split v2's training subjects (the teacher's own) and of the
procedural thin structures, where the teacher is honest and often wrong. It is scored, export steps
included (mirror, refine), on what no run of it trained on: v2's five validation subjects, which the
teacher never saw either, and the last ``held_thin`` thin cases. Runs checkpoint and resume exactly.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from ..core.editing.trimap import encode_inputs
from ..core.files.safe_write import append_text, atomic_write_bytes
from ..core.nets.config import with_encoding
from ..core.nets.network import MattingNet, build_network
from ..core.nets.weights import load_network, save_weights
from .grow import grow_into
from .losses import charbonnier, gradient_loss
from .run_files import load_state, save_state
from .schedule import optimiser_step, warmup_cosine
from .solver_cache import Case, case_paths, crop_window, load_case

ENCODING = "proximity+solvers"


@dataclasses.dataclass
class SolverTeacherConfig:
    steps: int = 2000
    batch: int = 8
    crop: int = 224  # a multiple of 32
    lr: float = 1e-4
    grad_weight: float = 0.5
    init: str = "teacher"  # the installed model (or weights file) grown into the solver encoding
    freeze_bn: bool = True  # BatchNorm statistics stay the teacher's (batches of 8 from a small cache)
    held_thin: int = 30  # the last thin cases are scored, never trained on
    seed: int = 0
    threads: int = 1
    checkpoint_minutes: float = 5.0


def _split(cfg: SolverTeacherConfig) -> tuple[list[Path], list[Path]]:
    """(training files, scored files) of the solver cache: v2's training subjects and all but the last
    ``held_thin`` thin cases; v2's validation subjects and those thin cases. Nothing is read."""
    from .data.sources import load_split

    split = load_split("v2")
    thin = case_paths(subjects={"thin"})
    cut = len(thin) - cfg.held_thin if cfg.held_thin else len(thin)
    return case_paths(subjects=set(split["train"])) + thin[:cut], case_paths(subjects=set(split["val"])) + thin[cut:]


def training_cases(cfg: SolverTeacherConfig) -> list[Case]:
    """The cases trained on (``_split``), read."""
    return [load_case(p) for p in _split(cfg)[0]]


def scored_cases(cfg: SolverTeacherConfig) -> list[Case]:
    """The cases scored, never trained on (``_split``), read."""
    return [load_case(p) for p in _split(cfg)[1]]


def grown_teacher(init: str) -> tuple[MattingNet, dict]:
    """``init``'s network with two zero-filled input channels for the solver mattes, and its card."""
    source, card = load_network(init)
    net = build_network(with_encoding(source.config, ENCODING))
    grow_into(net, source)
    return net, card


def crop_sample(case: Case, rng: np.random.Generator, size: int) -> np.ndarray:
    """One training crop of ``case``: float32 (10 + 2, size, size), the network input (RGB, trimap, solver
    mattes) then α and the unknown mask. Side 0.7–1.5 × size (90 % centred on an unknown pixel), flips."""
    sl, side = crop_window(case.trimap, rng, size)

    def fit(a: np.ndarray, interp: int = cv2.INTER_LINEAR) -> np.ndarray:
        return a if side == size else cv2.resize(a, (size, size), interpolation=interp)

    img = fit(case.image[sl].astype(np.float32) / 255, cv2.INTER_AREA)  # float before resizing: no rounding
    tri = fit(case.trimap[sl], cv2.INTER_NEAREST)
    alpha = fit(case.alpha[sl].astype(np.float32) / 255)
    mattes = np.stack([fit(m[sl].astype(np.float32) / 65535) for m in case.mattes])
    if rng.random() < 0.5:
        img, tri, alpha, mattes = img[:, ::-1], tri[:, ::-1], alpha[:, ::-1], mattes[:, :, ::-1]
    img, tri, alpha, mattes = (np.ascontiguousarray(a) for a in (img, tri, alpha, mattes))
    x = encode_inputs(img, tri, encoding=ENCODING, solvers=mattes)
    unk = ((tri > 0) & (tri < 255)).astype(np.float32)
    return np.concatenate([x, alpha[None], unk[None]])


def get_lr(step: int, cfg: SolverTeacherConfig) -> float:
    """Learning rate at ``step`` (0-based): ``schedule.warmup_cosine`` of ``cfg.lr`` over ``cfg.steps``."""
    return warmup_cosine(step, cfg.lr, cfg.steps)


def _train_mode(model: MattingNet, freeze_bn: bool) -> None:
    model.train()
    if freeze_bn:
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.eval()


def train_solver_teacher(cfg: SolverTeacherConfig, out: Path) -> Path:
    """Train (or resume) in ``out``: ``state.pt`` every ``checkpoint_minutes``, ``log.jsonl`` every 10 steps,
    ``teacher_solvers.safetensors`` (with a card) at the end. Returns the weights' path."""
    torch.set_num_threads(cfg.threads)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    model, card = grown_teacher(cfg.init)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    state_path = out / "state.pt"
    step = load_state(state_path, model, opt, rng)
    train = training_cases(cfg)
    model = model.to(memory_format=torch.channels_last)
    _train_mode(model, cfg.freeze_bn)
    last_save, started = time.monotonic(), time.monotonic()
    while step < cfg.steps:
        batch = torch.from_numpy(np.stack([crop_sample(train[int(rng.integers(len(train)))], rng, cfg.crop)
                                           for _ in range(cfg.batch)]))
        x = batch[:, :-2].contiguous(memory_format=torch.channels_last)
        alpha, unknown = batch[:, -2:-1], batch[:, -1:]
        pred = model(x).alpha
        l1 = charbonnier(pred, alpha, unknown)
        grad = gradient_loss(pred, alpha, unknown)
        loss = l1 + cfg.grad_weight * grad
        optimiser_step(opt, loss, get_lr(step, cfg))
        step += 1
        if step % 10 == 0:
            append_text(out / "log.jsonl", json.dumps({"step": step, "loss": round(loss.item(), 5),
                                                       "alpha": round(l1.item(), 5), "grad": round(grad.item(), 5),
                                                       "s": round(time.monotonic() - started, 1)}) + "\n")
        if time.monotonic() - last_save > cfg.checkpoint_minutes * 60 or step == cfg.steps:
            save_state(state_path, model, opt, step, rng)
            last_save = time.monotonic()
    model.eval()
    card = {k: v for k, v in card.items() if k in ("refine", "encoder", "licence", "license")} | {
        "name": "teacher_solvers", "init": cfg.init, "steps": step, "train": dataclasses.asdict(cfg),
        "data": f"solver cache: {len(train)} cases (split v2 training subjects, thin cases but the last "
                f"{cfg.held_thin})"}
    return save_weights(out / "teacher_solvers.safetensors", model.to(memory_format=torch.contiguous_format), card)


def scored_steps(live: bool) -> dict:
    """Predictor.predict's keyword arguments for a scored matte: {} for the live network alone, else
    export's steps without solver fusion (the candidates are compared with export's own network matte)."""
    from ..core.nets.model_files import EXPORT_STEPS

    return {} if live else {k: v for k, v in EXPORT_STEPS.items() if k != "fuse"}


def score(weights: Path, cfg: SolverTeacherConfig, threads: int = 1, out: Path | None = None,
          name: str = "solver_teacher", live: bool = False) -> list[dict]:
    """Rows (subject, case, kind, method, sad, mse, grad, conn) on ``scored_cases``:
    closed-form, KNN, the shipped teacher's export matte (stored by ``fusion-network-cache``, else
    computed) and ``weights``' export matte, as method ``name`` (export's steps; the cached solver mattes
    as its inputs if it reads them: any network can be scored so). live: both networks' mattes alone
    instead (what the editor shows while painting; the shipped one's method is then 'shipped'), run here.
    Only the validation subjects' official, wide and painted cases and the held-out thin cases count.
    out: also write the rows there (JSON)."""
    from tqdm import tqdm

    from ..core.evaluation.metrics import evaluate_alpha
    from ..core.inference.predictor import Predictor
    from .fusion_train import EVAL_CASES
    from .solver_cache import network_matte

    torch.set_num_threads(threads)
    steps = scored_steps(live)
    new, old = Predictor(weights, device="cpu"), None
    rows = []
    cases = scored_cases(cfg)
    for case in tqdm([c for c in cases if c.subject == "thin" or c.key.split("/", 1)[1] in EVAL_CASES],
                     desc="scoring", unit="case"):
        case_name = case.key.split("/", 1)[1]
        image, trimap, alpha, mattes = case.float_inputs()
        shipped = None if live else network_matte(case.key, cfg.init)
        if shipped is None:
            old = old or Predictor(cfg.init, device="cpu")
            shipped = old.predict(image, trimap, **steps).alpha
        methods = {"closed_form": mattes[0], "knn": mattes[1], "shipped" if live else "export": shipped,
                   name: new.predict(image, trimap, solvers=mattes, **steps).alpha}
        for method, pred in methods.items():
            s = evaluate_alpha(pred, alpha, trimap)
            rows.append({"subject": case.subject, "case": case_name, "method": method,
                         "kind": "thin" if case.subject == "thin" else EVAL_CASES[case_name],
                         "sad": s.sad, "mse": s.mse, "grad": s.grad, "conn": s.conn})
    if out is not None:
        atomic_write_bytes(out, (json.dumps(rows, indent=1) + "\n").encode())
    return rows


def summary(rows: list[dict]) -> dict:
    """{kind: {method: {'sad': mean of the subjects' means, 'grad': the same, 'subjects': {subject: SAD}}}};
    the thin cases count as one subject each."""
    out: dict = {}
    for kind in dict.fromkeys(r["kind"] for r in rows):
        for method in dict.fromkeys(r["method"] for r in rows):
            sel = [r for r in rows if r["kind"] == kind and r["method"] == method]
            groups = {}
            for r in sel:
                groups.setdefault(r["subject"] if kind != "thin" else r["case"], []).append(r)
            per = {s: float(np.mean([r["sad"] for r in g])) for s, g in groups.items()}
            grad = [float(np.mean([r["grad"] for r in g])) for g in groups.values()]
            out.setdefault(kind, {})[method] = {"sad": float(np.mean(list(per.values()))),
                                                "grad": float(np.mean(grad)), "subjects": per}
    return out


def paired_change(rows: list[dict], method: str, base: str, draws: int = 5000, seed: int = 0) -> dict:
    """{kind: {'mean', 'low', 'high', 'wins', 'cases'}}: the SAD of ``method`` minus ``base`` on the same cases,
    its mean (of subject means; over cases for the thin kind) and a 90 % bootstrap interval resampling
    subjects (cases for thin), and the count of cases where ``method`` is lower."""
    rng = np.random.default_rng(seed)
    out = {}
    for kind in dict.fromkeys(r["kind"] for r in rows):
        a = {(r["subject"], r["case"]): r["sad"] for r in rows if r["kind"] == kind and r["method"] == method}
        b = {(r["subject"], r["case"]): r["sad"] for r in rows if r["kind"] == kind and r["method"] == base}
        keys = [k for k in a if k in b]
        if not keys:
            continue
        if kind == "thin":
            units = np.array([a[k] - b[k] for k in keys])
        else:
            subjects = sorted({k[0] for k in keys})
            units = np.array([np.mean([a[k] - b[k] for k in keys if k[0] == s]) for s in subjects])
        means = [float(np.mean(rng.choice(units, len(units)))) for _ in range(draws)]
        low, high = np.percentile(means, [5, 95])
        out[kind] = {"mean": float(units.mean()), "low": float(low), "high": float(high),
                     "wins": int(sum(a[k] < b[k] for k in keys)), "cases": len(keys)}
    return out
