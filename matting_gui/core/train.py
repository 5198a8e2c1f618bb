"""Training and distillation: one linear loop, importable as ``main(TrainConfig)``.

Checkpoints (``<out>/checkpoint.pt``, loaded with ``weights_only=True``) hold the
network config, weights, optimizer, step and best metric, and are written at
least every ``checkpoint_minutes`` and at the end; ``resume=True`` continues
from there with the same step count, schedule and data (samples are a pure
function of (seed, index)). The best and final weights are exported as
``.safetensors`` + model card. Runs under ``torchrun`` with DDP (gloo on CPU).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader

from .config import PRESETS, NetConfig, preset
from .data.samples import StepSampler
from .data.sources import SPLITS
from .data.synthetic import generated_backgrounds
from .distill import Distiller, parse_kinds
from .losses import matting_loss
from .network import MattingNet, build_network, count_parameters, fuse_for_inference
from .predictor import run_network
from .pretrained import SOURCE as PRETRAINED_SOURCE
from .pretrained import load_efficientnet_lite0
from .weights import load_network, save_weights

#: The fixed names a run writes in its folder.
RUN_FILES = ("checkpoint.pt", "log.jsonl", "best.safetensors", "best.json", "final.safetensors", "final.json")


@dataclass
class TrainConfig:
    """Everything a run needs; stored in the checkpoint. Unknown keys are rejected."""

    preset: str = "teacher"  # network preset: teacher | teacher_lite | student | student_wide
    out: str = "runs/teacher"  # folder for checkpoint, logs and exported weights
    steps: int = 20000  # total optimisation steps (the schedule's length)
    batch: int = 8  # samples per step per process
    size: int = 256  # training crop side in pixels (multiple of 32)
    lr: float = 1e-3  # peak learning rate (AdamW)
    min_lr_ratio: float = 0.02  # cosine decays to lr * min_lr_ratio
    warmup: int = 300  # linear warm-up steps
    weight_decay: float = 1e-4
    clip: float = 1.0  # gradient-norm clip
    w_alpha: float = 1.0
    w_comp: float = 0.5
    w_grad: float = 0.5
    kd: str = "none"  # distillation kinds joined with '+': spatial, channel, batch, attention, output
    teacher: str = ""  # teacher weights (.safetensors) for distillation
    w1: float = 0.5  # output term: weight of the teacher's alpha vs the ground truth
    # From this fraction of `steps` on, every teacher term (feature terms and w1) fades linearly
    # to zero at the last step, so training ends on the ground truth alone; 1.0: constant weights.
    kd_decay_from: float = 1.0
    # Per-kind weights of the feature terms. Calibrated so each starts near the alpha loss
    # (0.44 for an untrained student): measured against the teacher at step 1000, the raw
    # terms summed over 4 stages were spatial 0.51, channel 1.47, batch 0.096, attention 0.0105;
    # decoder (untrained student vs the final teacher, 16 training crops): 0.59, spatial 0.53 there.
    kd_weights: dict = field(
        default_factory=lambda: {"spatial": 1.0, "channel": 0.5, "batch": 5.0, "attention": 50.0, "decoder": 1.0}
    )
    init: str = ""  # start from these weights (.safetensors) instead of random
    data: str = "auto"  # auto | shared | synthetic (generated only: for tests)
    split: str = "v1"  # alphamatting train/validation split: v1 (4 easy val subjects) | v2 (hard ones, wide trimaps)
    p_painted: float = 0.0  # share of samples with a hand-painted-style trimap (data.painted) instead of a band
    realism: bool = False  # defocused backgrounds and JPEG re-compression in composites
    pretrained: str = ""  # "imagenet": start an efficientnet_lite0 encoder from ImageNet weights (pretrained.py)
    encoder_lr_scale: float = 1.0  # with `pretrained`: the encoder's learning rate is lr × this
    seed: int = 0
    workers: int = 1  # DataLoader worker processes
    threads: int = 1  # torch threads per process
    val_every: int = 500  # validate every N steps (0: only at the end)
    val_limit: int = 0  # evaluate only the first N validation items (0: all)
    log_every: int = 20
    checkpoint_minutes: float = 5.0
    resume: bool = False
    stop_at: int = 0  # end this invocation at this step (checkpointed), schedule unchanged; 0: run to `steps`

    def __post_init__(self) -> None:
        """Every value checked against its field's type and range: a bad config is a one-line ValueError."""
        for f in dataclasses.fields(self):
            value, kind = getattr(self, f.name), f.type
            ok = {"int": type(value) is int, "float": type(value) in (int, float), "str": isinstance(value, str),
                  "bool": type(value) is bool, "dict": isinstance(value, dict)}.get(str(kind), True)
            if not ok:
                raise ValueError(f"training config {f.name} = {value!r} should be of type {kind}")
        for name, low, high in (("steps", 1, None), ("batch", 1, None), ("size", 32, 4096), ("warmup", 0, None),
                                ("workers", 0, 64), ("threads", 1, 1024), ("val_every", 0, None), ("val_limit", 0, None),
                                ("log_every", 1, None), ("stop_at", 0, None), ("lr", 1e-20, 10.0),
                                ("min_lr_ratio", 0.0, 1.0), ("w1", 0.0, 1.0), ("kd_decay_from", 0.0, 1.0),
                                ("p_painted", 0.0, 1.0), ("encoder_lr_scale", 1e-6, 100.0), ("clip", 1e-9, None),
                                ("checkpoint_minutes", 1e-3, None), ("weight_decay", 0.0, 1.0)):
            value = getattr(self, name)
            if value < low or (high is not None and value > high) or value != value:
                raise ValueError(f"training config {name} = {value!r} is outside {low}..{high if high is not None else ''}")
        if self.size % 32:
            raise ValueError(f"size must be a multiple of 32, got {self.size}")
        choices = {"preset": tuple(PRESETS), "split": SPLITS, "data": ("auto", "shared", "synthetic"),
                   "pretrained": ("", "imagenet")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"training config {name} = {getattr(self, name)!r}; choose one of {list(allowed)}")

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """Build from a dict (e.g. a TOML file), rejecting unknown keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown training config keys: {unknown}")
        if "kd_weights" in data:  # a partial table overrides only the kinds it names
            data = data | {"kd_weights": cls().kd_weights | dict(data["kd_weights"])}
        return cls(**data)

    @classmethod
    def from_toml(cls, path: str | os.PathLike, **overrides) -> TrainConfig:
        """Read a TOML file, then apply ``overrides`` (also checked)."""
        with open(path, "rb") as f:
            data = tomllib.load(f)
        return cls.from_dict(data | overrides)


def kd_scale_at(step: int, total: int, decay_from: float) -> float:
    """Multiplier in [0, 1] of the distillation terms at ``step``: 1 until ``decay_from``·total, then linear to 0."""
    start = decay_from * total
    if decay_from >= 1.0 or step < start:
        return 1.0
    return max(0.0, 1.0 - (step - start) / max(1e-9, total - start))


def lr_at(step: int, base: float, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warm-up to ``base`` over ``warmup`` steps, then cosine down to base·min_ratio at ``total``."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


class StudentWithDistiller(nn.Module):
    """The trained network plus the distillation connectors, so DDP wraps one module."""

    def __init__(self, net: MattingNet, distiller: Distiller | None):
        super().__init__()
        self.net = net
        self.distiller = distiller

    def forward(self, x: torch.Tensor, teacher_features=None, teacher_decoder=()):
        out = self.net(x)
        kd = {}
        if self.distiller is not None and teacher_features:
            kd = self.distiller(out.features, teacher_features, out.decoder, teacher_decoder)
        return out, kd


# ---------------------------------------------------------------- data


def _synthetic_validation(seed: int, count: int = 6, side: int = 96):
    from .data.synthetic import synthetic_foreground
    from .data.validation import ValItem
    from .trimap import trimap_from_alpha

    rng = np.random.default_rng(seed + 999)
    bgs = generated_backgrounds(seed + 999, count + 1, side)
    items = []
    for i in range(count):
        fg, alpha = synthetic_foreground(rng, side, bgs[-1])
        img = alpha[..., None] * fg + (1 - alpha[..., None]) * bgs[i]
        tri = trimap_from_alpha(alpha, 4, 4)
        if not ((tri == 128).any() and (tri == 0).any() and (tri == 255).any()):
            continue  # every validation trimap has all three regions (closed-form needs them)
        items.append(ValItem(f"synthetic{i}", "composite", img.astype(np.float32), tri, alpha))
    return items


def _data_mode(cfg: TrainConfig) -> str:
    from .paths import data_root

    if cfg.data != "auto":
        return cfg.data
    return "shared" if (data_root() / "alphamatting" / "image").is_dir() else "synthetic"


def build_data(cfg: TrainConfig):
    """(training dataset, validation items, description of the data for the model card)."""
    from .data.samples import MattingSamples

    mode = _data_mode(cfg)
    if mode == "synthetic":
        ds = MattingSamples([], generated_backgrounds(cfg.seed), cfg.size, cfg.seed, p_painted=cfg.p_painted,
                            realism=cfg.realism)
        return ds, _synthetic_validation(cfg.seed), "generated synthetic foregrounds over generated backgrounds"
    if mode != "shared":
        raise ValueError(f"unknown data mode {cfg.data!r}; choose auto, shared or synthetic")
    from .data.sources import background_paths, load_backgrounds, load_split, load_subjects
    from .data.validation import build_validation_set

    split = load_split(cfg.split)
    subjects = load_subjects(split["train"])
    backgrounds = load_backgrounds(background_paths("train"))
    ds = MattingSamples(subjects, backgrounds, cfg.size, cfg.seed, p_painted=cfg.p_painted, realism=cfg.realism)
    desc = (
        f"alphamatting training images {split['train']} (split {cfg.split}; composited over BSDS500 train "
        "backgrounds, and as original photos) + procedural synthetic foregrounds"
        + (f"; {cfg.p_painted:.0%} hand-painted-style trimaps" if cfg.p_painted else "")
        + ("; defocused backgrounds, JPEG re-compression" if cfg.realism else "")
    )
    return ds, build_validation_set(cfg.split), desc


def _worker_init(_: int) -> None:
    import cv2

    torch.set_num_threads(1)
    cv2.setNumThreads(1)


# ---------------------------------------------------------------- checkpoints


def _unique_temp(path: Path) -> Path:
    """A new, unique file beside ``path`` (mkstemp: never an existing name, never through a link)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; a checkpoint or log is an ordinary file
    return Path(tmp)


