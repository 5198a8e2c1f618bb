import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from matting_gui.core.files.imageio import ImageError, read_alpha, read_image, read_trimap
from matting_gui.core.files.imagewrite import write_alpha, write_rgb, write_rgba
from matting_gui.core.files.safe_write import atomic_write_bytes


def _rgb8(h=20, w=30):
    rng = np.random.default_rng(1)
    return (rng.random((h, w, 3)) * 255).astype(np.uint8)


def test_reads_8bit_png_exactly(tmp_path):
    arr = _rgb8()
    Image.fromarray(arr).save(tmp_path / "a.png")
    img = read_image(tmp_path / "a.png")
    assert img.rgb.dtype == np.float32 and img.rgb.shape == (20, 30, 3)
    assert np.allclose(img.rgb * 255, arr, atol=1e-3)
    assert img.bit_depth == 8 and not img.had_alpha


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_reads_16bit_rgb_keeping_precision(tmp_path, ext):
    arr = (np.random.default_rng(2).random((10, 12, 3)) * 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / f"a{ext}"), arr[..., ::-1])
    img = read_image(tmp_path / f"a{ext}")
    assert img.bit_depth == 16
    assert np.allclose(img.rgb, arr / 65535.0, atol=1e-6)


def test_reads_16bit_gray(tmp_path):
    arr = (np.arange(120).reshape(10, 12) * 500).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "g.png"), arr)
    img = read_image(tmp_path / "g.png")
    assert img.bit_depth == 16
    assert np.allclose(img.rgb[..., 1], arr / 65535.0, atol=1e-6)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA"])
def test_reads_gray_palette_rgba(tmp_path, mode):
    Image.fromarray(_rgb8()).convert(mode).save(tmp_path / "x.png")
    img = read_image(tmp_path / "x.png")
    assert img.rgb.shape == (20, 30, 3)
    assert img.had_alpha == (mode in ("RGBA", "LA"))
    if img.had_alpha:
        assert any("alpha" in n for n in img.notes)


def test_reads_cmyk_jpeg(tmp_path):
    Image.fromarray(_rgb8()).convert("CMYK").save(tmp_path / "c.jpg")
    img = read_image(tmp_path / "c.jpg")
    assert img.source_mode == "CMYK" and img.rgb.shape == (20, 30, 3)
    assert abs(img.rgb.mean() * 255 - _rgb8().mean()) < 8


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path, orientation):
    arr = _rgb8(16, 24)
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.save(tmp_path / "o.jpg", exif=exif, quality=100)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "o.jpg")).convert("RGB"))
    img = read_image(tmp_path / "o.jpg")
    assert img.rgb.shape == expected.shape
    assert np.allclose(img.rgb * 255, expected, atol=1)
    if orientation in (5, 6, 7, 8):
        assert img.rgb.shape[:2] == (24, 16)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_16bit_png_matches_8bit_path(tmp_path, orientation):
    arr = (np.random.default_rng(3).random((6, 9, 3)) * 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "p.png"), arr[..., ::-1])
    # attach an eXIf chunk by re-saving the same pixels with Pillow at 8-bit for the reference
    ref = Image.fromarray((arr >> 8).astype(np.uint8))
    exif = ref.getexif()
    exif[0x0112] = orientation
    ref.save(tmp_path / "r.png", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "r.png")))
    from matting_gui.core.files.imageio import _apply_orientation

    got = _apply_orientation((arr >> 8).astype(np.uint8), orientation)
    assert np.array_equal(got, expected)


