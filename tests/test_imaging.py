import io
import struct

import numpy as np
import pytest
from PIL import Image, ImageOps

from denoiser.imaging import (
    ImageError,
    as_batch,
    as_float,
    convert_channels,
    enlarge,
    header_pixels,
    is_high_depth,
    join_alpha,
    read_image,
    resize,
    save_png,
    split_alpha,
)

from .conftest import encoded, png


@pytest.mark.parametrize(
    "shape, batch_shape",
    [((28, 28), (1, 28, 28, 1)), ((32, 32, 3), (1, 32, 32, 3)), ((7, 28, 28), (7, 28, 28, 1)),
     ((2, 32, 32, 3), (2, 32, 32, 3))],
)
def test_as_batch(shape, batch_shape):
    batch, original = as_batch(np.zeros(shape))
    assert batch.shape == batch_shape and original == shape


@pytest.mark.parametrize("shape, message", [
    ((8, 8, 2), "has 2"), ((1, 8, 8, 5), "has 5"), ((0, 8, 8, 3), "empty"), ((0, 8, 8), "empty"), ((8,), "shape"),
    ((32, 32, 5), r"has 5 \(a batch of gray images is \(N, H, W, 1\)\)"), ((4, 28, 8), "has 8"),
])
def test_arrays_that_are_no_image_are_refused_with_a_reason(shape, message):
    with pytest.raises(ImageError, match=message):
        as_batch(np.zeros(shape))


def test_a_batch_of_images_of_different_sizes_is_refused_with_a_reason():
    with pytest.raises(ImageError, match="must share one shape"):
        as_batch([np.zeros((8, 8)), np.zeros((9, 9))])


def test_arrays_of_any_usable_type_come_to_the_same_scale_and_the_rest_are_refused():
    pixels = np.array([[0, 51, 255]], np.uint8)
    assert as_float(pixels)[0].tolist() == pytest.approx([0.0, 0.2, 1.0])
    assert as_float(pixels.astype(np.uint16) * 257)[0].tolist() == pytest.approx([0.0, 0.2, 1.0])
    assert as_float(np.array([True, False])).tolist() == [1.0, 0.0]
    assert as_float(np.array([0.5], np.float64)).dtype == np.float32
    with pytest.raises(ImageError, match="unsigned integers"):
        as_float(pixels.astype(np.int64))  # 0-255 or 0-65535? not guessed
    for wide in (np.uint32, np.uint64):  # scaled by 2**32 - 1, a 0-255 image would come out black
        with pytest.raises(ImageError, match="uint8, uint16"):
            as_float(pixels.astype(wide))
    noisy = np.array([[-1.5, 0.5, 2.5]], np.float32)  # unclipped noise around a [0, 1] image is taken as it is
    assert as_float(noisy).tolist() == noisy.tolist()
    with pytest.raises(ImageError, match="0 to 255.*divide it by 255"):  # a 0-255 image cast to float
        as_float(pixels.astype(np.float32))
    for bad in (np.nan, np.inf):
        with pytest.raises(ImageError, match="NaN or infinite"):
            as_batch(np.array([[0.5, bad]]))


def test_channel_conversion():
    rgb = np.zeros((1, 2, 2, 3), np.float32)
    rgb[..., 1] = 1.0
    gray = convert_channels(rgb, 1)
    assert gray.shape == (1, 2, 2, 1) and np.allclose(gray, 0.587)
    assert convert_channels(gray, 3).shape == (1, 2, 2, 3)


def test_resize_and_enlarge():
    assert resize(np.ones((2, 64, 48, 1), np.float32), (28, 28)).shape == (2, 28, 28, 1)
    big = enlarge(np.arange(4).reshape(2, 2), min_side=8)
    assert big.shape == (8, 8) and big[3, 3] == 0 and big[4, 4] == 3


def test_reads_sixteen_bit_palette_rgba_cmyk():
    sixteen = Image.fromarray(np.full((4, 4), 65535, np.uint16))
    image, _ = read_image(encoded(sixteen), 10**6)
    assert image.shape == (4, 4, 1) and np.allclose(image, 1.0)
    for mode in ("P", "RGBA"):
        image, _ = read_image(encoded(Image.new("RGB", (5, 3), (255, 0, 0)).convert(mode)), 10**6)
        assert image.shape == (3, 5, 3) and image[0, 0, 0] > 0.9
    image, _ = read_image(encoded(Image.new("CMYK", (5, 3), (0, 255, 255, 0)), format="JPEG"), 10**6)
    assert image.shape == (3, 5, 3) and image[0, 0, 0] > 0.8 and image[0, 0, 1] < 0.2


