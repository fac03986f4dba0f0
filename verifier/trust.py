"""The trust list: which issuers, with which keys, may vouch for which benefits.

A trust authority signs the list as a JWS (``typ`` ``pc1-trust+jwt``) with its anchor key,
which every verifier pins. Its ``seq`` only grows, so a verifier that has seen list 7 refuses
list 6 (a rollback could resurrect a removed issuer or key).

Payload::

    {"iss": "authority id", "seq": 7, "iat": 1798000000, "exp": 1800600000,
     "issuers": [{"id": "mosa", "name": "Ministry of Social Affairs",
                  "keys": [{"kty": "EC", "crv": "P-256", "x": "...", "y": "...",
                            "kid": "mosa-2027a", "use": "sig", "alg": "ES256",
                            "nbf": 1798000000, "exp": 1861920000}],
                  "benefits": [{"code": "heating-2027", "name": "Heating support 2027"}],
                  "status_uri": "https://example.org/status/mosa/{list}.jwt"}]}

``status_uri`` maps a status list id to where its signed list is published: ``{list}`` stands
for the list id, so an issuer can open a new list without a new trust list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec

from verifier import errors
from verifier.claims import BENEFIT_CODE, ISSUER_ID, MAX_TIMESTAMP
from verifier.jws import TRUST_LIST_TYP, check_kid, parse_compact, verify_signature
from verifier.keys import ALGORITHM, public_key_from_jwk, public_key_to_jwk

#: A trust list is synced, not scanned, but it is still hostile input until verified.
MAX_TRUST_LIST_BYTES: Final = 4 * 1024 * 1024
MAX_NAME_CHARS: Final = 200

_TOP_FIELDS: Final = frozenset({"iss", "seq", "iat", "exp", "issuers"})
_ISSUER_FIELDS: Final = frozenset({"id", "name", "keys", "benefits", "status_uri"})
STATUS_URI_PLACEHOLDER: Final = "{list}"
_KEY_FIELDS: Final = frozenset({"kty", "crv", "x", "y", "kid", "use", "alg", "nbf", "exp"})


@dataclass(frozen=True, slots=True)
class AnchorKey:
    """The trust anchor's public key, pinned by the verifier (not taken from the list)."""

    kid: str
    public_key: ec.EllipticCurvePublicKey

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, object]) -> AnchorKey:
        """Load the pinned anchor from its public JWK (``kid`` required, ES256 only)."""
        kid = jwk.get("kid")
        if not isinstance(kid, str):
            raise errors.TrustListMalformed("the anchor JWK has no kid")
        check_kid(kid)
        if jwk.get("alg", ALGORITHM) != ALGORITHM:
            raise errors.TrustListMalformed("the anchor key must be ES256")
        return cls(kid=kid, public_key=public_key_from_jwk(jwk))

    def to_jwk(self) -> dict[str, str]:
        """The public JWK a verifier pins."""
        return {
            **public_key_to_jwk(self.public_key),
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
        }


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """An issuer's public signing key and the window in which credentials may use it."""

    kid: str
    issuer_id: str
    alg: str
    public_key: ec.EllipticCurvePublicKey
    not_before: int
    not_after: int

    def is_valid_at(self, timestamp: float) -> bool:
        """Whether the key may be used at ``timestamp`` (seconds since the epoch)."""
        return self.not_before <= timestamp <= self.not_after

    def to_jwk(self) -> dict[str, object]:
        """The key as published in the trust list."""
        return {
            **public_key_to_jwk(self.public_key),
            "kid": self.kid,
            "use": "sig",
            "alg": self.alg,
            "nbf": self.not_before,
            "exp": self.not_after,
        }


