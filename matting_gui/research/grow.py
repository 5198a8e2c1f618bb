"""Weights of one trimap encoding grown into a richer one, keeping what they compute.

``core.trimap.ENCODINGS`` are nested: each encoding's input channels start with the previous one's.
Only the convolutions that read the input (the stem and the full-resolution refinement head) depend
on the channel count, so a network is moved to a richer encoding by giving those filters zero
weights for the new channels: the grown network's output is the old one's, bit for bit, until
training gives the new channels a use.
"""

from __future__ import annotations

import torch

from matting_gui.core.nets.config import NetConfig, with_encoding
from matting_gui.core.nets.network import MattingNet


def same_but_encoding(a: NetConfig, b: NetConfig) -> bool:
    """True when ``a`` and ``b`` differ at most in trimap encoding (and so input channels)."""
    return with_encoding(a, "proximity") == with_encoding(b, "proximity")


def grow_into(net: MattingNet, source: MattingNet) -> int:
    """Copy ``source``'s weights into ``net`` (in place), zero-filling the input filters of channels
    ``source`` does not read. Both must share a config but for the encoding, and ``net`` must read at
    least ``source``'s channels. Returns the number of tensors grown (the input-reading filters)."""
    if not same_but_encoding(net.config, source.config):
        raise ValueError(f"weights of {source.config.name!r} cannot initialise {net.config.name!r}: "
                         "the configs differ in more than the trimap encoding")
    if net.config.in_channels < source.config.in_channels:
        raise ValueError(f"{source.config.trimap_encoding!r} weights cannot go into the poorer encoding "
                         f"{net.config.trimap_encoding!r}")
    target, grown = net.state_dict(), 0
    with torch.no_grad():
        for key, value in source.state_dict().items():
            dst = target[key]
            if value.shape == dst.shape:
                dst.copy_(value)
            elif value.dim() == 4 and value.shape[0] == dst.shape[0] and value.shape[2:] == dst.shape[2:]:
                dst.zero_()
                dst[:, : value.shape[1]] = value  # the old channels are a prefix of the new ones
                grown += 1
            else:
                raise ValueError(f"{key}: shape {tuple(value.shape)} cannot grow into {tuple(dst.shape)}")
    return grown