def test_exif_rotation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = encoded(Image.new("RGB", (40, 20), (0, 0, 255)), format="JPEG", exif=exif.tobytes())
    image, _ = read_image(data, 10**6)
    assert image.shape == (40, 20, 3)


@pytest.mark.parametrize("format", ["PNG", "TIFF"])  # Pillow turns a TIFF itself as it decodes it: not twice
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_turned_as_pillow_turns_it(orientation, format):
    stored = Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4) * 20)  # no two pixels alike
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encoded(stored, format, exif=exif.tobytes())
    image, _ = read_image(data)
    assert np.array_equal(np.round(image[..., 0] * 255), ImageOps.exif_transpose(Image.open(io.BytesIO(data))))


def exif_with_a_mistyped_tag(orientation: int) -> bytes:
    """An EXIF block as a phone app might write it: the orientation, and ImageWidth stored as text, not a number."""
    entries = [struct.pack(">HHI4s", 0x0100, 2, 4, b"abc\0"), struct.pack(">HHIH2x", 0x0112, 3, 1, orientation)]
    return b"Exif\0\0MM\0*" + struct.pack(">IH", 8, len(entries)) + b"".join(entries) + bytes(4)


@pytest.mark.parametrize("format", ["JPEG", "PNG", "WEBP"])
def test_a_mistyped_exif_tag_elsewhere_does_not_stop_the_photo_from_reading_upright(format):
    """ImageOps.exif_transpose writes the EXIF anew, and failed (struct.error) on such a file Pillow decodes well."""
    data = encoded(Image.new("RGB", (40, 20), (0, 0, 255)), format=format, exif=exif_with_a_mistyped_tag(6))
    image, _ = read_image(data)
    assert image.shape == (40, 20, 3) and image[..., 2].mean() > 0.9


def test_a_turned_photos_downscale_note_gives_its_sizes_as_it_is_shown():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored lying down, shown standing
    image, note = read_image(encoded(Image.new("RGB", (400, 100)), "JPEG", exif=exif.tobytes()), 10_000)
    assert image.shape[:2] == (200, 50) and note.startswith("Downscaled from 100×400 to 50×200 ")


def test_first_frame_of_animation_and_downscale_note():
    frames = [Image.new("L", (10, 10), v) for v in (0, 255)]
    image, note = read_image(encoded(frames[0], "GIF", save_all=True, append_images=frames[1:]), 10**6)
    assert image.max() == 0 and note == "The first of its frames."
    assert read_image(encoded(frames[0], "GIF"))[1] == ""  # the settings' pixel limit when none is given
    image, note = read_image(encoded(Image.new("L", (400, 100))), 10_000)
    assert image.shape[0] * image.shape[1] <= 10_000 and note.startswith("Downscaled from 400×100")


