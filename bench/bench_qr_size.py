"""QR size of one claim in three formats: plainclaim format 1, a SMART Health Card, an EU DCC.

The claim: issuer ``mosa`` vouches for benefit ``heating-2027`` from 2027-01-01 to 2028-01-01,
with a 96-bit credential id and a status-list reference. Each format signs it with ES256 under
a fresh P-256 key and is put in a QR code the way its specification says:

1. plainclaim format 1: compact JWS, ``PC1:`` (alphanumeric) + two digits a character (numeric).
2. SMART Health Card: JWS whose payload is raw-DEFLATEd JSON (``zip: DEF``) with the verifiable
   credential wrapper (``vc.type``, ``credentialSubject.fhirVersion``, a FHIR Bundle) and a
   ``rid`` for revocation; ``kid`` is the key's JWK thumbprint; ``shc:/`` (byte mode) + digits.
   FHIR Coverage wants a beneficiary, i.e. a Patient with name and birth date; plainclaim has
   no personal data by design, so it is left out and this SHC figure is a lower bound.
3. EU DCC style: COSE_Sign1 (kid in the protected header) over a CWT claim map, zlib, base45,
   ``HC1:``, all in alphanumeric mode.

Needs ``cbor2`` (bench only).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import cbor2
import jwt
import qrcode
import qrcode.util
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from issuer.render import ErrorCorrection, qr_matrix
from verifier.qrtext import encode_qr_text

ISSUER = "mosa"
BENEFIT = "heating-2027"
NOT_BEFORE = 1798761600  # 2027-01-01
EXPIRES = 1830297600  # 2028-01-01
STATUS_REF = [0, 123456]
LEVELS = (ErrorCorrection.M, ErrorCorrection.Q, ErrorCorrection.H)
QRCODE_LEVEL = {
    ErrorCorrection.M: qrcode.constants.ERROR_CORRECT_M,
    ErrorCorrection.Q: qrcode.constants.ERROR_CORRECT_Q,
    ErrorCorrection.H: qrcode.constants.ERROR_CORRECT_H,
}
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


@dataclass(frozen=True)
class Encoded:
    name: str
    claims_bytes: int  # the claims as serialised, before compression or signing
    signed_bytes: int  # what the QR carries, before the text encoding (JWS chars, COSE bytes)
    qr_text: str
    versions: dict[ErrorCorrection, int]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def compact_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def raw_signature(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def qrcode_version(segments: list[qrcode.util.QRData], ecc: ErrorCorrection) -> int:
    code = qrcode.QRCode(error_correction=QRCODE_LEVEL[ecc])
    for segment in segments:
        code.add_data(segment)
    return int(code.best_fit())


def plainclaim(key: ec.EllipticCurvePrivateKey, credential_id: bytes) -> Encoded:
    claims = compact_json(
        {
            "iss": ISSUER,
            "ben": BENEFIT,
            "nbf": NOT_BEFORE,
            "exp": EXPIRES,
            "jti": b64url(credential_id),
            "st": STATUS_REF,
        }
    )
    jws = jwt.api_jws.PyJWS().encode(
        claims, key, algorithm="ES256", headers={"kid": "mosa-1", "typ": "pc1"}
    )
    text = encode_qr_text(jws)
    versions = {ecc: qr_matrix(text, ecc).version for ecc in LEVELS}
    return Encoded("plainclaim format 1", len(claims), len(jws), text, versions)


def jwk_thumbprint(key: ec.EllipticCurvePrivateKey) -> str:
    """RFC 7638 thumbprint of the public key, the ``kid`` SMART Health Cards require."""
    numbers = key.public_key().public_numbers()
    members = {
        "crv": "P-256",
        "kty": "EC",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }
    return b64url(hashlib.sha256(compact_json(members)).digest())


def smart_health_card(key: ec.EllipticCurvePrivateKey, credential_id: bytes) -> Encoded:
    coverage = {
        "resourceType": "Coverage",
        "status": "active",
        "class": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                            "code": "plan",
                        }
                    ]
                },
                "value": BENEFIT,
            }
        ],
        "payor": [{"display": ISSUER}],
    }
    claims = compact_json(
        {
            "iss": "https://benefits.example.gov/mosa",
            "nbf": NOT_BEFORE,
            "exp": EXPIRES,
            "vc": {
                "type": ["https://smarthealth.cards#health-card"],
                "credentialSubject": {
                    "fhirVersion": "4.0.1",
                    "fhirBundle": {
                        "resourceType": "Bundle",
                        "type": "collection",
                        "entry": [{"fullUrl": "resource:0", "resource": coverage}],
                    },
                },
                "rid": b64url(credential_id),
            },
        }
    )
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw DEFLATE, no zlib header
    deflated = deflater.compress(claims) + deflater.flush()
    header = b64url(compact_json({"alg": "ES256", "kid": jwk_thumbprint(key), "zip": "DEF"}))
    signing_input = f"{header}.{b64url(deflated)}"
    jws = f"{signing_input}.{b64url(raw_signature(key, signing_input.encode()))}"
    digits = encode_qr_text(jws).removeprefix("PC1:")
    segments = [
        qrcode.util.QRData(b"shc:/", mode=qrcode.util.MODE_8BIT_BYTE),
        qrcode.util.QRData(digits, mode=qrcode.util.MODE_NUMBER),
    ]
    versions = {ecc: qrcode_version(segments, ecc) for ecc in LEVELS}
    return Encoded("SMART Health Card", len(claims), len(jws), "shc:/" + digits, versions)


def base45(data: bytes) -> str:
    """RFC 9285: two bytes as three characters, a final odd byte as two, least significant first."""
    out = []
    for i in range(0, len(data) - 1, 2):
        low, value = divmod(data[i] * 256 + data[i + 1], 45)
        middle, high = divmod(low, 45)
        out += [BASE45[value], BASE45[high], BASE45[middle]]
    if len(data) % 2:
        high, low = divmod(data[-1], 45)
        out += [BASE45[low], BASE45[high]]
    return "".join(out)


def eu_dcc(key: ec.EllipticCurvePrivateKey, credential_id: bytes) -> Encoded:
    public = key.public_key().public_numbers()
    kid = hashlib.sha256(public.x.to_bytes(32, "big")).digest()[:8]  # DCC: 8-byte key id
    claims = cbor2.dumps(
        {
            1: ISSUER,  # iss
            4: EXPIRES,  # exp
            5: NOT_BEFORE,  # nbf
            7: credential_id,  # cti
            -260: {1: {"ben": BENEFIT, "st": STATUS_REF}},  # hcert
        }
    )
    protected = cbor2.dumps({1: -7, 4: kid})  # alg ES256, kid
    to_sign = cbor2.dumps(["Signature1", protected, b"", claims])
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, claims, raw_signature(key, to_sign)]))
    text = "HC1:" + base45(zlib.compress(cose, 9))
    segments = [qrcode.util.QRData(text, mode=qrcode.util.MODE_ALPHA_NUM)]
    versions = {ecc: qrcode_version(segments, ecc) for ecc in LEVELS}
    return Encoded("EU DCC style", len(claims), len(cose), text, versions)


def main() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    credential_id = secrets.token_bytes(12)  # 96 bits
    encodings = [
        plainclaim(key, credential_id),
        smart_health_card(key, credential_id),
        eu_dcc(key, credential_id),
    ]
    assert base45(b"AB") == "BB8" and base45(b"Hello!!") == "%69 VD92EX0"  # RFC 9285 examples

    print("Same claim, three formats. claims = serialised claims; signed = JWS chars or COSE")
    print("bytes; text = QR text characters; QR = version / modules per side (total modules).\n")
    header = f"{'format':<22}{'claims':>7}{'signed':>7}{'text':>6}"
    header += "".join(f"  {'QR at ' + ecc.value:<19}" for ecc in LEVELS)
    print(header.rstrip())
    for item in encodings:
        row = f"{item.name:<22}{item.claims_bytes:>7}{item.signed_bytes:>7}{len(item.qr_text):>6}"
        for ecc in LEVELS:
            version = item.versions[ecc]
            side = 4 * version + 17
            row += f"  {f'v{version} {side}x{side} ({side * side})':<19}"
        print(row.rstrip())


if __name__ == "__main__":
    main()
