"""Training and distillation: one linear loop, importable as ``main(TrainConfig)``.

Checkpoints (``<out>/checkpoint.pt``, loaded with ``weights_only=True``) hold the
network config, weights, optimizer, step and best metric, and are written at
least every ``checkpoint_minutes`` and at the end; ``resume=True`` continues
from there with the same step count, schedule and data (samples are a pure
function of (seed, index)). The best and final weights are exported as
``.safetensors`` + model card. Runs under ``torchrun`` with DDP (gloo on CPU).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader

from matting_gui.core.editing.trimap import SOLVER_ENCODINGS
from matting_gui.core.inference.predictor import run_network
from matting_gui.core.nets.config import NetConfig, preset, with_encoding
from matting_gui.core.nets.network import MattingNet, build_network, count_parameters, fuse_for_inference
from matting_gui.core.nets.pretrained import SOURCE as PRETRAINED_SOURCE
from matting_gui.core.nets.pretrained import load_efficientnet_lite0
from matting_gui.core.nets.weights import load_network, save_weights
from matting_gui.research.data.samples import StepSampler
from matting_gui.research.distill import STAGES, Distiller, parse_kinds, parse_stages
from matting_gui.research.grow import grow_into
from matting_gui.research.losses import matting_loss
from matting_gui.research.run_files import RunLog, atomic_torch_save
from matting_gui.research.train_config import RUN_FILES, TrainConfig, kd_scale_at, lr_at
from matting_gui.research.train_data import build_data, worker_init


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


def validate(net: MattingNet, items, limit: int = 0) -> tuple[dict, dict]:
    """Mean metrics per kind and per item (as plain dicts) of ``net`` on validation items."""
    from matting_gui.research.data.validation import evaluate

    was_training = net.training
    net.eval()
    try:
        means, per_item = evaluate(lambda img, tri: run_network(net, img, tri), items[: limit or None])
    finally:
        net.train(was_training)
    return {k: v.as_dict() for k, v in means.items()}, {k: v.as_dict() for k, v in per_item.items()}


@torch.no_grad()
def update_ema(ema: nn.Module, net: nn.Module, decay: float) -> None:
    """ema ← decay·ema + (1 − decay)·net for floating-point parameters and buffers (BatchNorm
    statistics too); integer buffers (batch counters) are copied."""
    for e, v in zip(ema.state_dict().values(), net.state_dict().values()):
        if e.is_floating_point():
            e.lerp_(v, 1.0 - decay)
        else:
            e.copy_(v)


def _pick_device(name: str, rank: int) -> torch.device:
    """'cpu', 'cuda' (one GPU per DDP rank) or 'auto' (cuda when available) → the training device."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("device cuda: no CUDA GPU is visible to torch here; use --device cpu")
        torch.cuda.set_device(rank % torch.cuda.device_count())
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        return torch.device("cuda", rank % torch.cuda.device_count())
    return torch.device("cpu")


def _setup_distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def _refuse_solver_network(path: str, net: MattingNet) -> None:
    """A network that reads closed-form and KNN mattes can neither start nor teach a run here: generated
    samples have no solver mattes (``research.solver_teacher`` trains such networks on the solver cache)."""
    if net.config.trimap_encoding in SOLVER_ENCODINGS:
        raise ValueError(f"{path}: reads closed-form and KNN mattes, which generated training samples do not "
                         "have; it cannot teach or start a run here (matting_gui.research.solver_teacher trains "
                         "such networks)")


