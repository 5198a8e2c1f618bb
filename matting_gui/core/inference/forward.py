"""One forward pass of a matting network over a whole photo: input encoding, padding, mirroring.

Shared by the predictor, the training code's validation and the benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from matting_gui.core.editing.trimap import BACKGROUND, FOREGROUND, encode_inputs
from matting_gui.core.nets.network import FX_TRACE_LOCK, MattingNet


def trimap_encoding(model: torch.nn.Module) -> str:
    """The trimap encoding a network (fp32, fused or int8) was built for (``trimap.ENCODINGS``)."""
    return getattr(getattr(model, "config", None), "trimap_encoding", "proximity")


def network_input(image: np.ndarray, trimap: np.ndarray, device: torch.device,
                  encoding: str = "proximity", solvers: np.ndarray | None = None) -> torch.Tensor:
    """The network's input for one image: float32 (1, C, H', W') on ``device``.

    image: float32 (H, W, 3) in [0, 1]; trimap: uint8 (H, W); encoding, solvers: as in ``trimap.encode_inputs``.
    H' and W' are H and W padded (reflect) up to multiples of 32; on the CPU the tensor is channels_last.
    """
    h, w = trimap.shape
    ph, pw = (-h) % 32, (-w) % 32
    cpu = device.type == "cpu"
    x = encode_inputs(image, trimap, channels_last=cpu, encoding=encoding, pad=(ph, pw),
                      solvers=solvers)  # CPU convs: channels_last
    tensor = torch.from_numpy(x)[None].to(device)
    if cpu:
        tensor = tensor.contiguous(memory_format=torch.channels_last)  # a no-op: already laid out so
    return tensor


def run_network(model: MattingNet, image: np.ndarray, trimap: np.ndarray, device: torch.device | None = None,
                mirror: bool = False, superseded: Callable[[], bool] | None = None,
                solvers: np.ndarray | None = None) -> np.ndarray | None:
    """One forward pass at the image's own size.

    image: float32 (H, W, 3) in [0, 1]; trimap: uint8 (H, W) {0, 128, 255}.
    Pads (reflect) to a multiple of 32, crops back, and forces α to 0/1 where the
    trimap is known. mirror: also run the left–right mirrored input and average the two
    mattes (test-time augmentation: twice the compute; lower SAD and
    Gradient error, see the README's results). superseded: asked between the two mirrored passes; True
    returns None. solvers: float32 (2, H, W) closed-form and KNN mattes, for a network whose encoding
    reads them (``trimap.SOLVER_ENCODINGS``). Returns float32 (H, W) in [0, 1].
    """
    device = device or next(model.parameters(), torch.empty(0)).device  # int8 graphs hold no Parameters
    h, w = trimap.shape
    tensor = network_input(image, trimap, device, trimap_encoding(model), solvers)
    with torch.inference_mode(), FX_TRACE_LOCK:
        out = model(tensor).alpha
        if mirror and superseded is not None and superseded():
            return None
        if mirror:  # two passes, not a batch of two: the same peak memory (measured: no slower on CPU)
            mirrored = tensor.flip(3)
            if device.type == "cpu":
                mirrored = mirrored.contiguous(memory_format=torch.channels_last)
            out = (out + model(mirrored).alpha.flip(3)) * 0.5
        alpha = out[0, 0, :h, :w].float().cpu().numpy()
    return force_known(np.array(alpha, dtype=np.float32), trimap)


def force_known(alpha: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """Set α to 0 / 1 where the trimap is background / foreground, in place; returns alpha.

    Written with ufuncs rather than boolean-mask assignment: ufuncs release the GIL, so a
    24 MP matte finishing in the worker thread does not stall the UI thread.
    """
    np.multiply(alpha, trimap != BACKGROUND, out=alpha)
    np.maximum(alpha, trimap == FOREGROUND, out=alpha)
    return alpha
