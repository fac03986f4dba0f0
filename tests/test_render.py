"""issuer.render: every image decodes back to its text, and the symbol is the one qrcode draws."""

from __future__ import annotations

import io
import json
import re
import secrets
import xml.etree.ElementTree as ET

import jwt
import pytest
import qrcode
import qrcode.constants
import qrcode.exceptions
import qrcode.util
import zxingcpp
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from issuer import qr_symbol
from issuer.render import (
    ErrorCorrection,
    QrSymbol,
    qr_matrix,
    render_png,
    render_svg,
    render_text,
    write_credential,
)
from verifier import errors
from verifier.qrtext import encode_qr_text

# Spelled out here rather than taken from the module under test.
QRCODE_LEVEL = {
    ErrorCorrection.M: qrcode.constants.ERROR_CORRECT_M,
    ErrorCorrection.Q: qrcode.constants.ERROR_CORRECT_Q,
    ErrorCorrection.H: qrcode.constants.ERROR_CORRECT_H,
}
LEVELS = list(ErrorCorrection)
SVG_NS = "{http://www.w3.org/2000/svg}"

digit_strings = st.text(alphabet="0123456789", min_size=1, max_size=1500)
# Texts shaped like credentials: a JWS-alphabet string of credential length, as QR text.
credential_texts = st.text(
    alphabet="-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz",
    min_size=270,
    max_size=340,
).map(encode_qr_text)


def credential_qr_text() -> str:
    """A realistic format 1 credential: ES256 JWS under a fresh key, as QR text."""
    key = ec.generate_private_key(ec.SECP256R1())
    payload = {
        "iss": "mosa",
        "ben": "heating-2027",
        "nbf": 1798761600,
        "exp": 1830297600,
        "jti": jwt.utils.base64url_encode(secrets.token_bytes(12)).decode(),
        "st": [0, 123456],
    }
    jws = jwt.api_jws.PyJWS().encode(
        json.dumps(payload, separators=(",", ":")).encode(),
        key,
        algorithm="ES256",
        headers={"kid": "mosa-1", "typ": "pc1"},
    )
    return encode_qr_text(jws)


@pytest.fixture(scope="module")
def credential() -> str:
    return credential_qr_text()


def qrcode_reference(text: str, ecc: ErrorCorrection, *, mask: int | None = None) -> qrcode.QRCode:
    """qrcode's own symbol for the same two segments: prefix alphanumeric, digits numeric."""
    digits_start = len(text.rstrip("0123456789"))
    reference = qrcode.QRCode(error_correction=QRCODE_LEVEL[ecc], mask_pattern=mask)
    reference.add_data(qrcode.util.QRData(text[:digits_start], mode=qrcode.util.MODE_ALPHA_NUM))
    reference.add_data(qrcode.util.QRData(text[digits_start:], mode=qrcode.util.MODE_NUMBER))
    return reference


def as_tuples(modules: list[list[bool | None]]) -> tuple[tuple[bool, ...], ...]:
    return tuple(tuple(bool(m) for m in row) for row in modules)


def decoded_texts(image: Image.Image) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def png_image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


# Round trips


@pytest.mark.parametrize("ecc", LEVELS)
def test_png_decodes_to_the_text(credential: str, ecc: ErrorCorrection) -> None:
    assert decoded_texts(png_image(render_png(credential, ecc=ecc))) == [credential]


@pytest.mark.parametrize(("module_px", "border"), [(2, 4), (3, 4), (8, 4), (5, 2)])
def test_png_decodes_at_other_sizes(credential: str, module_px: int, border: int) -> None:
    image = png_image(render_png(credential, module_px=module_px, border=border))
    assert decoded_texts(image) == [credential]


@pytest.mark.parametrize(
    "text",
    ["X:1", "PC1:0", "PC1:12", "HC1:123", "AB CD$%*+-./:0123456789", "PC1:" + "0" * 576],
)
def test_png_decodes_edge_texts(text: str) -> None:
    for ecc in LEVELS:
        assert decoded_texts(png_image(render_png(text, ecc=ecc))) == [text]


@pytest.mark.parametrize(("module_px", "border"), [(1, 0), (3, 2), (8, 4)])
def test_png_pixels_are_the_matrix(credential: str, module_px: int, border: int) -> None:
    symbol = qr_matrix(credential)
    image = png_image(render_png(credential, module_px=module_px, border=border))
    side = (symbol.size + 2 * border) * module_px
    assert image.mode == "1"
    assert image.size == (side, side)
    pixels = image.load()
    assert pixels is not None
    modules = symbol.modules
    for y in range(side):
        for x in range(side):
            row, col = y // module_px - border, x // module_px - border
            inside = 0 <= row < symbol.size and 0 <= col < symbol.size
            dark = inside and modules[row][col]
            assert (pixels[x, y] == 0) == dark, (x, y)


