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
from dataclasses import dataclass
from typing import Final, NamedTuple

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from verifier import errors
from verifier.keys import ALGORITHM

CREDENTIAL_TYP: Final = "pc1"
TRUST_LIST_TYP: Final = "pc1-trust+jwt"
STATUS_LIST_TYP: Final = "statuslist+jwt"
_KNOWN_TYPS: Final = frozenset({CREDENTIAL_TYP, TRUST_LIST_TYP, STATUS_LIST_TYP})

ALLOWED_HEADER_FIELDS: Final = frozenset({"alg", "typ", "kid"})
SIGNATURE_BYTES: Final = 64

_BASE64URL_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_URLSAFE_TO_STANDARD: Final = bytes.maketrans(b"-_", b"+/")
# The last character of an unpadded segment whose length is 2 or 3 mod 4 carries bits that
# decoding drops. Only these characters leave those bits zero, so each byte string has exactly
# one accepted encoding.
_CANONICAL_LAST: Final = {
    2: frozenset(b"AQgw"),
    3: frozenset(b"AEIMQUYcgkosw048"),
}
_KID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ECDSA_SHA256: Final = ec.ECDSA(hashes.SHA256())
_SIGNER: Final = jwt.PyJWS(algorithms=[ALGORITHM])


@dataclass(frozen=True, slots=True)
class JwsHeader:
    """The three header fields the profile allows."""

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
    return UnverifiedJws(
        header=header,
        unverified_payload=payload,
        signing_input=raw[: len(header_b64) + 1 + len(payload_b64)],
        signature=signature,
    )


def check_kid(kid: str) -> None:
    """Refuse key ids with characters no key id has (paths, quotes, SQL, control bytes)."""
    if not _KID.fullmatch(kid):
        raise errors.InvalidKid("kid must be 1-64 characters of A-Z a-z 0-9 _ -")


def verify_signature(jws: UnverifiedJws, key: ec.EllipticCurvePublicKey, key_alg: str) -> None:
    """Check the signature with a key whose algorithm the trust list fixed as ``key_alg``."""
    if jws.header.alg != key_alg or key_alg != ALGORITHM:
        raise errors.AlgorithmMismatch(f"token says {jws.header.alg!r}, key is {key_alg!r}")
    if len(jws.signature) != SIGNATURE_BYTES:
        # A DER signature (about 70-72 bytes) lands here too: format 1 is raw r||s only.
        raise errors.SignatureEncoding(f"{len(jws.signature)} bytes, expected 64 (raw r||s)")
    # The check goes straight to cryptography with a prebuilt ECDSA(SHA256): pyjwt's
    # ECAlgorithm.verify builds objects on every call, which costs ~5% of a verification.
    half = SIGNATURE_BYTES // 2
    der = encode_dss_signature(
        int.from_bytes(jws.signature[:half], "big"), int.from_bytes(jws.signature[half:], "big")
    )
    try:
        key.verify(der, jws.signing_input, _ECDSA_SHA256)
    except InvalidSignature:
        raise errors.SignatureInvalid("the signature does not match") from None


def sign_compact(
    payload: Mapping[str, object], private_key: ec.EllipticCurvePrivateKey, kid: str, typ: str
) -> str:
    """Sign ``payload`` as a compact ES256 JWS with the profile's header.

    The payload is serialised compactly in the caller's key order (every byte grows the QR).
    """
    check_kid(kid)
    if typ not in _KNOWN_TYPS:
        raise errors.UsageError(f"unknown token type {typ!r}")
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return _SIGNER.encode(body, private_key, algorithm=ALGORITHM, headers={"kid": kid, "typ": typ})


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
    # bytes.translate and binascii run in C: this is on every verification's hot path.
    if not segment or segment.translate(None, _BASE64URL_ALPHABET):
        raise errors.Base64Invalid("segment is empty or not base64url without padding")
    tail = len(segment) % 4
    if tail == 1 or (tail and segment[-1] not in _CANONICAL_LAST[tail]):
        raise errors.Base64Invalid("segment length or trailing bits are not canonical")
    padded = segment.translate(_URLSAFE_TO_STANDARD) + b"=" * (-tail % 4)
    try:
        return binascii.a2b_base64(padded, strict_mode=True)
    except binascii.Error:
        raise errors.Base64Invalid("undecodable base64url") from None


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


def _json_object(data: bytes) -> dict[str, object]:
    try:
        # Decode as UTF-8 ourselves: json.loads(bytes) would also guess UTF-16 and UTF-32.
        value = _JSON.decode(data.decode("utf-8"))
    except (ValueError, RecursionError):
        # json.JSONDecodeError, UnicodeDecodeError, and over-long integers all land here.
        raise errors.JsonInvalid("not valid UTF-8 JSON") from None
    if not isinstance(value, dict):
        raise errors.JsonInvalid("a JWS header and payload must be JSON objects")
    return value
