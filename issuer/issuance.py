"""Issuing one credential: from an office's request to the QR text printed on the letter.

Every refusal comes before anything is signed or recorded: the benefit must be one the issuer
is configured for, and the validity window must start no earlier than today, end no earlier
than today, and span at most ``max_validity_days``. Dates are read on the office's wall clock
(``timezone`` in ``issuer.json``): a credential valid until 2027-04-30 expires at the first
second of 2027-05-01 there.

The payload is built as a :class:`~verifier.claims.CredentialClaims`, the same class the
verifier checks with, and signing takes nothing else: whatever a caller passes, no claim outside
the closed format 1 set (a name, a case number, a note) can ever reach a signature.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from issuer.errors import RequestInvalid
from issuer.issuer_dir import IssuerConfig, IssuerDir, load_zone
from issuer.registry import IssueRequest, Registry, Signer
from verifier.claims import CredentialClaims, StatusRef
from verifier.clock import aware_now
from verifier.jws import CREDENTIAL_TYP, sign_compact
from verifier.qrtext import encode_qr_text


class IssuanceRefused(RequestInvalid):
    """The issuer's own settings forbid this credential."""

    reason = "issuance_refused"


class BenefitNotConfigured(IssuanceRefused):
    """The benefit is not one this issuer is configured to vouch for."""

    reason = "benefit_not_configured"


class ValidityInPast(IssuanceRefused):
    """``valid_until`` or ``valid_from`` lies before today."""

    reason = "validity_in_past"


class ValidityReversed(IssuanceRefused):
    """``valid_from`` lies after ``valid_until``."""

    reason = "validity_reversed"


class ValidityTooLong(IssuanceRefused):
    """The window is longer than the issuer's ``max_validity_days``."""

    reason = "validity_too_long"


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A signed, recorded credential and the QR text that carries it."""

    credential_id: str
    token: str
    qr_text: str
    not_before: int
    expires: int
    status_ref: StatusRef
    #: True when ``request_id`` had been issued before: this is that credential, unchanged.
    replayed: bool


def issue_credential(
    issuer: IssuerDir,
    benefit: str,
    valid_until: date,
    *,
    valid_from: date | None = None,
    case_ref: str | None = None,
    request_id: str | None = None,
    now: datetime | None = None,
    issued_by: str = "cli",
) -> IssuedCredential:
    """Sign a credential for ``benefit`` with the active key and record it in the registry.

    ``valid_until`` is the last day of validity; ``valid_from`` defaults to now. Repeating a
    ``request_id`` returns the credential issued for it the first time (``replayed``), so a
    retry after a crash never issues twice. ``now`` must be timezone-aware.
    """
    moment = aware_now(now)
    not_before, expires = validity_window(
        issuer.config, benefit, valid_until, valid_from=valid_from, now=moment
    )
    sign = credential_signer(issuer)
    request = IssueRequest(
        request_id=str(uuid.uuid4()) if request_id is None else request_id,
        benefit=benefit,
        not_before=not_before,
        expires=expires,
        case_ref=case_ref,
        issued_by=issued_by,
    )
    registry = open_registry(issuer)
    try:
        if request_id is not None and not_before == int(moment.timestamp()):
            # nbf "now" means the time of the first attempt: a retry must ask for the same
            # credential, or the registry would see other parameters under the same request id.
            earlier = registry.find_by_request(request_id)
            if earlier is not None and earlier.not_before <= not_before:
                request = replace(request, not_before=earlier.not_before)
        record = registry.issue(request, sign)
    finally:
        registry.close()
    return IssuedCredential(
        credential_id=record.credential_id,
        token=record.token,
        qr_text=encode_qr_text(record.token),
        not_before=record.not_before,
        expires=record.expires,
        status_ref=record.status_ref,
        replayed=record.replayed,
    )


def open_registry(issuer: IssuerDir) -> Registry:
    """The registry of ``issuer``, opened as its ``issuer.json`` says; close it when done."""
    return Registry.open(
        issuer.registry_url(),
        issuer_id=issuer.config.issuer_id,
        list_capacity=issuer.config.status_list_capacity,
    )


def credential_signer(issuer: IssuerDir) -> Signer:
    """A signer for :meth:`Registry.issue` with the issuer's active key, loaded now.

    Loading first means a key file with the wrong mode stops a run before the registry is
    touched.
    """
    kid, private_key = issuer.signing_key()

    def sign(claims: CredentialClaims) -> str:
        return sign_compact(claims.to_payload(), private_key, kid, CREDENTIAL_TYP)

    return sign


def validity_window(
    config: IssuerConfig,
    benefit: str,
    valid_until: date,
    *,
    valid_from: date | None,
    now: datetime,
) -> tuple[int, int]:
    """Check a request against the issuer's settings and return its ``(nbf, exp)``.

    ``nbf`` is never before ``now``: a credential is not valid before it exists.
    """
    if benefit not in config.benefits:
        raise BenefitNotConfigured(
            f"issuer {config.issuer_id} is not configured for benefit {benefit!r} "
            f"(configured: {', '.join(config.benefits)})"
        )
    zone = load_zone(config.timezone)
    today = aware_now(now).astimezone(zone).date()
    if valid_until < today:
        raise ValidityInPast(f"valid-until {valid_until} is before today ({today}, {zone.key})")
    if valid_from is not None and valid_from < today:
        raise ValidityInPast(f"valid-from {valid_from} is before today ({today}, {zone.key})")
    first_day = today if valid_from is None else valid_from
    if first_day > valid_until:
        raise ValidityReversed(f"valid-from {first_day} is after valid-until {valid_until}")
    if (valid_until - first_day).days > config.max_validity_days:
        raise ValidityTooLong(
            f"valid-until {valid_until} is more than {config.max_validity_days} days after "
            f"{first_day} (max_validity_days of issuer {config.issuer_id})"
        )
    issued = int(now.timestamp())
    not_before = issued if valid_from is None else max(issued, _start_of(valid_from, zone))
    return not_before, _start_of(valid_until + timedelta(days=1), zone)


def _start_of(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp())
