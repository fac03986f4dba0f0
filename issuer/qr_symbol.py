"""Encode a plainclaim QR text as a QR symbol (the module matrix), fast.

The QR text is an upper-case alphanumeric prefix (``PC1:``) and a run of digits. They become two
segments, described with the ``qrcode`` package's segment type: the prefix in alphanumeric mode,
the digits in numeric mode. Bulk issuance renders hundreds of thousands of letters, so the rest
of the encoder is built for speed rather than delegated to ``qrcode``, whose bit-by-bit buffer,
polynomial Reed-Solomon and eight full trial renders cost 20 ms or more a symbol:

* the smallest version is computed from the segments' bit lengths and the capacity table, not
  searched;
* the symbol is one Python integer (bit ``row * size + col``), so placing the codewords is one
  gather and masking is one XOR;
* all eight masks are scored with ISO/IEC 18004's four penalty rules on that integer with
  shifts and popcounts, and the lowest score wins. The scores equal ``qrcode``'s own (format
  and version areas counted light during the evaluation, as ``qrcode`` does), so the symbol is
  the one ``qrcode`` would draw for the same segments, module for module; the tests check that.

:mod:`issuer.render` draws images from the matrix.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, cached_property
from operator import itemgetter
from typing import Any, Final

import qrcode.base
import qrcode.constants
import qrcode.util

from verifier import errors

__all__ = ["ErrorCorrection", "QrSymbol", "check_qr_text", "qr_matrix"]


class ErrorCorrection(StrEnum):
    """Error-correction level. L is not offered: a letter's QR must survive creases and smudges."""

    M = "M"  #: recovers ~15 % of codewords; the default, version 11 or lower for a credential
    Q = "Q"  #: ~25 %, for print that gets handled
    H = "H"  #: ~30 %


# qrcode's level constants are the ISO format-information bits (M=00, Q=11, H=10), and index
# its capacity table.
_LEVEL: Final[dict[ErrorCorrection, int]] = {
    ErrorCorrection.M: qrcode.constants.ERROR_CORRECT_M,
    ErrorCorrection.Q: qrcode.constants.ERROR_CORRECT_Q,
    ErrorCorrection.H: qrcode.constants.ERROR_CORRECT_H,
}

_ALPHANUMERIC: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALPHANUMERIC_VALUE: Final = {ord(char): value for value, char in enumerate(_ALPHANUMERIC)}
_QR_TEXT_CHARS: Final = re.compile("[" + re.escape(_ALPHANUMERIC) + "]*")
_DIGITS: Final = "0123456789"
#: A version 40 symbol holds at most 7089 digits; anything longer is refused before any work.
_MAX_TEXT_CHARS: Final = 7089

# Character-count indicator widths (numeric, alphanumeric) for versions 1-9, 10-26 and 27-40.
_COUNT_BITS: Final = ((range(1, 10), 10, 9), (range(10, 27), 12, 11), (range(27, 41), 14, 13))
_NUMERIC_TAIL_BITS: Final = (0, 4, 7)  # bits for a final group of 0, 1 or 2 digits
_NUMERIC_GROUP_BITS: Final = {f"{n:03d}".encode(): f"{n:010b}" for n in range(1000)}
_MODE_INDICATOR_BITS: Final = 4
_PAD_CODEWORDS: Final = b"\xec\x11"


@dataclass(frozen=True)
class QrSymbol:
    """A finished QR symbol: version, level, mask and the module matrix without quiet zone.

    ``bits`` holds the matrix compactly: bit ``row * size + col`` is set for a dark module.
    """

    version: int
    ecc: ErrorCorrection
    mask: int
    size: int
    bits: int

    @cached_property
    def modules(self) -> tuple[tuple[bool, ...], ...]:
        """The matrix as rows of booleans (``True`` is dark), row 0 at the top.

        Built on first use: the renderers work from ``bits`` and never need it.
        """
        flat = self.module_string()
        size = self.size
        return tuple(
            tuple(char == "1" for char in flat[row : row + size])
            for row in range(0, size * size, size)
        )

    def module_string(self) -> str:
        """Row-major ``"0"``/``"1"`` string, one character a module."""
        return format(self.bits, f"0{self.size * self.size}b")[::-1]