def _atomic_torch_save(obj: dict, path: Path) -> None:
    tmp = _unique_temp(path)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)  # replaces a link planted at ``path`` itself, never its target
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def validate(net: MattingNet, items, limit: int = 0) -> tuple[dict, dict]:
    """Mean metrics per kind and per item (as plain dicts) of ``net`` on validation items."""
    from .data.validation import evaluate

    net.eval()
    try:
        means, per_item = evaluate(lambda img, tri: run_network(net, img, tri), items[: limit or None])
    finally:
        net.train()
    return {k: v.as_dict() for k, v in means.items()}, {k: v.as_dict() for k, v in per_item.items()}


class RunLog:
    """JSON lines log (rank 0 only) plus human-readable progress."""

    def __init__(self, path: Path, enabled: bool):
        self.path = path
        self.enabled = enabled

    def write(self, record: dict) -> None:
        """Append one JSON record (rank 0 only)."""
        if not self.enabled:
            return
        # O_NOFOLLOW: a link planted at log.jsonl is refused, not written through
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "a") as f:
            f.write(json.dumps(record) + "\n")

    def truncate_after(self, step: int) -> None:
        """Drop records of steps after ``step`` (written after the checkpoint a resume starts from).

        Without this a resumed run logs those steps twice. Atomic rewrite; unparsable lines are kept.
        """
        if not (self.enabled and self.path.exists()):
            return
        kept = []
        for line in self.path.read_text().splitlines():
            try:
                record_step = json.loads(line).get("step", 0)
            except (ValueError, AttributeError):
                record_step = 0
            if isinstance(record_step, int) and record_step <= step:
                kept.append(line)
        tmp = _unique_temp(self.path)
        tmp.write_text("".join(f"{line}\n" for line in kept))
        os.replace(tmp, self.path)

    def say(self, text: str) -> None:
        """Print a progress line to stderr (rank 0 only)."""
        if self.enabled:
            print(text, file=sys.stderr, flush=True)