def main(cfg: TrainConfig) -> dict:
    """Train (or distil) as configured. Returns a summary dict (rank 0; others get {})."""
    rank, world = _setup_distributed()
    torch.set_num_threads(cfg.threads)
    device = _pick_device(cfg.device, rank)
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
    if cfg.trimap_encoding:
        net_cfg = with_encoding(net_cfg, cfg.trimap_encoding)
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
        _refuse_solver_network(cfg.init, init_net)
        if init_net.config == net_cfg:
            net.load_state_dict(init_net.state_dict())
            log.say(f"initialised from {cfg.init}")
        else:  # a richer trimap encoding: the new channels' filters start at zero (grow.py)
            try:
                grown = grow_into(net, init_net)
            except ValueError as exc:
                raise ValueError(f"{cfg.init}: {exc}") from None
            log.say(f"initialised from {cfg.init}, grown from trimap encoding {init_net.config.trimap_encoding!r} "
                    f"to {net_cfg.trimap_encoding!r} ({grown} input filters zero-filled)")
    teacher = None
    if kinds:
        if not cfg.teacher:
            raise ValueError(f"--kd {cfg.kd} needs --teacher PATH")
        teacher, _ = load_network(cfg.teacher)
        _refuse_solver_network(cfg.teacher, teacher)
        # frozen: fold BatchNorm into the convs (same outputs, ~15% faster forward)
        teacher = fuse_for_inference(teacher).to(memory_format=torch.channels_last).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
    distiller = None
    stages = parse_stages(cfg.kd_stages)
    if any(k != "output" for k in kinds):
        distiller = Distiller(kinds, net_cfg.widths, teacher.config.widths, cfg.kd_weights, stages)
    module = StudentWithDistiller(net, distiller).to(device, memory_format=torch.channels_last)
    if teacher is not None:
        teacher = teacher.to(device)
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
    # An exponential moving average of the weights (cfg.ema > 0) is what validation scores and the
    # exported weights hold: at batch 8 the raw weights' validation swings by 10-30 % between checks.
    ema_net = None
    if cfg.ema:
        ema_net = copy.deepcopy(net).eval()
        for p in ema_net.parameters():
            p.requires_grad_(False)
        if state is not None and "ema" in state:
            ema_net.load_state_dict(state["ema"])
        elif state is not None:
            log.say(f"weight average (ema {cfg.ema}) starts from the weights at step {step}")
    scored = ema_net if ema_net is not None else net
    train_module: nn.Module = module
    if world > 1:
        train_module = nn.parallel.DistributedDataParallel(module)

    # ---- data
    # one encoding for the batch, the richest a network here reads; each reads its prefix of it
    readers = [net_cfg] + ([teacher.config] if teacher is not None else [])
    dataset, val_items, data_desc = build_data(cfg, max(readers, key=lambda c: c.in_channels).trimap_encoding)
    loader = DataLoader(
        dataset,
        batch_size=cfg.batch,
        sampler=StepSampler(step, cfg.steps, cfg.batch, rank, world),
        num_workers=cfg.workers,
        worker_init_fn=worker_init,
        # fork() after OpenCV/OpenMP thread pools exist deadlocks the worker (seen here)
        multiprocessing_context="spawn" if cfg.workers > 0 else None,
        pin_memory=device.type == "cuda",
        drop_last=True,
    )

    def save_checkpoint() -> None:
        if rank != 0:
            return
        atomic_torch_save(
            {
                "net_config": net_cfg.to_json(),
                "train_config": json.dumps(dataclasses.asdict(cfg)),
                "module": module.state_dict(),
                **({"ema": ema_net.state_dict()} if ema_net is not None else {}),
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
                **({"kd_stages": "+".join(map(str, stages))} if distiller and stages != STAGES else {}),
                **({"teacher_gate": cfg.teacher_gate} if "output" in kinds and cfg.teacher_gate < 1.0 else {}),
                "teacher": Path(cfg.teacher).name if cfg.teacher else None,
                "seed": cfg.seed,
                "samples_seen": step * cfg.batch * world,
                **({"initial_encoder": PRETRAINED_SOURCE} if cfg.pretrained else {}),
            }
        } | extra

    def run_validation() -> None:
        nonlocal best, best_step
        t0 = time.perf_counter()
        means, per_item = validate(scored, val_items, cfg.val_limit)
        score = means["all"]["sad"]
        # SAD per item too: the means hide which subject moved (on split v2 one tree decided them)
        log.write({"step": step, "val": means, "val_sad": {k: round(v["sad"], 4) for k, v in per_item.items()},
                   "val_seconds": round(time.perf_counter() - t0, 1)})
        summary = "  ".join(f"{k}: SAD {v['sad']:.2f} MSE {v['mse']:.4f}" for k, v in means.items())
        log.say(f"[val] step {step}: {summary}")
        if score < best:
            best, best_step = score, step
            save_weights(out_dir / "best.safetensors", scored, card({"validation": means, "best_step": step}))

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
    # SIGTERM or SIGHUP (a session ending, `kill PID`, a closing terminal, `kill -TERM -- -PGID`): finish the
    # step, checkpoint, exit cleanly (the workers ignore both). Single process only: DDP ranks would have to
    # agree on the step first.
    terminate = threading.Event()
    stop_signals = [sig for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if sig is not None]
    previous_handlers: dict = {}
    if world == 1 and threading.current_thread() is threading.main_thread():
        previous_handlers = {sig: signal.signal(sig, lambda *_: terminate.set()) for sig in stop_signals}
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
        batch = {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}
        inputs = batch["inputs"]
        x = inputs[:, : net_cfg.in_channels].contiguous(memory_format=torch.channels_last)
        t_feats, t_alpha, t_dec = None, None, ()
        if teacher is not None:
            with torch.inference_mode():
                t_out = teacher(inputs[:, : teacher.config.in_channels].contiguous(memory_format=torch.channels_last))
            # inference tensors cannot enter autograd: clone them into normal tensors
            t_alpha = t_out.alpha.clone() if "output" in kinds else None
            t_feats = tuple(f.clone() for f in t_out.features) if distiller is not None else None
            t_dec = tuple(f.clone() for f in t_out.decoder) if "decoder" in kinds else ()
        out, kd_terms = train_module(x, t_feats, t_dec)
        kd_scale = kd_scale_at(step, cfg.steps, cfg.kd_decay_from)
        terms = matting_loss(out.alpha, batch, cfg.w_alpha, cfg.w_comp, cfg.w_grad, t_alpha, cfg.w1 * kd_scale,
                             cfg.teacher_gate)
        total = terms["total"] + kd_scale * kd_terms.get("kd_total", 0.0)
        opt.zero_grad(set_to_none=True)
        total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(module.parameters(), cfg.clip)
        opt.step()
        if ema_net is not None:
            update_ema(ema_net, net, cfg.ema)
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
        # single process only, as SIGTERM: DDP ranks would have to agree on the step first
        out_of_time = world == 1 and cfg.max_minutes and time.time() - total_start > cfg.max_minutes * 60
        if (cfg.stop_at and step >= cfg.stop_at) or terminate.is_set() or out_of_time:
            break
    for sig, handler in previous_handlers.items():
        signal.signal(sig, handler)
    if progress is not None:
        progress.close()
    summary: dict = {}
    if rank == 0 and step < cfg.steps:  # stopped early (stop_at or SIGTERM): checkpoint only
        save_checkpoint()
        why = " on SIGTERM" if terminate.is_set() else f" after {cfg.max_minutes:g} min" if out_of_time else ""
        log.say(f"stopped at step {step}{why}; continue with --resume")
        summary = {"step": step, "stopped": True}
    elif rank == 0:
        if val_items and (best_step != step):
            run_validation()
        save_checkpoint()
        final_card = card({"final_loss": losses})
        save_weights(out_dir / "final.safetensors", scored, final_card)
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