def _split(qr_text: str) -> tuple[str, str]:
    """Split a QR text into its alphanumeric prefix and its digits, or refuse it."""
    if not isinstance(qr_text, str):
        raise errors.InputRejected(f"QR text must be str, not {type(qr_text).__name__}")
    if len(qr_text) > _MAX_TEXT_CHARS:
        raise errors.InputTooLarge(f"{len(qr_text)} characters, limit {_MAX_TEXT_CHARS}")
    if not _QR_TEXT_CHARS.fullmatch(qr_text):
        raise errors.InputCharset("QR text holds characters outside the QR alphanumeric set")
    digits_start = len(qr_text.rstrip(_DIGITS))
    prefix, digits = qr_text[:digits_start], qr_text[digits_start:]
    if not prefix:
        raise errors.UnknownPrefix("QR text has no alphanumeric prefix before the digits")
    if not digits:
        raise errors.NonDigit("QR text does not end with a run of digits")
    return prefix, digits


def _segments(prefix: str, digits: str) -> tuple[Any, Any]:
    """The two ``qrcode`` segments: the prefix in alphanumeric mode, the digits in numeric."""
    return (
        qrcode.util.QRData(prefix, mode=qrcode.util.MODE_ALPHA_NUM),
        qrcode.util.QRData(digits, mode=qrcode.util.MODE_NUMBER),
    )


