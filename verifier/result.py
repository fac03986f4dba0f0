"""What a verification returns: a frozen, typed verdict a clerk and a program can both read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
        return cls(Status.VALID, "valid", credential, warnings)

    @classmethod
    def from_error(
        cls, error: PlainclaimError, *, checked_at: datetime | None = None
    ) -> VerificationResult:
        """The verdict for a refusal: status and message follow the error's reason code."""
        as_of = error.as_of if isinstance(error, StatusStale) else None
        return cls(error.status, error.reason, status_as_of=as_of, checked_at=checked_at)

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