def test_frames_are_never_counted_and_a_damaged_later_page_or_a_cameras_preview_is_no_matter(monkeypatch):
    """Pillow counts a TIFF's pages by reading them all: 100,000 tiny pages took 78 s to count."""
    from PIL import TiffImagePlugin

    def counted(self):
        raise AssertionError("n_frames read")

    monkeypatch.setattr(TiffImagePlugin.TiffImageFile, "n_frames", property(counted))
    pages = [Image.new("L", (8, 8), v) for v in (10, 200, 90)]
    tiff = encoded(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    image, note = read_image(tiff)
    assert round(image.max() * 255) == 10 and note == "The first of its frames."
    assert read_image(tiff[: len(tiff) * 2 // 3])[0].shape == (8, 8, 1)  # the later pages cut off
    camera = encoded(Image.new("RGB", (64, 48), (200, 30, 30)), "MPO", save_all=True,
                     append_images=[Image.new("RGB", (16, 12))])  # a photo and its preview, as cameras write
    assert Image.open(io.BytesIO(camera)).format == "MPO" and read_image(camera)[1] == ""


def test_formats_that_hold_no_picture_or_run_programs_are_not_opened(monkeypatch, tmp_path):
    from PIL import EpsImagePlugin

    runs = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *args, **kwargs: runs.append(args))
    eps = encoded(Image.new("RGB", (8, 8)), "EPS")  # Pillow would hand it to Ghostscript, where a server has it
    with pytest.raises(ImageError, match="not an image that can be read"):
        read_image(eps)
    (tmp_path / "x.eps").write_bytes(eps)
    assert runs == [] and header_pixels(tmp_path / "x.eps") == 0
    assert read_image(encoded(Image.new("RGB", (8, 8)), "QOI"))[0].shape == (8, 8, 3)  # a picture format is read


@pytest.mark.parametrize("data", [b"hello, not an image", encoded(Image.new("RGB", (50, 50)))[:60]])
def test_broken_files_raise_image_error(data):
    with pytest.raises(ImageError):
        read_image(data, 10**6)


def test_a_thin_strip_is_not_enlarged_past_the_longest_side():
    assert enlarge(np.zeros((1, 5000)), 320, 1600).shape == (1, 5000)
    assert enlarge(np.zeros((1, 100)), 320, 1600).shape == (16, 1600)
    assert enlarge(np.zeros((28, 28)), 320, 1600).shape == (308, 308)


def test_high_depth_images_are_scaled_by_their_type_not_their_values():
    dark = Image.fromarray(np.array([[0, 163]], np.uint16))  # 16-bit, nearly black
    image, _ = read_image(encoded(dark), 10**6)
    assert np.allclose(image[0, :, 0], [0, 163 / 65535])
    ramp = Image.fromarray(np.array([[0.0, 0.25, 1.0]], np.float32))  # float TIFF in [0, 1]
    image, _ = read_image(encoded(ramp, format="TIFF"), 10**6)
    assert np.allclose(image[0, :, 0], [0, 0.25, 1])


@pytest.mark.parametrize("values, message", [
    ([[0.0, 128.0, 255.0]], "0-255 image"),  # on the 0-255 scale: it would come out all white
    ([[0.0, np.nan, 1.0]], "NaN"),
], ids=["0-255", "NaN"])
def test_float_image_files_are_held_to_what_float_arrays_are(values, message):
    with pytest.raises(ImageError, match=message):
        read_image(encoded(Image.fromarray(np.array(values, np.float32)), format="TIFF"))


def test_transparency_is_kept_as_alpha():
    rgba = Image.new("RGBA", (4, 2), (0, 0, 0, 0))
    rgba.putpixel((1, 1), (0, 0, 0, 255))
    palette = Image.new("P", (4, 2), 1)
    palette.putpalette([0, 0, 0, 255, 255, 255])
    palette.putpixel((1, 1), 0)
    palette.info["transparency"] = 1
    for image in (rgba, rgba.convert("LA"), palette):
        read, _ = read_image(encoded(image), 10**6)
        assert read.shape == (2, 4, 4) and read[..., 3].sum() == 1 and read[1, 1, 3] == 1
    opaque, _ = read_image(encoded(Image.new("RGBA", (4, 2), (9, 9, 9, 255))), 10**6)
    assert opaque.shape == (2, 4, 3)


def test_split_and_join_alpha():
    rgba = np.random.default_rng(0).random((3, 5, 4)).astype(np.float32)
    colour, alpha = split_alpha(rgba)
    assert colour.shape == (3, 5, 3) and np.array_equal(join_alpha(colour, alpha), rgba)
    assert join_alpha(colour[..., :1], alpha).shape == (3, 5, 4)
    assert split_alpha(colour)[1] is None


def test_too_many_pixels_are_refused_from_the_header(monkeypatch):
    monkeypatch.setenv("DENOISER_DECODE_MAX_PIXELS", "1000000")
    with pytest.raises(ImageError, match="2000×1000 = 2,000,000 pixels; images over 1,000,000"):
        read_image(png(2000, 1000, 1), 10**6)  # the data is one row: decoding would fail differently


def bmp_header(width: int, height: int) -> bytes:
    """A 1×1 BMP whose header claims width × height."""
    data = bytearray(encoded(Image.new("L", (1, 1)), format="BMP"))
    struct.pack_into("<ii", data, 18, width, height)
    return bytes(data)


@pytest.mark.parametrize("bomb", [png(30000, 30000, 1), bmp_header(20000, 20000)], ids=["PNG", "BMP"])
def test_headers_past_pillows_own_bomb_limit_get_the_same_message(bomb):
    with pytest.raises(ImageError, match="over 64,000,000 pixels; images that large are not decoded"):
        read_image(bomb, 10**6)


def test_whatever_pillow_raises_on_a_damaged_header_it_has_no_pixels_and_a_failed_decode_is_an_image_error(
        monkeypatch, tmp_path):
    path = tmp_path / "damaged.avif"
    path.write_bytes(encoded(Image.new("RGB", (8, 8))))
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: (_ for _ in ()).throw(
        RuntimeError("Failed to decode image: Missing or empty image item")))  # as a damaged AVIF makes it
    assert header_pixels(path) == 0 and not is_high_depth(path)
    with pytest.raises(ImageError, match="could not be read: Failed to decode image"):
        read_image(path)
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: (_ for _ in ()).throw(MemoryError()))
    with pytest.raises(MemoryError):  # not the file's fault: no refusal for it
        read_image(path)