def _segment_bit_length(segment: Any, count_bits: tuple[int, int]) -> int:
    """Bits a segment takes, header included, with the given count-indicator widths."""
    count = len(segment)
    if segment.mode == qrcode.util.MODE_NUMBER:
        body = 10 * (count // 3) + _NUMERIC_TAIL_BITS[count % 3]
        return _MODE_INDICATOR_BITS + count_bits[0] + body
    return _MODE_INDICATOR_BITS + count_bits[1] + 11 * (count // 2) + 6 * (count % 2)


def _segment_bits(segment: Any, count_bits: tuple[int, int]) -> str:
    """A segment as a ``"0"``/``"1"`` string: mode, count, data (what ``QRData.write`` puts)."""
    data: bytes = segment.data
    if segment.mode == qrcode.util.MODE_NUMBER:
        whole = len(data) - len(data) % 3
        groups = map(_NUMERIC_GROUP_BITS.__getitem__, [data[i : i + 3] for i in range(0, whole, 3)])
        tail = data[whole:]
        tail_bits = format(int(tail), f"0{_NUMERIC_TAIL_BITS[len(tail)]}b") if tail else ""
        return f"0001{len(data):0{count_bits[0]}b}" + "".join(groups) + tail_bits
    values = [_ALPHANUMERIC_VALUE[byte] for byte in data]
    pairs = [f"{45 * values[i] + values[i + 1]:011b}" for i in range(0, len(values) - 1, 2)]
    odd = f"{values[-1]:06b}" if len(values) % 2 else ""
    return f"0010{len(data):0{count_bits[1]}b}" + "".join(pairs) + odd


def _fit(segments: Sequence[Any], level: int) -> tuple[int, tuple[int, int]]:
    """The smallest version that holds the segments, and its count-indicator widths."""
    capacity: list[int] = qrcode.util.BIT_LIMIT_TABLE[level]
    for versions, numeric_bits, alphanumeric_bits in _COUNT_BITS:
        count_bits = (numeric_bits, alphanumeric_bits)
        if any(len(s) >= 1 << _count_width(s, count_bits) for s in segments):
            continue
        needed = sum(_segment_bit_length(s, count_bits) for s in segments)
        version = bisect_left(capacity, needed, versions.start, versions.stop)
        if version < versions.stop:
            return version, count_bits
    raise errors.InputTooLarge("QR text does not fit a version 40 QR code at this level")


def _count_width(segment: Any, count_bits: tuple[int, int]) -> int:
    return count_bits[0] if segment.mode == qrcode.util.MODE_NUMBER else count_bits[1]


def _data_codewords(segments: Sequence[Any], count_bits: tuple[int, int], capacity: int) -> bytes:
    """Segments, terminator, zero bits to a byte boundary, then the 0xEC 0x11 pad codewords."""
    bits = "".join(_segment_bits(s, count_bits) for s in segments)
    bits += "0" * min(4, capacity - len(bits))
    bits += "0" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big")
    missing = capacity // 8 - len(data)
    return data + (_PAD_CODEWORDS * (missing // 2 + 1))[:missing]


def _gf_tables() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Exponent and logarithm tables of GF(256) with the QR polynomial x^8+x^4+x^3+x^2+1."""
    exp = [1] * 512
    for i in range(1, 512):
        exp[i] = exp[i - 1] << 1
        if exp[i] & 0x100:
            exp[i] ^= 0x11D
    log = [0] * 256
    for i in range(255):
        log[exp[i]] = i
    return tuple(exp), tuple(log)


_GF_EXP, _GF_LOG = _gf_tables()


def _gf_mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _GF_EXP[_GF_LOG[a] + _GF_LOG[b]]


@cache
def _rs_feedback(ec_count: int) -> tuple[int, ...]:
    """For each feedback byte f: f times the generator's low coefficients, as one integer.

    The encoder's shift register is then one integer too, updated once per data byte.
    """
    generator = [1]
    for i in range(ec_count):
        product = [*generator, 0]
        for j, coefficient in enumerate(generator):
            product[j + 1] ^= _gf_mul(coefficient, _GF_EXP[i])
        generator = product
    low = generator[1:]
    return tuple(int.from_bytes(bytes(_gf_mul(c, f) for c in low), "big") for f in range(256))


def _rs_ec_codewords(data: bytes, ec_count: int) -> bytes:
    """The ``ec_count`` error-correction codewords of one block."""
    feedback = _rs_feedback(ec_count)
    top = 8 * (ec_count - 1)
    keep = (1 << (8 * ec_count)) - 1
    register = 0
    for byte in data:
        register = ((register << 8) & keep) ^ feedback[(register >> top) ^ byte]
    return register.to_bytes(ec_count, "big")


@cache
def _blocks(version: int, level: int) -> tuple[tuple[int, int], ...]:
    """(data codewords, error-correction codewords) of each block."""
    return tuple(
        (int(b.data_count), int(b.total_count - b.data_count))
        for b in qrcode.base.rs_blocks(version, level)
    )


def _interleave(blocks: Sequence[bytes]) -> bytes:
    """Codeword i of every block, for each i in turn.

    In every QR version the later blocks are longer by at most one codeword.
    """
    count = len(blocks)
    shortest = min(len(block) for block in blocks)
    out = bytearray(shortest * count)
    for k, block in enumerate(blocks):
        out[k::count] = block[:shortest]
    return bytes(out) + bytes(block[shortest] for block in blocks if len(block) > shortest)


def _codewords(data: bytes, version: int, level: int) -> bytes:
    """Data codewords split into blocks, each followed by its EC codewords, interleaved."""
    data_blocks = []
    ec_blocks = []
    offset = 0
    for data_count, ec_count in _blocks(version, level):
        block = data[offset : offset + data_count]
        offset += data_count
        data_blocks.append(block)
        ec_blocks.append(_rs_ec_codewords(block, ec_count))
    return _interleave(data_blocks) + _interleave(ec_blocks)


_MASKS: Final[tuple[Callable[[int, int], bool], ...]] = (
    lambda r, c: (r + c) % 2 == 0,
    lambda r, c: r % 2 == 0,
    lambda r, c: c % 3 == 0,
    lambda r, c: (r + c) % 3 == 0,
    lambda r, c: (r // 2 + c // 3) % 2 == 0,
    lambda r, c: (r * c) % 2 + (r * c) % 3 == 0,
    lambda r, c: ((r * c) % 2 + (r * c) % 3) % 2 == 0,
    lambda r, c: ((r + c) % 2 + (r * c) % 3) % 2 == 0,
)


@dataclass(frozen=True)
class _Layout:
    """Everything about a version's symbol that does not depend on the data."""

    size: int
    #: Dark modules of finder, separator, timing and alignment patterns.
    pattern_dark: int
    #: Dark modules of the version information and the always-dark module.
    version_dark: int
    #: For each format-information bit (least significant first), its two module positions.
    format_cells: tuple[tuple[int, int], ...]
    #: The eight mask patterns, restricted to the data area.
    masks: tuple[int, ...]
    #: Picks, for each bit of the matrix from the most significant, the codeword-stream
    #: character that goes there (a constant "0" for modules outside the codewords).
    gather: Callable[[bytes], tuple[int, ...]]
    #: Penalty-window masks: pairs and 11-module windows that stay inside a row / column.
    row_pairs: int
    column_pairs: int
    row_windows: int
    column_windows: int


def _bits_at(positions: Iterable[int], size: int) -> int:
    """An integer with the given bit positions set (built as a string: linear, not quadratic)."""
    total = size * size
    cells = bytearray(b"0" * total)
    for position in positions:
        cells[total - 1 - position] = 0x31
    return int(cells, 2)


def _version_info(version: int) -> int:
    """The 18-bit version information: version, then its BCH(18,6) remainder."""
    remainder = version << 12
    for shift in range(5, -1, -1):
        if remainder & (1 << (shift + 12)):
            remainder ^= 0x1F25 << shift
    return (version << 12) | remainder


def _format_info(level: int, mask: int) -> int:
    """The 15-bit format information: level and mask, BCH(15,5) remainder, fixed XOR mask."""
    data = (level << 3) | mask
    remainder = data << 10
    for shift in range(4, -1, -1):
        if remainder & (1 << (shift + 10)):
            remainder ^= 0x537 << shift
    return ((data << 10) | remainder) ^ 0x5412


def _function_patterns(version: int) -> list[list[bool | None]]:
    """Finder, separator, alignment and timing patterns; ``None`` marks the other modules."""
    size = 4 * version + 17
    grid: list[list[bool | None]] = [[None] * size for _ in range(size)]
    for top, left in ((0, 0), (size - 7, 0), (0, size - 7)):
        for r in range(max(top - 1, 0), min(top + 8, size)):
            for c in range(max(left - 1, 0), min(left + 8, size)):
                grid[r][c] = max(abs(r - top - 3), abs(c - left - 3)) in (0, 1, 3)
    centres: list[int] = qrcode.util.pattern_position(version)
    for r in centres:
        for c in centres:
            if grid[r][c] is None:  # not where a finder pattern is
                for dr in range(-2, 3):
                    for dc in range(-2, 3):
                        grid[r + dr][c + dc] = max(abs(dr), abs(dc)) != 1
    for i in range(8, size - 8):
        if grid[6][i] is None:
            grid[6][i] = i % 2 == 0
        if grid[i][6] is None:
            grid[i][6] = i % 2 == 0
    return grid


def _format_cells(size: int) -> tuple[tuple[int, int], ...]:
    """For each format-information bit (least significant first), its two module positions."""
    cells = []
    for i in range(15):
        row = i if i < 6 else i + 1 if i < 8 else size - 15 + i
        col = size - 1 - i if i < 8 else 7 if i == 8 else 14 - i
        cells.append((row * size + 8, 8 * size + col))
    return tuple(cells)


def _version_cells(version: int, size: int) -> list[tuple[int, bool]]:
    """Module positions of the version information (versions 7 and up), and whether dark."""
    if version < 7:
        return []
    info = _version_info(version)
    cells = []
    for i in range(18):
        near, far = i // 3, size - 11 + i % 3
        dark = bool(info >> i & 1)
        cells += [(near * size + far, dark), (far * size + near, dark)]
    return cells


def _data_order(grid: list[list[bool | None]]) -> list[int]:
    """The free modules in codeword order: two-column strips from the right, up then down."""
    size = len(grid)
    order: list[int] = []
    upward = True
    right = size - 1
    while right > 0:
        if right == 6:  # the vertical timing pattern is skipped as a whole column
            right -= 1
        rows = range(size - 1, -1, -1) if upward else range(size)
        order += [r * size + c for r in rows for c in (right, right - 1) if grid[r][c] is None]
        upward = not upward
        right -= 2
    return order


@cache
def _layout(version: int) -> _Layout:
    """Function patterns, reserved areas and data-module order of a version (cached)."""
    grid = _function_patterns(version)
    size = len(grid)
    pattern_dark = [r * size + c for r in range(size) for c in range(size) if grid[r][c]]
    format_cells = _format_cells(size)
    version_cells = _version_cells(version, size)
    always_dark = (size - 8) * size + 8
    reserved = [p for pair in format_cells for p in pair] + [p for p, _ in version_cells]
    for position in [*reserved, always_dark]:
        grid[position // size][position % size] = False
    order = _data_order(grid)

    codeword_bits = 8 * _total_codewords(version)
    total = size * size
    sources = [codeword_bits] * total  # index codeword_bits is the "0" appended to the stream
    for index, position in enumerate(order[:codeword_bits]):
        sources[total - 1 - position] = index
    row = (1 << size) - 1
    return _Layout(
        size=size,
        pattern_dark=_bits_at(pattern_dark, size),
        version_dark=_bits_at([always_dark] + [p for p, dark in version_cells if dark], size),
        format_cells=format_cells,
        masks=tuple(
            _bits_at((p for p in order if mask(*divmod(p, size))), size) for mask in _MASKS
        ),
        gather=itemgetter(*sources),
        row_pairs=_repeat_rows(row >> 1, size, size),
        column_pairs=_repeat_rows(row, size, size - 1),
        row_windows=_repeat_rows(row >> 10, size, size),
        column_windows=_repeat_rows(row, size, size - 10),
    )


def _total_codewords(version: int) -> int:
    """Codewords (data and error correction) of a version: the same at every level."""
    return sum(d + e for d, e in _blocks(version, qrcode.constants.ERROR_CORRECT_M))


def _repeat_rows(row: int, size: int, rows: int) -> int:
    """``row`` repeated in rows 0 to ``rows - 1`` of a ``size``-wide matrix."""
    return sum(row << (r * size) for r in range(rows))


@cache
def _format_dark(version: int, level: int, mask: int) -> int:
    """Dark modules of the format information for this level and mask."""
    layout = _layout(version)
    info = _format_info(level, mask)
    dark = (p for i, pair in enumerate(layout.format_cells) if info >> i & 1 for p in pair)
    return _bits_at(dark, layout.size)


def _penalty(matrix: int, layout: _Layout) -> int:
    """ISO/IEC 18004 mask penalty (N1 to N4) of a matrix, computed with whole-matrix shifts.

    Shifting by 1 steps along rows, by ``size`` along columns; the window masks drop the
    results that would straddle a row's end. Equals ``qrcode.util.lost_point``.
    """
    size = layout.size
    score = 0
    for step, pairs, windows in (
        (1, layout.row_pairs, layout.row_windows),
        (size, layout.column_pairs, layout.column_windows),
    ):
        # N1: a run of k >= 5 same-coloured modules costs k - 2 = (k - 4 windows of five) + 2.
        same = ~(matrix ^ (matrix >> step)) & pairs
        five = same & (same >> step) & (same >> 2 * step) & (same >> 3 * step)
        run_starts = five & ~(same << step)
        score += five.bit_count() + 2 * run_starts.bit_count()
        # N3: dark-light-dark x3-light-dark (1:1:3:1:1) with four light modules on one side.
        core = (
            matrix
            & ~(matrix >> step)
            & (matrix >> 2 * step)
            & (matrix >> 3 * step)
            & (matrix >> 4 * step)
            & ~(matrix >> 5 * step)
            & (matrix >> 6 * step)
        )
        light4 = ~(matrix | (matrix >> step) | (matrix >> 2 * step) | (matrix >> 3 * step))
        finder_like = ((core & (light4 >> 7 * step)) | (light4 & (core >> 4 * step))) & windows
        score += 40 * finder_like.bit_count()
    # N2: each 2x2 block of one colour.
    same_across = ~(matrix ^ (matrix >> 1)) & layout.row_pairs
    same_down = ~(matrix ^ (matrix >> size)) & layout.column_pairs
    score += 3 * (same_across & (same_across >> size) & same_down).bit_count()
    # N4: 10 points for each full 5 % the dark share is away from 50 %.
    dark_share = matrix.bit_count() / (size * size)
    score += int(abs(dark_share * 100 - 50) / 5) * 10
    return score


def qr_matrix(qr_text: str, ecc: ErrorCorrection = ErrorCorrection.M) -> QrSymbol:
    """Encode a QR text (alphanumeric prefix, then digits) as a QR symbol.

    The prefix goes in an alphanumeric segment and the digits in one numeric segment; the
    version is the smallest that holds them at ``ecc``, and the mask the one with the lowest
    ISO penalty. Raises :class:`~verifier.errors.InputRejected` subclasses for text that is not
    an upper-case alphanumeric prefix followed by digits, or too long for any QR code, and
    :class:`~verifier.errors.UsageError` for an unknown ``ecc``. Whether the text is a valid
    plainclaim credential (``PC1:``, an even digit count) is the caller's business.
    """
    level = _level(ecc)
    segments = _segments(*_split(qr_text))
    version, count_bits = _fit(segments, level)
    capacity = int(qrcode.util.BIT_LIMIT_TABLE[level][version])
    codewords = _codewords(_data_codewords(segments, count_bits, capacity), version, level)

    layout = _layout(version)
    stream = format(int.from_bytes(codewords, "big"), f"0{8 * len(codewords)}b").encode()
    placed = int(bytes(layout.gather(stream + b"0")), 2)
    # The mask is scored with format and version information still blank, as qrcode does.
    candidates = [layout.pattern_dark | (placed ^ mask) for mask in layout.masks]
    scores = [_penalty(candidate, layout) for candidate in candidates]
    mask = scores.index(min(scores))
    bits = candidates[mask] | layout.version_dark | _format_dark(version, level, mask)
    return QrSymbol(
        version=version, ecc=ErrorCorrection(ecc), mask=mask, size=layout.size, bits=bits
    )


def _level(ecc: ErrorCorrection) -> int:
    try:
        return _LEVEL[ErrorCorrection(ecc)]
    except (ValueError, KeyError):
        raise errors.UsageError(f"error correction must be M, Q or H, not {ecc!r}") from None


def check_qr_text(qr_text: str) -> None:
    """Check the QR text's syntax (an upper-case alphanumeric prefix, then digits) only."""
    _split(qr_text)
