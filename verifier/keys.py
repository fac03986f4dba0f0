"""Public keys as JWKs (RFC 7517): the only key type of format 1 is EC P-256 for ES256."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec

from verifier import errors

ALGORITHM: Final = "ES256"
CURVE: Final = "P-256"
_COORDINATE_BYTES: Final = 32


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_key_to_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public JWK members of a P-256 key (``kty``, ``crv``, ``x``, ``y``)."""
    if not isinstance(key.curve, ec.SECP256R1):
        raise errors.ConfigurationError("format 1 keys are P-256 only")
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": CURVE,
        "x": b64url_encode(numbers.x.to_bytes(_COORDINATE_BYTES, "big")),
        "y": b64url_encode(numbers.y.to_bytes(_COORDINATE_BYTES, "big")),
    }


def public_key_from_jwk(jwk: Mapping[str, object]) -> ec.EllipticCurvePublicKey:
    """Load a P-256 public key from JWK members; the point must lie on the curve.

    Raises :class:`errors.TrustListMalformed`: keys only ever come from trust data.
    """
    if jwk.get("kty") != "EC" or jwk.get("crv") != CURVE:
        raise errors.TrustListMalformed("only EC P-256 keys are allowed")
    if "d" in jwk:
        raise errors.TrustListMalformed("a private key member in published trust data")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise errors.TrustListMalformed("JWK x and y must be strings")
    try:
        point = b"\x04" + _coordinate(x) + _coordinate(y)
        # from_encoded_point checks that the point is on the curve (invalid-curve attacks).
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as exc:
        raise errors.TrustListMalformed(f"not a valid P-256 point: {exc}") from None


def jwk_thumbprint(key: ec.EllipticCurvePublicKey) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url): a stable name for a key."""
    # Imported here: hashlib loads OpenSSL's bindings (3 ms), which verifying never needs.
    import hashlib

    members = public_key_to_jwk(key)
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url_encode(hashlib.sha256(canonical).digest())


def _coordinate(value: str) -> bytes:
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if len(raw) != _COORDINATE_BYTES or b64url_encode(raw) != value:
        raise ValueError("coordinate must be 32 bytes of canonical base64url")
    return raw
