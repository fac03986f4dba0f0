"""plainclaim verifier: check a minimal benefit credential offline.

The public surface, re-exported explicitly::

    from verifier import verify, load_trust_list, Status
    result = verify(qr_text_or_image, load_trust_list(Path("trust")))
    if result.status is Status.VALID: ...
"""

from verifier.claims import CredentialClaims, StatusRef
from verifier.errors import PlainclaimError, Status
from verifier.qrtext import PREFIX, decode_qr_text, encode_qr_text
from verifier.result import Benefit, IssuerInfo, VerificationResult, VerifiedCredential
from verifier.trust import AnchorKey, TrustedIssuer, TrustedKey, TrustList
from verifier.trust_dir import load_trust_list
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
    "TrustList",
    "TrustedIssuer",
    "TrustedKey",
    "VerificationResult",
    "VerifiedCredential",
    "VerifyPolicy",
    "decode_qr_text",
    "encode_qr_text",
    "load_trust_list",
    "verify",
    "verify_or_raise",
]
