"""Trimaps, every rule in one place: normalising, checking against the image, what keeps one from
being matted, network input encoding, and trimaps made from alpha or a mask.

Convention everywhere: uint8 (H, W), 0 = background, 255 = foreground, anything
strictly between = unknown (canonically 128).
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

BACKGROUND, UNKNOWN, FOREGROUND = 0, 128, 255

#: Scale (pixels) of the distance-to-known encoding exp(-d / DIST_SCALE).
DIST_SCALE = 16.0
#: Trimap encodings and their network input channels (RGB included). "proximity": one-hot +
#: exp(-d / DIST_SCALE) to the nearest foreground and background pixel (8). "proximity+gaussian":
#: the same 8, then FBA Matting's Gaussian distance maps exp(-d² / 2σ²) to foreground and to
#: background at each σ of GAUSSIAN_SCALES (6 more): they still tell how deep inside a wide unknown
#: region a pixel lies where exp(-d / 16) has faded (≈ 0.002 at 100 px). Each encoding's channels
#: start with the previous one's, so weights grow into a richer encoding by zero-filled filters.
#: "proximity+solvers": the first 8, then the closed-form and KNN mattes of the same trimap
#: (``core.inference.solvers``; given by the caller, Cho et al. 2016's local and nonlocal mattes).
ENCODINGS = {"proximity": 8, "proximity+gaussian": 14, "proximity+solvers": 10}
#: Encodings whose last two planes are solver mattes the caller passes in.
SOLVER_ENCODINGS = ("proximity+solvers",)
#: σ in pixels of the Gaussian maps: FBA's 0.02, 0.08 and 0.16 of its 320 px training crops.
GAUSSIAN_SCALES = (6.4, 25.6, 51.2)
#: Trimaps from this many pixels get their two distance transforms computed in parallel.
_PARALLEL_PIXELS = 256 * 256


class TrimapError(ValueError):
    """A trimap that cannot be used with its image."""


def normalize_trimap(trimap: np.ndarray) -> np.ndarray:
    """Map any uint8 (H, W) trimap onto {0, 128, 255}: strictly-between values become 128."""
    out = np.full(trimap.shape, UNKNOWN, np.uint8)
    out[trimap == 0] = BACKGROUND
    out[trimap == 255] = FOREGROUND
    return out


def check_trimap_shape(trimap: np.ndarray, image_shape: tuple[int, ...], name: str = "trimap") -> np.ndarray:
    """A trimap that fits its image, normalised to {0, 128, 255}; it may still be incomplete.

    trimap: uint8 (H, W); image_shape: (H, W[, C]). Raises ``TrimapError`` on a wrong shape.
    """
    if trimap.ndim != 2:
        raise TrimapError(f"{name}: expected a single-channel trimap, got shape {trimap.shape}")
    if trimap.shape != tuple(image_shape[:2]):
        raise TrimapError(
            f"{name}: size {trimap.shape[1]}x{trimap.shape[0]} does not match the image "
            f"({image_shape[1]}x{image_shape[0]})"
        )
    return normalize_trimap(trimap)


def check_trimap(trimap: np.ndarray) -> tuple[str | None, str | None]:
    """(problem, advice) of a trimap from one histogram pass (~10 ms at 24 MP); each None when absent.

    trimap: uint8 (H, W). *problem*: why it cannot be matted (no unknown, or no known pixels).
    *advice*: a hint for one that can be matted but is likely to matte worse; today one case,
    unknown pixels but no painted foreground: the networks were trained mostly on trimaps with the
    subject's core painted (validation SAD, wide trimaps vs the same with the foreground unpainted:
    shipped student 13.4 -> 33.6, teacher 8.4 -> 11.2).
    """
    counts = cv2.calcHist([trimap], [0], None, [256], [0, 256]).ravel()
    if counts[1:255].sum() == 0:
        return "has no unknown pixels (blue in the app, 128 in a trimap file), so there is nothing to matte", None
    if counts[0] + counts[255] == 0:
        return "has no known pixels (all unknown); mark some foreground or background", None
    if counts[255] == 0:
        return None, ("no foreground is painted: paint a Foreground stroke inside the subject, "
                      "or unknown areas far from it may come out as background")
    return None, None


def trimap_problem(trimap: np.ndarray) -> str | None:
    """Why a trimap (uint8 (H, W)) cannot be matted, or None when it can: ``check_trimap``'s problem."""
    return check_trimap(trimap)[0]


def trimap_advice(trimap: np.ndarray) -> str | None:
    """A hint for a trimap (uint8 (H, W)) likely to matte badly, or None: ``check_trimap``'s advice."""
    return check_trimap(trimap)[1]


