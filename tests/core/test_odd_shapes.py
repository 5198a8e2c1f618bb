"""Odd shapes and files that used to hang or exhaust memory: strips, a refinement under an
address-space limit, PNGs whose image data goes on past their declared size, 3-channel float
TIFFs, and trimaps whose own EXIF orientation makes them mismatch their photo."""

from __future__ import annotations

import struct
import time
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from matting_gui.cli.main import main
from matting_gui.core.files.imageio import ImageError, read_alpha, read_image, read_trimap
from matting_gui.core.files.pngcheck import raw_size
from matting_gui.core.inference.working import PADDED_SLACK, padded, working_size
from tests.conftest import make_photo, make_trimap, python_output


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png(width: int, height: int, depth: int, colour: int, stream: bytes, tail: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", stream) + tail
            + _chunk(b"IEND", b""))


def _rows(width: int, height: int, bytes_per_pixel: int) -> bytes:
    rng = np.random.default_rng(0)
    return b"".join(b"\x00" + rng.integers(0, 256, width * bytes_per_pixel, dtype=np.uint8).tobytes()
                    for _ in range(height))


@pytest.mark.parametrize("shape", [(1, 4_000_000), (1, 200_000), (10, 40_000), (1000, 1000), (4000, 6000),
                                   (600, 800), (2, 3), (177, 5657)])
def test_working_size_is_bounded_by_pixels_whatever_the_shape(shape):
    h, w = shape
    sh, sw = working_size(h, w, 1_000_000)
    assert sh * sw <= 1_001_000 and padded(sh) * padded(sw) <= PADDED_SLACK * 1_000_000
    if h * w <= 1_000_000 and padded(h) * padded(w) <= PADDED_SLACK * 1_000_000:
        assert (sh, sw) == (h, w)  # photos that fit are matted as they are
    if min(h, w) > 100:
        assert abs(sw / sh - w / h) < 0.01 * w / h  # photos keep their aspect


