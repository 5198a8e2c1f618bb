"""Training samples: I = αF + (1−α)B with random crops, augmentation and trimaps.

``MattingSamples[i]`` is a pure function of (seed, i): the same index always gives
the same sample, which makes resuming exact (the sampler restarts at
``step × batch``) and lets worker processes run in any order.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from matting_gui.core.editing.trimap import encode_inputs, trimap_from_alpha
from matting_gui.core.nets.synthetic import synthetic_foliage, synthetic_foreground
from matting_gui.research.data.augment import hue_shift, merge_foregrounds, random_affine
from matting_gui.research.data.hair import synthetic_hair
from matting_gui.research.data.painted import painted_trimap
from matting_gui.research.data.sources import Subject
from matting_gui.research.data.structure import add_structure
from matting_gui.research.data.thin import THIN_KINDS, thin_subject, thin_trimap

CROP_SIDES = (320, 480, 640)


def _jitter(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Random brightness, contrast and saturation on (H, W, 3) float32 in [0, 1]."""
    gray = img.mean(axis=2, keepdims=True)
    sat = rng.uniform(0.7, 1.3)
    img = gray + (img - gray) * sat
    img = (img - 0.5) * rng.uniform(0.8, 1.2) + 0.5 + rng.uniform(-0.1, 0.1)
    return np.clip(img, 0, 1).astype(np.float32)


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode (H, W, 3) float32 RGB in [0, 1] as JPEG at ``quality``."""
    u8 = np.round(img * 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255.0 if ok else img


def _crop_around_unknown(
    rng: np.random.Generator, alpha: np.ndarray, side: int
) -> tuple[int, int, int]:
    """(y, x, side) of a square crop centred near a random unknown pixel, inside the image."""
    h, w = alpha.shape
    side = min(side, h, w)
    ys, xs = np.nonzero((alpha > 0.02) & (alpha < 0.98))
    if len(ys) == 0:
        cy, cx = h // 2, w // 2
    else:
        j = rng.integers(len(ys))
        cy, cx = int(ys[j]), int(xs[j])
    y = int(np.clip(cy - side // 2, 0, h - side))
    x = int(np.clip(cx - side // 2, 0, w - side))
    return y, x, side


class MattingSamples(Dataset):
    """Infinite-style map dataset of training samples at ``size``×``size``.

    subjects: real foregrounds (may be empty: synthetic only); backgrounds: RGB
    float32 photos (at least one). Each item is a dict of float32 tensors:
    ``inputs`` (C, S, S) in the dataset's ``encoding``, ``alpha``/``unknown`` (1, S, S), ``image``/``fg``/``bg``
    (3, S, S), ``has_fb`` () 1 for composites, 0 for original photos.
    """

    def __init__(
        self,
        subjects: list[Subject],
        backgrounds: list[np.ndarray],
        size: int = 256,
        seed: int = 0,
        length: int = 10**9,
        p_real: float = 0.45,
        p_photo: float = 0.15,
        p_painted: float = 0.0,
        realism: bool = False,
        p_fg_seeds: float = 0.0,
        p_foliage: float = 0.0,
        p_hair: float = 0.0,
        p_thin: float = 0.0,
        p_bg_structure: float = 0.0,
        structure_band: int = 0,
        p_islands: float = 0.0,
        p_two_fg: float = 0.0,
        p_affine: float = 0.0,
        hue: float = 0.0,
        encoding: str = "proximity",
    ):
        if not backgrounds:
            raise ValueError("at least one background image is needed")
        self.subjects = subjects
        self.backgrounds = backgrounds
        self.size = size
        self.seed = seed
        self.length = length
        self.p_real = p_real if subjects else 0.0
        self.p_photo = p_photo if subjects else 0.0
        # share of samples whose trimap imitates a hand-painted one (data.painted) instead of a band
        self.p_painted = p_painted
        # of those, the share whose foreground is left unpainted but for a few seeds (data.painted)
        self.p_fg_seeds = p_fg_seeds
        # share of all samples that are procedural plants (core.synthetic.synthetic_foliage); 0 draws nothing
        self.p_foliage = p_foliage
        # share of all samples that are procedural heads of hair (data.hair); 0 draws nothing, so runs made
        # before it get the same samples
        if p_foliage + p_hair + p_thin > 1:
            raise ValueError(f"p_foliage + p_hair + p_thin = {p_foliage + p_hair + p_thin:g} is more than every sample")
        self.p_hair = p_hair
        # share of all samples that are procedural thin structures (data.thin: wire nets in perspective,
        # yarn often dark on dark, sheets of strands, leaves over leafy colours) with the foreground mostly
        # unpainted; 0 draws nothing
        self.p_thin = p_thin
        # share of composites whose background gets a solid structure painted in (data.structure: fences,
        # girders, bars, branches), which the unknown band must leave background; 0 draws nothing
        self.p_bg_structure = p_bg_structure
        # with it: the unknown band of those samples is the subject's support dilated by 8 up to this many
        # px (at 256 px), as users paint over hair, so that the structure lies under the band; 0: the usual
        # trimaps (nothing drawn)
        self.structure_band = structure_band
        # of the painted trimaps, the share with small unknown islands inside the foreground (data.painted)
        self.p_islands = p_islands
        # composites closer to real photos: defocused backgrounds, JPEG re-compression
        self.realism = realism
        # composite augmentations (data.augment), each drawn only when on, so that runs made before
        # them get the same samples: share of real composites that merge a second subject behind the
        # first; share of composites warped (rotation, scale, shear, random interpolation); the
        # largest hue rotation of a composite's foreground in degrees (half of them rotated)
        self.p_two_fg = p_two_fg if subjects else 0.0
        self.p_affine = p_affine
        self.hue = hue
        # the trimap encoding of ``inputs`` (core.trimap.ENCODINGS): the richest any network of the run
        # reads; each reads its own channels, a prefix of these
        self.encoding = encoding

    def __len__(self) -> int:
        return self.length

    def _background(self, rng: np.random.Generator, side: int) -> np.ndarray:
        bg = self.backgrounds[rng.integers(len(self.backgrounds))]
        h, w = bg.shape[:2]
        s = int(min(h, w) * rng.uniform(0.5, 1.0))
        y, x = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
        bg = cv2.resize(bg[y : y + s, x : x + s], (side, side), interpolation=cv2.INTER_LINEAR)
        if rng.random() < 0.5:
            bg = bg[:, ::-1]
        return _jitter(rng, bg)

    def _real(self, rng: np.random.Generator, photo: bool) -> tuple[np.ndarray, ...]:
        subj = self.subjects[rng.integers(len(self.subjects))]
        scale = rng.uniform(0.7, 1.3)
        img_src = subj.image if photo else subj.fg
        h, w = subj.alpha.shape
        nh, nw = max(32, round(h * scale)), max(32, round(w * scale))
        alpha = cv2.resize(subj.alpha, (nw, nh), interpolation=cv2.INTER_LINEAR)
        src = cv2.resize(img_src, (nw, nh), interpolation=cv2.INTER_LINEAR)
        y, x, side = _crop_around_unknown(rng, alpha, int(rng.choice(CROP_SIDES)))
        alpha = alpha[y : y + side, x : x + side]
        src = src[y : y + side, x : x + side]
        return src, alpha

    def _to_side(self, src: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A real crop (side×side) resized to the sample size (area filter when shrinking)."""
        s = self.size
        shrink = cv2.INTER_AREA if src.shape[0] > s else cv2.INTER_LINEAR
        return cv2.resize(src, (s, s), interpolation=shrink), cv2.resize(alpha, (s, s), interpolation=shrink)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, index])
        s = self.size
        foliage = bool(self.p_foliage) and rng.random() < self.p_foliage
        hair = not foliage and bool(self.p_hair) and rng.random() * (1 - self.p_foliage) < self.p_hair
        thin = (not (foliage or hair) and bool(self.p_thin)
                and rng.random() * (1 - self.p_foliage - self.p_hair) < self.p_thin)
        r = 1.0 if foliage or hair or thin else rng.random()
        thin_bg = None
        structured = False
        photo = r < self.p_photo
        if photo or r < self.p_photo + self.p_real:
            src, alpha = self._real(rng, photo)
            src, alpha = self._to_side(src, alpha)
            if not photo and self.p_two_fg and rng.random() < self.p_two_fg:
                src2, alpha2 = self._to_side(*self._real(rng, False))
                src, alpha = merge_foregrounds(src, alpha, src2, alpha2)
        else:
            tex = self.backgrounds[rng.integers(len(self.backgrounds))]
            tex2 = self.backgrounds[rng.integers(len(self.backgrounds))]
            gen = int(s * rng.uniform(1.0, 1.6))
            if thin:  # composited over its own background: dark strands take its colours
                thin_bg = self._background(rng, gen)
                src, alpha = thin_subject(rng, THIN_KINDS[int(rng.integers(len(THIN_KINDS)))], gen, [tex, tex2],
                                          thin_bg)
            else:
                draw = synthetic_foliage if foliage else synthetic_hair if hair else synthetic_foreground
                src, alpha = draw(rng, gen, tex, tex2)
            y, x, side = _crop_around_unknown(rng, alpha, s)
            src = cv2.resize(src[y : y + side, x : x + side], (s, s))
            alpha = cv2.resize(alpha[y : y + side, x : x + side], (s, s))
            if thin_bg is not None:
                thin_bg = cv2.resize(thin_bg[y : y + side, x : x + side], (s, s))
        if not photo and self.p_affine and rng.random() < self.p_affine:
            src, alpha = random_affine(rng, np.ascontiguousarray(src), np.ascontiguousarray(alpha))
        if rng.random() < 0.5:
            src, alpha = src[:, ::-1], alpha[:, ::-1]
        alpha = np.ascontiguousarray(np.clip(alpha, 0, 1), dtype=np.float32)
        if photo:
            image = np.ascontiguousarray(_jitter(rng, src))
            fg = bg = image
        else:
            fg = _jitter(rng, np.ascontiguousarray(src))
            if self.hue and rng.random() < 0.5:
                fg = hue_shift(rng, fg, self.hue)
            bg = self._background(rng, s) if thin_bg is None else np.ascontiguousarray(thin_bg)
            if self.p_bg_structure and rng.random() < self.p_bg_structure:
                bg = add_structure(rng, bg)
                structured = True
            if self.realism and rng.random() < 0.3:  # a defocused background, as behind most portraits
                bg = cv2.GaussianBlur(bg, (0, 0), rng.uniform(0.8, 4.0))
            image = fg * alpha[..., None] + bg * (1 - alpha[..., None])
            if rng.random() < 0.3:  # sensor noise / JPEG-like grain on the composite only
                image = image + rng.normal(0, rng.uniform(0.002, 0.02), image.shape).astype(np.float32)
            image = np.clip(image, 0, 1).astype(np.float32)
            if self.realism and rng.random() < 0.25:  # JPEG re-compression, as photos arrive
                image = _jpeg(image, int(rng.integers(40, 96)))
        # unknown band width as in the letter: 1–19 iterations of a 3x3 ellipse at 320 px
        k = s / 320
        erode = max(1, round(rng.integers(1, 20) * k))
        dilate = max(1, round(rng.integers(1, 20) * k))
        trimap = trimap_from_alpha(alpha, erode, dilate)
        if thin:  # no solid interior to paint: mostly seeds, both classes somewhere
            trimap = thin_trimap(alpha, rng, s / 256)
        elif structured and self.structure_band:  # a wide band over the structure
            band = rng.integers(8, max(8, self.structure_band) + 1)
            trimap = trimap_from_alpha(alpha, erode, max(1, round(band * s / 256)))
        elif self.p_painted and rng.random() < self.p_painted:
            trimap = painted_trimap(alpha, rng, s / 256, self.p_fg_seeds, self.p_islands)
        unknown = (trimap == 128).astype(np.float32)
        chw = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1), dtype=np.float32))  # noqa: E731
        return {
            "inputs": torch.from_numpy(encode_inputs(image, trimap, encoding=self.encoding)),
            "alpha": torch.from_numpy(alpha)[None],
            "unknown": torch.from_numpy(unknown)[None],
            "trimap": torch.from_numpy(trimap)[None],
            "image": chw(image),
            "fg": chw(fg),
            "bg": chw(bg),
            "has_fb": torch.tensor(0.0 if photo else 1.0),
        }


class StepSampler(Sampler[int]):
    """Indices for steps ``start_step`` … ``total_steps - 1``, split across ranks.

    Step t of rank r uses indices ((t·world + r)·batch + j) for j < batch, so every
    rank sees different samples and a resumed run sees exactly what it would have.
    """

    def __init__(self, start_step: int, total_steps: int, batch: int, rank: int = 0, world: int = 1):
        self.start, self.total, self.batch, self.rank, self.world = start_step, total_steps, batch, rank, world

    def __iter__(self):
        for t in range(self.start, self.total):
            base = (t * self.world + self.rank) * self.batch
            yield from range(base, base + self.batch)

    def __len__(self) -> int:
        return max(0, self.total - self.start) * self.batch