def test_refuses_empty_text_truncated_and_missing(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("hello, I am not an image")
    Image.fromarray(_rgb8(200, 200)).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    Image.fromarray(_rgb8(200, 200)).save(tmp_path / "full.jpg")
    jdata = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "trunc.jpg").write_bytes(jdata[: len(jdata) // 2])
    for name, reason in [
        ("empty.png", "empty"),
        ("text.png", "not a supported image format"),
        ("trunc.png", "cannot be decoded"),
        ("trunc.jpg", "cannot be decoded"),
        ("missing.png", "not found"),
    ]:
        with pytest.raises(ImageError, match=reason) as info:
            read_image(tmp_path / name)
        assert name in str(info.value) and "\n" not in str(info.value)


def _png_with_declared_size(w: int, h: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def test_refuses_decompression_bomb(tmp_path):
    (tmp_path / "bomb.png").write_bytes(_png_with_declared_size(60000, 60000))
    with pytest.raises(ImageError, match="decompression bomb"):
        read_image(tmp_path / "bomb.png")


def test_extreme_aspect_and_single_pixel(tmp_path):
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(tmp_path / "one.png")
    Image.fromarray(np.zeros((10, 40000, 3), np.uint8)).save(tmp_path / "wide.png")
    assert read_image(tmp_path / "one.png").rgb.shape == (1, 1, 3)
    assert read_image(tmp_path / "wide.png").rgb.shape == (10, 40000, 3)


def test_read_trimap_variants(tmp_path):
    tri = np.array([[0, 128, 255]], np.uint8).repeat(4, 0)
    Image.fromarray(tri).save(tmp_path / "t.png")
    Image.fromarray(np.dstack([tri] * 3)).save(tmp_path / "rgb_gray.png")
    colour = np.dstack([tri, tri, 255 - tri])
    Image.fromarray(colour).save(tmp_path / "rgb_colour.png")
    cv2.imwrite(str(tmp_path / "t16.png"), tri.astype(np.uint16) * 257)
    assert np.array_equal(read_trimap(tmp_path / "t.png"), tri)
    assert np.array_equal(read_trimap(tmp_path / "rgb_gray.png"), tri)
    assert np.array_equal(read_trimap(tmp_path / "t16.png"), tri)
    with pytest.raises(ImageError, match="colour image"):
        read_trimap(tmp_path / "rgb_colour.png")


def test_write_alpha_8_and_16_bit_roundtrip(tmp_path):
    alpha = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    write_alpha(tmp_path / "a8.png", alpha, 8)
    write_alpha(tmp_path / "a16.png", alpha, 16)
    a8 = cv2.imread(str(tmp_path / "a8.png"), cv2.IMREAD_UNCHANGED)
    a16 = cv2.imread(str(tmp_path / "a16.png"), cv2.IMREAD_UNCHANGED)
    assert a8.dtype == np.uint8 and a16.dtype == np.uint16
    assert np.allclose(read_alpha(tmp_path / "a16.png"), alpha, atol=1e-5)


def test_write_rgba_straight_alpha_and_rgb_formats(tmp_path):
    rgb = np.full((4, 5, 3), [1.0, 0.5, 0.0], np.float32)
    alpha = np.full((4, 5), 0.5, np.float32)
    write_rgba(tmp_path / "c.png", rgb, alpha)
    write_rgba(tmp_path / "c.webp", rgb, alpha)
    png = np.asarray(Image.open(tmp_path / "c.png"))
    assert png.shape == (4, 5, 4) and tuple(png[0, 0]) == (255, 128, 0, 128)  # straight, not premultiplied
    assert np.asarray(Image.open(tmp_path / "c.webp")).shape == (4, 5, 4)
    write_rgb(tmp_path / "x.jpg", rgb, quality=80)
    assert Image.open(tmp_path / "x.jpg").format == "JPEG"
    with pytest.raises(ImageError, match="unsupported output format"):
        write_rgb(tmp_path / "x.gifx", rgb)


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", boom)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_bytes(target, b"new data")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temp file left behind


def test_atomic_write_unwritable_folder(tmp_path):
    with pytest.raises(OSError, match="does not exist"):
        atomic_write_bytes(tmp_path / "nope" / "x.png", b"1")


def test_atomic_write_gives_normal_permissions(tmp_path):
    import os

    atomic_write_bytes(tmp_path / "x.bin", b"1")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "x.bin").stat().st_mode & 0o777 == 0o666 & ~umask


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n/loop { loop } def loop\nshowpage\n%%EOF\n"


@pytest.mark.parametrize("name", ["photo.png", "photo.jpg", "photo.eps"])
def test_never_runs_a_decoder_we_did_not_choose(tmp_path, name, monkeypatch):
    """An EPS (Pillow would run Ghostscript on it, and this one loops forever) or an ICO under any
    name is refused as unsupported, without any external program being started."""
    import subprocess

    def no_programs(*args, **kwargs):
        raise AssertionError(f"an external program was started: {args[0] if args else kwargs}")

    monkeypatch.setattr(subprocess, "Popen", no_programs)
    monkeypatch.setattr(subprocess, "check_call", no_programs)
    (tmp_path / name).write_bytes(EPS)
    for reader in (read_image, read_trimap):
        with pytest.raises(ImageError, match="not a supported image format"):
            reader(tmp_path / name)
    Image.fromarray(_rgb8(16, 16)).save(tmp_path / "icon.ico", format="ICO")
    (tmp_path / "icon.png").write_bytes((tmp_path / "icon.ico").read_bytes())
    with pytest.raises(ImageError, match="not a supported image format"):
        read_image(tmp_path / "icon.png")


def test_refuses_a_file_far_larger_than_its_pixels_before_reading_it(tmp_path, monkeypatch):
    """A 16-bit PNG with a huge tail is refused from its size, before any byte is read into memory."""
    from matting_gui.core.files import imageio

    path = tmp_path / "tail.png"
    cv2.imwrite(str(path), (np.ones((8, 8, 3)) * 40000).astype(np.uint16))
    assert read_image(path).bit_depth == 16
    monkeypatch.setattr(imageio, "FILE_SLACK_BYTES", 1000)
    with open(path, "ab") as f:
        f.write(b"\0" * 5000)
    monkeypatch.setattr(np, "fromfile", lambda *a, **k: pytest.fail("the file was read"))
    with pytest.raises(ImageError, match="far larger"):
        read_image(path)


def test_corrupt_exif_is_a_one_line_error(tmp_path):
    """Broken EXIF (an IFD pointing past the end) gives an ImageError naming the file or is ignored,
    never a struct.error or TypeError traceback."""
    arr = _rgb8()
    exif = Image.Exif()
    exif[0x0112] = 6
    raw = bytearray(exif.tobytes())
    raw[-4:] = b"\xff\xff\xff\x7f"  # the next-IFD offset far past the end
    Image.fromarray(arr).save(tmp_path / "e.jpg", exif=bytes(raw))
    try:
        img = read_image(tmp_path / "e.jpg")
    except ImageError as exc:
        assert "e.jpg" in str(exc) and "\n" not in str(exc)
    else:
        assert img.rgb.shape[2] == 3


@pytest.mark.parametrize("orientation", range(1, 9))
def test_tiff_orientation_applied_exactly_once_for_every_depth(tmp_path, orientation):
    from matting_gui.core.files.imageio import _apply_orientation

    gray8 = (np.arange(6 * 9).reshape(6, 9) * 4).astype(np.uint8)
    gray16 = (np.random.default_rng(2).random((6, 9)) * 65535).astype(np.uint16)
    Image.fromarray(gray8).save(tmp_path / "g.tif", tiffinfo={274: orientation})
    Image.fromarray(gray16).save(tmp_path / "h.tif", tiffinfo={274: orientation})
    want8, want16 = _apply_orientation(gray8, orientation), _apply_orientation(gray16, orientation)
    got8 = read_image(tmp_path / "g.tif").rgb[..., 0]
    got16 = read_image(tmp_path / "h.tif")
    assert got8.shape == want8.shape and np.allclose(got8 * 255, want8, atol=0.01)
    assert got16.bit_depth == 16 and np.allclose(got16.rgb[..., 0] * 65535, want16, atol=0.5)
    assert np.array_equal(read_trimap(tmp_path / "g.tif"), want8)  # trimaps are oriented like photos


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_trimap_follows_the_exif_orientation_of_its_file(tmp_path, orientation):
    from matting_gui.core.files.imageio import _apply_orientation

    tri = np.zeros((10, 16), np.uint8)
    tri[:, :5] = 255
    tri[:, 5:8] = 128
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(tri).save(tmp_path / "t.png", exif=exif)
    assert np.array_equal(read_trimap(tmp_path / "t.png"), _apply_orientation(tri, orientation))


def test_32bit_samples_are_scaled_by_their_range_or_refused(tmp_path):
    floats = np.random.default_rng(1).random((5, 7)).astype(np.float32)
    Image.fromarray(floats, mode="F").save(tmp_path / "f.tif")
    img = read_image(tmp_path / "f.tif")
    assert np.allclose(img.rgb[..., 0], floats, atol=1e-6)  # not black
    ints = (np.arange(35).reshape(5, 7) * 1000).astype(np.int32)
    Image.fromarray(ints, mode="I").save(tmp_path / "i.tif")
    assert np.allclose(read_image(tmp_path / "i.tif").rgb[..., 0], ints / 65535, atol=1e-6)
    classes = np.array([[0, 128, 255]] * 4, np.int32)
    Image.fromarray(classes, mode="I").save(tmp_path / "ti.tif")
    Image.fromarray(classes.astype(np.float32) / 255, mode="F").save(tmp_path / "tf.tif")
    assert np.array_equal(read_trimap(tmp_path / "ti.tif"), classes)
    assert np.array_equal(read_trimap(tmp_path / "tf.tif"), classes)
    for bad in (np.array([[1e9, 0]], np.float32), np.array([[np.nan, 0.5]], np.float32), np.array([[-3, 1]], np.float32)):
        Image.fromarray(bad, mode="F").save(tmp_path / "bad.tif")
        for reader in (read_image, read_trimap):
            with pytest.raises(ImageError, match="bad.tif: 32-bit samples"):
                reader(tmp_path / "bad.tif")


def test_ground_truth_alpha_is_size_checked_before_decoding(tmp_path, monkeypatch):
    (tmp_path / "bomb.png").write_bytes(_png_with_declared_size(30000, 30000))
    monkeypatch.setattr(cv2, "imdecode", lambda *a, **k: pytest.fail("decoded before the size check"))
    with pytest.raises(ImageError, match="exceeds the limit"):
        read_alpha(tmp_path / "bomb.png", max_pixels=100_000_000)
    (tmp_path / "eps.png").write_bytes(EPS)
    with pytest.raises(ImageError, match="not a supported image format"):
        read_alpha(tmp_path / "eps.png")