def _setup_distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def main(cfg: TrainConfig) -> dict:
    """Train (or distil) as configured. Returns a summary dict (rank 0; others get {})."""
    rank, world = _setup_distributed()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out_dir = Path(cfg.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in RUN_FILES:  # a link planted at a fixed name would redirect our writes elsewhere
        if (out_dir / name).is_symlink():
            raise ValueError(f"{out_dir / name}: is a symbolic link; refusing to write through it")
    log = RunLog(out_dir / "log.jsonl", rank == 0)
    kinds = parse_kinds(cfg.kd)
    ckpt_path = out_dir / "checkpoint.pt"

    # ---- networks
    net_cfg: NetConfig = preset(cfg.preset)
    state = None
    if cfg.resume and ckpt_path.exists():
        try:
            state = torch.load(ckpt_path, map_location="cpu", weights_only=True)
            net_cfg_json = state["net_config"]
        except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint gets the same one-line answer
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
            raise ValueError(f"{ckpt_path}: checkpoint is corrupt or truncated ({first}); "
                             "move it away to start afresh") from None
        net_cfg = NetConfig.from_json(net_cfg_json)
    net = build_network(net_cfg)
    if cfg.pretrained and state is None and not cfg.init:
        if cfg.pretrained != "imagenet" or net_cfg.encoder != "efficientnet_lite0":
            raise ValueError(f"pretrained={cfg.pretrained!r} needs 'imagenet' and an efficientnet_lite0 preset")
        log.say(f"encoder initialised from ImageNet ({load_efficientnet_lite0(net.encoder)} tensors)")
    if cfg.init and state is None:
        init_net, _ = load_network(cfg.init)
        if init_net.config != net_cfg:
            raise ValueError(f"{cfg.init}: weights of preset {init_net.config.name!r} cannot initialise {net_cfg.name!r}")
        net.load_state_dict(init_net.state_dict())
        log.say(f"initialised from {cfg.init}")
    teacher = None
    if kinds:
        if not cfg.teacher:
            raise ValueError(f"--kd {cfg.kd} needs --teacher PATH")
        teacher, _ = load_network(cfg.teacher)
        # frozen: fold BatchNorm into the convs (same outputs, ~15% faster forward)
        teacher = fuse_for_inference(teacher).to(memory_format=torch.channels_last).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
    distiller = None
    if any(k != "output" for k in kinds):
        distiller = Distiller(kinds, net_cfg.widths, teacher.config.widths, cfg.kd_weights)
    module = StudentWithDistiller(net, distiller).to(memory_format=torch.channels_last)
    # an ImageNet-initialised encoder learns at encoder_lr_scale × lr, so fine-tuning keeps what it knows
    enc_ids = {id(p) for p in net.encoder.parameters()} if cfg.pretrained else set()
    groups = [{"params": [p for p in module.parameters() if id(p) not in enc_ids], "lr_scale": 1.0}]
    if enc_ids:
        groups.append({"params": list(net.encoder.parameters()), "lr_scale": cfg.encoder_lr_scale})
    opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, best, best_step = 0, math.inf, -1
    if state is not None:
        try:
            module.load_state_dict(state["module"])
            opt.load_state_dict(state["optimizer"])
            step, best, best_step = int(state["step"]), float(state["best"]), int(state["best_step"])
            torch.set_rng_state(state["torch_rng"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
            raise ValueError(f"{ckpt_path}: checkpoint does not fit this run ({first}); "
                             "move it away to start afresh") from None
        if rank == 0:
            log.truncate_after(step)
        log.say(f"resumed from {ckpt_path} at step {step}")
    train_module: nn.Module = module
    if world > 1:
        train_module = nn.parallel.DistributedDataParallel(module)

    # ---- data
    dataset, val_items, data_desc = build_data(cfg)
    loader = DataLoader(
        dataset,
        batch_size=cfg.batch,
        sampler=StepSampler(step, cfg.steps, cfg.batch, rank, world),
        num_workers=cfg.workers,
        worker_init_fn=_worker_init,
        # fork() after OpenCV/OpenMP thread pools exist deadlocks the worker (seen here)
        multiprocessing_context="spawn" if cfg.workers > 0 else None,
        drop_last=True,
    )

    def save_checkpoint() -> None:
        if rank != 0:
            return
        _atomic_torch_save(
            {
                "net_config": net_cfg.to_json(),
                "train_config": json.dumps(dataclasses.asdict(cfg)),
                "module": module.state_dict(),
                "optimizer": opt.state_dict(),
                "step": step,
                "best": best,
                "best_step": best_step,
                "torch_rng": torch.get_rng_state(),
            },
            ckpt_path,
        )

    def card(extra: dict) -> dict:
        return {
            "training": {
                "data": data_desc,
                "steps": step,
                "batch": cfg.batch * world,
                "size": cfg.size,
                "kd": "+".join(kinds) or "none",
                **({"kd_decay_from": cfg.kd_decay_from} if kinds and cfg.kd_decay_from < 1.0 else {}),
                "teacher": Path(cfg.teacher).name if cfg.teacher else None,
                "seed": cfg.seed,
                "samples_seen": step * cfg.batch * world,
                **({"initial_encoder": PRETRAINED_SOURCE} if cfg.pretrained else {}),
            }
        } | extra

    def run_validation() -> None:
        nonlocal best, best_step
        t0 = time.perf_counter()
        means, _ = validate(net, val_items, cfg.val_limit)
        score = means["all"]["sad"]
        log.write({"step": step, "val": means, "val_seconds": round(time.perf_counter() - t0, 1)})
        summary = "  ".join(f"{k}: SAD {v['sad']:.2f} MSE {v['mse']:.4f}" for k, v in means.items())
        log.say(f"[val] step {step}: {summary}")
        if score < best:
            best, best_step = score, step
            save_weights(out_dir / "best.safetensors", net, card({"validation": means, "best_step": step}))

    # ---- loop
    net.train()
    total_start = time.time()
    last_ckpt = time.time()
    window_t, window_n = time.perf_counter(), 0
    progress = None
    if rank == 0 and sys.stderr.isatty():
        from tqdm import tqdm

        progress = tqdm(total=cfg.steps, initial=step, unit="step", dynamic_ncols=True)
    losses: dict[str, float] = {}
    # SIGTERM (a session ending, `kill PID`): finish the step, checkpoint, exit cleanly. Single
    # process only: DDP ranks would have to agree on the step first.
    terminate = threading.Event()
    previous_handler = None
    if world == 1 and threading.current_thread() is threading.main_thread():
        previous_handler = signal.signal(signal.SIGTERM, lambda *_: terminate.set())
    batches = iter(loader)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            break
        except RuntimeError:  # DataLoader workers killed together with us: still checkpoint
            if terminate.is_set():
                break
            raise
        lr = lr_at(step, cfg.lr, cfg.warmup, cfg.steps, cfg.min_lr_ratio)
        for group in opt.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        x = batch["inputs"].contiguous(memory_format=torch.channels_last)
        t_feats, t_alpha, t_dec = None, None, ()
        if teacher is not None:
            with torch.inference_mode():
                t_out = teacher(x)
            # inference tensors cannot enter autograd: clone them into normal tensors
            t_alpha = t_out.alpha.clone() if "output" in kinds else None
            t_feats = tuple(f.clone() for f in t_out.features) if distiller is not None else None
            t_dec = tuple(f.clone() for f in t_out.decoder) if "decoder" in kinds else ()
        out, kd_terms = train_module(x, t_feats, t_dec)
        kd_scale = kd_scale_at(step, cfg.steps, cfg.kd_decay_from)
        terms = matting_loss(out.alpha, batch, cfg.w_alpha, cfg.w_comp, cfg.w_grad, t_alpha, cfg.w1 * kd_scale)
        total = terms["total"] + kd_scale * kd_terms.get("kd_total", 0.0)
        opt.zero_grad(set_to_none=True)
        total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(module.parameters(), cfg.clip)
        opt.step()
        step += 1
        window_n += cfg.batch * world
        losses = {k: round(float(v.detach()), 6) for k, v in (terms | kd_terms).items()}
        losses["total"] = round(float(total.detach()), 6)
        if progress is not None:
            progress.update(1)
            progress.set_postfix(loss=f"{losses['total']:.4f}", lr=f"{lr:.2e}")
        if step % cfg.log_every == 0 or step == cfg.steps:
            rate = window_n / max(1e-9, time.perf_counter() - window_t)
            record = {"step": step, "lr": lr, "grad_norm": round(float(grad_norm), 4), "samples_per_s": round(rate, 2)}
            if kd_scale < 1.0:
                record["kd_scale"] = round(kd_scale, 4)
            log.write(record | losses)
            if progress is None:
                eta = (cfg.steps - step) * cfg.batch * world / max(rate, 1e-9)
                log.say(f"step {step}/{cfg.steps} loss {losses['total']:.4f} lr {lr:.2e} {rate * 3600:.0f} samples/h ETA {eta / 60:.0f} min")
            window_t, window_n = time.perf_counter(), 0
        if rank == 0 and cfg.val_every and step % cfg.val_every == 0 and step < cfg.steps:
            run_validation()
        if time.time() - last_ckpt > cfg.checkpoint_minutes * 60:
            save_checkpoint()
            last_ckpt = time.time()
        if (cfg.stop_at and step >= cfg.stop_at) or terminate.is_set():
            break
    if previous_handler is not None:
        signal.signal(signal.SIGTERM, previous_handler)
    if progress is not None:
        progress.close()
    summary: dict = {}
    if rank == 0 and step < cfg.steps:  # stopped early (stop_at or SIGTERM): checkpoint only
        save_checkpoint()
        why = " on SIGTERM" if terminate.is_set() else ""
        log.say(f"stopped at step {step}{why}; continue with --resume")
        summary = {"step": step, "stopped": True}
    elif rank == 0:
        if val_items and (best_step != step):
            run_validation()
        save_checkpoint()
        final_card = card({"final_loss": losses})
        save_weights(out_dir / "final.safetensors", net, final_card)
        summary = {
            "step": step,
            "best_sad": best,
            "best_step": best_step,
            "parameters": count_parameters(net),
            "seconds": round(time.time() - total_start, 1),
            "final_loss": losses,
        }
        log.write({"summary": summary})
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return summary
