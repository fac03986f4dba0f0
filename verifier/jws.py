"""The plainclaim JWS profile: strict parsing of compact JWS, and signing.

Profile (RFC 7515 compact serialisation, hardened per RFC 8725):

* exactly three base64url segments, no padding, canonical trailing bits;
* the header holds ``alg``, ``typ`` and ``kid`` and nothing else (no ``jku``, ``jwk``,
  ``x5u``, ``x5c``, ``crit``, ``zip``, ...), each a string;
* explicit typing: every kind of token has its own ``typ``, so a trust list can never be
  passed off as a credential;
* JSON objects with a duplicated key are refused (parsers disagree on which copy wins);
* ES256 only, with the raw 64-byte ``r || s`` signature; the algorithm a key may be used with
  is fixed by the trust list, never taken from the token.
"""

from __future__ import annotations

import binascii
import functools
import json
import re
from collections.abc import Mapping
from json.scanner import make_scanner
from typing import TYPE_CHECKING, Final, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from verifier import errors
from verifier.keys import ALGORITHM

if TYPE_CHECKING:
    import jwt

CREDENTIAL_TYP: Final = "pc1"
TRUST_LIST_TYP: Final = "pc1-trust+jwt"
STATUS_LIST_TYP: Final = "statuslist+jwt"
_KNOWN_TYPS: Final = frozenset({CREDENTIAL_TYP, TRUST_LIST_TYP, STATUS_LIST_TYP})

ALLOWED_HEADER_FIELDS: Final = frozenset({"alg", "typ", "kid"})
SIGNATURE_BYTES: Final = 64

_BASE64URL_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# base64url to standard base64; every byte outside base64url becomes "!", which no base64 has.
_BASE64URL_TO_STANDARD: Final = bytes(
    byte if byte in _BASE64URL_ALPHABET else ord("!") for byte in range(256)
).translate(bytes.maketrans(b"-_", b"+/"))
_STANDARD_TO_BASE64URL: Final = bytes.maketrans(b"+/", b"-_")
_PADDING: Final = (b"", b"", b"==", b"=")
# The last character of an unpadded segment whose length is 2 or 3 mod 4 carries bits that
# decoding drops. Only these characters leave those bits zero, so each byte string has exactly
# one accepted encoding.
_CANONICAL_LAST: Final = {
    2: frozenset(b"AQgw"),
    3: frozenset(b"AEIMQUYcgkosw048"),
}
_KID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


class _EcdsaSha256(ec.ECDSA):
    """``ECDSA(SHA256())`` for verifying, built without running ``ECDSA.__init__``.

    That ``__init__`` imports cryptography's OpenSSL backend module (6 ms of a verifier's cold
    start) only to check deterministic-signing support, which verification never uses. The
    instance is still an ``ECDSA`` whose ``algorithm`` is SHA-256, all ``verify`` reads.
    """

    def __init__(self) -> None:  # Not calling ECDSA.__init__ is the point, see above.
        pass

    @property
    def algorithm(self) -> hashes.HashAlgorithm:
        """SHA-256, the only hash of ES256."""
        return _SHA256

    @property
    def deterministic_signing(self) -> bool:
        """Never used to verify; answered anyway so the object is complete."""
        return False


_SHA256: Final = hashes.SHA256()
_ECDSA_SHA256: Final = _EcdsaSha256()
# DER headers of a signature whose halves are 32-byte integers: the SEQUENCE by the number of
# halves with the top bit set, and each INTEGER by its top bit (then it needs a zero byte).
_DER_SEQUENCE: Final = (b"\x30\x44", b"\x30\x45", b"\x30\x46")
_DER_INTEGER: Final = (b"\x02\x20", b"\x02\x21\x00")


class JwsHeader(NamedTuple):
    """The three header fields the profile allows.

    (A NamedTuple: immutable, and defined in a fifth of the import time of a dataclass.)
    """

    alg: str
    typ: str
    kid: str


class UnverifiedJws(NamedTuple):
    """A syntactically valid JWS whose signature has NOT been checked yet.

    Nothing in here may be trusted until :func:`verify_signature` has passed. (A NamedTuple:
    immutable, and several times cheaper to build than a frozen dataclass on the hot path.)
    """

    header: JwsHeader
    unverified_payload: dict[str, object]
    signing_input: bytes
    signature: bytes


_new_tuple = tuple.__new__


