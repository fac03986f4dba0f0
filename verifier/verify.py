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
from verifier.claims import StatusRef, checked_claim_values
from verifier.clock import aware_now
from verifier.jws import CREDENTIAL_TYP, UnverifiedJws, check_kid, parse_compact, verify_signature
from verifier.messages import age_description
from verifier.qrtext import decode_qr_bytes
from verifier.result import VerificationResult, VerifiedCredential, verified_credential
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


def _policy_seconds(policy: VerifyPolicy) -> tuple[float, float]:
    """The clock skew and the status max age, in seconds."""
    return policy.clock_skew.total_seconds(), policy.status_max_age.total_seconds()


# Converted once: nearly every verification runs under the default policy.
_DEFAULT_POLICY_SECONDS: Final = _policy_seconds(DEFAULT_POLICY)


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
    moment = aware_now(now)
    try:
        credential = _verify(source, trust, status, moment.timestamp(), policy)
    except errors.UsageError:
        raise
    except errors.PlainclaimError as error:
        return VerificationResult.from_error(error, checked_at=moment)
    warnings = (
        () if credential.status_as_of is None else _status_warnings(credential, moment, policy)
    )
    return VerificationResult.valid(credential, warnings)


def verify_or_raise(
    source: CredentialSource,
    trust: TrustList,
    *,
    status: StatusStore | None = None,
    now: datetime | None = None,
    policy: VerifyPolicy = DEFAULT_POLICY,
) -> VerifiedCredential:
    """Like :func:`verify`, but return the credential or raise the refusal's error."""
    return _verify(source, trust, status, aware_now(now).timestamp(), policy)


def _verify(
    source: CredentialSource,
    trust: TrustList,
    status: StatusStore | None,
    timestamp: float,
    policy: VerifyPolicy,
) -> VerifiedCredential:
    """The checks, in the order of the module docstring. This runs on every verification:
    values are read once into locals, and objects are built only for the result.
    """
    leeway, max_status_age = (
        _DEFAULT_POLICY_SECONDS if policy is DEFAULT_POLICY else _policy_seconds(policy)
    )
    qr_text = source if isinstance(source, str) else _scanned_text(source)
    jws = parse_compact(decode_qr_bytes(qr_text), CREDENTIAL_TYP)
    key = _find_key(jws, trust, timestamp)
    if trust.is_expired_at(timestamp, leeway):
        raise errors.TrustListExpired("the trust list has expired")
    verify_signature(jws, key.public_key, key.alg)
    (issuer_id, benefit_code, not_before, expires, credential_id, status_ref, holder_jwk) = (
        checked_claim_values(jws.unverified_payload)
    )
    issuer = trust.issuers[issuer_id]
    benefit = issuer.benefit_infos.get(benefit_code)
    if benefit is None:
        raise errors.BenefitNotAllowed(f"{issuer_id} may not vouch for {benefit_code}")
    if timestamp < not_before - leeway:
        raise errors.NotYetValid("before nbf")
    if timestamp >= expires + leeway:
        raise errors.Expired("at or after exp")
    status_as_of = _check_status(
        issuer, status_ref, status, timestamp, leeway=leeway, max_age=max_status_age
    )
    if holder_jwk is not None:
        raise errors.HolderProofRequired("holder binding is reserved in format 1")
    return verified_credential(
        credential_id=credential_id,
        benefit=benefit,
        issuer=issuer.info,
        valid_from=datetime.fromtimestamp(not_before, UTC),
        valid_until=datetime.fromtimestamp(expires, UTC),
        status_ref=status_ref,
        status_as_of=status_as_of,
    )


# Plain ints: comparing with these is cheaper than looking IntEnum members up on each check.
_VALID: Final = int(StatusValue.VALID)
_REVOKED: Final = int(StatusValue.INVALID)
_SUSPENDED: Final = int(StatusValue.SUSPENDED)


def _check_status(
    issuer: TrustedIssuer,
    status_ref: StatusRef,
    status: StatusStore | None,
    timestamp: float,
    *,
    leeway: float,
    max_age: float,
) -> datetime | None:
    """Check the credential's status entry; returns when the issuer vouched for it.

    None means the issuer publishes no status lists, so there is nothing to check.
    ``leeway`` and ``max_age`` are the policy's clock skew and status max age in seconds.
    """
    if issuer.status_uri is None:
        return None
    if status is None:
        raise errors.StatusListMissing("no status data was given to the verifier")
    value, as_of, list_expires, vouched_at = status.check(issuer.issuer_id, status_ref)
    if as_of > timestamp + leeway:
        # A list dated in the future would vouch "not revoked" ahead of time.
        raise errors.StatusListInvalid("the status list is dated in the future")
    # Revocation is final, so a revoked entry is believed however old the list; "valid" and
    # "suspended" can change, so only fresh data may say them.
    if value == _REVOKED:
        raise errors.Revoked("the status list marks the credential revoked")
    too_old = timestamp - as_of > max_age
    if too_old or timestamp >= list_expires + leeway:
        raise errors.StatusStale("the synced status list is too old", as_of=vouched_at)
    if value == _SUSPENDED:
        raise errors.Suspended("the status list marks the credential suspended")
    if value != _VALID:
        raise errors.StatusListInvalid(f"status value {value} is not defined")
    return vouched_at


def _status_warnings(
    credential: VerifiedCredential, moment: datetime, policy: VerifyPolicy
) -> tuple[str, ...]:
    if credential.status_as_of is None:
        return ()
    if moment - credential.status_as_of <= policy.status_warn_age:
        return ()
    age = age_description(credential.status_as_of, moment)
    return (f"The revocation data on this device is {age} old. Sync the verifier soon.",)


def _scanned_text(source: CredentialSource) -> str:
    # Imported here so that verifying QR text never pays for loading the image stack.
    from verifier.scan import scan_credential_text

    return scan_credential_text(source)


def _find_key(jws: UnverifiedJws, trust: TrustList, timestamp: float) -> TrustedKey:
    """Look the key up by kid, scoped to the issuer the (still unverified) payload claims."""
    kid = jws.header.kid
    check_kid(kid)
    payload = jws.unverified_payload
    if "iss" not in payload:
        raise errors.MissingClaim("iss is missing")
    claimed_issuer = payload["iss"]
    if not isinstance(claimed_issuer, str):
        raise errors.ClaimType("iss must be a string")
    if claimed_issuer not in trust.issuers:
        raise errors.UnknownIssuer("the issuer is not on the trust list")
    key = trust.keys_by_kid.get(kid)
    if key is None:
        raise errors.UnknownKey("no key with this kid on the trust list")
    if key.issuer_id != claimed_issuer:
        raise errors.KeyOfAnotherIssuer("the kid belongs to another issuer")
    if not key.is_valid_at(timestamp):
        raise errors.KeyNotValid("the key is outside its validity window")
    return key