def test_png_is_small(credential: str) -> None:
    assert len(render_png(credential)) < 2500


def svg_dark_runs(svg: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The view-box side and (x, row, width) of each stroke in the SVG's module path."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("shape-rendering") == "crispEdges"
    x0, y0, width, height = (int(v) for v in root.get("viewBox", "").split())
    assert (x0, y0) == (0, 0)
    assert width == height
    strokes = [p for p in root.iter(f"{SVG_NS}path") if p.get("stroke")]
    assert len(strokes) == 1
    runs = []
    x = y = 0.0
    for command, args in re.findall(r"([A-Za-z])([^A-Za-z]*)", strokes[0].get("d", "")):
        numbers = [float(n) for n in args.split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        elif command == "h":
            assert y % 1 == 0.5  # a stroke of width 1 along the middle of a row
            runs.append((int(x), int(y), int(numbers[0])))
            x += numbers[0]
        else:
            pytest.fail(f"unexpected path command {command}")
    return width, runs


@pytest.mark.parametrize("ecc", LEVELS)
def test_svg_path_is_the_matrix_and_decodes(credential: str, ecc: ErrorCorrection) -> None:
    border, module_px = 4, 6
    symbol = qr_matrix(credential, ecc)
    side, runs = svg_dark_runs(render_svg(credential, ecc=ecc, module_px=module_px))
    assert side == symbol.size + 2 * border

    rebuilt = [[False] * symbol.size for _ in range(symbol.size)]
    for x, row, width in runs:
        for col in range(x, x + width):
            rebuilt[row - border][col - border] = True
    assert tuple(map(tuple, rebuilt)) == symbol.modules

    # Rasterise the path's own geometry and scan it.
    image = Image.new("1", (side * module_px, side * module_px), 1)
    draw = ImageDraw.Draw(image)
    for x, row, width in runs:
        top, left = row * module_px, x * module_px
        draw.rectangle((left, top, left + width * module_px - 1, top + module_px - 1), fill=0)
    assert decoded_texts(image) == [credential]


def test_svg_size_attributes(credential: str) -> None:
    root = ET.fromstring(render_svg(credential, module_px=3, border=2))
    side = qr_matrix(credential).size + 4
    assert root.get("width") == root.get("height") == str(3 * side)


def test_render_text(credential: str) -> None:
    assert render_text(credential) == credential + "\n"


# The symbol is qrcode's


def test_credential_fits_version_11_at_m(credential: str) -> None:
    assert qr_matrix(credential).version <= 11


@pytest.mark.parametrize("ecc", LEVELS)
def test_same_mask_gives_qrcode_matrix(credential: str, ecc: ErrorCorrection) -> None:
    symbol = qr_matrix(credential, ecc)
    reference = qrcode_reference(credential, ecc, mask=symbol.mask)
    reference.make(fit=True)
    assert reference.version == symbol.version
    assert symbol.size == 4 * symbol.version + 17
    assert as_tuples(reference.modules) == symbol.modules


@pytest.mark.parametrize("ecc", LEVELS)
def test_penalty_equals_qrcode_lost_point_for_every_mask(
    credential: str, ecc: ErrorCorrection
) -> None:
    version = qr_matrix(credential, ecc).version
    layout = qr_symbol._layout(version)
    reference = qrcode_reference(credential, ecc)
    reference.version = version
    for mask in range(8):
        reference.makeImpl(True, mask)  # how qrcode scores a mask
        flat = "".join("1" if m else "0" for row in reference.modules for m in row)
        as_int = int(flat[::-1], 2)
        expected = qrcode.util.lost_point(reference.modules)
        assert qr_symbol._penalty(as_int, layout) == expected, mask


@given(digits=digit_strings, ecc=st.sampled_from(LEVELS))
@settings(max_examples=300, deadline=None)
def test_version_equals_qrcode_fit(digits: str, ecc: ErrorCorrection) -> None:
    text = "PC1:" + digits
    assert qr_matrix(text, ecc).version == qrcode_reference(text, ecc).best_fit()


def test_version_at_capacity_boundaries() -> None:
    # Versions 9 to 13 at M, across the change of count-indicator width at version 10.
    for length in range(380, 720):
        text = "PC1:" + "7" * length
        assert qr_matrix(text).version == qrcode_reference(text, ErrorCorrection.M).best_fit()


@given(text=credential_texts, ecc=st.sampled_from(LEVELS))
@settings(max_examples=25, deadline=None)
def test_symbol_equals_qrcode_including_mask_choice(text: str, ecc: ErrorCorrection) -> None:
    reference = qrcode_reference(text, ecc)
    reference.make(fit=True)
    assert qr_matrix(text, ecc).modules == as_tuples(reference.modules)


def test_qr_symbol_is_frozen(credential: str) -> None:
    symbol = qr_matrix(credential)
    assert isinstance(symbol, QrSymbol)
    assert symbol.ecc is ErrorCorrection.M
    with pytest.raises(AttributeError):
        symbol.version = 1  # type: ignore[misc]


# Refusals


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", errors.UnknownPrefix),
        ("1234", errors.UnknownPrefix),
        ("PC1:", errors.NonDigit),
        ("PC1:12A", errors.NonDigit),
        ("pc1:1234", errors.InputCharset),
        ("PC1:12a4", errors.InputCharset),
        ("PC1:1234\n", errors.InputCharset),
        ("PC1:\u0661\u0662", errors.InputCharset),  # Arabic-Indic digits: isdigit(), not QR
        ("shc:/5676", errors.InputCharset),
        ("PC1:" + "1" * 8000, errors.InputTooLarge),
        (b"PC1:1234", errors.InputRejected),
    ],
)
def test_bad_text_is_refused(text: str, error: type[errors.InputRejected]) -> None:
    for call in (qr_matrix, render_png, render_svg, render_text):
        with pytest.raises(error):
            call(text)


