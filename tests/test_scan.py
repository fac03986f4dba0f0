"""verifier.scan: real QR images in, QR text or a precise refusal out.

Every image is drawn here, in ``tmp_path`` or in memory: no fixtures on disk, no mocks.
Memory is measured in a subprocess (``ru_maxrss`` is a high-water mark for the whole
process, so it has to start clean).
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import pytest
import qrcode
import qrcode.constants
import qrcode.util
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from tests.memory import clean_start
from verifier import errors
from verifier.qrtext import encode_qr_text
from verifier.scan import (
    DEFAULT_IMAGE_LIMITS,
    ImageLimits,
    ImageSource,
    read_qr_texts,
    scan_credential_text,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
JWS_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
MIB = 1024 * 1024


def credential_text(seed: int) -> str:
    """A credential-shaped QR text: PC1: and a random JWS of credential length."""
    rng = random.Random(seed)
    middle = rng.randint(130, 190)
    jws = ".".join("".join(rng.choices(JWS_ALPHABET, k=size)) for size in (36, middle, 86))
    return encode_qr_text(jws)


def qr_image(text: str, box_size: int = 4, border: int = 4) -> Image.Image:
    """The QR of ``text`` as plainclaim lays it out (PC1: alphanumeric, digits numeric)."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border
    )
    if text.startswith("PC1:"):
        qr.add_data(qrcode.util.QRData(b"PC1:", mode=qrcode.util.MODE_ALPHA_NUM))
        qr.add_data(qrcode.util.QRData(text[4:].encode(), mode=qrcode.util.MODE_NUMBER))
    else:
        qr.add_data(text)
    qr.make(fit=True)
    image: Image.Image = qr.make_image().get_image()
    return image.convert("L")


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def side_by_side(*images: Image.Image) -> Image.Image:
    """The images on one white sheet, left to right."""
    gap = 40
    sheet = Image.new(
        "L",
        (
            sum(image.width for image in images) + gap * (len(images) + 1),
            max(i.height for i in images) + 2 * gap,
        ),
        255,
    )
    x = gap
    for image in images:
        sheet.paste(image, (x, gap))
        x += image.width + gap
    return sheet


def seeded_noise(rng: random.Random, size: tuple[int, int], sigma: float) -> Image.Image:
    """Noise centred on 128, from ``rng`` (Pillow's effect_noise is not seedable)."""
    first = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    second = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    spread = sigma / (255 / math.sqrt(24))
    return ImageChops.add(first, second, 2.0).point(lambda v: round(128 + (v - 127.5) * spread))


def photo_frame(
    text: str, seed: int, *, blur: float, noise: float, quality: int, angle: float
) -> bytes:
    """A 1280x960 webcam-like JPEG: the QR a quarter of the width, rotated on a grey desk,
    dim and low in contrast, out of focus, noisy."""
    rng = random.Random(seed)
    width, height = 1280, 960
    modules = qr_image(text, box_size=1)
    side = width // 4
    symbol = modules.resize((side, side), Image.Resampling.NEAREST)
    paper = Image.new("L", (side + 40, side + 40), 255)
    paper.paste(symbol, (20, 20))
    mask = Image.new("L", paper.size, 255)
    paper = paper.rotate(angle, Image.Resampling.BICUBIC, expand=True)
    mask = mask.rotate(angle, Image.Resampling.BICUBIC, expand=True)
    desk = Image.linear_gradient("L").resize((width, height)).point(lambda v: 70 + v // 4)
    ImageDraw.Draw(desk).rectangle((900, 600, 1200, 700), fill=200)
    desk.paste(paper, (rng.randint(50, 700), rng.randint(50, 400)), mask)
    frame = desk.point(lambda v: 60 + v * 110 // 255).filter(ImageFilter.GaussianBlur(blur))
    frame = ImageChops.add(frame, seeded_noise(rng, frame.size, noise), 1.0, -128)
    return encode(frame.convert("RGB"), "JPEG", quality=quality)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A valid-looking PNG of a few dozen bytes whose header declares ``width`` x ``height``."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    first_row = zlib.compress(b"\0" * (width + 1))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", first_row)
        + png_chunk(b"IEND", b"")
    )


