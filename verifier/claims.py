"""The closed claim set of a format 1 credential.

A credential says one thing: *issuer I vouches that the holder qualifies for benefit B
between nbf and exp*. The payload may hold these claims and no others: no name, no ID number,
no score, no free text. The same class builds the payload on the issuer's side and checks it
on the verifier's, so neither side can drift from the other.

=====  ======================================================  ==========
claim  meaning                                                 required
=====  ======================================================  ==========
iss    issuer id, as listed in the trust list                  yes
ben    benefit code the issuer vouches for                     yes
nbf    not before, seconds since the epoch (UTC)                yes
exp    expiry, seconds since the epoch, after nbf               yes
jti    credential id: >= 96 random bits, base64url              yes
st     revocation status reference ``[list id, index]``        yes
cnf    holder-binding key ``{"jwk": {EC P-256}}`` (reserved)    no
=====  ======================================================  ==========
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from verifier import errors

REQUIRED_CLAIMS: Final = ("iss", "ben", "nbf", "exp", "jti", "st")
OPTIONAL_CLAIMS: Final = ("cnf",)
ALLOWED_CLAIMS: Final = frozenset(REQUIRED_CLAIMS + OPTIONAL_CLAIMS)
_REQUIRED_SET: Final = frozenset(REQUIRED_CLAIMS)

ISSUER_ID: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
BENEFIT_CODE: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")
CREDENTIAL_ID: Final = re.compile(r"[A-Za-z0-9_-]{16,43}")  # 96 to 256 bits
MIN_CREDENTIAL_ID_BITS: Final = 96

#: Seconds since the epoch above this are milliseconds (10**11 s is the year 5138).
MAX_TIMESTAMP: Final = 10**11 - 1
MAX_STATUS_LIST_ID: Final = 2**31 - 1
MAX_STATUS_INDEX: Final = 2**31 - 1
_COORDINATE: Final = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, slots=True)
class StatusRef:
    """Where a credential's status lives: entry ``index`` of status list ``list_id``.

    :class:`CredentialClaims` checks its range.
    """

    list_id: int
    index: int


@dataclass(frozen=True, slots=True)
class CredentialClaims:
    """A valid format 1 claim set. Constructing one validates it, on either side."""

    issuer_id: str
    benefit: str
    not_before: int
    expires: int
    credential_id: str
    status: StatusRef
    holder_jwk: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        _check_pattern("iss", self.issuer_id, ISSUER_ID)
        _check_pattern("ben", self.benefit, BENEFIT_CODE)
        _check_timestamp("nbf", self.not_before)
        _check_timestamp("exp", self.expires)
        if self.expires <= self.not_before:
            raise errors.ValidityWindowInvalid("exp must be after nbf")
        _check_pattern("jti", self.credential_id, CREDENTIAL_ID)
        if not isinstance(self.status, StatusRef):
            raise errors.ClaimType("st must be a status reference")
        _check_int("st", self.status.list_id, 0, MAX_STATUS_LIST_ID)
        _check_int("st", self.status.index, 0, MAX_STATUS_INDEX)
        if self.holder_jwk is not None:
            _check_holder_jwk(self.holder_jwk)

    def to_payload(self) -> dict[str, object]:
        """The JWS payload, claims in a fixed order."""
        payload: dict[str, object] = {
            "iss": self.issuer_id,
            "ben": self.benefit,
            "nbf": self.not_before,
            "exp": self.expires,
            "jti": self.credential_id,
            "st": [self.status.list_id, self.status.index],
        }
        if self.holder_jwk is not None:
            payload["cnf"] = {"jwk": dict(self.holder_jwk)}
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> CredentialClaims:
        """Check a decoded payload against the closed claim set."""
        if payload.keys() != _REQUIRED_SET:  # one C-level comparison in the usual case
            unknown = payload.keys() - ALLOWED_CLAIMS
            if unknown:
                # Name the claims for developers; they are never personal data we keep.
                raise errors.UnknownClaim(f"claims outside format 1: {sorted(unknown)[:5]}")
            missing = [name for name in REQUIRED_CLAIMS if name not in payload]
            if missing:
                raise errors.MissingClaim(f"missing claims: {missing}")
        status = payload["st"]
        if not isinstance(status, list) or len(status) != 2:
            raise errors.ClaimType("st must be [list id, index]")
        holder = payload.get("cnf")
        holder_jwk: Mapping[str, str] | None = None
        if "cnf" in payload:
            if not isinstance(holder, dict) or holder.keys() != {"jwk"}:
                raise errors.ClaimType('cnf must be {"jwk": {...}}')
            holder_jwk = holder["jwk"]
        return cls(
            issuer_id=payload["iss"],  # type: ignore[arg-type]  # checked in __post_init__
            benefit=payload["ben"],  # type: ignore[arg-type]
            not_before=payload["nbf"],  # type: ignore[arg-type]
            expires=payload["exp"],  # type: ignore[arg-type]
            credential_id=payload["jti"],  # type: ignore[arg-type]
            status=StatusRef(status[0], status[1]),
            holder_jwk=holder_jwk,
        )


def _check_pattern(name: str, value: object, pattern: re.Pattern[str]) -> None:
    if not isinstance(value, str):
        raise errors.ClaimType(f"{name} must be a string")
    if not pattern.fullmatch(value):
        raise errors.ClaimType(f"{name} has a form format 1 does not allow")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    # bool is an int subclass in Python; JSON true is not a number.
    if type(value) is not int:
        raise errors.ClaimType(f"{name} must be an integer")
    if not low <= value <= high:
        raise errors.ClaimType(f"{name} out of range")


def _check_timestamp(name: str, value: object) -> None:
    if type(value) is not int:
        raise errors.ClaimType(f"{name} must be whole seconds since the epoch")
    if value > MAX_TIMESTAMP:
        raise errors.TimestampInMilliseconds(f"{name} looks like milliseconds")
    if value < 0:
        raise errors.ClaimType(f"{name} is before 1970")


def _check_holder_jwk(jwk: object) -> None:
    if not isinstance(jwk, Mapping) or set(jwk) != {"kty", "crv", "x", "y"}:
        raise errors.ClaimType("cnf.jwk must hold exactly kty, crv, x, y")
    if jwk["kty"] != "EC" or jwk["crv"] != "P-256":
        raise errors.ClaimType("cnf.jwk must be an EC P-256 key")
    for member in ("x", "y"):
        value = jwk[member]
        if not isinstance(value, str) or not _COORDINATE.fullmatch(value):
            raise errors.ClaimType(f"cnf.jwk.{member} must be 43 base64url characters")