def parse_compact(token: str | bytes, expected_typ: str) -> UnverifiedJws:
    """Parse a compact JWS strictly under the plainclaim profile, without verifying it."""
    raw = token.encode("ascii", "replace") if isinstance(token, str) else token
    parts = raw.split(b".")
    if len(parts) != 3:
        raise errors.MalformedToken(f"{len(parts)} segments, expected 3")
    header_b64, payload_b64, signature_b64 = parts
    header = _parse_header_segment(header_b64, expected_typ)
    payload = _json_object(_b64url_decode(payload_b64))
    signature = _b64url_decode(signature_b64)
    signing_input = raw[: len(header_b64) + 1 + len(payload_b64)]
    # tuple.__new__ is what the NamedTuple's own __new__ calls, minus a Python-level call.
    return _new_tuple(UnverifiedJws, (header, payload, signing_input, signature))


def check_kid(kid: str) -> None:
    """Refuse key ids with characters no key id has (paths, quotes, SQL, control bytes)."""
    if not _KID.fullmatch(kid):
        raise errors.InvalidKid("kid must be 1-64 characters of A-Z a-z 0-9 _ -")


def verify_signature(jws: UnverifiedJws, key: ec.EllipticCurvePublicKey, key_alg: str) -> None:
    """Check the signature with a key whose algorithm the trust list fixed as ``key_alg``."""
    if jws.header.alg != key_alg or key_alg != ALGORITHM:
        raise errors.AlgorithmMismatch(f"token says {jws.header.alg!r}, key is {key_alg!r}")
    signature = jws.signature
    if len(signature) != SIGNATURE_BYTES:
        # A DER signature (about 70-72 bytes) lands here too: format 1 is raw r||s only.
        raise errors.SignatureEncoding(f"{len(signature)} bytes, expected 64 (raw r||s)")
    # The check goes straight to cryptography with a prebuilt ECDSA(SHA256): pyjwt's
    # ECAlgorithm.verify builds objects on every call, which costs ~5% of a verification.
    try:
        key.verify(_der_signature(signature), jws.signing_input, _ECDSA_SHA256)
    except InvalidSignature:
        raise errors.SignatureInvalid("the signature does not match") from None


def _der_signature(raw: bytes) -> bytes:
    """The DER ``SEQUENCE {INTEGER r, INTEGER s}`` that cryptography verifies, from raw r||s."""
    half = SIGNATURE_BYTES // 2
    r, s = raw[:half], raw[half:]
    if r[0] and s[0]:
        # Neither half has a leading zero byte (all but 1 in 128 signatures), so each is a
        # 32-byte DER integer, with a zero byte in front if its top bit is set (DER integers
        # are signed). Joined from templates: half the time of the general path below.
        r_top, s_top = r[0] >> 7, s[0] >> 7
        return b"".join(
            (_DER_SEQUENCE[r_top + s_top], _DER_INTEGER[r_top], r, _DER_INTEGER[s_top], s)
        )
    return encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))


def sign_compact(
    payload: Mapping[str, object], private_key: ec.EllipticCurvePrivateKey, kid: str, typ: str
) -> str:
    """Sign ``payload`` as a compact ES256 JWS with the profile's header.

    The payload is serialised compactly in the caller's key order (every byte grows the QR).
    pyjwt's ES256 implementation makes the signature (raw r||s); the header segment, the same
    for every token of one key, is built once: issuing is mostly signing.
    """
    if typ not in _KNOWN_TYPS:
        raise errors.UsageError(f"unknown token type {typ!r}")
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    signing_input = _header_segment(kid, typ) + b"." + _b64url(body)
    signature = _es256().sign(signing_input, private_key)
    return (signing_input + b"." + _b64url(signature)).decode("ascii")


@functools.lru_cache(maxsize=64)
def _header_segment(kid: str, typ: str) -> bytes:
    check_kid(kid)
    header = {"alg": ALGORITHM, "kid": kid, "typ": typ}
    return _b64url(json.dumps(header, separators=(",", ":"), sort_keys=True).encode("ascii"))


def _b64url(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False).translate(_STANDARD_TO_BASE64URL).rstrip(b"=")


@functools.cache
def _es256() -> jwt.algorithms.ECAlgorithm:
    # pyjwt is imported on first signing only: importing it costs a verifier ~65 ms of cold
    # start (it pulls in x509, urllib.request, ssl and http.client), and verifying never needs it.
    from jwt.algorithms import ECAlgorithm

    return ECAlgorithm(ECAlgorithm.SHA256)


