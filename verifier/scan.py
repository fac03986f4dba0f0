"""Read the text of QR codes from an image: a webcam frame, a phone photo, a scanned letter.

This is the only module that touches pixels. The image is untrusted input, so it is opened
with a closed list of formats, and its declared size is checked against :class:`ImageLimits`
before a single pixel is decoded. Pillow and zxing-cpp errors are translated here into the
plainclaim tree (:class:`~verifier.errors.NotAnImage`, :class:`~verifier.errors.ImageTooLarge`,
:class:`~verifier.errors.NoQrFound`, :class:`~verifier.errors.MultipleCredentials`).

Decoding tries the cheapest reader first and stops at the first success; the fallbacks are
the ones that measurably rescued degraded photos in ``bench/bench_scan.py``.

The texts returned are *unverified*: the text decoder and the signature check come next.
"""

from __future__ import annotations

import importlib
import io
import math
import os
import threading
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final, Protocol, TypeAlias, cast

import zxingcpp
from PIL import Image

from verifier.errors import (
    ImageTooLarge,
    MultipleCredentials,
    NoQrFound,
    NotAnImage,
    UsageError,
)
from verifier.qrtext import PREFIX

__all__ = [
    "DEFAULT_IMAGE_LIMITS",
    "BinaryReader",
    "ImageLimits",
    "ImageSource",
    "read_qr_texts",
    "scan_credential_text",
]

_SUPPORTED_FORMATS: Final = frozenset({"PNG", "JPEG", "WEBP"})
#: How each format's files start (WebP: "RIFF", a size, then "WEBP"), and its Pillow plugin.
_SIGNATURES: Final = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8\xff", "WEBP": b"RIFF"}
_PLUGINS: Final = {
    "PNG": "PIL.PngImagePlugin",
    "JPEG": "PIL.JpegImagePlugin",
    "WEBP": "PIL.WebPImagePlugin",
}
_QR_ONLY: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
_WARNINGS_LOCK: Final = threading.Lock()

#: Images are decoded and scanned at no more than about this many pixels. A QR filling a
#: sensible part of a 12 or 48 MP photo still has several pixels per module at this size, and
#: scanning (and the memory it needs) stays bounded whatever the camera.
_WORK_PIXELS: Final = 4_000_000
#: How many detected-but-undecodable symbols get the expensive crop treatment.
_MAX_CROPS: Final = 3
#: Smaller boxes are detection artefacts: no symbol decodes at under about 1.5 pixels a module.
_MIN_CROP_SIDE: Final = 40


class BinaryReader(Protocol):
    """A binary file object: anything with ``read(size) -> bytes``."""

    def read(self, size: int = ..., /) -> bytes: ...


#: What :func:`read_qr_texts` and :func:`scan_credential_text` accept.
ImageSource: TypeAlias = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryReader | Image.Image
)


@dataclass(frozen=True)
class ImageLimits:
    """What an image may cost before plainclaim refuses to decode it.

    The pixel cap is checked against the size the file *declares*, before decoding, so a
    small file that would inflate into gigabytes (a decompression bomb) is refused cheaply.
    The default admits a 48 MP phone photo; Pillow's own bomb limit (about 89 MP) stays a
    ceiling above any larger ``max_pixels``. ``formats`` may narrow the default list, never
    extend it.
    """

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000
    #: Pillow's WebP decoder has no reduced-size mode (JPEG's draft) and needs ~16 bytes a
    #: pixel: 8 MP keeps a WebP under ~150 MB of memory, where 12 MP would take ~220 MB.
    max_webp_pixels: int = 8_000_000
    formats: frozenset[str] = _SUPPORTED_FORMATS

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.max_pixels <= 0 or self.max_webp_pixels <= 0:
            raise UsageError("image limits must be positive")
        if not self.formats or not self.formats <= _SUPPORTED_FORMATS:
            raise UsageError(f"image formats must be a subset of {sorted(_SUPPORTED_FORMATS)}")


DEFAULT_IMAGE_LIMITS: Final = ImageLimits()


def read_qr_texts(source: ImageSource, limits: ImageLimits = DEFAULT_IMAGE_LIMITS) -> list[str]:
    """Return the distinct texts of the QR codes in an image, in a stable order.

    ``source`` is a path, the encoded bytes, a binary file object, or a Pillow image. The
    decoding attempts run cheapest first and stop at the first one that finds any QR code.
    An empty list means no QR code was found.

    :raises ImageTooLarge: over ``limits.max_bytes`` or ``limits.max_pixels``.
    :raises NotAnImage: not a PNG, JPEG or WebP image, or truncated or corrupt.
    """
    gray = _load_grayscale(source, limits)
    for texts in _decoding_attempts(gray):
        if texts:
            return texts
    return []


