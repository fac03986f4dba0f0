"""Shared helpers for the vector, attack and codec tests: the demo keyset and JWS crafting.

TEST ONLY. The keys under ``tests/vectors/keys`` are published with the repository on purpose so
that anyone can rebuild and check the vectors; they must never sign a real credential or list.

Crafting builds compact JWS by hand, from raw JSON bytes, and signs the crafted signing input
with the right key, so that a hostile token carries exactly the one defect it is meant to test
and nothing else (a bad token that also had a bad signature would test nothing).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from verifier import errors
from verifier.claims import CredentialClaims, StatusRef
from verifier.jws import CREDENTIAL_TYP, sign_compact
from verifier.status_store import StatusStore
from verifier.trust import AnchorKey, TrustList

VECTORS: Final = Path(__file__).resolve().parent / "vectors"
KEYS_DIR: Final = VECTORS / "keys"
TRUST_DIR: Final = VECTORS / "trust"
CASES_DIR: Final = VECTORS / "cases"
IMAGES_DIR: Final = VECTORS / "images"

ANCHOR_KID: Final = "anchor-1"
#: Key file names (without ``.pem``); an issuer key's file name is its kid.
KEY_NAMES: Final = ("anchor", "mosa-0", "mosa-1", "mosa-2", "city-1", "rogue")
VALID_TRUST_LIST: Final = "trustlist.jwt"
P256_ORDER: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def at(iso: str) -> datetime:
    """An aware UTC datetime from ISO 8601 (``Z`` allowed)."""
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        raise ValueError(f"{iso!r} has no time zone")
    return moment.astimezone(UTC)


def ts(iso: str) -> int:
    """Seconds since the epoch for an ISO 8601 UTC time."""
    return int(at(iso).timestamp())


#: The demo world's "now", and the default credential's window.
NOW_ISO: Final = "2027-03-15T12:00:00Z"
NOW: Final = at(NOW_ISO)
NBF: Final = ts("2027-01-01T00:00:00Z")
EXP: Final = ts("2028-01-01T00:00:00Z")
SKEW_SECONDS: Final = 300


def b64u(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def json_bytes(value: object) -> bytes:
    """Compact JSON, as the issuer writes it."""
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def credential_id(seed: str) -> str:
    """A stable 128-bit credential id derived from ``seed`` (vectors must not change on rebuild)."""
    return b64u(hashlib.sha256(seed.encode()).digest()[:16])


@functools.cache
def private_key(name: str) -> ec.EllipticCurvePrivateKey:
    """A test-only private key of the demo keyset."""
    key = serialization.load_pem_private_key((KEYS_DIR / f"{name}.pem").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def public_key(name: str) -> ec.EllipticCurvePublicKey:
    """The public half of a demo key."""
    return private_key(name).public_key()


def es256_raw(name: str, signing_input: bytes) -> bytes:
    """A raw ``r || s`` ES256 signature by demo key ``name`` (RFC 6979: stable on rebuild)."""
    der = private_key(name).sign(
        signing_input, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    )
    return raw_from_der(der)


def es256_der(name: str, signing_input: bytes) -> bytes:
    """The same signature in the DER encoding format 1 refuses."""
    return private_key(name).sign(
        signing_input, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    )


def raw_from_der(der: bytes) -> bytes:
    """DER ECDSA signature to raw 64-byte ``r || s``."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _segment(part: dict[str, object] | bytes | str) -> str:
    if isinstance(part, dict):
        return b64u(json_bytes(part))
    if isinstance(part, str):
        return b64u(part.encode("utf-8"))
    return b64u(part)


def craft(
    header: dict[str, object] | bytes | str,
    payload: dict[str, object] | bytes | str,
    *,
    signer: str | None = "mosa-1",
    signature: bytes | None = None,
) -> str:
    """A compact JWS from a header and payload given as dicts, raw bytes or raw JSON text.

    The signature is ``signature`` if given, else an ES256 signature of the crafted signing
    input by demo key ``signer``, else empty (``signer=None``).
    """
    signing_input = f"{_segment(header)}.{_segment(payload)}"
    if signature is None:
        signature = es256_raw(signer, signing_input.encode("ascii")) if signer else b""
    return f"{signing_input}.{b64u(signature)}"