def validate_trimap(trimap: np.ndarray, image_shape: tuple[int, ...], name: str = "trimap") -> np.ndarray:
    """A trimap that can be matted with its image, normalised to {0, 128, 255}.

    trimap: uint8 (H, W); image_shape: (H, W[, C]). Raises ``TrimapError`` on a size
    mismatch, when nothing is unknown, or when nothing is known.
    """
    tri = check_trimap_shape(trimap, image_shape, name)
    problem = trimap_problem(tri)
    if problem:
        raise TrimapError(f"{name}: {problem}")
    return tri


def encode_inputs(image: np.ndarray, trimap: np.ndarray, channels_last: bool = False,
                  encoding: str = "proximity", pad: tuple[int, int] = (0, 0),
                  solvers: np.ndarray | None = None) -> np.ndarray:
    """Build the network input.

    image: float32 (H, W, 3) RGB in [0, 1]; trimap: uint8 (H, W) in {0, 128, 255}.
    Returns float32 (C, H, W), C = ``ENCODINGS[encoding]``: normalised RGB (≈[-2, 2]), trimap
    one-hot (background, unknown, foreground) and exp(-d/16) of the distance d in pixels to
    the nearest known foreground and background pixel (1 on it, → 0 far away); with
    "proximity+gaussian" then exp(-d²/2σ²) to foreground and background for each σ in
    ``GAUSSIAN_SCALES`` (all in [0, 1]); with "proximity+solvers" then ``solvers``, float32
    (2, H, W) in [0, 1]: the closed-form and KNN mattes (required there, refused elsewhere). The
    distance maps tell a network how far inside the unknown band a pixel lies, which a single trimap
    channel cannot at stride 32.
    channels_last: the same (C, H, W) values as a view of an (H, W, C) array, so a
    channels_last tensor needs no relayout copy (6 ms at 512² on one core).
    pad: (bottom, right) rows and columns appended by mirroring the encoded values (numpy's
    "reflect"; "edge" when the image is no larger than the padding): the output is then
    (C, H + bottom, W + right), equal to ``np.pad`` of the unpadded one, built without that
    extra copy (input preparation at 1 MP: 52 → 46 ms).
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown trimap encoding {encoding!r}; choose one of {list(ENCODINGS)}")
    if (solvers is not None) != (encoding in SOLVER_ENCODINGS):
        raise ValueError(f"trimap encoding {encoding!r} " + ("needs" if solvers is None else "takes no")
                         + " solver mattes")
    if solvers is not None and solvers.shape != (2, *trimap.shape):
        raise ValueError(f"solver mattes of shape {solvers.shape} do not fit a trimap of {trimap.shape}")
    bg = trimap == BACKGROUND
    fg = trimap == FOREGROUND
    if channels_last or encoding != "proximity" or any(pad):  # whole planes interleaved by one cv2.merge
        image = np.ascontiguousarray(image, dtype=np.float32)
        # 4x - 2 rounds once, as (x - 0.5) * 4 does (the power-of-two factor is exact): the same
        # values in one pass instead of two temporaries
        rgb = cv2.addWeighted(image, 4.0, image, 0.0, -2.0)
        dist = _known_distances(fg, bg)
        planes = [rgb, bg.astype(np.float32), (~(bg | fg)).astype(np.float32), fg.astype(np.float32)]
        planes += [_decay(d, -1.0 / DIST_SCALE, trimap.shape) for d in dist]
        if encoding in SOLVER_ENCODINGS:
            planes += [np.ascontiguousarray(m, dtype=np.float32) for m in solvers]
        elif encoding != "proximity":
            squared = [None if d is None else d * d for d in dist]
            planes += [_decay(d2, -0.5 / sigma**2, trimap.shape) for sigma in GAUSSIAN_SCALES for d2 in squared]
        h, w = trimap.shape
        hwc = np.empty((h + pad[0], w + pad[1], ENCODINGS[encoding]), np.float32)
        cv2.merge(planes, dst=hwc[:h, :w])  # in place (OpenCV takes the view's row stride); RGB joins whole
        _mirror_margin(hwc, h, w)
        chw = hwc.transpose(2, 0, 1)
        return chw if channels_last else np.ascontiguousarray(chw)
    out = np.empty((8, *trimap.shape), np.float32)
    np.subtract(image.transpose(2, 0, 1), 0.5, out=out[:3], dtype=np.float32)
    out[:3] *= 4.0
    out[3] = bg
    out[4] = ~(bg | fg)
    out[5] = fg
    out[6] = _known_proximity(fg)
    out[7] = _known_proximity(bg)
    return out


def _mirror_margin(hwc: np.ndarray, h: int, w: int) -> None:
    """Fill rows ≥ h and columns ≥ w of ``hwc`` (H', W', C) in place from its top-left (h, w) part,
    as ``np.pad(..., mode="reflect")`` would (mirrored about the last row / column, which is not
    repeated), or as mode "edge" where the part is too small to mirror."""
    ph, pw = hwc.shape[0] - h, hwc.shape[1] - w
    reflect = h > ph and w > pw
    if ph:
        hwc[h:, :w] = hwc[h - 2 - np.arange(ph) if reflect else np.full(ph, h - 1), :w]
    if pw:
        hwc[:, w:] = hwc[:, w - 2 - np.arange(pw) if reflect else np.full(pw, w - 1)]


def _known_distance(known: np.ndarray) -> np.ndarray | None:
    """float32 (H, W) distance in pixels to the nearest True pixel; None when none is True."""
    if not known.any():
        return None
    # distanceTransform measures distance to the nearest zero pixel.
    return cv2.distanceTransform((~known).astype(np.uint8), cv2.DIST_L2, 3)


def _known_distances(fg: np.ndarray, bg: np.ndarray) -> list[np.ndarray | None]:
    """[``_known_distance(fg)``, ``_known_distance(bg)``]; above ``_PARALLEL_PIXELS`` the second runs
    on a short-lived thread beside the first (OpenCV releases the GIL; 14 → 8 ms at 1 MP on two
    cores). A thread per call, not a pool: a pool made before a fork would hang in the child."""
    if fg.size < _PARALLEL_PIXELS:
        return [_known_distance(fg), _known_distance(bg)]
    out: list = [None, None]

    def background() -> None:
        try:
            out[1] = _known_distance(bg)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread below
            out[1] = exc

    thread = threading.Thread(target=background, name="trimap-distance", daemon=True)
    thread.start()
    try:
        out[0] = _known_distance(fg)
    finally:
        thread.join()
    if isinstance(out[1], BaseException):
        raise out[1]
    return out


def _known_proximity(known: np.ndarray) -> np.ndarray:
    """exp(-distance to the nearest True pixel / DIST_SCALE); zeros when none is True."""
    return _decay(_known_distance(known), -1.0 / DIST_SCALE, known.shape)


def _decay(value: np.ndarray | None, rate: float, shape: tuple[int, ...]) -> np.ndarray:
    """float32 (H, W) exp(rate · value); ``None`` (nothing of that kind is known) gives zeros of ``shape``."""
    if value is None:
        return np.zeros(shape, np.float32)
    return cv2.exp(value * np.float32(rate))


def trimap_from_alpha(alpha: np.ndarray, erode_iters: int, dilate_iters: int, kernel: int = 3) -> np.ndarray:
    """Generate a trimap from ground-truth alpha, as in Deep Image Matting.

    alpha: float32 (H, W) in [0, 1]. The definite foreground (α = 1) is eroded
    and the support (α > 0) dilated with an elliptical ``kernel`` for the given
    iteration counts; what lies between is unknown. Returns uint8 {0, 128, 255}.
    """
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel, kernel))
    fg = (alpha >= 1.0 - 1e-3).astype(np.uint8)
    support = (alpha > 1e-3).astype(np.uint8)
    if erode_iters > 0:
        fg = cv2.erode(fg, k, iterations=erode_iters)
    if dilate_iters > 0:
        support = cv2.dilate(support, k, iterations=dilate_iters)
    tri = np.full(alpha.shape, UNKNOWN, np.uint8)
    tri[support == 0] = BACKGROUND
    tri[fg == 1] = FOREGROUND
    return tri


def band_trimap(mask: np.ndarray, radius: int) -> np.ndarray:
    """Trimap from a binary foreground mask with an unknown band of ``radius`` px around its edge.

    mask: bool/uint8 (H, W); radius >= 1. Returns uint8 {0, 128, 255}: foreground farther than
    ``radius`` (Euclidean) from the background, background farther than it from the foreground.
    Two distance transforms: linear in the pixel count whatever the radius (~1 s at 24 MP for a
    72 px band, where a morphological kernel of that size took minutes).
    """
    m = (mask > 0).astype(np.uint8)
    tri = np.full(m.shape, UNKNOWN, np.uint8)
    if m.all() or not m.any():  # no edge: no band
        tri[:] = FOREGROUND if m.any() else BACKGROUND
        return tri
    inside = cv2.distanceTransform(m, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)  # to the nearest background pixel
    outside = cv2.distanceTransform(1 - m, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)  # to the nearest foreground pixel
    tri[outside > radius] = BACKGROUND
    tri[inside > radius] = FOREGROUND
    return tri