def scan_credential_text(source: ImageSource, limits: ImageLimits = DEFAULT_IMAGE_LIMITS) -> str:
    """Return the text of the one credential QR code in an image.

    QR codes that are not plainclaim's (a website link on the same letter) are ignored. If
    the image holds only such codes, the first one is returned anyway, so that the text
    decoder can say precisely what it is (a SMART Health Card, an EU DCC...).

    :raises NoQrFound: the image holds no readable QR code.
    :raises MultipleCredentials: two or more different plainclaim QR codes: we will not guess.
    :raises ImageTooLarge: see :func:`read_qr_texts`.
    :raises NotAnImage: see :func:`read_qr_texts`.
    """
    gray = _load_grayscale(source, limits)
    foreign: list[str] = []
    for texts in _decoding_attempts(gray):
        credentials = [text for text in texts if _is_credential(text)]
        if len(credentials) > 1:
            raise MultipleCredentials(f"{len(credentials)} different credential QR codes")
        if credentials:
            return credentials[0]
        # A foreign code may sit beside a credential the cheap attempt missed: keep looking.
        foreign = foreign or texts
    if foreign:
        return foreign[0]
    raise NoQrFound()


def _is_credential(text: str) -> bool:
    # The same case-blind prefix test as the text decoder's.
    return text[: len(PREFIX)].upper() == PREFIX


def _load_grayscale(source: ImageSource, limits: ImageLimits) -> Image.Image:
    """Decode ``source`` into an 8-bit grayscale image of at most about ``_WORK_PIXELS``."""
    if isinstance(source, Image.Image):
        return _prepare_pixels(source, limits, owned=False)
    data = _read_bytes(source, limits.max_bytes)
    # Pillow checks the declared size in open() and only warns between its own limit and
    # twice that: make the warning a refusal. catch_warnings saves and restores the
    # process-wide filter list, so two threads interleaving here could leave the filter
    # installed for good; the lock keeps each save/restore pair whole.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = _open(data, limits.formats)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLarge("declared pixel count over Pillow's bomb limit") from exc
        except Exception as exc:  # Pillow raises many types on hostile bytes.
            raise NotAnImage(f"not a {'/'.join(sorted(limits.formats))} image") from exc
    return _prepare_pixels(image, limits, owned=True)


def _open(data: bytes, formats: frozenset[str]) -> Image.Image:
    """``Image.open(io.BytesIO(data), formats=...)``, loading only the plugin the data needs.

    Image.open imports the BMP, GIF, JPEG, PPM and PNG plugins before it looks at the data:
    the four a PNG does not need are 5 ms of a verifier's cold start. This picks the one
    plugin by the signature the file starts with, then does what Image.open does with it:
    the plugin's own header test, its ImageFile class, and Pillow's decompression bomb check
    on the declared size.
    """
    image_format = next(
        (name for name in sorted(formats) if data.startswith(_SIGNATURES[name])), None
    )
    if image_format is None:
        raise NotAnImage("no signature of an allowed format")
    importlib.import_module(_PLUGINS[image_format])  # registers the format in Image.OPEN
    factory, accept = Image.OPEN[image_format]
    identified = accept(data[:16]) if accept else True
    if not identified or isinstance(identified, str):  # a str: the codec is not installed
        raise NotAnImage(f"not a {image_format} image Pillow can read")
    image = factory(io.BytesIO(data), "")
    _check_bomb(image.size)
    return image


