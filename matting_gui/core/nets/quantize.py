"""Static int8 quantization of a trained network for fast CPU previews.

Measured on the student (no-KD weights, 1 thread, 512²): fp32 fused channels_last 52 ms,
int8 28–31 ms; on the validation set photo SAD rises ~3 % and composite SAD ~5 %, Gradient
~1 %. That is fine for the preview drawn while the user paints, not for the final matte,
so the app uses int8 for previews only and the CLI makes it opt-in (``--int8``).

Calibration needs no data folder and no training code: procedural subjects (``synthetic.py``)
over smooth random backgrounds, deterministic for a given seed.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from matting_gui.core.nets.network import FX_TRACE_LOCK, AlphaOnly, MattingNet, MattingOutput

# torch.ao announces its move to torchao and reduce_range's deprecation on every call; a
# module-level filter (warnings.catch_warnings is not thread-safe, and builds run in a thread)
warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.ao\.")
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.ao\.")


class QuantizedMatting(nn.Module):
    """An int8 network with MattingNet's call signature: x (B, C, H, W) → MattingOutput(alpha, ())."""

    def __init__(self, graph: nn.Module, config):
        super().__init__()
        self.graph = graph
        self.config = config

    def forward(self, x: torch.Tensor) -> MattingOutput:
        """(B, C, H, W) float32 → MattingOutput with alpha (B, 1, H, W) in [0, 1] and no features."""
        return MattingOutput(self.graph(x), ())


def calibration_inputs(count: int = 12, size: int = 256, seed: int = 20201,
                       encoding: str = "proximity") -> list[torch.Tensor]:
    """``count`` network inputs float32 (1, C, size, size) in ``encoding`` (``trimap.encode_inputs``):
    procedural subjects composited over smooth random backgrounds, each with a narrow band trimap (and the
    true α as both solver mattes, for an encoding that reads them); deterministic in ``seed``."""
    import numpy as np

    from matting_gui.core.editing.trimap import SOLVER_ENCODINGS, encode_inputs, trimap_from_alpha
    from matting_gui.core.nets.synthetic import generated_backgrounds, synthetic_foreground

    rng = np.random.default_rng(seed)
    backgrounds = generated_backgrounds(seed, count=4, side=size)
    inputs = []
    for i in range(count):
        fg, alpha = synthetic_foreground(rng, size, backgrounds[i % 4], backgrounds[(i + 1) % 4])
        a = alpha[..., None]
        image = (fg * a + backgrounds[(i + 2) % 4] * (1 - a)).astype(np.float32)
        trimap = trimap_from_alpha(alpha, int(rng.integers(1, 8)), int(rng.integers(1, 8)))
        # a network that reads solver mattes is calibrated with the true α in their place (a solver's best case)
        solvers = np.stack([alpha, alpha]).astype(np.float32) if encoding in SOLVER_ENCODINGS else None
        inputs.append(torch.from_numpy(encode_inputs(image, trimap, encoding=encoding, solvers=solvers))[None])
    return inputs


def quantize_int8(model: MattingNet, calibration: list[torch.Tensor] | None = None) -> QuantizedMatting:
    """Post-training static int8 (x86 / oneDNN kernels, per-channel weights) of a MattingNet.

    ``model`` is not modified (a copy is quantized); it must not be BN-fused (FX fuses
    conv+BN+ReLU itself). calibration: inputs (1, C, H, W) float32; default
    ``calibration_inputs`` in the model's trimap encoding. Takes a few seconds on one core for the student.
    """
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    engine = "x86" if "x86" in torch.backends.quantized.supported_engines else "qnnpack"
    torch.backends.quantized.engine = engine
    calibration = calibration if calibration is not None else calibration_inputs(encoding=model.config.trimap_encoding)
    net = copy.deepcopy(model).cpu().eval()

    qconfig = get_default_qconfig_mapping(engine)
    # No per-node stack traces: recording them imports torch._inductor (2 s, holding the GIL for up
    # to 0.2 s at a time, which froze the app's UI thread while a photo opened) and reads source files.
    with FX_TRACE_LOCK:  # ~0.15 s: forward passes in other threads wait, rather than break
        emit, torch.fx.config.do_not_emit_stack_traces = torch.fx.config.do_not_emit_stack_traces, True
        try:
            prepared = prepare_fx(AlphaOnly(net), qconfig, example_inputs=(calibration[0],))
        finally:
            torch.fx.config.do_not_emit_stack_traces = emit
    with torch.inference_mode():
        for x in calibration:
            prepared(x)
    graph = convert_fx(prepared)
    return QuantizedMatting(graph, model.config).eval()
