"""Status lists: which credentials an issuer has revoked or suspended, read offline.

An issuer publishes a signed ``statuslist+jwt`` as a static file; verifiers sync it and look a
credential's entry up without calling home. The list follows the IETF Token Status List draft
(draft-ietf-oauth-status-list, section 4): a byte array in which entry ``i`` takes ``bits`` bits,
packed from the least significant bit of byte 0 upwards, so with 2 bits entry 0 is
``byte[0] & 0b11`` and entry 3 is ``byte[0] >> 6``. The array is ZLIB-compressed (RFC 1950) and
base64url-encoded without padding as ``lst``.

The verifier side (:class:`StatusList`, :func:`parse_status_list_claims`) treats every list as
hostile until it is parsed: it never inflates more than the signed ``size`` declares. The issuer
side (:class:`StatusListBuilder`, :func:`status_list_claims`) lives here too because this module
owns the wire format; its optional compressor, zopfli, is imported only when an issuer encodes.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Final, TypeGuard, final

from verifier import errors
from verifier.claims import MAX_TIMESTAMP

#: Entry widths the draft allows: bit manipulation never crosses a byte.
ALLOWED_BITS: Final = frozenset({1, 2, 4, 8})
#: Most entries a list may declare, whatever their width.
MAX_ENTRIES: Final = 100_000_000
#: Largest inflated byte array a verifier accepts by default: 100 million 2-bit entries.
DEFAULT_MAX_BYTES: Final = MAX_ENTRIES * 2 // 8
#: Longest ``sub`` accepted; status list URIs are short paths on the issuer's site.
MAX_URI_CHARS: Final = 2048

_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]*")
_CLAIMS: Final = frozenset({"sub", "iat", "exp", "ttl", "status_list"})
_LIST_MEMBERS: Final = frozenset({"bits", "lst", "size"})
_ZLIB_WBITS: Final = 15  # a zlib header and trailer: neither raw deflate nor gzip
_INFLATE_STEP: Final = 1 << 14
# zopfli spends ~1 s per million 2-bit entries here; more iterations gain under 0.1 %.
_ZOPFLI_ITERATIONS: Final = 5


class StatusValue(IntEnum):
    """The status types of the draft (section 7.1) that fit the 2-bit lists plainclaim issues."""

    VALID = 0
    INVALID = 1
    SUSPENDED = 2
    APPLICATION_SPECIFIC = 3


_STATUS_BY_CODE: Final = tuple(StatusValue)


def _is_int(value: object) -> TypeGuard[int]:
    # JSON true is a Python bool, which is an int: never accept it as a number.
    return isinstance(value, int) and not isinstance(value, bool)


def _byte_length(bits: object, size: object, max_bytes: int) -> int:
    """The exact byte array length for ``size`` entries of ``bits`` bits, or refuse the list."""
    if not _is_int(bits) or bits not in ALLOWED_BITS:
        raise errors.StatusListInvalid(f"bits must be one of 1, 2, 4, 8, not {bits!r}")
    if not _is_int(size):
        raise errors.StatusListInvalid(f"size must be an integer, not {type(size).__name__}")
    if not 1 <= size <= MAX_ENTRIES:
        raise errors.StatusListInvalid(f"size {size} outside 1..{MAX_ENTRIES}")
    length = -(-size * bits // 8)  # never 0, so it is a real bound for zlib's max_length
    if length > max_bytes:
        raise errors.StatusListInvalid(f"{length} bytes declared, limit {max_bytes}")
    return length


def _check_max_bytes(max_bytes: int) -> None:
    if not _is_int(max_bytes) or max_bytes < 1:
        raise errors.UsageError(f"max_bytes must be a positive integer, not {max_bytes!r}")


def _decode_base64url(lst: str, length: int) -> bytes:
    # A deflate stream is never longer than its data stored verbatim, or written with the fixed
    # Huffman code (at most 9 bits a byte), plus a few header bytes: anything longer is refused
    # before a single byte of it is decoded.
    limit = -(-(length + length // 8 + 64) * 4 // 3)
    if len(lst) > limit:
        raise errors.StatusListInvalid(f"lst has {len(lst)} characters, limit {limit}")
    if _BASE64URL.fullmatch(lst) is None:
        raise errors.StatusListInvalid("lst holds characters outside base64url (or padding)")
    if len(lst) % 4 == 1:
        raise errors.StatusListInvalid("lst has an impossible base64url length")
    try:
        compressed = base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4))
    except binascii.Error as exc:  # unreachable after the checks above; kept as the boundary
        raise errors.StatusListInvalid(f"lst is not base64url: {exc}") from None
    # Unused low bits in the last character must be zero, so that one list has one spelling.
    if _encode_base64url(compressed) != lst:
        raise errors.StatusListInvalid("lst is not canonical base64url")
    return compressed


def _encode_base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _inflate(compressed: bytes, length: int) -> bytearray:
    """Inflate a zlib stream that must hold exactly ``length`` bytes, never producing more.

    The output goes straight into a buffer of ``length`` bytes, ``_INFLATE_STEP`` bytes of input
    and output at a time: parsing costs the list's own size plus a constant, and a stream that
    would inflate to gigabytes is refused at the first byte past ``length``.
    """
    data = bytearray(length)
    filled = offset = 0
    source = memoryview(compressed)
    inflater = zlib.decompressobj(_ZLIB_WBITS)
    try:
        while not inflater.eof:
            # Input left over because the output step was full comes first. Once the input is
            # used up, an empty piece still lets zlib write output it has decoded but not copied.
            piece: bytes | memoryview = inflater.unconsumed_tail
            if not piece:
                piece = source[offset : offset + _INFLATE_STEP]
                offset += len(piece)
            room = length - filled
            chunk = inflater.decompress(piece, min(room + 1, _INFLATE_STEP))
            if len(chunk) > room:
                raise errors.StatusListInvalid(f"lst inflates to more than {length} bytes")
            if not chunk and not piece:
                raise errors.StatusListInvalid("lst is a truncated zlib stream")
            data[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
    except zlib.error as exc:
        raise errors.StatusListInvalid(f"lst is not a valid zlib stream: {exc}") from None
    if inflater.unused_data or offset < len(source):
        raise errors.StatusListInvalid("bytes after the end of the zlib stream")
    if filled != length:
        raise errors.StatusListInvalid(f"lst inflates to {filled} bytes, {length} declared")
    return data


def _deflate(data: bytes, *, fast: bool) -> bytes:
    """Compress ``data`` as small as the installed tools allow, as a standard zlib stream."""
    if not fast:
        try:
            zopfli = importlib.import_module("zopfli.zlib")
        except ImportError:
            pass
        else:
            compressed = bytes(zopfli.compress(data, numiterations=_ZOPFLI_ITERATIONS))
            # Cheap next to zopfli itself: never publish a list that verifiers cannot read back.
            if zlib.decompress(compressed, _ZLIB_WBITS) != data:
                raise errors.ConfigurationError("zopfli produced a stream that does not inflate")
            return compressed
    # Measured on sparse 2-bit lists: Z_FILTERED with memLevel 9 is the smallest zlib output,
    # a little below the default strategy; Z_RLE is 10 % larger.
    deflater = zlib.compressobj(9, zlib.DEFLATED, _ZLIB_WBITS, 9, zlib.Z_FILTERED)
    return deflater.compress(data) + deflater.flush()


@final
class StatusList:
    """A parsed status list: read-only, held as the inflated byte array and nothing else.

    Looking an entry up is O(1) and allocates nothing. Build one from a token with
    :meth:`from_encoded`; the constructor takes a byte array already inflated.
    """

    __slots__ = ("_bits", "_data", "_size")

    def __init__(
        self, data: bytes, bits: int, size: int, *, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        """Wrap the byte array ``data`` of ``size`` entries of ``bits`` bits each.

        :raises StatusListInvalid: for a width, size or length that does not fit.
        :raises UsageError: for ``data`` that is not ``bytes``.
        """
        _check_max_bytes(max_bytes)
        length = _byte_length(bits, size, max_bytes)
        # bytes only: nobody else may hold a mutable reference to a list being read.
        if not isinstance(data, bytes):
            raise errors.UsageError(f"data must be bytes, not {type(data).__name__}")
        if len(data) != length:
            raise errors.StatusListInvalid(f"{size} entries of {bits} bits take {length} bytes")
        self._adopt(data, bits, size)

    def _adopt(self, data: bytes | bytearray, bits: int, size: int) -> None:
        spare_bits = len(data) * 8 - size * bits
        # The bits after the last entry must be zero: no hidden entries beyond the declared size.
        if spare_bits and data[-1] >> (8 - spare_bits):
            raise errors.StatusListInvalid("non-zero bits after the last entry")
        self._data = data
        self._bits = bits
        self._size = size

    @classmethod
    def from_encoded(
        cls, lst: str, bits: int, size: int, *, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> StatusList:
        """Parse the ``lst`` of a status list token.

        ``bits`` and ``size`` come from the same signed token. The list is refused unless it
        inflates to exactly the declared byte count: a hostile list costs at most that much
        memory (``max_bytes`` at most, 25 MB by default), never what its stream would expand to.

        :raises StatusListInvalid: for anything but a strict, complete, exact list.
        """
        _check_max_bytes(max_bytes)
        length = _byte_length(bits, size, max_bytes)
        if not isinstance(lst, str):
            raise errors.StatusListInvalid(f"lst must be a string, not {type(lst).__name__}")
        # The inflated buffer is kept as it is, not copied into bytes (which would double the
        # peak memory); it is private to the new object and never handed out.
        status_list = cls.__new__(cls)
        status_list._adopt(_inflate(_decode_base64url(lst, length), length), bits, size)
        return status_list

    @property
    def bits(self) -> int:
        """Bits per entry: 1, 2, 4 or 8."""
        return self._bits

    def __len__(self) -> int:
        """The number of entries the list declares."""
        return self._size

    def __repr__(self) -> str:
        return f"StatusList(bits={self._bits}, size={self._size})"

    def to_bytes(self) -> bytes:
        """The inflated byte array, as the draft lays it out (a copy when parsed)."""
        return bytes(self._data)

    def raw_status(self, index: int) -> int:
        """The status code of entry ``index``, whatever its value (0 to 2**bits - 1).

        :raises StatusIndexOutOfRange: for an index the list does not hold.
        :raises UsageError: for an index that is not an int: the credential's claims are typed
            before they get here, so that is a caller's bug.
        """
        if type(index) is not int:
            raise errors.UsageError(f"status index must be an int, not {type(index).__name__}")
        if not 0 <= index < self._size:
            raise errors.StatusIndexOutOfRange(f"index {index}, list of {self._size} entries")
        position = index * self._bits
        return (self._data[position >> 3] >> (position & 7)) & ((1 << self._bits) - 1)

    def status(self, index: int) -> StatusValue:
        """The status of entry ``index``.

        :raises StatusIndexOutOfRange: for an index the list does not hold.
        :raises StatusListInvalid: for a code above 3, which only 4- and 8-bit lists hold and
            this verifier cannot interpret (reserved or application-specific types).
        """
        code = self.raw_status(index)
        if code >= len(_STATUS_BY_CODE):
            raise errors.StatusListInvalid(f"status code {code} at index {index} is unknown")
        return _STATUS_BY_CODE[code]

    def is_revoked(self, index: int) -> bool:
        """Whether entry ``index`` is INVALID: the issuer withdrew the credential for good."""
        return self.status(index) is StatusValue.INVALID

    def is_suspended(self, index: int) -> bool:
        """Whether entry ``index`` is SUSPENDED: withdrawn for now, possibly valid again later."""
        return self.status(index) is StatusValue.SUSPENDED


@final
class StatusListBuilder:
    """A status list being edited by an issuer: every entry starts VALID (0)."""

    __slots__ = ("_bits", "_data", "_size")

    def __init__(self, size: int, bits: int = 2) -> None:
        """An all-VALID list of ``size`` entries of ``bits`` bits each.

        Sizes a verifier would refuse by default are refused here, so that an issuer never
        publishes a list its verifiers cannot load.

        :raises UsageError: for a width or size outside the limits.
        """
        try:
            length = _byte_length(bits, size, DEFAULT_MAX_BYTES)
        except errors.StatusListInvalid as exc:
            raise errors.UsageError(exc.detail) from None
        self._data = bytearray(length)
        self._bits = bits
        self._size = size

    @classmethod
    def from_status_list(cls, status_list: StatusList) -> StatusListBuilder:
        """A builder starting from a published list, to edit and publish again."""
        builder = cls(len(status_list), status_list.bits)
        builder._data[:] = status_list.to_bytes()
        return builder

    @property
    def bits(self) -> int:
        """Bits per entry: 1, 2, 4 or 8."""
        return self._bits

    def __len__(self) -> int:
        """The number of entries."""
        return self._size

    def __repr__(self) -> str:
        return f"StatusListBuilder(size={self._size}, bits={self._bits})"

    def _position(self, index: int) -> int:
        if not _is_int(index) or not 0 <= index < self._size:
            raise errors.UsageError(f"index {index!r} outside 0..{self._size - 1}")
        return index * self._bits

    def set(self, index: int, value: int) -> None:
        """Set entry ``index`` to the status code ``value`` (a :class:`StatusValue` or an int).

        :raises UsageError: for an index outside the list or a value wider than ``bits``.
        """
        position = self._position(index)
        if not _is_int(value) or not 0 <= value < 1 << self._bits:
            raise errors.UsageError(f"status {value!r} does not fit in {self._bits} bits")
        byte, shift = position >> 3, position & 7
        mask = ((1 << self._bits) - 1) << shift
        self._data[byte] = (self._data[byte] & ~mask) | (value << shift)

    def get(self, index: int) -> int:
        """The status code of entry ``index``.

        :raises UsageError: for an index outside the list.
        """
        position = self._position(index)
        return (self._data[position >> 3] >> (position & 7)) & ((1 << self._bits) - 1)

    def to_bytes(self) -> bytes:
        """A copy of the byte array, as the draft lays it out."""
        return bytes(self._data)

    def freeze(self) -> StatusList:
        """An immutable copy, as a verifier would parse it."""
        return StatusList(self.to_bytes(), self._bits, self._size)

    def encode(self, *, fast: bool = False) -> str:
        """The ``lst`` value: the byte array ZLIB-compressed, then base64url without padding.

        By default the compressor is zopfli when it is installed (an issuer-only dependency):
        about 10 % smaller than zlib, at about 1 s per million 2-bit entries. ``fast=True``, or
        no zopfli, uses zlib at level 9, which takes about a tenth of that.
        """
        return _encode_base64url(_deflate(self.to_bytes(), fast=fast))


@dataclass(frozen=True, slots=True)
class StatusListToken:
    """The validated payload of a ``statuslist+jwt`` (its signature is checked elsewhere)."""

    subject_uri: str
    issued_at: datetime
    expires_at: datetime
    ttl_seconds: int
    status_list: StatusList

    @property
    def ttl(self) -> timedelta:
        """How long a verifier may keep this list before fetching a fresh one."""
        return timedelta(seconds=self.ttl_seconds)


def _numeric_date(name: str, moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise errors.UsageError(f"{name} must be an aware datetime")
    seconds = int(moment.timestamp())
    if not 0 < seconds <= MAX_TIMESTAMP:
        raise errors.UsageError(f"{name} is outside the NumericDate range verifiers accept")
    return seconds


def status_list_claims(
    status_list: StatusListBuilder | StatusList,
    *,
    subject_uri: str,
    issued_at: datetime,
    expires_at: datetime,
    ttl: timedelta,
    fast: bool = False,
) -> dict[str, object]:
    """The payload of a ``statuslist+jwt`` for ``status_list``, ready to be signed.

    Times are aware datetimes, written as whole seconds. The payload is checked against the
    rules of :func:`parse_status_list_claims`, so verifiers accept what issuers publish.

    :raises UsageError: for a time window, ttl or URI that verifiers would refuse.
    """
    iat = _numeric_date("issued_at", issued_at)
    exp = _numeric_date("expires_at", expires_at)
    if exp <= iat:
        raise errors.UsageError("expires_at must be after issued_at")
    ttl_seconds = ttl.total_seconds()
    if ttl_seconds != int(ttl_seconds) or not 0 < ttl_seconds <= MAX_TIMESTAMP:
        raise errors.UsageError("ttl must be a positive whole number of seconds")
    if not isinstance(subject_uri, str) or not 0 < len(subject_uri) <= MAX_URI_CHARS:
        raise errors.UsageError("subject_uri must be a non-empty string")
    data = status_list.to_bytes()
    return {
        "sub": subject_uri,
        "iat": iat,
        "exp": exp,
        "ttl": int(ttl_seconds),
        "status_list": {
            "bits": status_list.bits,
            "lst": _encode_base64url(_deflate(data, fast=fast)),
            # "size" is plainclaim's addition to the draft's status_list object: the signed
            # entry count. A verifier inflates exactly that many entries' bytes and refuses
            # any other length, so a hostile list cannot blow up a verifier's memory.
            "size": len(status_list),
        },
    }


def _check_members(obj: Mapping[str, object], allowed: frozenset[str], what: str) -> None:
    unknown = set(obj) - allowed
    if unknown:
        names = ", ".join(sorted(repr(key) for key in unknown))
        raise errors.StatusListInvalid(f"unknown {what} {names}")
    missing = allowed - set(obj)
    if missing:
        raise errors.StatusListInvalid(f"missing {what} {', '.join(sorted(missing))}")


def _seconds(payload: Mapping[str, object], name: str) -> int:
    value = payload[name]
    if not _is_int(value):
        raise errors.StatusListInvalid(f"{name} must be an integer, not {type(value).__name__}")
    if value > MAX_TIMESTAMP:
        raise errors.StatusListInvalid(f"{name} {value} is too large: milliseconds?")
    if value <= 0:
        raise errors.StatusListInvalid(f"{name} must be positive")
    return value


def parse_status_list_claims(
    payload: Mapping[str, object],
    *,
    expected_uri: str | None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> StatusListToken:
    """Validate the payload of a ``statuslist+jwt`` whose signature has been verified.

    The claim set is closed: exactly ``sub``, ``iat``, ``exp``, ``ttl`` and ``status_list``
    (holding exactly ``bits``, ``lst``, ``size``). ``expected_uri`` is the URI the list was
    fetched for, which ``sub`` must equal; pass ``None`` only when that is checked elsewhere.
    Freshness (``exp``, ``ttl``) against the clock is the caller's decision.

    :raises StatusListInvalid: for any payload outside that profile.
    """
    if not isinstance(payload, Mapping):
        raise errors.StatusListInvalid("the payload must be a JSON object")
    _check_members(payload, _CLAIMS, "claim")
    subject_uri = payload["sub"]
    if not isinstance(subject_uri, str) or not 0 < len(subject_uri) <= MAX_URI_CHARS:
        raise errors.StatusListInvalid("sub must be a non-empty string")
    if expected_uri is not None and subject_uri != expected_uri:
        raise errors.StatusListInvalid("sub is not the URI this list was fetched for")
    issued_at = _seconds(payload, "iat")
    expires_at = _seconds(payload, "exp")
    if expires_at <= issued_at:
        raise errors.StatusListInvalid("exp must be after iat")
    ttl_seconds = _seconds(payload, "ttl")
    status_list = payload["status_list"]
    if not isinstance(status_list, Mapping):
        raise errors.StatusListInvalid("status_list must be a JSON object")
    _check_members(status_list, _LIST_MEMBERS, "status_list member")
    bits, lst, size = status_list["bits"], status_list["lst"], status_list["size"]
    if not isinstance(lst, str):
        raise errors.StatusListInvalid("status_list.lst must be a string")
    if not _is_int(bits) or not _is_int(size):
        raise errors.StatusListInvalid("status_list.bits and .size must be integers")
    return StatusListToken(
        subject_uri=subject_uri,
        issued_at=datetime.fromtimestamp(issued_at, tz=UTC),
        expires_at=datetime.fromtimestamp(expires_at, tz=UTC),
        ttl_seconds=ttl_seconds,
        status_list=StatusList.from_encoded(lst, bits, size, max_bytes=max_bytes),
    )