def most_digits_qrcode_fits(ecc: ErrorCorrection) -> int:
    low, high = 1, 7089  # low fits, high does not
    while high - low > 1:
        middle = (low + high) // 2
        try:
            qrcode_reference("PC1:" + "1" * middle, ecc).best_fit()
        except (qrcode.exceptions.DataOverflowError, ValueError):  # qrcode 8.2 raises either
            high = middle
        else:
            low = middle
    return low


@pytest.mark.parametrize("ecc", LEVELS)
def test_more_than_version_40_holds_is_refused(ecc: ErrorCorrection) -> None:
    most = most_digits_qrcode_fits(ecc)
    assert qr_matrix("PC1:" + "1" * most, ecc).version == 40
    for call in (qr_matrix, render_png, render_svg):
        with pytest.raises(errors.InputTooLarge):
            call("PC1:" + "1" * (most + 1), ecc=ecc)


@pytest.mark.parametrize(
    "options",
    [{"ecc": "L"}, {"ecc": 1}, {"module_px": 0}, {"module_px": 65}, {"border": -1}],
)
def test_bad_options_are_usage_errors(credential: str, options: dict[str, object]) -> None:
    with pytest.raises(errors.UsageError):
        render_png(credential, **options)  # type: ignore[arg-type]


def test_ecc_accepts_its_letter(credential: str) -> None:
    assert qr_matrix(credential, "Q").ecc is ErrorCorrection.Q  # type: ignore[arg-type]


# Files


@pytest.mark.parametrize("name", ["letter.png", "LETTER.PNG", "letter.svg", "letter.txt"])
def test_write_credential(credential: str, tmp_path, name: str) -> None:
    path = tmp_path / name
    symbol = write_credential(credential, path, ecc=ErrorCorrection.Q)
    assert symbol == qr_matrix(credential, ErrorCorrection.Q)
    suffix = path.suffix.lower()
    if suffix == ".png":
        assert decoded_texts(Image.open(path)) == [credential]
    elif suffix == ".svg":
        assert path.read_text(encoding="utf-8") == render_svg(credential, ecc=ErrorCorrection.Q)
    else:
        assert path.read_text(encoding="ascii") == credential + "\n"


@pytest.mark.parametrize("name", ["letter.pdf", "letter", "letter.png.bak"])
def test_write_credential_refuses_other_suffixes(credential: str, tmp_path, name: str) -> None:
    with pytest.raises(errors.UsageError):
        write_credential(credential, tmp_path / name)
    assert not (tmp_path / name).exists()


def test_write_credential_translates_os_errors(credential: str, tmp_path) -> None:
    with pytest.raises(errors.UsageError):
        write_credential(credential, tmp_path / "missing" / "letter.png")