def run_measured(script: str, *args: str) -> dict[str, object]:
    """Run ``script`` in a fresh interpreter and return the JSON it prints last."""
    completed = subprocess.run(
        clean_start([sys.executable, "-c", script, *args]),
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


CREDENTIAL = credential_text(1)
OTHER_CREDENTIAL = credential_text(2)


@pytest.fixture(scope="module")
def credential_qr() -> Image.Image:
    return qr_image(CREDENTIAL)


# Reading: formats and kinds of source


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize("kind", ["path", "pathlike", "bytes", "file", "pil"])
def test_reads_each_format_from_each_kind_of_source(
    tmp_path: Path, credential_qr: Image.Image, image_format: str, kind: str
) -> None:
    options = {"quality": 90} if image_format in ("JPEG", "WEBP") else {}
    data = encode(credential_qr.convert("RGB"), image_format, **options)
    path = tmp_path / f"credential.{image_format.lower()}"
    path.write_bytes(data)
    sources: dict[str, ImageSource] = {
        "path": str(path),
        "pathlike": path,
        "bytes": data,
        "file": io.BytesIO(data),
        "pil": Image.open(path),
    }
    assert scan_credential_text(sources[kind]) == CREDENTIAL


def test_reads_from_an_open_file_and_a_bytearray(
    tmp_path: Path, credential_qr: Image.Image
) -> None:
    path = tmp_path / "credential.png"
    credential_qr.save(path)
    with path.open("rb") as file:
        assert read_qr_texts(file) == [CREDENTIAL]
    assert read_qr_texts(bytearray(path.read_bytes())) == [CREDENTIAL]
    assert read_qr_texts(memoryview(path.read_bytes())) == [CREDENTIAL]


@pytest.mark.parametrize("mode", ["1", "P", "RGBA", "LA", "I;16", "CMYK"])
def test_reads_every_pixel_mode(credential_qr: Image.Image, mode: str) -> None:
    if mode == "I;16":
        # Dark 1000, light 26500: a plain convert("L") would clip both to white.
        image = credential_qr.point(lambda v: 1000 + v * 100, "I").convert("I;16")
    else:
        image = credential_qr.convert(mode)
    assert scan_credential_text(image) == CREDENTIAL


def test_reads_a_qr_drawn_on_a_transparent_background(credential_qr: Image.Image) -> None:
    # Black modules on fully transparent *black*: dropping alpha naively gives a black square.
    transparent = Image.new("RGBA", credential_qr.size, (0, 0, 0, 0))
    black = Image.new("RGBA", credential_qr.size, (0, 0, 0, 255))
    drawn = Image.composite(black, transparent, credential_qr.point(lambda v: 255 - v))
    assert scan_credential_text(encode(drawn, "PNG")) == CREDENTIAL
    assert scan_credential_text(encode(drawn, "WEBP", lossless=True)) == CREDENTIAL


def test_a_callers_image_is_left_as_it_was(tmp_path: Path, credential_qr: Image.Image) -> None:
    path = tmp_path / "credential.jpg"
    credential_qr.convert("RGB").resize((2400, 2400)).save(path, quality=90)
    with Image.open(path) as image:
        assert scan_credential_text(image) == CREDENTIAL
        assert (image.mode, image.size) == ("RGB", (2400, 2400))


# Photos


# (blur sigma, noise sigma, JPEG quality): a plain read, then frames only the denoising
# fallback reads, then frames only the sharpened crop reads (checked when this was written).
DEGRADED_FRAMES = [
    (1.0, 6, 60),
    (1.8, 14, 60),
    (2.0, 10, 40),
]


@pytest.mark.parametrize(("blur", "noise", "quality"), DEGRADED_FRAMES)
@pytest.mark.parametrize("seed", [0, 2])
def test_reads_a_degraded_photo_frame(blur: float, noise: int, quality: int, seed: int) -> None:
    frame = photo_frame(
        CREDENTIAL, seed, blur=blur, noise=noise, quality=quality, angle=17 + 40 * seed
    )
    assert scan_credential_text(frame) == CREDENTIAL


def test_fallbacks_read_frames_a_plain_zxing_read_misses() -> None:
    frames = [
        photo_frame(CREDENTIAL, seed, blur=blur, noise=noise, quality=quality, angle=17 + 40 * seed)
        for blur, noise, quality in DEGRADED_FRAMES[1:]
        for seed in (1, 3)
    ]
    plain = sum(
        CREDENTIAL
        in [barcode.text for barcode in zxingcpp.read_barcodes(Image.open(io.BytesIO(frame)))]
        for frame in frames
    )
    ours = sum(read_qr_texts(frame) == [CREDENTIAL] for frame in frames)
    assert ours == len(frames)
    assert plain < ours


def test_a_12_megapixel_photo_is_read_in_under_200_mb(tmp_path: Path) -> None:
    photo = Image.linear_gradient("L").resize((4000, 3000)).point(lambda v: 90 + v // 3)
    symbol = qr_image(CREDENTIAL, box_size=12)
    photo.paste(symbol, (1500, 900))
    path = tmp_path / "phone.jpg"
    photo.convert("RGB").save(path, quality=88)
    del photo
    script = """
import json, resource, sys
from verifier.scan import scan_credential_text
text = scan_credential_text(sys.argv[1])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"read": text == sys.argv[2], "peak_kib": peak}))
"""
    measured = run_measured(script, str(path), CREDENTIAL)
    assert measured["read"] is True
    assert isinstance(measured["peak_kib"], int)
    assert measured["peak_kib"] < 200 * 1024


# Refusals: size


@pytest.mark.parametrize("side", [20_000, 11_000])
def test_a_decompression_bomb_is_refused_from_its_header(tmp_path: Path, side: int) -> None:
    bomb = png_bomb(side, side)
    assert len(bomb) < 1024
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb)
    for source in (bomb, path, io.BytesIO(bomb)):
        with pytest.raises(errors.ImageTooLarge):
            scan_credential_text(source)


def test_bombs_are_refused_fast_and_with_little_memory(tmp_path: Path) -> None:
    paths = []
    for side in (20_000, 11_000):
        paths.append(tmp_path / f"bomb-{side}.png")
        paths[-1].write_bytes(png_bomb(side, side))
    script = """
import json, resource, sys, time
from pathlib import Path
from verifier.errors import ImageTooLarge
from verifier.scan import read_qr_texts
bombs = [Path(name).read_bytes() for name in sys.argv[1:]]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
seconds = []
for bomb in bombs:
    started = time.perf_counter()
    try:
        read_qr_texts(bomb)
    except ImageTooLarge:
        seconds.append(time.perf_counter() - started)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "growth_kib": after - before}))
"""
    measured = run_measured(script, *map(str, paths))
    seconds = measured["seconds"]
    assert isinstance(seconds, list)
    assert len(seconds) == 2  # both refused with ImageTooLarge
    assert max(seconds) < 0.2
    assert isinstance(measured["growth_kib"], int)
    assert measured["growth_kib"] < 32 * 1024


def test_refusing_a_bomb_leaves_the_warning_filters_as_they_were() -> None:
    before = list(warnings.filters)
    with pytest.raises(errors.ImageTooLarge):
        read_qr_texts(png_bomb(11_000, 11_000))
    assert warnings.filters == before


def test_the_default_pixel_cap_admits_a_48_megapixel_photo() -> None:
    assert 8000 * 6000 <= DEFAULT_IMAGE_LIMITS.max_pixels < 11_000 * 11_000


def test_over_the_pixel_cap_is_refused_before_decoding(credential_qr: Image.Image) -> None:
    limits = ImageLimits(max_pixels=credential_qr.width * credential_qr.height - 1)
    with pytest.raises(errors.ImageTooLarge):
        read_qr_texts(encode(credential_qr, "PNG"), limits)
    with pytest.raises(errors.ImageTooLarge):
        read_qr_texts(credential_qr, limits)


def test_webp_has_a_lower_pixel_cap_than_jpeg(credential_qr: Image.Image) -> None:
    # WebP cannot be decoded at reduced size, so its cap keeps peak memory bounded.
    pixels = credential_qr.width * credential_qr.height
    limits = ImageLimits(max_webp_pixels=pixels - 1)
    with pytest.raises(errors.ImageTooLarge):
        read_qr_texts(encode(credential_qr.convert("RGB"), "WEBP", lossless=True), limits)
    assert read_qr_texts(encode(credential_qr.convert("RGB"), "JPEG"), limits)


def test_over_the_byte_cap_is_refused_unread(tmp_path: Path, credential_qr: Image.Image) -> None:
    data = encode(credential_qr, "PNG")
    limits = ImageLimits(max_bytes=len(data) - 1)
    path = tmp_path / "credential.png"
    path.write_bytes(data)
    for source in (data, path, io.BytesIO(data)):
        with pytest.raises(errors.ImageTooLarge):
            read_qr_texts(source, limits)
    assert read_qr_texts(data, ImageLimits(max_bytes=len(data))) == [CREDENTIAL]


def test_over_the_default_byte_cap_is_refused() -> None:
    with pytest.raises(errors.ImageTooLarge):
        read_qr_texts(b"\x89PNG\r\n\x1a\n" + bytes(20 * MIB))


# Refusals: not an image we accept


@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused(
    tmp_path: Path, credential_qr: Image.Image, image_format: str
) -> None:
    data = encode(credential_qr, image_format)
    path = tmp_path / f"credential.{image_format.lower()}"
    path.write_bytes(data)
    for source in (data, path, Image.open(path)):
        with pytest.raises(errors.NotAnImage):
            read_qr_texts(source)


def test_formats_can_be_narrowed_but_not_widened(credential_qr: Image.Image) -> None:
    png_only = ImageLimits(formats=frozenset({"PNG"}))
    assert read_qr_texts(encode(credential_qr, "PNG"), png_only) == [CREDENTIAL]
    with pytest.raises(errors.NotAnImage):
        read_qr_texts(encode(credential_qr, "JPEG"), png_only)
    with pytest.raises(errors.UsageError):
        ImageLimits(formats=frozenset({"PNG", "GIF"}))
    with pytest.raises(errors.UsageError):
        ImageLimits(max_bytes=0)


def test_a_text_file_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "credential.png"
    path.write_text(CREDENTIAL + "\n")
    with pytest.raises(errors.NotAnImage):
        scan_credential_text(path)


@pytest.mark.parametrize("data", [b"", random.Random(3).randbytes(5000)])
def test_random_bytes_are_not_an_image(data: bytes) -> None:
    with pytest.raises(errors.NotAnImage):
        scan_credential_text(data)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
def test_a_truncated_image_is_refused(credential_qr: Image.Image, image_format: str) -> None:
    data = encode(credential_qr.convert("RGB"), image_format)
    with pytest.raises(errors.NotAnImage):
        scan_credential_text(data[: len(data) // 2])


def test_a_missing_file_or_a_text_mode_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError):
        scan_credential_text(tmp_path / "missing.png")
    (tmp_path / "text.txt").write_text("PC1:00")
    with (tmp_path / "text.txt").open() as text_file, pytest.raises(errors.UsageError):
        scan_credential_text(text_file)  # type: ignore[arg-type]
    with pytest.raises(errors.UsageError):
        scan_credential_text(42)  # type: ignore[arg-type]


# What the image holds


def test_a_light_on_dark_code_is_read(credential_qr: Image.Image) -> None:
    # A phone in dark mode may show the code inverted.
    from PIL import ImageOps

    inverted = ImageOps.invert(credential_qr.convert("L"))
    assert scan_credential_text(encode(inverted, "PNG")) == CREDENTIAL


def test_a_blank_image_holds_no_qr() -> None:
    blank = encode(Image.new("RGB", (640, 480), "white"), "PNG")
    assert read_qr_texts(blank) == []
    with pytest.raises(errors.NoQrFound):
        scan_credential_text(blank)


def test_two_different_credentials_are_refused(credential_qr: Image.Image) -> None:
    sheet = side_by_side(credential_qr, qr_image(OTHER_CREDENTIAL))
    assert sorted(read_qr_texts(sheet)) == sorted([CREDENTIAL, OTHER_CREDENTIAL])
    with pytest.raises(errors.MultipleCredentials):
        scan_credential_text(encode(sheet, "PNG"))


def test_the_same_credential_twice_is_one_credential(credential_qr: Image.Image) -> None:
    sheet = side_by_side(credential_qr, credential_qr)
    assert read_qr_texts(sheet) == [CREDENTIAL]
    assert scan_credential_text(sheet) == CREDENTIAL


def test_a_credential_beside_a_website_link_is_picked(credential_qr: Image.Image) -> None:
    link = "https://benefits.example/help"
    sheet = encode(side_by_side(qr_image(link, box_size=6), credential_qr), "PNG")
    assert set(read_qr_texts(sheet)) == {link, CREDENTIAL}
    assert read_qr_texts(sheet) == read_qr_texts(sheet)  # a stable order
    assert scan_credential_text(sheet) == CREDENTIAL


def test_a_foreign_qr_alone_is_passed_on_for_the_text_decoder_to_name() -> None:
    jws_start = "eyJ6aXAiOiJERUYiLCJhbGciOiJFUzI1NiJ9"
    smart_health_card = "shc:/" + "".join(f"{ord(c) - 45:02d}" for c in jws_start * 6)
    sheet = side_by_side(qr_image(smart_health_card), qr_image("https://benefits.example"))
    assert scan_credential_text(sheet) == smart_health_card


# Nothing but plainclaim errors

IMAGE_MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"RIFF\x00\x10\x00\x00WEBPVP8 ", b""]
SMALL_IMAGES = [
    encode(qr_image(credential_text(5), box_size=2).convert("RGB"), image_format)
    for image_format in ("PNG", "JPEG", "WEBP")
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=2048),
        st.builds(
            lambda magic, rest: magic + rest, st.sampled_from(IMAGE_MAGIC), st.binary(max_size=2048)
        ),
        st.builds(
            lambda image, cut, flips: bytes(
                (byte ^ flips.get(index, 0)) for index, byte in enumerate(image[:cut])
            ),
            st.sampled_from(SMALL_IMAGES),
            st.integers(min_value=0, max_value=max(len(image) for image in SMALL_IMAGES)),
            st.dictionaries(
                st.integers(min_value=0, max_value=2000), st.integers(1, 255), max_size=8
            ),
        ),
    )
)
def test_any_bytes_give_texts_or_a_plainclaim_error(data: bytes) -> None:
    try:
        texts = read_qr_texts(data)
    except errors.PlainclaimError:
        return
    assert isinstance(texts, list)
    assert all(isinstance(text, str) for text in texts)