@dataclass(frozen=True, slots=True)
class Benefit:
    """A benefit: its code and the display name the trust list gives it."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class IssuerInfo:
    """An issuer: its id and its display name from the trust list."""

    issuer_id: str
    name: str


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """One issuer of the trust list."""

    issuer_id: str
    name: str
    keys: Mapping[str, TrustedKey]
    #: benefit code -> display name
    benefits: Mapping[str, str]
    #: Where status list N is published: ``{list}`` is replaced by N. None: no status lists.
    status_uri: str | None = None
    # Built once per trust list, not once per verification.
    info: IssuerInfo = field(init=False, repr=False, compare=False)
    benefit_infos: Mapping[str, Benefit] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "info", IssuerInfo(self.issuer_id, self.name))
        benefit_infos = {code: Benefit(code, name) for code, name in self.benefits.items()}
        object.__setattr__(self, "benefit_infos", benefit_infos)

    def may_vouch_for(self, benefit: str) -> bool:
        """Whether the trust authority allows this issuer to vouch for ``benefit``."""
        return benefit in self.benefits

    def status_list_uri(self, list_id: int) -> str | None:
        """The URI of status list ``list_id``, or None if the issuer publishes none."""
        if self.status_uri is None:
            return None
        return self.status_uri.replace(STATUS_URI_PLACEHOLDER, str(list_id))


@dataclass(frozen=True, slots=True)
class TrustList:
    """A verified trust list. Build it with :meth:`from_jws` (or :meth:`build` to sign one)."""

    authority: str
    sequence: int
    issued_at: int
    expires_at: int
    issuers: Mapping[str, TrustedIssuer]
    #: kid -> key, over all issuers: a kid names one key in the whole list.
    keys_by_kid: Mapping[str, TrustedKey]

    @classmethod
    def build(
        cls,
        *,
        authority: str,
        sequence: int,
        issued_at: int,
        expires_at: int,
        issuers: list[TrustedIssuer],
    ) -> TrustList:
        """Assemble (and check) a trust list, e.g. for the trust authority to sign."""
        return cls.from_payload(
            {
                "iss": authority,
                "seq": sequence,
                "iat": issued_at,
                "exp": expires_at,
                "issuers": [_issuer_payload(issuer) for issuer in issuers],
            }
        )

    @classmethod
    def from_jws(cls, token: str | bytes, anchor: AnchorKey, *, min_sequence: int = 0) -> TrustList:
        """Verify a trust list JWS against the pinned anchor and refuse rollbacks.

        ``min_sequence`` is the highest sequence this verifier has already accepted.
        """
        if len(token) > MAX_TRUST_LIST_BYTES:
            raise errors.TrustListMalformed("trust list too large")
        try:
            jws = parse_compact(token.strip(), TRUST_LIST_TYP)
        except errors.PlainclaimError as exc:
            raise errors.TrustListMalformed(f"{exc.reason}: {exc.detail}") from None
        if jws.header.kid != anchor.kid:
            raise errors.TrustListSignatureInvalid("not signed by the pinned anchor key")
        try:
            verify_signature(jws, anchor.public_key, ALGORITHM)
        except errors.PlainclaimError:
            raise errors.TrustListSignatureInvalid("the anchor signature does not match") from None
        trust_list = cls.from_payload(jws.unverified_payload)
        if trust_list.sequence < min_sequence:
            raise errors.TrustListRollback(
                f"sequence {trust_list.sequence} is older than {min_sequence} already seen"
            )
        return trust_list

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> TrustList:
        """Check and load a trust list payload (its signature must already be verified)."""
        _only_fields(payload, _TOP_FIELDS, "trust list")
        authority = _string(payload, "iss", MAX_NAME_CHARS)
        sequence = _integer(payload, "seq", 0, 2**53)
        issued_at = _integer(payload, "iat", 0, MAX_TIMESTAMP)
        expires_at = _integer(payload, "exp", issued_at + 1, MAX_TIMESTAMP)
        entries = payload.get("issuers")
        if not isinstance(entries, list):
            raise errors.TrustListMalformed("issuers must be a list")
        issuers: dict[str, TrustedIssuer] = {}
        keys_by_kid: dict[str, TrustedKey] = {}
        points: set[tuple[int, int]] = set()
        for entry in entries:
            issuer = _parse_issuer(entry)
            if issuer.issuer_id in issuers:
                raise errors.TrustListMalformed(f"issuer {issuer.issuer_id} listed twice")
            for kid, key in issuer.keys.items():
                if kid in keys_by_kid:
                    raise errors.TrustListMalformed(f"kid {kid} listed twice")
                # One key under two kids (or two issuers) would let its holder sign as either.
                point = key.public_key.public_numbers()
                if (point.x, point.y) in points:
                    raise errors.TrustListMalformed(f"the key of {kid} is listed twice")
                points.add((point.x, point.y))
                keys_by_kid[kid] = key
            issuers[issuer.issuer_id] = issuer
        return cls(authority, sequence, issued_at, expires_at, issuers, keys_by_kid)

    def to_payload(self) -> dict[str, object]:
        """The payload the trust authority signs."""
        return {
            "iss": self.authority,
            "seq": self.sequence,
            "iat": self.issued_at,
            "exp": self.expires_at,
            "issuers": [_issuer_payload(issuer) for issuer in self.issuers.values()],
        }

    def is_expired_at(self, timestamp: float, leeway_seconds: float = 0) -> bool:
        """Whether the list is past its expiry at ``timestamp`` (with a clock-skew leeway)."""
        return timestamp > self.expires_at + leeway_seconds

    @property
    def expires(self) -> datetime:
        """Expiry as an aware UTC datetime."""
        return datetime.fromtimestamp(self.expires_at, UTC)


def _issuer_payload(issuer: TrustedIssuer) -> dict[str, object]:
    payload: dict[str, object] = {
        "id": issuer.issuer_id,
        "name": issuer.name,
        "keys": [key.to_jwk() for key in issuer.keys.values()],
        "benefits": [{"code": code, "name": name} for code, name in issuer.benefits.items()],
    }
    if issuer.status_uri is not None:
        payload["status_uri"] = issuer.status_uri
    return payload


def _parse_issuer(entry: object) -> TrustedIssuer:
    if not isinstance(entry, dict):
        raise errors.TrustListMalformed("an issuer entry must be an object")
    _only_fields(entry, _ISSUER_FIELDS, "issuer")
    issuer_id = _string(entry, "id", 32)
    if not ISSUER_ID.fullmatch(issuer_id):
        raise errors.TrustListMalformed(
            f"issuer id {issuer_id!r} has a form format 1 does not allow"
        )
    name = _string(entry, "name", MAX_NAME_CHARS)
    keys = {}
    for jwk in _list(entry, "keys"):
        key = _parse_key(jwk, issuer_id)
        if key.kid in keys:
            raise errors.TrustListMalformed(f"kid {key.kid} listed twice")
        keys[key.kid] = key
    benefits: dict[str, str] = {}
    for benefit in _list(entry, "benefits"):
        if not isinstance(benefit, dict):
            raise errors.TrustListMalformed("a benefit must be an object")
        _only_fields(benefit, frozenset({"code", "name"}), "benefit")
        code = _string(benefit, "code", 48)
        if code in benefits:
            raise errors.TrustListMalformed(f"benefit {code} listed twice for {issuer_id}")
        if not BENEFIT_CODE.fullmatch(code):
            raise errors.TrustListMalformed(
                f"benefit code {code!r} has a form format 1 does not allow"
            )
        benefits[code] = _string(benefit, "name", MAX_NAME_CHARS)
    status_uri = None
    if "status_uri" in entry:
        status_uri = _string(entry, "status_uri", 2048)
        if STATUS_URI_PLACEHOLDER not in status_uri:
            raise errors.TrustListMalformed(f"status_uri must contain {STATUS_URI_PLACEHOLDER}")
    return TrustedIssuer(issuer_id, name, keys, benefits, status_uri)


def _parse_key(jwk: object, issuer_id: str) -> TrustedKey:
    if not isinstance(jwk, dict):
        raise errors.TrustListMalformed("a key must be a JWK object")
    _only_fields(jwk, _KEY_FIELDS, "key")
    kid = _string(jwk, "kid", 64)
    try:
        check_kid(kid)
    except errors.InvalidKid:
        raise errors.TrustListMalformed(f"kid {kid!r} has a form format 1 does not allow") from None
    if jwk.get("use") != "sig" or jwk.get("alg") != ALGORITHM:
        raise errors.TrustListMalformed(f"key {kid} must have use sig and alg {ALGORITHM}")
    not_before = _integer(jwk, "nbf", 0, MAX_TIMESTAMP)
    not_after = _integer(jwk, "exp", not_before + 1, MAX_TIMESTAMP)
    return TrustedKey(kid, issuer_id, ALGORITHM, public_key_from_jwk(jwk), not_before, not_after)


def _only_fields(obj: Mapping[str, object], allowed: frozenset[str], what: str) -> None:
    extra = obj.keys() - allowed
    if extra:
        raise errors.TrustListMalformed(
            f"{what} has fields format 1 does not define: {sorted(extra)}"
        )


def _string(obj: Mapping[str, object], name: str, max_chars: int) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value or len(value) > max_chars:
        raise errors.TrustListMalformed(f"{name} must be a string of 1 to {max_chars} characters")
    return value


def _integer(obj: Mapping[str, object], name: str, low: int, high: int) -> int:
    value = obj.get(name)
    if type(value) is not int or not low <= value <= high:
        raise errors.TrustListMalformed(f"{name} must be an integer from {low} to {high}")
    return value


def _list(obj: Mapping[str, object], name: str, *, required: bool = True) -> list[object]:
    value = obj.get(name, None if required else [])
    if not isinstance(value, list):
        raise errors.TrustListMalformed(f"{name} must be a list")
    return value