def test_header_pixels_reads_only_the_header(tmp_path):
    (tmp_path / "huge.png").write_bytes(png(2000, 1000, 1))
    (tmp_path / "text.png").write_text("not an image")
    assert header_pixels(tmp_path / "huge.png") == 2_000_000 and header_pixels(tmp_path / "text.png") == 0


def test_long_sides_and_big_jpegs_are_downscaled_cheaply(monkeypatch):
    monkeypatch.setenv("DENOISER_MAX_SIDE", "500")
    image, note = read_image(encoded(Image.new("L", (2000, 1))), 10**6)
    assert image.shape == (1, 500, 1) and "Downscaled from 2000×1 to 500×1" in note
    monkeypatch.setenv("DENOISER_DECODE_MAX_PIXELS", "1000000")  # the JPEG is 4 MP: only its 1/2 scale fits
    image, note = read_image(encoded(Image.new("RGB", (2400, 1600), (200, 0, 0)), format="JPEG"), 500 * 300)
    assert image.shape[0] * image.shape[1] <= 500 * 300 and "Downscaled from 2400×1600" in note


SRGB_COLUMNS = {"r": (0.4361, 0.2225, 0.0139), "g": (0.3851, 0.7169, 0.0971), "b": (0.1431, 0.0606, 0.7142)}
"""sRGB's primaries in the ICC connection space (D50): the XYZ of full red, green and blue."""


def icc_profile(columns: dict[str, tuple[float, float, float]], name: str = "test RGB") -> bytes:
    """A minimal ICC v2 display profile: the given primaries, a 2.2 gamma, D50 white (ICC.1:2001-04)."""
    def fixed(*values: float) -> bytes:
        return struct.pack(">3i", *(round(v * 65536) for v in values))

    d50 = (0.9642, 1.0, 0.8249)
    text = name.encode() + b"\0"
    tags = {b"desc": b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67),
            b"cprt": b"text" + bytes(4) + b"none\0",
            b"wtpt": b"XYZ " + bytes(4) + fixed(*d50),
            **{c.encode() + b"XYZ": b"XYZ " + bytes(4) + fixed(*columns[c]) for c in "rgb"},
            **{c.encode() + b"TRC": b"curv" + bytes(4) + struct.pack(">IH", 1, round(2.2 * 256)) for c in "rgb"}}
    offset, table, body = 128 + 4 + 12 * len(tags), b"", b""
    for signature, data in tags.items():
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data + bytes(-len(data) % 4)
    size = offset + len(body)
    header = (struct.pack(">I", size) + bytes(4) + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + bytes(24) + struct.pack(">I", 0) + fixed(*d50)
              + bytes(48))
    return header + struct.pack(">I", len(tags)) + table + body


