"""``verify()``: from QR text or image to a verdict, offline.

The checks run in the order of docs/format.md, section "Verification", and the first failure
decides the reason code:

1. input size and charset;            5. signature, with the algorithm the trust list fixes;
2. prefix and digit decoding;         6. the closed claim set;
3. strict JWS parse;                  7. the issuer may vouch for the benefit;
4. key lookup by ``kid`` within the   8. the validity window, with clock-skew leeway;
   claimed issuer, then trust list    9. revocation status, from synced status lists;
   freshness;                         10. holder binding (reserved in format 1).

Token-level failures come first: an expired credential is expired whatever its status.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Final, Union

from verifier import errors
from verifier.claims import CredentialClaims
from verifier.jws import CREDENTIAL_TYP, UnverifiedJws, check_kid, parse_compact, verify_signature
from verifier.messages import age_description
from verifier.qrtext import decode_qr_text
from verifier.result import VerificationResult, VerifiedCredential
from verifier.status_list import StatusValue
from verifier.status_store import StatusStore
from verifier.trust import TrustedIssuer, TrustedKey, TrustList

if TYPE_CHECKING:
    from PIL import Image

#: QR text (``str``), or an image: a path, its bytes, an open binary file or a PIL image.
#: A ``str`` is always QR text; pass a :class:`pathlib.Path` for an image file.
CredentialSource = Union[str, "os.PathLike[str]", bytes, IO[bytes], "Image.Image"]


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """How strict a verifier is where the spec leaves a choice."""

    #: Tolerated difference between the verifier's clock and the issuer's.
    clock_skew: timedelta = timedelta(minutes=5)
    #: Status data older than this still gives VALID, with a warning to sync soon.
    status_warn_age: timedelta = timedelta(days=2)
    #: Status data older than this cannot confirm "not revoked": INDETERMINATE, never VALID.
    status_max_age: timedelta = timedelta(days=7)


DEFAULT_POLICY: Final = VerifyPolicy()


def verify(
    source: CredentialSource,
    trust: TrustList,
    *,
    status: StatusStore | None = None,
    now: datetime | None = None,
    policy: VerifyPolicy = DEFAULT_POLICY,
) -> VerificationResult:
    """Verify a credential offline and return the verdict; never raises for bad input.

    ``trust`` is a trust list already verified against the pinned anchor, ``status`` the
    synced status lists (both from :func:`verifier.trust_dir.load_trust_store`). Without
    ``status``, a credential from an issuer that publishes status lists is INDETERMINATE:
    "not revoked" is never assumed. ``now`` defaults to the current time and must be
    timezone-aware.
    """
    moment = now or datetime.now(UTC)
    try:
        credential = verify_or_raise(source, trust, status=status, now=moment, policy=policy)
    except errors.UsageError:
        raise
    except errors.PlainclaimError as error:
        return VerificationResult.from_error(error, checked_at=moment)
    return VerificationResult.valid(credential, _status_warnings(credential, moment, policy))


def verify_or_raise(
    source: CredentialSource,
    trust: TrustList,
    *,
    status: StatusStore | None = None,
    now: datetime | None = None,
    policy: VerifyPolicy = DEFAULT_POLICY,
) -> VerifiedCredential:
    """Like :func:`verify`, but return the credential or raise the refusal's error."""
    timestamp = _timestamp(now)
    leeway = policy.clock_skew.total_seconds()
    jws = parse_compact(decode_qr_text(_qr_text(source)), CREDENTIAL_TYP)
    key = _find_key(jws, trust, timestamp)
    if trust.is_expired_at(timestamp, leeway):
        raise errors.TrustListExpired("the trust list has expired")
    verify_signature(jws, key.public_key, key.alg)
    claims = CredentialClaims.from_payload(jws.unverified_payload)
    issuer = trust.issuers[claims.issuer_id]
    benefit = issuer.benefit_infos.get(claims.benefit)
    if benefit is None:
        raise errors.BenefitNotAllowed(f"{claims.issuer_id} may not vouch for {claims.benefit}")
    if timestamp < claims.not_before - leeway:
        raise errors.NotYetValid("before nbf")
    if timestamp >= claims.expires + leeway:
        raise errors.Expired("at or after exp")
    status_as_of = _check_status(issuer, claims, status, timestamp, policy)
    if claims.holder_jwk is not None:
        raise errors.HolderProofRequired("holder binding is reserved in format 1")
    return VerifiedCredential(
        credential_id=claims.credential_id,
        benefit=benefit,
        issuer=issuer.info,
        valid_from=datetime.fromtimestamp(claims.not_before, UTC),
        valid_until=datetime.fromtimestamp(claims.expires, UTC),
        status_ref=claims.status,
        status_as_of=status_as_of,
    )