def _check_bomb(size: tuple[int, int]) -> None:
    """Pillow's decompression bomb check, as Image.open runs it after opening."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit is None:
        return
    pixels = max(1, size[0]) * max(1, size[1])
    if pixels > 2 * limit:
        raise Image.DecompressionBombError(f"{pixels} pixels, over twice {limit}")
    if pixels > limit:
        warnings.warn(f"{pixels} pixels, over {limit}", Image.DecompressionBombWarning, 2)


def _read_bytes(source: ImageSource, max_bytes: int) -> bytes:
    """Return the encoded image, refusing more than ``max_bytes`` without reading it all."""
    if isinstance(source, bytes | bytearray | memoryview):
        if memoryview(source).nbytes > max_bytes:
            raise ImageTooLarge(f"over {max_bytes} bytes")
        return bytes(source)
    if isinstance(source, str | os.PathLike):
        try:
            with open(source, "rb") as file:
                if os.fstat(file.fileno()).st_size > max_bytes:
                    raise ImageTooLarge(f"over {max_bytes} bytes")
                return _read_capped(file, max_bytes)
        except OSError as exc:
            # The path names a citizen's document at times: never repeat it in the detail.
            raise UsageError(f"cannot read the image file: {exc.strerror or 'error'}") from exc
    if hasattr(source, "read"):
        try:
            return _read_capped(source, max_bytes)
        except (OSError, ValueError) as exc:
            raise UsageError("cannot read the image file object") from exc
    raise UsageError(f"unsupported image source type {type(source).__name__}")


def _read_capped(stream: BinaryReader, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes:
        chunk = stream.read(max_bytes + 1 - size)
        if not isinstance(chunk, bytes):
            raise UsageError("the image file object must be opened in binary mode")
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > max_bytes:
        raise ImageTooLarge(f"over {max_bytes} bytes")
    return b"".join(chunks)


def _prepare_pixels(image: Image.Image, limits: ImageLimits, *, owned: bool) -> Image.Image:
    """Check the declared size, then decode (downscaled if large) into mode ``L``.

    ``owned`` says the image was opened here, so its decoder may be reconfigured; a
    caller's image is never changed.
    """
    if image.format is not None and image.format not in limits.formats:
        raise NotAnImage(f"format {image.format} not allowed")
    width, height = image.size
    if width <= 0 or height <= 0:
        raise NotAnImage("empty image")
    cap = limits.max_pixels
    if image.format == "WEBP":
        cap = min(cap, limits.max_webp_pixels)
    if width * height > cap:
        raise ImageTooLarge(f"{width}x{height} is over {cap} pixels")
    reduction = _reduction_factor(width, height)
    try:
        if owned and image.format == "JPEG":
            # libjpeg decodes straight to grayscale at 1/2, 1/4 or 1/8 scale: a 12 MP photo
            # never exists in memory at full size, nor in colour.
            image.draft("L", (width // reduction, height // reduction))
        image.load()
        gray = _to_grayscale(image)
        remaining = _reduction_factor(*gray.size)
        return gray.reduce(remaining) if remaining > 1 else gray
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge("pixel count over Pillow's bomb limit") from exc
    except Exception as exc:  # Truncated or corrupt data surfaces here, in many types.
        raise NotAnImage("truncated or corrupt image data") from exc


def _reduction_factor(width: int, height: int) -> int:
    """The smallest power of two that brings the image down to about ``_WORK_PIXELS``."""
    factor = 1
    while (width // factor) * (height // factor) > _WORK_PIXELS:
        factor *= 2
    return factor


def _to_grayscale(image: Image.Image) -> Image.Image:
    if image.mode == "L":
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # A plain convert() clips 16-bit and float samples to 255: stretch them instead.
        low, high = cast("tuple[float, float]", image.getextrema())  # one band
        scale = 255.0 / (high - low) if high > low else 0.0
        return image.convert("F").point(lambda v: (v - low) * scale).convert("L")
    if "A" in image.getbands() or "transparency" in image.info:
        # A QR drawn on a transparent background is black on "transparent black": lay it on
        # white paper, as any viewer would show it, before dropping the alpha channel.
        # Done in mode L: a 12 MP RGBA copy is 48 MB, its L planes 12 MB each.
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        alpha = rgba.getchannel("A")
        gray = rgba.convert("L")
        if alpha.getextrema() == (255, 255):
            return gray
        paper = Image.new("L", gray.size, 255)
        paper.paste(gray, mask=alpha)
        return paper
    return image.convert("L")


def _decoding_attempts(gray: Image.Image) -> Iterator[list[str]]:
    """Yield the texts found by each attempt, cheapest first; callers stop when satisfied.

    Measured on degraded 1280x960 frames (``bench/bench_scan.py``), the plain read finds
    about 70%, at 3 to 4 ms. What it misses is mostly blur plus sensor noise:

    1. Plain read. ``try_downscale`` costs little and reads big, blurred modules (a code held
       close to the camera) that the full-size pass misses.
    2. The frame under a 3x3 box blur, which averages the noise away: about +10 points,
       for 5 ms of blur and 3 of reading.
    3. Each symbol that the blurred frame shows but cannot decode, cropped and sharpened
       (unsharp mask), which is too slow for the whole frame: about +5 points.

    4. The frame inverted, for light-on-dark codes (a phone screen in dark mode).

    Tried and dropped, as they rescued next to nothing on these frames: try_rotate and
    zxing's own try_invert on every attempt, the GlobalHistogram and FixedThreshold
    binarizers on the whole frame, autocontrast, median and gaussian filters, upscaling,
    half-size reads.
    """
    yield _texts(_read(gray, try_downscale=True))
    # Imported here: a clean image, the usual case, is read by the first attempt.
    from PIL import ImageFilter

    denoised = gray.filter(ImageFilter.BoxBlur(1))
    found = _read(denoised, return_errors=True)
    yield _texts(barcode for barcode in found if barcode.valid)
    broken = [barcode.position for barcode in found if not barcode.valid]
    rescued: list[zxingcpp.Barcode] = []
    for box in _crop_boxes(broken, gray.size):
        rescued.extend(_read_crop(denoised.crop(box)))
    yield _texts(rescued)
    # Last, light modules on dark: a phone in dark mode, a screen shown inverted. Issuers
    # print dark on light, so this runs only when everything else found nothing.
    from PIL import ImageOps

    yield _texts(_read(ImageOps.invert(gray), try_downscale=True))


def _read_crop(denoised: Image.Image) -> list[zxingcpp.Barcode]:
    """Sharpen a denoised crop around one broken symbol: two sharpenings, three reads.

    The second and third reads each rescued about 1 frame in 100 more, for under 1 and
    3 ms, and only on frames that would otherwise fail.
    """
    from PIL import ImageFilter

    sharpened = denoised.filter(ImageFilter.UnsharpMask(3, 200, 2))
    return (
        _read(sharpened)
        or _read(sharpened, binarizer=zxingcpp.Binarizer.GlobalHistogram)
        or _read(denoised.filter(ImageFilter.UnsharpMask(2, 250, 2)))
    )


def _read(
    gray: Image.Image,
    *,
    try_downscale: bool = False,
    return_errors: bool = False,
    binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage,
) -> list[zxingcpp.Barcode]:
    # QR finder patterns are rotation invariant and plainclaim prints dark on light, so
    # try_rotate and try_invert only cost time.
    try:
        return zxingcpp.read_barcodes(
            gray,
            formats=_QR_ONLY,
            try_rotate=False,
            try_invert=False,
            try_downscale=try_downscale,
            text_mode=zxingcpp.TextMode.Plain,
            binarizer=binarizer,
            return_errors=return_errors,
        )
    except Exception as exc:  # zxing-cpp reports bad buffers as ValueError/RuntimeError.
        raise NotAnImage("zxing-cpp could not read the pixels") from exc


def _texts(barcodes: Iterable[zxingcpp.Barcode]) -> list[str]:
    return list(dict.fromkeys(barcode.text for barcode in barcodes))


def _crop_boxes(
    positions: Iterable[zxingcpp.Position], size: tuple[int, int]
) -> list[tuple[int, int, int, int]]:
    """Boxes around the symbols worth a closer look: largest first, each symbol once.

    zxing-cpp reports one symbol several times, and finder-pattern look-alikes inside a
    symbol as small symbols of their own; a box whose centre lies in a box already taken is
    one of those.
    """
    boxes = sorted(
        (_box_around(position, size) for position in positions),
        key=lambda box: (box[2] - box[0]) * (box[3] - box[1]),
        reverse=True,
    )
    taken: list[tuple[int, int, int, int]] = []
    for box in boxes:
        centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        too_small = min(box[2] - box[0], box[3] - box[1]) < _MIN_CROP_SIDE
        seen = any(t[0] <= centre_x <= t[2] and t[1] <= centre_y <= t[3] for t in taken)
        if not too_small and not seen:
            taken.append(box)
    return taken[:_MAX_CROPS]


def _box_around(position: zxingcpp.Position, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The bounding box of a detected symbol plus a margin for its quiet zone."""
    corners = (position.top_left, position.top_right, position.bottom_left, position.bottom_right)
    xs = [corner.x for corner in corners]
    ys = [corner.y for corner in corners]
    margin = math.ceil(max(max(xs) - min(xs), max(ys) - min(ys)) * 0.15) + 8
    return (
        max(0, min(xs) - margin),
        max(0, min(ys) - margin),
        min(size[0], max(xs) + margin),
        min(size[1], max(ys) + margin),
    )
