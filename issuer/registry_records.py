"""What goes into the issuer registry and what comes out of it.

The registry stores no personal data, and these records are the whole of what it stores: a
credential's id, benefit, validity, status list entry and token; an opaque office reference;
who issued it and when; its status and the history of that status.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeAlias

from issuer.errors import RequestInvalid
from verifier.claims import BENEFIT_CODE, MAX_TIMESTAMP, CredentialClaims, StatusRef
from verifier.status_list import StatusValue

#: Given the complete claims, returns the compact JWS (``typ`` ``pc1``) that signs them.
Signer: TypeAlias = Callable[[CredentialClaims], str]

REQUEST_ID: Final = re.compile(r"[\x20-\x7e]{1,128}")
#: Deliberately too narrow for a name (no spaces) and too short for much else: a file number.
CASE_REF: Final = re.compile(r"[A-Za-z0-9._:/-]{1,64}")
ACTOR: Final = re.compile(r"[A-Za-z0-9._:@/-]{1,64}")
STATUS_REASON: Final = re.compile(r"[\x20-\x7e]{1,200}")
#: The statuses an operator may set; APPLICATION_SPECIFIC is never issued.
SETTABLE_STATUSES: Final = frozenset(
    {StatusValue.VALID, StatusValue.INVALID, StatusValue.SUSPENDED}
)


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """One credential to issue. Constructing one validates it (:class:`RequestInvalid`).

    ``request_id`` is the caller's idempotency key (a UUID, ``"batch-7.csv:12"``): issuing the
    same request id again returns the credential stored the first time, never a second one.
    ``case_ref`` is an opaque office reference (a file number) for finding a credential again;
    it must never be a name, an ID number or anything else that identifies the holder.
    ``issued_by`` names the operator or system that asked, for the audit trail.
    """

    request_id: str
    benefit: str
    not_before: int
    expires: int
    case_ref: str | None = None
    issued_by: str = "cli"

    def __post_init__(self) -> None:
        _check_text("request_id", self.request_id, REQUEST_ID, "1-128 printable ASCII characters")
        _check_text("benefit", self.benefit, BENEFIT_CODE, "a benefit code (a-z 0-9 -)")
        for name in ("not_before", "expires"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= MAX_TIMESTAMP:
                raise RequestInvalid(f"{name} must be whole seconds since the epoch")
        if self.expires <= self.not_before:
            raise RequestInvalid("expires must be after not_before")
        if self.case_ref is not None:
            _check_text("case_ref", self.case_ref, CASE_REF, "1-64 of A-Z a-z 0-9 . _ : / -")
        _check_text("issued_by", self.issued_by, ACTOR, "1-64 of A-Z a-z 0-9 . _ : @ / -")

    def same_credential_as(self, record: IssuedRecord) -> bool:
        """Whether ``record`` is what this request asks for (``issued_by`` may differ)."""
        return (
            self.benefit == record.benefit
            and self.not_before == record.not_before
            and self.expires == record.expires
            and self.case_ref == record.case_ref
        )


@dataclass(frozen=True, slots=True)
class IssuedRecord:
    """A credential as the registry holds it, with its current status."""

    credential_id: str
    request_id: str
    benefit: str
    not_before: int
    expires: int
    status_ref: StatusRef
    #: The compact JWS, to render as a QR code again (a lost letter, a reprint).
    token: str
    case_ref: str | None
    issued_by: str
    issued_at: int
    status: StatusValue
    #: True when the request id had been issued before and this is the stored credential.
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One change of a credential's status, kept for good."""

    credential_id: str
    old_status: StatusValue
    new_status: StatusValue
    reason: str
    actor: str
    changed_at: int


@dataclass(frozen=True, slots=True)
class StatusListInfo:
    """A status list and how many of its entries have been handed out."""

    list_id: int
    capacity: int
    allocated: int

    @property
    def is_full(self) -> bool:
        """Whether every entry is taken; the next credential opens a new list."""
        return self.allocated >= self.capacity


def check_status_change(status: object, reason: object, actor: object) -> StatusValue:
    """Validate the arguments of a status change; the status it sets."""
    if not isinstance(status, int) or isinstance(status, bool) or status not in SETTABLE_STATUSES:
        raise RequestInvalid("status must be VALID, INVALID (revoked) or SUSPENDED")
    _check_text("reason", reason, STATUS_REASON, "1-200 printable ASCII characters")
    _check_text("actor", actor, ACTOR, "1-64 of A-Z a-z 0-9 . _ : @ / -")
    return StatusValue(status)


def _check_text(name: str, value: object, pattern: re.Pattern[str], form: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise RequestInvalid(f"{name} must be {form}")