def header(**changes: object) -> dict[str, object]:
    """The profile's header (in pyjwt's sorted order), with fields changed or removed (DROP)."""
    fields: dict[str, object] = {"alg": "ES256", "kid": "mosa-1", "typ": CREDENTIAL_TYP}
    return _apply(fields, changes)


DROP: Final = object()


def claims(**changes: object) -> dict[str, object]:
    """The default credential payload (mosa, heating-2027), with claims changed or removed."""
    payload: dict[str, object] = {
        "iss": "mosa",
        "ben": "heating-2027",
        "nbf": NBF,
        "exp": EXP,
        "jti": credential_id("default"),
        "st": [1, 42],
    }
    return _apply(payload, changes)


def _apply(fields: dict[str, object], changes: dict[str, object]) -> dict[str, object]:
    out = dict(fields)
    for name, value in changes.items():
        if value is DROP:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def credential_token(
    *,
    issuer: str = "mosa",
    benefit: str = "heating-2027",
    not_before: int = NBF,
    expires: int = EXP,
    jti: str | None = None,
    status: tuple[int, int] = (1, 42),
    kid: str = "mosa-1",
    holder_jwk: dict[str, str] | None = None,
) -> str:
    """A genuine credential, built the way the issuer builds one (CredentialClaims + sign)."""
    made = CredentialClaims(
        issuer_id=issuer,
        benefit=benefit,
        not_before=not_before,
        expires=expires,
        credential_id=jti or credential_id("default"),
        status=StatusRef(*status),
        holder_jwk=holder_jwk,
    )
    return sign_compact(made.to_payload(), private_key(kid), kid, CREDENTIAL_TYP)


def to_qr(token: str, prefix: str = "PC1:") -> str:
    """QR text for any string of characters ``-`` to ``z`` (so also deliberately bad tokens)."""
    digits = []
    for char in token:
        value = ord(char) - 45
        if not 0 <= value <= 77:
            raise ValueError(f"{char!r} cannot be written as a digit pair")
        digits.append(f"{value:02d}")
    return prefix + "".join(digits)


def split(token: str) -> list[str]:
    """The three segments of a compact JWS."""
    return token.split(".")


def resign(segments: list[str], signer: str = "mosa-1") -> str:
    """Join header and payload segments as given and sign them with ``signer``."""
    signing_input = f"{segments[0]}.{segments[1]}"
    return f"{signing_input}.{b64u(es256_raw(signer, signing_input.encode('ascii')))}"


def anchor() -> AnchorKey:
    """The pinned demo anchor, as a verifier loads it from ``anchor.jwk``."""
    return AnchorKey.from_jwk(json.loads((TRUST_DIR / "anchor.jwk").read_text()))


def trust_list_token(name: str = VALID_TRUST_LIST) -> str:
    """The signed trust list file ``name`` of the vectors."""
    return (TRUST_DIR / name).read_text().strip()


@functools.cache
def trust_list(name: str = VALID_TRUST_LIST) -> TrustList:
    """A trust list of the vectors, verified against the demo anchor."""
    return TrustList.from_jws(trust_list_token(name), anchor())


def status_store(trust: TrustList | None = None) -> StatusStore:
    """The status lists synced under ``tests/vectors/trust/status`` (trust directory layout)."""
    return StatusStore(TRUST_DIR, trust or trust_list())


def reasons_under(root: type[errors.PlainclaimError]) -> set[str]:
    """The reason codes of ``root`` and all its subclasses."""
    found: set[str] = set()
    pending = [root]
    while pending:
        cls = pending.pop()
        found.add(cls.reason)
        pending.extend(cls.__subclasses__())
    return found
