"""QR text: how a compact JWS travels inside a QR code.

Format 1 writes ``PC1:`` followed by the JWS with each character as two decimal digits
(``ord(c) - 45``), the way SMART Health Cards do. The digits go in a numeric-mode QR segment,
which packs 3.33 bits per digit instead of 8 bits per byte, and digits are the only content a
keyboard-wedge scanner types the same on every keyboard layout.
"""

from __future__ import annotations

import binascii
import re
from typing import Final

from verifier import errors

PREFIX: Final = "PC1:"
_PREFIX_LENGTH: Final = len(PREFIX)
#: Longest QR text accepted: a version 40 QR holds 7089 digits; ours are ~600. Refusing early
#: keeps hostile input from costing anything.
MAX_TEXT_CHARS: Final = 4096

_OFFSET: Final = 45  # ord("-"), the lowest character of the base64url alphabet and "."
_MAX_PAIR: Final = ord("z") - _OFFSET  # 77

# Decoding trick: read the digit string as hex, so "56" becomes the byte 0x56, then translate
# 0x56 (= 16*5 + 6) to chr(5*10 + 6 + 45) in one C-level pass. Pairs above 77 map to 0, which
# no valid JWS character has.
_PAIR_TABLE: Final = bytes(
    (10 * (b >> 4) + (b & 0x0F) + _OFFSET)
    if (b >> 4) <= 9 and (b & 0x0F) <= 9 and 10 * (b >> 4) + (b & 0x0F) <= _MAX_PAIR
    else 0
    for b in range(256)
)

_LATER_FORMAT: Final = re.compile(r"[Pp][Cc][0-9]{1,3}:")
_PRINTABLE_ASCII: Final = bytes(range(0x20, 0x7F))

# Wedge scanners end a scan with Enter or Tab; some add both.
_WEDGE_TRAILERS: Final = "\r\n\t"


def encode_qr_text(compact_jws: str) -> str:
    """Return the QR text for a compact JWS: ``PC1:`` then two digits per character."""
    if not compact_jws.isascii():
        raise errors.InputCharset("JWS must be ASCII")
    digits = []
    for char in compact_jws:
        value = ord(char) - _OFFSET
        if not 0 <= value <= _MAX_PAIR:
            raise errors.InputCharset(f"character {char!r} cannot be written as a digit pair")
        digits.append(f"{value:02d}")
    return PREFIX + "".join(digits)


def decode_qr_text(text: str) -> str:
    """Return the compact JWS carried by a QR text, or raise an :class:`InputRejected`.

    Checks run in the order of the spec: size, charset, prefix, then the digits.
    """
    return decode_qr_bytes(text).decode("ascii")


def decode_qr_bytes(text: str) -> bytes:
    """Like :func:`decode_qr_text`, but return the JWS as ASCII bytes, as the JWS parser reads it.

    ``verify()`` uses this: it saves decoding the JWS to ``str`` only to encode it back.
    """
    text = text.rstrip(_WEDGE_TRAILERS)
    if len(text) > MAX_TEXT_CHARS:
        raise errors.InputTooLarge(f"{len(text)} characters, limit {MAX_TEXT_CHARS}")
    # Fast path for the usual text, the prefix then digit pairs: decode first, check after.
    # a2b_hex takes hex digits only, and _PAIR_TABLE maps a byte to 0 unless both its hex
    # digits are decimal, so a non-empty decoding without 0 proves the text was the prefix
    # and decimal digit pairs, which every check below would pass. Anything else takes the
    # checks in the spec's order, so each refusal keeps its own reason.
    if text.isascii() and text[:_PREFIX_LENGTH].upper() == PREFIX:
        try:
            decoded = binascii.a2b_hex(text[_PREFIX_LENGTH:]).translate(_PAIR_TABLE)
        except binascii.Error:
            pass
        else:
            if decoded and 0 not in decoded:
                return decoded
    return _decode_checked(text)


def _decode_checked(text: str) -> bytes:
    """The digit decoding with every check in the spec's order, each with its own error."""
    # bytes methods are ASCII-only and several times faster than their str twins here.
    if not text.isascii() or text.encode("ascii").translate(None, _PRINTABLE_ASCII):
        raise errors.InputCharset("input holds control or non-ASCII characters")
    body = _strip_prefix(text).encode("ascii")
    if not body.isdigit():
        raise errors.NonDigit("the part after the prefix must be digits only")
    if len(body) % 2:
        raise errors.OddDigitCount(f"{len(body)} digits")
    decoded = binascii.a2b_hex(body).translate(_PAIR_TABLE)
    if 0 in decoded:
        raise errors.DigitPairOutOfRange("a digit pair above 77")
    return decoded


def _strip_prefix(text: str) -> str:
    # Scanners in caps-lock or lower-case mode change the letters' case; the prefix is
    # compared without case so the clerk is not refused for that.
    head = text[: len(PREFIX)]
    if head.upper() == PREFIX:
        return text[len(PREFIX) :]
    if _LATER_FORMAT.match(text):
        raise errors.UnsupportedFormatVersion(f"format {text[2 : text.index(':')]}")
    lowered = text.lower()
    if lowered.startswith("shc:/"):
        raise errors.ForeignSmartHealthCard("a SMART Health Card, not a plainclaim credential")
    if lowered.startswith("hc1:"):
        raise errors.ForeignEuDcc("an EU Digital COVID Certificate, not a plainclaim credential")
    raise errors.UnknownPrefix("the text does not start with PC1:")