def test_strips_end_in_a_full_size_matte(models, tmp_path, capsys):
    """A 1×200,000 strip used to run past 600 s (the refinement's dilation grew with the diagonal); a
    1×1,200,000 one was padded to a 32-row, 38 MP network input, and its matte is wider than libpng writes."""
    photos = []
    for n in (200_000, 1_200_000):
        row = (np.random.default_rng(n).random((1, n, 3)) * 255).astype(np.uint8)
        tri = np.full((1, n), 128, np.uint8)
        tri[:, : n // 4], tri[:, -n // 4:] = 0, 255
        Image.fromarray(row).save(tmp_path / f"s{n}.png")
        Image.fromarray(tri).save(tmp_path / f"s{n}_trimap.png")
        photos.append(str(tmp_path / f"s{n}.png"))
    start = time.monotonic()
    assert main(["matte", *photos, "--out", str(tmp_path / "out")]) == 0  # export's steps: mirror, refine
    assert time.monotonic() - start < 120
    for n in (200_000, 1_200_000):
        alpha = read_alpha(tmp_path / "out" / f"s{n}_matte.png")
        assert alpha.shape == (1, n) and alpha[0, 0] == 0 and alpha[0, -1] == 1


def test_refinement_of_a_small_photo_fits_a_3_gb_address_space(tmp_path):
    """pymatting's incomplete Cholesky reserved 3.7 GB for every solve; a 64×48 refinement failed under
    ``prlimit --as=5G``."""
    code = ("import resource, numpy as np\n"
            "resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))\n"
            "from matting_gui.core.inference.refine import guided_closed_form\n"
            "from tests.conftest import make_photo, make_trimap\n"
            "tri = make_trimap(48, 64)\n"
            "out = guided_closed_form(make_photo(48, 64), tri, np.full(tri.shape, 0.5, np.float32))\n"
            "print(out.shape, float(out.min()) >= 0)\n")
    assert python_output(code) == "(48, 64) True"


def test_png_whose_image_data_goes_on_is_refused_at_once(tmp_path):
    rows = _rows(64, 64, 6)  # 16-bit RGB
    inflater = zlib.compressobj(9)
    bomb = inflater.compress(rows) + b"".join(inflater.compress(bytes(1 << 20)) for _ in range(300))
    bomb += inflater.flush()  # 300 MB more of zeros in a ~300 KB stream
    path = tmp_path / "bomb.png"
    path.write_bytes(_png(64, 64, 16, 2, bomb))
    for read in (read_image, read_alpha):
        start = time.monotonic()
        with pytest.raises(ImageError, match="decompression bomb"):
            read(path)
        assert time.monotonic() - start < 2.0  # libpng inflated all of it: 1.3 s per 100 MB
    fine = tmp_path / "junk_after_stream.png"  # data after the stream's end costs nothing: still read
    fine.write_bytes(_png(64, 64, 16, 2, zlib.compress(rows), _chunk(b"IDAT", bytes(1 << 16)) * 8))
    assert read_image(fine).rgb.shape == (64, 64, 3) and read_image(fine).bit_depth == 16


def test_png_raw_sizes():
    assert raw_size(64, 64, 16, 2, False) == 64 * (1 + 64 * 6)
    assert raw_size(3, 1, 1, 0, False) == 2  # one filter byte, three bits
    assert raw_size(1, 1, 8, 6, True) == 5  # Adam7: the first pass alone holds the one pixel
    assert raw_size(8, 8, 8, 0, True) == sum(h * (1 + w) for w, h in ((1, 1), (1, 1), (2, 1), (2, 2), (4, 2),
                                                                      (4, 4), (8, 4)))


@pytest.mark.parametrize("channels,dtype", [(3, np.float32), (4, np.float32), (3, np.float64)])
def test_colour_float_tiffs_are_read(tmp_path, channels, dtype):
    """Pillow cannot open 3- or 4-channel float TIFFs; they were refused as an unsupported format."""
    rgb = make_photo(40, 50)
    arr = np.concatenate([rgb, np.ones((40, 50, 1), np.float32)], axis=2) if channels == 4 else rgb
    path = tmp_path / "float.tif"
    cv2.imwrite(str(path), np.ascontiguousarray(arr[..., [2, 1, 0, 3][:channels]]).astype(dtype))
    loaded = read_image(path)
    assert loaded.bit_depth == 16 and np.abs(loaded.rgb - rgb).max() < 1e-6
    with pytest.raises(ImageError, match="not a supported image format"):  # a colour trimap never was
        read_trimap(path)


def test_huge_declared_float_tiff_is_refused_before_decoding(tmp_path):
    path = tmp_path / "float.tif"
    cv2.imwrite(str(path), np.zeros((40, 50, 3), np.float32))
    with pytest.raises(ImageError, match="exceeds the limit"):
        read_image(path, max_pixels=1000)


def _rotated_trimap(path, trimap: np.ndarray, orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(trimap).save(path, exif=exif)


def test_trimap_orientation_is_named_when_it_causes_a_mismatch(models, tmp_path, capsys):
    photo, tri = make_photo(48, 64), make_trimap(48, 64)
    Image.fromarray((photo * 255).astype(np.uint8)).save(tmp_path / "a.png")
    _rotated_trimap(tmp_path / "a_trimap.png", tri, 6)  # stored 64x48, oriented 48x64: wrong
    # stored rotated, so that its orientation brings it back: right, and said
    _rotated_trimap(tmp_path / "b_trimap.png", np.ascontiguousarray(np.rot90(tri, 1)), 6)
    Image.fromarray((photo * 255).astype(np.uint8)).save(tmp_path / "b.png")
    code = main(["matte", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--fast", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1
    assert "trimap size 48x64 after its EXIF orientation 6 (stored as 64x48" in err and "the image (64x48)" in err
    assert "b.png: " in err and "trimap's EXIF orientation 6 applied" in err
    assert read_alpha(tmp_path / "o" / "b_matte.png").shape == (48, 64)


def test_a_refinement_that_cannot_fit_fails_its_file_with_one_line(models, tmp_path, capsys, monkeypatch):
    import matting_gui.core.inference.refine as refine

    real = refine.guided_closed_form
    calls = []

    def first_runs_out(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError
        return real(*args, **kwargs)

    monkeypatch.setattr(refine, "guided_closed_form", first_runs_out)
    for stem in ("a", "b"):
        Image.fromarray((make_photo(48, 64) * 255).astype(np.uint8)).save(tmp_path / f"{stem}.png")
        Image.fromarray(make_trimap(48, 64)).save(tmp_path / f"{stem}_trimap.png")
    code = main(["matte", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and "a.png: not enough memory to matte it" in err and "Traceback" not in err
    assert read_alpha(tmp_path / "o" / "b_matte.png").shape == (48, 64)