@functools.lru_cache(maxsize=256)
def _parse_header_segment(segment: bytes, expected_typ: str) -> JwsHeader:
    # An issuer's headers repeat byte for byte (same alg, typ, kid), so a verifier parses each
    # once. Only successful parses are cached; the cache is bounded against floods of kids.
    return _parse_header(_json_object(_b64url_decode(segment)), expected_typ)


def _parse_header(header: dict[str, object], expected_typ: str) -> JwsHeader:
    extra = header.keys() - ALLOWED_HEADER_FIELDS
    if extra:
        raise errors.ForbiddenHeader(f"header fields not allowed: {sorted(extra)}")
    alg, typ, kid = header.get("alg"), header.get("typ"), header.get("kid")
    if not isinstance(alg, str):
        raise errors.MalformedToken("alg missing or not a string")
    if alg.lower() == "none":
        raise errors.AlgorithmNone("unsigned tokens are never accepted")
    if not isinstance(typ, str):
        raise errors.WrongType("typ missing or not a string")
    # RFC 7515 section 4.1.9: media type names compare case-insensitively.
    typ_folded = typ.lower()
    if typ_folded != expected_typ:
        if typ_folded in _KNOWN_TYPS:
            raise errors.WrongTokenKind(f"a {typ!r} token where {expected_typ!r} is expected")
        raise errors.WrongType(f"typ {typ!r}, expected {expected_typ!r}")
    if not isinstance(kid, str):
        raise errors.UnknownKey("kid missing or not a string")
    return JwsHeader(alg=alg, typ=typ_folded, kid=kid)


def _b64url_decode(segment: bytes) -> bytes:
    # bytes.translate and binascii run in C: this is on every verification's hot path. One
    # translate both maps base64url to standard base64 and turns every other byte (padding
    # included) into one that strict a2b_base64 refuses.
    if not segment:
        raise errors.Base64Invalid("segment is empty or not base64url without padding")
    tail = len(segment) % 4
    if tail == 1 or (tail and segment[-1] not in _CANONICAL_LAST[tail]):
        raise errors.Base64Invalid("segment length or trailing bits are not canonical")
    try:
        return binascii.a2b_base64(
            segment.translate(_BASE64URL_TO_STANDARD) + _PADDING[tail], strict_mode=True
        )
    except binascii.Error:
        raise errors.Base64Invalid("segment is empty or not base64url without padding") from None


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise errors.DuplicateJsonKey("a JSON object repeats a key")
    return result


def _refuse_constant(name: str) -> object:
    raise errors.JsonInvalid(f"{name} is not JSON")


# One decoder for all: building a JSONDecoder per call costs as much as a small parse.
_JSON: Final = json.JSONDecoder(
    object_pairs_hook=_no_duplicate_keys, parse_constant=_refuse_constant
)
# The scanner of the same decoder without the duplicate-key hook, called directly (decode()
# and raw_decode() wrap it in Python code): a credential's payload parses in two thirds of
# the time. Only used where the text proves it has no duplicate key, see _json_object.
_JSON_WITHOUT_HOOK: Final = json.JSONDecoder(parse_constant=_refuse_constant)
_SCAN_WITHOUT_HOOK: Final = make_scanner(_JSON_WITHOUT_HOOK)  # type: ignore[arg-type]  # typeshed


def _json_object(data: bytes) -> dict[str, object]:
    try:
        # Decode as UTF-8 ourselves: json.loads(bytes) would also guess UTF-16 and UTF-32.
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.JsonInvalid("not valid UTF-8 JSON") from None
    # Fast path. Every key in a JSON text, at any depth, is followed by a ":" outside any
    # string, so the text holds at least as many ":" as keys. Parsed without the hook, an
    # object keeps one entry per distinct key. So when the text holds exactly as many ":"
    # as the top object has entries, no key was repeated and no nested object has a key:
    # the hooked parse would return this same dict. (Counting bytes is counting characters
    # here: UTF-8 writes non-ASCII characters with bytes above 0x7F only.) Anything else,
    # errors included, takes the hooked parse, which decides.
    try:
        value, end = _SCAN_WITHOUT_HOOK(text, 0)
        if end == len(text) and type(value) is dict and data.count(b":") == len(value):
            return value
    except (StopIteration, ValueError, RecursionError, errors.PlainclaimError):
        pass
    try:
        value = _JSON.decode(text)
    except (ValueError, RecursionError):
        # json.JSONDecodeError and over-long integers land here.
        raise errors.JsonInvalid("not valid UTF-8 JSON") from None
    if not isinstance(value, dict):
        raise errors.JsonInvalid("a JWS header and payload must be JSON objects")
    return value
