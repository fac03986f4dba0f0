"""plainclaim verifier: check a minimal benefit credential offline.

The public surface, re-exported explicitly::

    from verifier import Status, load_trust_store, verify
    store = load_trust_store(Path("trust"))
    result = verify(qr_text_or_image, store.trust_list, status=store.status)
    if result.status is Status.VALID: ...
"""

from verifier.claims import CredentialClaims, StatusRef
from verifier.errors import PlainclaimError, Status
from verifier.qrtext import PREFIX, decode_qr_text, encode_qr_text
from verifier.result import VerificationResult, VerifiedCredential
from verifier.status_store import StatusStore
from verifier.trust import AnchorKey, Benefit, IssuerInfo, TrustedIssuer, TrustedKey, TrustList
from verifier.trust_dir import TrustStore, load_trust_list, load_trust_store
from verifier.verify import DEFAULT_POLICY, CredentialSource, VerifyPolicy, verify, verify_or_raise

__all__ = [
    "DEFAULT_POLICY",
    "PREFIX",
    "AnchorKey",
    "Benefit",
    "CredentialClaims",
    "CredentialSource",
    "IssuerInfo",
    "PlainclaimError",
    "Status",
    "StatusRef",
    "StatusStore",
    "TrustList",
    "TrustStore",
    "TrustedIssuer",
    "TrustedKey",
    "VerificationResult",
    "VerifiedCredential",
    "VerifyPolicy",
    "decode_qr_text",
    "encode_qr_text",
    "load_trust_list",
    "load_trust_store",
    "verify",
    "verify_or_raise",
]
