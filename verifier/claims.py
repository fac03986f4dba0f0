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
from typing import Final, TypeAlias

from verifier import errors
from verifier._frozen import slot_setters

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
        _check_claim_values(
            (
                self.issuer_id,
                self.benefit,
                self.not_before,
                self.expires,
                self.credential_id,
                self.status,
                self.holder_jwk,
            )
        )

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
        values = checked_claim_values(payload)
        if cls is not CredentialClaims:
            return cls(*values)  # a subclass may check more
        # Skip __init__, whose checks have just run (see verifier._frozen).
        claims = _new(CredentialClaims)
        _SET_ISSUER_ID(claims, values[0])
        _SET_BENEFIT(claims, values[1])
        _SET_NOT_BEFORE(claims, values[2])
        _SET_EXPIRES(claims, values[3])
        _SET_CREDENTIAL_ID(claims, values[4])
        _SET_STATUS(claims, values[5])
        _SET_HOLDER_JWK(claims, values[6])
        return claims


#: The values of a checked claim set, in :class:`CredentialClaims` field order.
ClaimValues: TypeAlias = tuple[str, str, int, int, str, StatusRef, Mapping[str, str] | None]

_new = object.__new__
(
    _SET_ISSUER_ID,
    _SET_BENEFIT,
    _SET_NOT_BEFORE,
    _SET_EXPIRES,
    _SET_CREDENTIAL_ID,
    _SET_STATUS,
    _SET_HOLDER_JWK,
) = slot_setters(
    CredentialClaims,
    "issuer_id",
    "benefit",
    "not_before",
    "expires",
    "credential_id",
    "status",
    "holder_jwk",
)
_SET_LIST_ID, _SET_INDEX = slot_setters(StatusRef, "list_id", "index")


def checked_claim_values(payload: Mapping[str, object]) -> ClaimValues:
    """Check a decoded payload against the closed claim set and return its values.

    :meth:`CredentialClaims.from_payload` without the object: ``verify()`` reads each value
    once, so building one would only cost time on every verification.
    """
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
    holder_jwk = None
    if "cnf" in payload:
        holder = payload["cnf"]
        if not isinstance(holder, dict) or holder.keys() != {"jwk"}:
            raise errors.ClaimType('cnf must be {"jwk": {...}}')
        holder_jwk = holder["jwk"]
        if holder_jwk is None:
            # Present but empty must not read as "no holder binding", which would pass.
            raise errors.ClaimType("cnf.jwk must be a key")
    # StatusRef checks nothing itself (the range is checked below): build it directly.
    status_ref = _new(StatusRef)
    _SET_LIST_ID(status_ref, status[0])
    _SET_INDEX(status_ref, status[1])
    values = (
        payload["iss"],
        payload["ben"],
        payload["nbf"],
        payload["exp"],
        payload["jti"],
        status_ref,
        holder_jwk,
    )
    _check_claim_values(values)
    return values  # type: ignore[return-value]  # checked just above


def _check_claim_values(values: tuple[object, ...]) -> None:
    """Check claim values (in field order) in the documented order; raise the first failure.

    The usual, valid case runs inline, in one call: this is on every verification. A value
    that fails goes to the helper that names the exact problem.
    """
    issuer_id, benefit, not_before, expires, credential_id, status, holder_jwk = values
    if not isinstance(issuer_id, str) or ISSUER_ID.fullmatch(issuer_id) is None:
        _check_pattern("iss", issuer_id, ISSUER_ID)
    if not isinstance(benefit, str) or BENEFIT_CODE.fullmatch(benefit) is None:
        _check_pattern("ben", benefit, BENEFIT_CODE)
    # bool is an int subclass in Python; JSON true is not a number.
    if type(not_before) is not int or not 0 <= not_before <= MAX_TIMESTAMP:
        _check_timestamp("nbf", not_before)
    if type(expires) is not int or not 0 <= expires <= MAX_TIMESTAMP:
        _check_timestamp("exp", expires)
    if expires <= not_before:  # type: ignore[operator]  # both are ints by now
        raise errors.ValidityWindowInvalid("exp must be after nbf")
    if not isinstance(credential_id, str) or CREDENTIAL_ID.fullmatch(credential_id) is None:
        _check_pattern("jti", credential_id, CREDENTIAL_ID)
    if not isinstance(status, StatusRef):
        raise errors.ClaimType("st must be a status reference")
    list_id, index = status.list_id, status.index
    if type(list_id) is not int or not 0 <= list_id <= MAX_STATUS_LIST_ID:
        _check_int("st", list_id, 0, MAX_STATUS_LIST_ID)
    if type(index) is not int or not 0 <= index <= MAX_STATUS_INDEX:
        _check_int("st", index, 0, MAX_STATUS_INDEX)
    if holder_jwk is not None:
        _check_holder_jwk(holder_jwk)


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
