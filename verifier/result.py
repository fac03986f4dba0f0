"""What a verification returns: a frozen, typed verdict a clerk and a program can both read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from verifier._frozen import slot_setters
from verifier.claims import StatusRef
from verifier.errors import PlainclaimError, Status, StatusStale
from verifier.messages import clerk_message, valid_message
from verifier.trust import Benefit, IssuerInfo


@dataclass(frozen=True, slots=True)
class VerifiedCredential:
    """What a valid credential proves, and nothing more: there is nothing more in it."""

    credential_id: str
    benefit: Benefit
    issuer: IssuerInfo
    valid_from: datetime
    valid_until: datetime
    status_ref: StatusRef
    #: When the issuer vouched for the status "not revoked" the verifier relied on; None when
    #: the issuer publishes no status lists.
    status_as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The verdict: VALID, INVALID or INDETERMINATE, with a stable reason code.

    ``reason`` is for programs (it never changes between releases); ``message`` is for the
    clerk; ``credential`` is set only when the status is VALID.
    """

    status: Status
    reason: str
    credential: VerifiedCredential | None = None
    warnings: tuple[str, ...] = ()
    #: For refusals over stale status data: when the issuer vouched for the data held.
    status_as_of: datetime | None = None
    checked_at: datetime | None = None

    @property
    def message(self) -> str:
        """The clerk's message, in plain words (derived from the reason and credential)."""
        if self.credential is not None:
            return valid_message(self.credential)
        return clerk_message(self.reason, status_as_of=self.status_as_of, now=self.checked_at)

    @property
    def is_valid(self) -> bool:
        """True only for a VALID verdict."""
        return self.status is Status.VALID

    @classmethod
    def valid(
        cls, credential: VerifiedCredential, warnings: tuple[str, ...] = ()
    ) -> VerificationResult:
        """A VALID verdict for ``credential``."""
        if cls is not VerificationResult:
            return cls(Status.VALID, "valid", credential, warnings)
        return _result(
            status=_VALID,
            reason="valid",
            credential=credential,
            warnings=warnings,
            status_as_of=None,
            checked_at=None,
        )

    @classmethod
    def from_error(
        cls, error: PlainclaimError, *, checked_at: datetime | None = None
    ) -> VerificationResult:
        """The verdict for a refusal: status and message follow the error's reason code."""
        as_of = error.as_of if isinstance(error, StatusStale) else None
        if cls is not VerificationResult:
            return cls(error.status, error.reason, status_as_of=as_of, checked_at=checked_at)
        return _result(
            status=error.status,
            reason=error.reason,
            credential=None,
            warnings=(),
            status_as_of=as_of,
            checked_at=checked_at,
        )

    def to_json(self) -> dict[str, object]:
        """A JSON-ready rendering (for ``--json`` and web APIs)."""
        out: dict[str, object] = {
            "status": self.status.value,
            "reason": self.reason,
            "message": self.message,
        }
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if self.credential is not None:
            cred = self.credential
            out["credential"] = {
                "credential_id": cred.credential_id,
                "benefit": {"code": cred.benefit.code, "name": cred.benefit.name},
                "issuer": {"id": cred.issuer.issuer_id, "name": cred.issuer.name},
                "valid_from": cred.valid_from.isoformat(),
                "valid_until": cred.valid_until.isoformat(),
                "status_ref": {"list_id": cred.status_ref.list_id, "index": cred.status_ref.index},
                "status_as_of": cred.status_as_of.isoformat() if cred.status_as_of else None,
            }
        elif self.status_as_of is not None:
            out["status_as_of"] = self.status_as_of.isoformat()
        return out


# Every verification builds one VerifiedCredential and one VerificationResult, neither of
# which checks anything in __init__: set their slots directly (see verifier._frozen).
_new = object.__new__
_VALID: Final = Status.VALID  # a module global is read ten times faster than an enum member
(
    _SET_CREDENTIAL_ID,
    _SET_BENEFIT,
    _SET_ISSUER,
    _SET_VALID_FROM,
    _SET_VALID_UNTIL,
    _SET_STATUS_REF,
    _SET_CREDENTIAL_STATUS_AS_OF,
) = slot_setters(
    VerifiedCredential,
    "credential_id",
    "benefit",
    "issuer",
    "valid_from",
    "valid_until",
    "status_ref",
    "status_as_of",
)
(
    _SET_STATUS,
    _SET_REASON,
    _SET_CREDENTIAL,
    _SET_WARNINGS,
    _SET_RESULT_STATUS_AS_OF,
    _SET_CHECKED_AT,
) = slot_setters(
    VerificationResult,
    "status",
    "reason",
    "credential",
    "warnings",
    "status_as_of",
    "checked_at",
)


def verified_credential(
    *,
    credential_id: str,
    benefit: Benefit,
    issuer: IssuerInfo,
    valid_from: datetime,
    valid_until: datetime,
    status_ref: StatusRef,
    status_as_of: datetime | None,
) -> VerifiedCredential:
    """``VerifiedCredential(...)`` in half the time, for ``verify()``."""
    credential = _new(VerifiedCredential)
    _SET_CREDENTIAL_ID(credential, credential_id)
    _SET_BENEFIT(credential, benefit)
    _SET_ISSUER(credential, issuer)
    _SET_VALID_FROM(credential, valid_from)
    _SET_VALID_UNTIL(credential, valid_until)
    _SET_STATUS_REF(credential, status_ref)
    _SET_CREDENTIAL_STATUS_AS_OF(credential, status_as_of)
    return credential


def _result(
    *,
    status: Status,
    reason: str,
    credential: VerifiedCredential | None,
    warnings: tuple[str, ...],
    status_as_of: datetime | None,
    checked_at: datetime | None,
) -> VerificationResult:
    result = _new(VerificationResult)
    _SET_STATUS(result, status)
    _SET_REASON(result, reason)
    _SET_CREDENTIAL(result, credential)
    _SET_WARNINGS(result, warnings)
    _SET_RESULT_STATUS_AS_OF(result, status_as_of)
    _SET_CHECKED_AT(result, checked_at)
    return result