def _check_status(
    issuer: TrustedIssuer,
    claims: CredentialClaims,
    status: StatusStore | None,
    timestamp: float,
    policy: VerifyPolicy,
) -> datetime | None:
    """Check the credential's status entry; returns when the issuer vouched for it.

    None means the issuer publishes no status lists, so there is nothing to check.
    """
    if issuer.status_uri is None:
        return None
    if status is None:
        raise errors.StatusListMissing("no status data was given to the verifier")
    check = status.check(issuer.issuer_id, claims.status)
    if check.as_of > timestamp + policy.clock_skew.total_seconds():
        # A list dated in the future would vouch "not revoked" ahead of time.
        raise errors.StatusListInvalid("the status list is dated in the future")
    # Revocation is final, so a revoked entry is believed however old the list; "valid" and
    # "suspended" can change, so only fresh data may say them.
    if check.value == StatusValue.INVALID:
        raise errors.Revoked("the status list marks the credential revoked")
    too_old = timestamp - check.as_of > policy.status_max_age.total_seconds()
    if too_old or timestamp >= check.list_expires + policy.clock_skew.total_seconds():
        raise errors.StatusStale(
            "the synced status list is too old", as_of=datetime.fromtimestamp(check.as_of, UTC)
        )
    if check.value == StatusValue.SUSPENDED:
        raise errors.Suspended("the status list marks the credential suspended")
    if check.value != StatusValue.VALID:
        raise errors.StatusListInvalid(f"status value {int(check.value)} is not defined")
    return datetime.fromtimestamp(check.as_of, UTC)


def _status_warnings(
    credential: VerifiedCredential, moment: datetime, policy: VerifyPolicy
) -> tuple[str, ...]:
    if credential.status_as_of is None:
        return ()
    if moment - credential.status_as_of <= policy.status_warn_age:
        return ()
    age = age_description(credential.status_as_of, moment)
    return (f"The revocation data on this device is {age} old. Sync the verifier soon.",)


def _timestamp(now: datetime | None) -> float:
    if now is None:
        return datetime.now(UTC).timestamp()
    if now.tzinfo is None:
        raise errors.UsageError("now must be timezone-aware")
    return now.timestamp()


def _qr_text(source: CredentialSource) -> str:
    if isinstance(source, str):
        return source
    # Imported here so that verifying QR text never pays for loading the image stack.
    from verifier.scan import scan_credential_text

    return scan_credential_text(source)


def _find_key(jws: UnverifiedJws, trust: TrustList, timestamp: float) -> TrustedKey:
    """Look the key up by kid, scoped to the issuer the (still unverified) payload claims."""
    check_kid(jws.header.kid)
    if "iss" not in jws.unverified_payload:
        raise errors.MissingClaim("iss is missing")
    claimed_issuer = jws.unverified_payload["iss"]
    if not isinstance(claimed_issuer, str):
        raise errors.ClaimType("iss must be a string")
    if claimed_issuer not in trust.issuers:
        raise errors.UnknownIssuer("the issuer is not on the trust list")
    key = trust.keys_by_kid.get(jws.header.kid)
    if key is None:
        raise errors.UnknownKey("no key with this kid on the trust list")
    if key.issuer_id != claimed_issuer:
        raise errors.KeyOfAnotherIssuer("the kid belongs to another issuer")
    if not key.is_valid_at(timestamp):
        raise errors.KeyNotValid("the key is outside its validity window")
    return key
