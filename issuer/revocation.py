"""Revoking, suspending and reinstating credentials, and reading a credential's status.

A change is recorded in the registry with its reason and the operator who made it; verifiers
learn of it only from the next published status list (:mod:`issuer.publish`). Revocation is
final: a revoked credential can be neither suspended nor reinstated
(:class:`~issuer.errors.CredentialAlreadyRevoked`).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from issuer.errors import RequestInvalid, UnknownCredential
from issuer.issuance import open_registry
from issuer.issuer_dir import IssuerDir
from issuer.registry import IssuedRecord, StatusChange
from issuer.registry_records import ACTOR
from verifier.status_list import StatusValue


@dataclass(frozen=True, slots=True)
class StatusOutcome:
    """What a status change did."""

    record: IssuedRecord
    previous: StatusValue

    @property
    def changed(self) -> bool:
        """False when the credential had that status already: nothing was recorded."""
        return self.record.status is not self.previous


@dataclass(frozen=True, slots=True)
class CredentialStatus:
    """A credential's record and every change of its status, oldest first."""

    record: IssuedRecord
    history: tuple[StatusChange, ...]


def default_actor() -> str:
    """The operator's OS user name, as the registry records actors.

    :raises RequestInvalid: when there is no user name, or one the registry cannot store;
        the operator then names themselves with ``--actor``.
    """
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        raise RequestInvalid("cannot tell who you are: name yourself with --actor") from None
    if not ACTOR.fullmatch(name):
        raise RequestInvalid(f"user name {name!r} cannot be recorded: use --actor")
    return name


def change_status(
    issuer: IssuerDir, credential_id: str, status: StatusValue, *, reason: str, actor: str
) -> StatusOutcome:
    """Set a credential's status (INVALID revokes, SUSPENDED suspends, VALID reinstates).

    :raises UnknownCredential: no credential has that id.
    :raises CredentialAlreadyRevoked: the credential is revoked; that is final.
    :raises RequestInvalid: a reason or actor the registry refuses.
    """
    with open_registry(issuer) as registry:
        before = registry.get(credential_id)
        if before is None:
            raise UnknownCredential(
                f"no credential {credential_id!r} in this registry", credential_id=credential_id
            )
        after = registry.set_status(credential_id, status, reason=reason, actor=actor)
    return StatusOutcome(after, before.status)


def credential_status(issuer: IssuerDir, credential_id: str) -> CredentialStatus:
    """The credential's record and status history.

    :raises UnknownCredential: no credential has that id.
    """
    with open_registry(issuer) as registry:
        record = registry.get(credential_id)
        if record is None:
            raise UnknownCredential(
                f"no credential {credential_id!r} in this registry", credential_id=credential_id
            )
        history = registry.status_history(credential_id)
    return CredentialStatus(record, tuple(history))
