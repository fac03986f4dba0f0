"""What the clerk reads, by reason code. Plain words, no jargon, and a next step where one helps.

Keyed by the stable reason codes of :mod:`verifier.errors`, so a translation is one more table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from verifier.result import VerifiedCredential

_NOT_READABLE: Final = (
    "This is not a readable plainclaim credential. Ask the person to show the QR code again."
)
_FORGED: Final = "NOT VALID: this credential has been altered or was not issued by a trusted office. Do not accept it."
_TRUST_DATA: Final = (
    "Cannot check right now: this device's trust data is {}. Sync the verifier, then scan again."
)

MESSAGES: Final[dict[str, str]] = {
    "error": "Cannot check this credential. Scan again or ask your IT contact.",
    "input_rejected": _NOT_READABLE,
    "key_rejected": _FORGED,
    "input_too_large": "This code holds far more data than a plainclaim credential. It cannot be checked.",
    "input_charset": _NOT_READABLE,
    "unknown_prefix": "This QR code is not a plainclaim credential.",
    "foreign_smart_health_card": "This is a SMART Health Card (a health record), not a plainclaim benefit credential.",
    "foreign_eu_dcc": "This is an EU Digital COVID Certificate, not a plainclaim benefit credential.",
    "odd_digit_count": _NOT_READABLE,
    "digit_pair_out_of_range": _NOT_READABLE,
    "non_digit": _NOT_READABLE,
    "not_an_image": "This file is not a photo or image this verifier reads (PNG, JPEG or WebP).",
    "image_too_large": "This image is too large to check safely. Use a smaller photo or scan the code directly.",
    "no_qr_found": "No QR code was found in the image. Hold the code flat, well lit and in focus, then try again.",
    "multiple_credentials": "The image shows more than one credential. Scan one QR code at a time.",
    "malformed_token": _NOT_READABLE,
    "base64_invalid": _NOT_READABLE,
    "json_invalid": _NOT_READABLE,
    "duplicate_json_key": _FORGED,
    "forbidden_header": _FORGED,
    "wrong_type": "This code is not a plainclaim credential.",
    "wrong_token_kind": "This code is plainclaim trust data, not a person's credential.",
    "alg_none": _FORGED,
    "alg_mismatch": _FORGED,
    "invalid_kid": _FORGED,
    "unknown_issuer": "NOT VALID: the issuing office is not on this verifier's trust list.",
    "unknown_kid": "NOT VALID: this credential was signed with a key this verifier does not trust. If the office issued new keys recently, sync the verifier and scan again.",
    "kid_of_another_issuer": _FORGED,
    "key_not_valid": "NOT VALID: the key that signed this credential is not in use any more (or not yet). Do not accept it.",
    "bad_signature": _FORGED,
    "signature_encoding": _FORGED,
    "claims_rejected": _FORGED,
    "unknown_claim": "NOT VALID: this credential carries data a plainclaim credential must never hold. Do not accept it.",
    "missing_claim": _FORGED,
    "claim_type": _FORGED,
    "timestamp_milliseconds": _FORGED,
    "validity_window_invalid": _FORGED,
    "benefit_not_allowed": "NOT VALID: the issuing office is not allowed to grant this benefit.",
    "expired": "NOT VALID: this credential has expired. The person can ask the issuing office for a new one.",
    "not_yet_valid": "NOT VALID YET: this credential only becomes valid later.",
    "revoked": "NOT VALID: the issuing office has withdrawn this credential.",
    "suspended": "NOT VALID AT THE MOMENT: the issuing office has put this credential on hold.",
    "cannot_verify": "Cannot check right now. Sync the verifier, then scan again.",
    "trust_list_rejected": _TRUST_DATA.format("damaged"),
    "trust_list_missing": _TRUST_DATA.format("missing"),
    "trust_list_malformed": _TRUST_DATA.format("damaged"),
    "trust_list_bad_signature": _TRUST_DATA.format("not signed by the trust authority"),
    "trust_list_expired": _TRUST_DATA.format("out of date"),
    "trust_list_rollback": _TRUST_DATA.format("older than a version it has already used"),
    "status_unavailable": "Cannot confirm that the credential is not withdrawn. Sync the verifier, then scan again.",
    "status_list_missing": "Cannot confirm that the credential is not withdrawn: this device has no status data for it. Sync the verifier, then scan again.",
    "status_list_invalid": "Cannot confirm that the credential is not withdrawn: the status data on this device is damaged. Sync the verifier, then scan again.",
    "status_index_out_of_range": "Cannot confirm that the credential is not withdrawn: this device's status data does not cover it. Sync the verifier, then scan again.",
    "status_stale": "Cannot confirm that the credential is not withdrawn: the status data on this device is too old. Sync the verifier, then scan again.",
    "unsupported_format_version": "Cannot check here: this credential uses a newer plainclaim format. Update the verifier, then scan again.",
    "holder_proof_required": "Cannot check here: this credential must be presented together with the holder's device, which this verifier cannot check yet.",
    "sync_failed": "The verifier could not fetch new trust data. Check the network or the USB stick, then sync again.",
    "usage_error": "The verifier was started with wrong settings. Ask your IT contact.",
    "configuration_error": "The verifier is not set up correctly. Ask your IT contact.",
}


def clerk_message(
    reason: str, *, status_as_of: datetime | None = None, now: datetime | None = None
) -> str:
    """The clerk's message for a reason code (with the data's age for stale status data)."""
    message = MESSAGES.get(
        reason, "Cannot check this credential. Scan again or ask your IT contact."
    )
    if status_as_of is not None:
        age = age_description(status_as_of, now or datetime.now(UTC))
        message += f" The revocation data on this device is {age} old."
    return message


def valid_message(credential: VerifiedCredential) -> str:
    """The clerk's message for a valid credential: what it proves, in plain words."""
    return (
        f"VALID: {credential.issuer.name} confirms that the holder qualifies for "
        f"{credential.benefit.name}, {until_words(credential.valid_until)}."
    )


def until_words(valid_until: datetime) -> str:
    """The end of validity as a clerk reads it.

    Issuers end credentials at midnight after the last day ("valid until 31 March" is
    exclusive 1 April 00:00), so a midnight expiry reads as the end of the day before.
    """
    if (valid_until.hour, valid_until.minute, valid_until.second) == (0, 0, 0):
        last_day = valid_until - timedelta(days=1)
        return f"until the end of {last_day.day} {last_day:%B %Y} (UTC)"
    return f"until {valid_until.day} {valid_until:%B %Y, %H:%M} UTC"


def age_description(as_of: datetime, now: datetime) -> str:
    """How old data is, in the words a clerk reads: "3 hours", "9 days"."""
    seconds = max(0, int((now - as_of).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"