def test_an_embedded_colour_profile_is_applied():
    """A profile whose red is sRGB's green: a file's pure red pixel is a green one, and reads as green."""
    swapped = icc_profile({**SRGB_COLUMNS, "r": SRGB_COLUMNS["g"], "g": SRGB_COLUMNS["r"]})
    for mode, fmt in (("RGB", "PNG"), ("RGB", "JPEG"), ("RGBA", "PNG")):
        red = Image.new(mode, (6, 4), (255, 0, 0, 128)[: len(mode)])
        image, _ = read_image(encoded(red, fmt, icc_profile=swapped), 10**6)
        assert image.shape[-1] == len(mode) and image[0, 0, 1] > 0.9 and image[0, 0, 0] < 0.1, (mode, fmt)
        if mode == "RGBA":
            assert abs(image[0, 0, 3] - 128 / 255) < 0.01  # transparency kept
    palette = Image.new("P", (6, 4), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255])
    palette.putpixel((5, 3), 1)
    for info, channels in (({}, 3), ({"transparency": 1}, 4)):  # the last pixel's colour is see-through
        image, _ = read_image(encoded(palette, icc_profile=swapped, **info), 10**6)
        assert image.shape[-1] == channels and image[0, 0, 1] > 0.9 and image[0, 0, 0] < 0.1, info
    assert image[0, 0, 3] == 1 and image[3, 5, 3] == 0
    plain, _ = read_image(encoded(Image.new("RGB", (6, 4), (200, 60, 30)), icc_profile=icc_profile(SRGB_COLUMNS)),
                          10**6)
    assert np.abs(plain[0, 0] * 255 - (200, 60, 30)).max() <= 12  # near sRGB: near unchanged


def test_a_broken_or_unfitting_colour_profile_is_ignored():
    for profile in (b"not a profile", icc_profile(SRGB_COLUMNS)[:100]):
        image, _ = read_image(encoded(Image.new("RGB", (6, 4), (255, 0, 0)), icc_profile=profile), 10**6)
        assert np.allclose(image[0, 0], (1, 0, 0))
    gray, _ = read_image(encoded(Image.new("L", (6, 4), 77), icc_profile=icc_profile(SRGB_COLUMNS)), 10**6)
    assert gray.shape == (4, 6, 1) and np.allclose(gray, 77 / 255)


def test_an_image_over_the_pixel_limit_is_refused_before_it_is_copied():
    huge = np.broadcast_to(np.uint8(7), (5000, 5000, 3))  # no memory behind it: a float copy would take 300 MB
    with pytest.raises(ImageError, match="25,000,000 pixels; the limit is 1,000,000"):
        as_batch(huge, 1_000_000)
    assert as_batch(huge[:10, :10], 1_000_000)[0].shape == (1, 10, 10, 3)


def test_a_signed_or_32_bit_integer_image_file_is_refused_not_guessed():
    wide = Image.fromarray(np.full((4, 6), 2**20, np.int32), mode="I")
    with pytest.raises(ImageError, match="32-bit"):
        read_image(encoded(wide, "TIFF"), 10**6)
    signed = Image.fromarray(np.array([[-12000, 0, 13500]], np.int32), mode="I")  # black is not 0 here
    with pytest.raises(ImageError, match="signed"):
        read_image(encoded(signed, "TIFF"))
    sixteen, _ = read_image(encoded(Image.fromarray(np.full((4, 6), 32768, np.int32), mode="I"), "TIFF"), 10**6)
    assert np.allclose(sixteen, 32768 / 65535)


def test_files_over_the_size_limit_are_not_read(tmp_path, monkeypatch):
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (800, 800, 3), np.uint8)).save(tmp_path / "x.png")
    monkeypatch.setenv("DENOISER_MAX_FILE_MB", "1")  # the PNG of noise is about 1.9 MB
    with pytest.raises(ImageError, match="larger than 1 MB"):
        read_image(tmp_path / "x.png", 10**6)
    monkeypatch.setenv("DENOISER_MAX_FILE_MB", "2")
    assert read_image(tmp_path / "x.png", 10**6)[0].shape == (800, 800, 3)


def test_a_gray_image_keeps_16_bits_when_asked_and_colour_stays_8(tmp_path):
    ramp = np.linspace(0, 1, 4096, dtype=np.float32).reshape(64, 64, 1)
    save_png(ramp, tmp_path / "deep.png", high_depth=True)
    save_png(ramp, tmp_path / "plain.png")
    assert is_high_depth(tmp_path / "deep.png") and not is_high_depth(tmp_path / "plain.png")
    assert np.abs(read_image(tmp_path / "deep.png")[0] - ramp).max() < 1e-5  # 8 bits would be 2e-3 off
    assert np.abs(read_image(tmp_path / "plain.png")[0] - ramp).max() > 1e-3
    save_png(np.zeros((4, 4, 3)), tmp_path / "colour.png", high_depth=True)
    assert Image.open(tmp_path / "colour.png").mode == "RGB"
    (tmp_path / "text.png").write_text("no image")
    assert not is_high_depth(tmp_path / "text.png") and not is_high_depth(tmp_path / "missing.png")
