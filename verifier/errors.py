"""The one exception tree of plainclaim.

Every way a credential, a trust list or an input can be refused is a subclass of
:class:`PlainclaimError`, and each carries a stable ``reason`` code. The CLI exit status, the
JSON output and the clerk's message are all derived from that code, never from the text::

    PlainclaimError
    ├── CredentialInvalid              -> status INVALID: the credential is bad
    │   ├── InputRejected              input size, charset, prefix, digits, image
    │   ├── MalformedToken             JWS syntax, header, typ, alg
    │   ├── KeyRejected                kid unknown / of another issuer / outside its window
    │   ├── SignatureInvalid           signature encoding or value
    │   ├── ClaimsRejected             the closed claim set
    │   ├── BenefitNotAllowed          the issuer may not vouch for that benefit
    │   ├── Expired / NotYetValid      the validity window
    │   └── Revoked / Suspended        the status list says so
    ├── CannotVerify                   -> status INDETERMINATE: we cannot tell
    │   ├── TrustListRejected          missing, bad signature, expired, rolled back
    │   ├── StatusUnavailable          status data missing or too old
    │   └── HolderProofRequired        the credential is bound to a holder key
    └── UsageError                     -> bad configuration or arguments (CLI exit 64+)

Library errors (pyjwt, cryptography, Pillow, zxing-cpp) are translated into this tree where
they are called; nothing else escapes the public API.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar


class Status(StrEnum):
    """The three answers a verifier can give."""

    VALID = "VALID"
    INVALID = "INVALID"
    INDETERMINATE = "INDETERMINATE"


class PlainclaimError(Exception):
    """Root of every error plainclaim raises on purpose."""

    reason: ClassVar[str] = "error"
    status: ClassVar[Status] = Status.INVALID

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.reason)
        #: Technical detail for logs and developers; never shown as the clerk's message and
        #: never containing personal data (credentials carry none).
        self.detail = detail


# The credential is bad: INVALID


class CredentialInvalid(PlainclaimError):
    """The presented input is not a valid plainclaim credential."""

    status = Status.INVALID


class InputRejected(CredentialInvalid):
    """The raw input (text or image) cannot be read as a plainclaim QR."""

    reason = "input_rejected"


class InputTooLarge(InputRejected):
    reason = "input_too_large"


class InputCharset(InputRejected):
    """Characters that no plainclaim QR text contains (control bytes, non-ASCII...)."""

    reason = "input_charset"


class UnknownPrefix(InputRejected):
    reason = "unknown_prefix"


class ForeignSmartHealthCard(InputRejected):
    """A SMART Health Card (``shc:/``): a different scheme, not a plainclaim credential."""

    reason = "foreign_smart_health_card"


class ForeignEuDcc(InputRejected):
    """An EU Digital COVID Certificate (``HC1:``): a different scheme."""

    reason = "foreign_eu_dcc"


class OddDigitCount(InputRejected):
    reason = "odd_digit_count"


class DigitPairOutOfRange(InputRejected):
    """A digit pair above 77 encodes no character of the base64url/JWS alphabet."""

    reason = "digit_pair_out_of_range"


class NonDigit(InputRejected):
    reason = "non_digit"


class NotAnImage(InputRejected):
    reason = "not_an_image"


class ImageTooLarge(InputRejected):
    """Too many bytes or too many pixels: refused before decoding (decompression bombs)."""

    reason = "image_too_large"


class NoQrFound(InputRejected):
    reason = "no_qr_found"


class MultipleCredentials(InputRejected):
    """Two or more different credential QR codes in one image: we will not guess which."""

    reason = "multiple_credentials"


class MalformedToken(CredentialInvalid):
    """The JWS inside the QR is not well-formed under the plainclaim profile."""

    reason = "malformed_token"


class Base64Invalid(MalformedToken):
    """Padding, characters outside base64url, or non-canonical trailing bits."""

    reason = "base64_invalid"


class JsonInvalid(MalformedToken):
    reason = "json_invalid"


class DuplicateJsonKey(MalformedToken):
    reason = "duplicate_json_key"


class ForbiddenHeader(MalformedToken):
    """A header field other than ``alg``, ``typ``, ``kid`` (``jku``, ``jwk``, ``crit``...)."""

    reason = "forbidden_header"


class WrongType(MalformedToken):
    """Missing or wrong ``typ``: explicit typing, RFC 8725 section 3.11."""

    reason = "wrong_type"


class WrongTokenKind(WrongType):
    """A trust list or status list presented where a credential is expected (or vice versa)."""

    reason = "wrong_token_kind"


class AlgorithmNone(MalformedToken):
    reason = "alg_none"


class AlgorithmMismatch(MalformedToken):
    """The header names an algorithm other than the one the trust list fixes for the key."""

    reason = "alg_mismatch"


class KeyRejected(CredentialInvalid):
    reason = "key_rejected"


class InvalidKid(KeyRejected):
    """A ``kid`` with characters no key id has (paths, quotes, SQL...)."""

    reason = "invalid_kid"


class UnknownIssuer(KeyRejected):
    reason = "unknown_issuer"


class UnknownKey(KeyRejected):
    reason = "unknown_kid"


class KeyOfAnotherIssuer(KeyRejected):
    reason = "kid_of_another_issuer"


class KeyNotValid(KeyRejected):
    """The signing key is outside its published not-before / not-after window."""

    reason = "key_not_valid"


class SignatureInvalid(CredentialInvalid):
    reason = "bad_signature"


class SignatureEncoding(SignatureInvalid):
    """Not a raw 64-byte r||s ES256 signature (a DER signature, a truncated one...)."""

    reason = "signature_encoding"


class ClaimsRejected(CredentialInvalid):
    """The payload is outside the closed claim set of format 1."""

    reason = "claims_rejected"


class UnknownClaim(ClaimsRejected):
    reason = "unknown_claim"


class MissingClaim(ClaimsRejected):
    reason = "missing_claim"


class ClaimType(ClaimsRejected):
    reason = "claim_type"


class TimestampInMilliseconds(ClaimsRejected):
    reason = "timestamp_milliseconds"


class ValidityWindowInvalid(ClaimsRejected):
    """``exp`` is not after ``nbf``."""

    reason = "validity_window_invalid"


class BenefitNotAllowed(CredentialInvalid):
    reason = "benefit_not_allowed"


class Expired(CredentialInvalid):
    reason = "expired"


class NotYetValid(CredentialInvalid):
    reason = "not_yet_valid"


class Revoked(CredentialInvalid):
    reason = "revoked"


class Suspended(CredentialInvalid):
    reason = "suspended"


# We cannot tell: INDETERMINATE


class CannotVerify(PlainclaimError):
    """The verifier cannot reach a verdict with the trust data it holds."""

    status = Status.INDETERMINATE
    reason = "cannot_verify"


class TrustListRejected(CannotVerify):
    reason = "trust_list_rejected"


class TrustListMissing(TrustListRejected):
    reason = "trust_list_missing"


class TrustListMalformed(TrustListRejected):
    reason = "trust_list_malformed"


class TrustListSignatureInvalid(TrustListRejected):
    reason = "trust_list_bad_signature"


class TrustListExpired(TrustListRejected):
    reason = "trust_list_expired"


class TrustListRollback(TrustListRejected):
    """A trust list older (lower sequence) than one this verifier has already seen."""

    reason = "trust_list_rollback"


class StatusUnavailable(CannotVerify):
    reason = "status_unavailable"


class StatusListMissing(StatusUnavailable):
    reason = "status_list_missing"


class StatusListInvalid(StatusUnavailable):
    reason = "status_list_invalid"


class StatusStale(StatusUnavailable):
    """The synced status data is older than the policy allows (or past its ``exp``)."""

    reason = "status_stale"

    def __init__(self, detail: str = "", *, as_of: datetime | None = None) -> None:
        super().__init__(detail)
        #: When the issuer vouched for the status data the verifier holds.
        self.as_of = as_of


class StatusIndexOutOfRange(StatusUnavailable):
    """The credential's status index lies beyond the status list this verifier holds.

    A signed list and a signed credential that disagree: the list is older or other than the
    one the credential was issued against, so its status cannot be read from it.
    """

    reason = "status_index_out_of_range"


class UnsupportedFormatVersion(CannotVerify):
    """A plainclaim credential of a later format (``PC2:`` ...) than this verifier knows."""

    reason = "unsupported_format_version"


class HolderProofRequired(CannotVerify):
    """The credential names a holder key (``cnf``); format 1 verifiers cannot check it yet."""

    reason = "holder_proof_required"


# Not about a credential at all


class UsageError(PlainclaimError):
    """Bad arguments or configuration (a missing trust directory, an unreadable key)."""

    reason = "usage_error"
    exit_code: ClassVar[int] = 64


class SyncFailed(UsageError):
    """A sync source could not be read (unreachable, missing files, too large)."""

    reason = "sync_failed"
    exit_code = 69  # EX_UNAVAILABLE


class ConfigurationError(UsageError):
    reason = "configuration_error"
    exit_code = 78  # EX_CONFIG
