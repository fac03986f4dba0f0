"""Rebuild the plainclaim test vectors: demo keys, trust lists, case files and images.

Run from the project root::

    .venv/bin/python tests/vectors/generate.py

TEST ONLY. Missing demo keys are created; existing ones are kept, so the vectors stay stable.
Genuine tokens are built the issuer's way (``CredentialClaims`` and ``sign_compact``); ECDSA
signing is randomised, so a genuine token already on disk with the same signing input and a
valid signature is kept instead of a fresh one. Hostile tokens are crafted byte by byte and
signed with RFC 6979 deterministic signatures, so that only the defect under test is present.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import struct
import sys
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import qrcode  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from tests.vectorlib import (  # noqa: E402
    ANCHOR_KID,
    CASES_DIR,
    DROP,
    EXP,
    IMAGES_DIR,
    KEY_NAMES,
    KEYS_DIR,
    NBF,
    NOW_ISO,
    SKEW_SECONDS,
    TRUST_DIR,
    VALID_TRUST_LIST,
    b64u,
    claims,
    craft,
    credential_id,
    credential_token,
    es256_der,
    es256_raw,
    header,
    json_bytes,
    private_key,
    public_key,
    to_qr,
    ts,
)
from verifier.errors import PlainclaimError  # noqa: E402
from verifier.jws import STATUS_LIST_TYP, TRUST_LIST_TYP, sign_compact  # noqa: E402
from verifier.keys import public_key_to_jwk  # noqa: E402
from verifier.qrtext import MAX_TEXT_CHARS, decode_qr_text  # noqa: E402
from verifier.status_list import StatusListBuilder, StatusValue, status_list_claims  # noqa: E402
from verifier.status_store import status_list_path  # noqa: E402
from verifier.trust import AnchorKey, TrustedIssuer, TrustedKey, TrustList  # noqa: E402

TRUST_LIST_EXP = ts("2028-12-31T00:00:00Z")
KEY_WINDOWS = {
    "mosa-0": (ts("2024-01-01T00:00:00Z"), ts("2026-12-31T23:59:59Z")),  # retired
    "mosa-1": (ts("2026-06-01T00:00:00Z"), ts("2029-12-31T00:00:00Z")),
    "mosa-2": (ts("2028-01-01T00:00:00Z"), ts("2030-12-31T00:00:00Z")),  # not valid yet
    "city-1": (ts("2026-01-01T00:00:00Z"), ts("2029-12-31T00:00:00Z")),
}


#: Status lists by era: a VALID case points its credential (``st``) at the list that is fresh at
#: the case's ``now`` (a list is fresh for 7 days after its iat).
STATUS_LIST_ISSUED = {
    1: "2027-03-14T00:00:00Z",  # the default now, 2027-03-15
    2: "2026-12-30T00:00:00Z",  # around the default credential's nbf
    3: "2027-12-30T00:00:00Z",  # around its exp
    4: "2028-12-29T00:00:00Z",  # around the trust list's exp
}
REVOKED_INDEX = 7
SUSPENDED_INDEX = 8
UNDEFINED_INDEX = 9  # status 3: application-specific in the draft, undefined in format 1
UNSYNCED_LIST = 99
BAD_SIGNATURE_LIST = 5
SHORT_LIST = 6  # 16 entries: index 42 lies beyond it


def iso(timestamp: int) -> str:
    """ISO 8601 UTC with ``Z`` for a vector's ``now``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ensure_keys() -> None:
    KEYS_DIR.mkdir(parents=True, exist_ok=True)
    for name in KEY_NAMES:
        path = KEYS_DIR / f"{name}.pem"
        if path.exists():
            continue
        key = ec.generate_private_key(ec.SECP256R1())
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


# keeping genuine (randomised) signatures stable across rebuilds

_PREVIOUS: dict[str, str] = {}


def _remember_previous_tokens() -> None:
    texts = [path.read_text().strip() for path in TRUST_DIR.glob("*.jwt")]
    for path in CASES_DIR.glob("*.json"):
        text = json.loads(path.read_text()).get("input")
        if isinstance(text, str):
            try:
                texts.append(decode_qr_text(text))
            except PlainclaimError:  # hostile inputs do not decode
                continue
    texts += [path.read_text().strip() for path in TRUST_DIR.glob("status/*/*.jwt")]
    for token in texts:
        if token.count(".") == 2:
            _PREVIOUS.setdefault(token.rsplit(".", 1)[0], token)


def _signature_ok(token: str, key: ec.EllipticCurvePublicKey) -> bool:
    signing_input, signature_b64 = token.rsplit(".", 1)
    raw = base64.urlsafe_b64decode(signature_b64 + "=" * (-len(signature_b64) % 4))
    if len(raw) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def stable(token: str, signer: str) -> str:
    """``token``, or the token already on disk with the same signing input and a good signature."""
    signing_input = token.rsplit(".", 1)[0]
    previous = _PREVIOUS.get(signing_input)
    if previous is not None and _signature_ok(previous, public_key(signer)):
        return previous
    _PREVIOUS[signing_input] = token
    return token


def genuine(name: str, **kwargs: object) -> str:
    """A genuine credential token for case ``name`` (its jti derives from the name)."""
    kwargs.setdefault("jti", credential_id(name))
    kid = str(kwargs.get("kid", "mosa-1"))
    return stable(credential_token(**kwargs), kid)  # type: ignore[arg-type]


# trust lists


def _trusted_key(kid: str, issuer_id: str) -> TrustedKey:
    not_before, not_after = KEY_WINDOWS[kid]
    return TrustedKey(kid, issuer_id, "ES256", public_key(kid), not_before, not_after)


def demo_trust_list(*, sequence: int = 7, issued_at: str, expires_at: int) -> TrustList:
    mosa = TrustedIssuer(
        issuer_id="mosa",
        name="Ministry of Social Affairs (DEMO)",
        keys={kid: _trusted_key(kid, "mosa") for kid in ("mosa-0", "mosa-1", "mosa-2")},
        benefits={
            "heating-2027": "Heating support 2027",
            "child-allowance": "Child allowance",
        },
        status_uri="https://status.example.org/mosa/{list}.jwt",
    )
    city = TrustedIssuer(
        issuer_id="city",
        name="City Social Office (DEMO)",
        keys={"city-1": _trusted_key("city-1", "city")},
        benefits={"transport-discount": "Public transport discount"},
        status_uri="https://city.example.org/status/{list}",
    )
    return TrustList.build(
        authority="demo-trust-authority",
        sequence=sequence,
        issued_at=ts(issued_at),
        expires_at=expires_at,
        issuers=[mosa, city],
    )


def write_trust() -> None:
    TRUST_DIR.mkdir(parents=True, exist_ok=True)
    anchor = AnchorKey(ANCHOR_KID, public_key("anchor"))
    (TRUST_DIR / "anchor.jwk").write_text(json.dumps(anchor.to_jwk(), indent=2) + "\n")

    def signed(trust_list: TrustList) -> str:
        token = sign_compact(
            trust_list.to_payload(), private_key("anchor"), ANCHOR_KID, TRUST_LIST_TYP
        )
        return stable(token, "anchor")

    valid = demo_trust_list(issued_at="2027-01-01T00:00:00Z", expires_at=TRUST_LIST_EXP)
    lists = {
        VALID_TRUST_LIST: signed(valid),
        "trustlist-expired.jwt": signed(
            demo_trust_list(
                sequence=5,
                issued_at="2026-01-01T00:00:00Z",
                expires_at=ts("2027-03-01T00:00:00Z"),
            )
        ),
        "trustlist-seq6.jwt": signed(
            demo_trust_list(sequence=6, issued_at="2026-09-01T00:00:00Z", expires_at=TRUST_LIST_EXP)
        ),
        # The anchor's kid, but the rogue key's signature.
        "trustlist-bad-signature.jwt": craft(
            {"alg": "ES256", "kid": ANCHOR_KID, "typ": TRUST_LIST_TYP},
            valid.to_payload(),
            signer="rogue",
        ),
        # Signed by the anchor, but typed as a credential.
        "trustlist-malformed.jwt": craft(
            {"alg": "ES256", "kid": ANCHOR_KID, "typ": "pc1"}, valid.to_payload(), signer="anchor"
        ),
    }
    for name, token in lists.items():
        (TRUST_DIR / name).write_text(token + "\n")


def status_list_token(
    issuer: TrustedIssuer, list_id: int, issued: str, *, size: int = 1024, signer: str
) -> str:
    builder = StatusListBuilder(size)
    if size > SUSPENDED_INDEX:
        builder.set(REVOKED_INDEX, StatusValue.INVALID)
        builder.set(SUSPENDED_INDEX, StatusValue.SUSPENDED)
        builder.set(UNDEFINED_INDEX, StatusValue.APPLICATION_SPECIFIC)
    uri = issuer.status_list_uri(list_id)
    assert uri is not None
    payload = status_list_claims(
        builder,
        subject_uri=uri,
        issued_at=datetime.fromtimestamp(ts(issued), UTC),
        expires_at=datetime.fromtimestamp(ts(issued), UTC) + timedelta(days=31),
        ttl=timedelta(days=1),
        fast=True,
    )
    return stable(sign_compact(payload, private_key(signer), signer, STATUS_LIST_TYP), signer)


def write_status_lists() -> None:
    """Status lists in the trust directory layout: ``trust/status/ISSUER/N.jwt``."""
    trust = demo_trust_list(issued_at="2027-01-01T00:00:00Z", expires_at=TRUST_LIST_EXP)
    mosa, city = trust.issuers["mosa"], trust.issuers["city"]
    lists = {
        ("mosa", list_id): status_list_token(mosa, list_id, issued, signer="mosa-1")
        for list_id, issued in STATUS_LIST_ISSUED.items()
    }
    lists[("city", 1)] = status_list_token(city, 1, STATUS_LIST_ISSUED[1], signer="city-1")
    lists[("mosa", SHORT_LIST)] = status_list_token(
        mosa, SHORT_LIST, STATUS_LIST_ISSUED[1], size=16, signer="mosa-1"
    )
    genuine_list = status_list_token(
        mosa, BAD_SIGNATURE_LIST, STATUS_LIST_ISSUED[1], signer="mosa-1"
    )
    signing_input = genuine_list.rsplit(".", 1)[0]
    forged = es256_raw("rogue", signing_input.encode("ascii"))
    lists[("mosa", BAD_SIGNATURE_LIST)] = f"{signing_input}.{b64u(forged)}"
    for (issuer_id, list_id), token in lists.items():
        path = status_list_path(TRUST_DIR, issuer_id, list_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(token + "\n")


# cases


@dataclass
class Case:
    name: str
    description: str
    reason: str
    status: str = "INVALID"
    input: str | None = None
    input_file: str | None = None
    trust_list: str = VALID_TRUST_LIST
    min_sequence: int = 0
    now: str = NOW_ISO
    credential: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"description": self.description}
        if self.input_file is not None:
            out["input_file"] = self.input_file
        else:
            out["input"] = self.input
        out["trust_list"] = self.trust_list
        out["min_sequence"] = self.min_sequence
        out["now"] = self.now
        out["expected"] = {"status": self.status, "reason": self.reason, **self.credential}
        return out


def valid_case(
    name: str, description: str, text: str, *, benefit: str, issuer: str, jti: str, **kw: object
) -> Case:
    return Case(
        name,
        description,
        "valid",
        "VALID",
        input=text,
        credential={"credential_id": jti, "benefit": benefit, "issuer": issuer},
        **kw,  # type: ignore[arg-type]
    )


def bad(name: str, description: str, reason: str, token: str, **kw: object) -> Case:
    """A refused case whose input is the QR text of ``token``."""
    return bad_text(name, description, reason, to_qr(token), **kw)


def bad_text(name: str, description: str, reason: str, text: str, **kw: object) -> Case:
    """A refused case whose input is the QR text ``text`` as given."""
    return Case(name, description, reason, input=text, **kw)  # type: ignore[arg-type]


def flip_last_signature_bit(token: str) -> str:
    signing_input, signature_b64 = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(signature_b64 + "=="))
    raw[-1] ^= 0x01
    return f"{signing_input}.{b64u(bytes(raw))}"


def base45(data: bytes) -> str:
    """RFC 9285 Base45, for a look-alike EU DCC text."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += [alphabet[c], alphabet[d], alphabet[e]]
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += [alphabet[c], alphabet[d]]
    return "".join(out)


def valid_cases() -> list[Case]:
    heating = genuine("valid-mosa-heating")
    heating_jti = credential_id("valid-mosa-heating")
    mosa_heating = {"benefit": "heating-2027", "issuer": "mosa", "jti": heating_jti}
    cases = [
        valid_case(
            "valid-mosa-heating",
            "A genuine credential: mosa vouches for heating-2027.",
            to_qr(heating),
            **mosa_heating,
        ),
        valid_case(
            "valid-mosa-child-allowance",
            "A genuine credential for mosa's second benefit.",
            to_qr(genuine("valid-mosa-child-allowance", benefit="child-allowance")),
            benefit="child-allowance",
            issuer="mosa",
            jti=credential_id("valid-mosa-child-allowance"),
        ),
        valid_case(
            "valid-city-transport-discount",
            "A genuine credential of the second issuer, signed with city-1.",
            to_qr(
                genuine(
                    "valid-city-transport-discount",
                    issuer="city",
                    benefit="transport-discount",
                    kid="city-1",
                )
            ),
            benefit="transport-discount",
            issuer="city",
            jti=credential_id("valid-city-transport-discount"),
        ),
        valid_case(
            "valid-prefix-lower-case",
            "A scanner in lower-case mode types 'pc1:': the prefix compares without case.",
            to_qr(heating, prefix="pc1:"),
            **mosa_heating,
        ),
        valid_case(
            "valid-prefix-mixed-case",
            "Prefix 'Pc1:' is accepted too.",
            to_qr(heating, prefix="Pc1:"),
            **mosa_heating,
        ),
        valid_case(
            "valid-wedge-trailer-enter",
            "A keyboard-wedge scanner ends the scan with CR LF.",
            to_qr(heating) + "\r\n",
            **mosa_heating,
        ),
        valid_case(
            "valid-wedge-trailer-tab",
            "A keyboard-wedge scanner ends the scan with Tab.",
            to_qr(heating) + "\t",
            **mosa_heating,
        ),
        valid_case(
            "valid-typ-upper-case",
            "typ 'PC1': media type names compare without case (RFC 7515 4.1.9).",
            to_qr(craft(header(typ="PC1"), claims(jti=credential_id("valid-typ-upper-case")))),
            benefit="heating-2027",
            issuer="mosa",
            jti=credential_id("valid-typ-upper-case"),
        ),
        valid_case(
            "valid-clock-skew-nbf-edge",
            "Exactly nbf - 5 min: inside the clock-skew leeway.",
            to_qr(genuine("valid-clock-skew-nbf-edge", status=(2, 42))),
            now=iso(NBF - SKEW_SECONDS),
            benefit="heating-2027",
            issuer="mosa",
            jti=credential_id("valid-clock-skew-nbf-edge"),
        ),
        valid_case(
            "valid-clock-skew-exp-edge",
            "exp + 5 min - 1 s: the last second inside the clock-skew leeway.",
            to_qr(genuine("valid-clock-skew-exp-edge", status=(3, 42))),
            now=iso(EXP + SKEW_SECONDS - 1),
            benefit="heating-2027",
            issuer="mosa",
            jti=credential_id("valid-clock-skew-exp-edge"),
        ),
        valid_case(
            "valid-min-sequence-equal",
            "The rollback guard has seen this very trust list (same sequence): accepted.",
            to_qr(heating),
            min_sequence=7,
            **mosa_heating,
        ),
    ]
    _, mosa0_exp = KEY_WINDOWS["mosa-0"]
    cases.append(
        valid_case(
            "valid-key-last-second",
            "Signed with mosa-0 at the last second of its window (not-after is inclusive).",
            to_qr(
                genuine(
                    "valid-key-last-second",
                    kid="mosa-0",
                    not_before=ts("2026-06-01T00:00:00Z"),
                    expires=ts("2027-06-01T00:00:00Z"),
                    status=(2, 42),
                )
            ),
            benefit="heating-2027",
            issuer="mosa",
            jti=credential_id("valid-key-last-second"),
            now=iso(mosa0_exp),
        )
    )
    mosa2_nbf, _ = KEY_WINDOWS["mosa-2"]
    cases.append(
        valid_case(
            "valid-key-first-second",
            "Signed with mosa-2 at the first second of its window (not-before is inclusive).",
            to_qr(
                genuine(
                    "valid-key-first-second",
                    kid="mosa-2",
                    not_before=mosa2_nbf,
                    expires=ts("2029-01-01T00:00:00Z"),
                    status=(3, 42),
                )
            ),
            benefit="heating-2027",
            issuer="mosa",
            jti=credential_id("valid-key-first-second"),
            now=iso(mosa2_nbf),
        )
    )
    late = genuine(
        "valid-trust-list-expiry-edge",
        not_before=ts("2028-06-01T00:00:00Z"),
        expires=ts("2029-06-01T00:00:00Z"),
        status=(4, 42),
    )
    cases += [
        valid_case(
            "valid-trust-list-expiry-edge",
            "The trust list's exp + 5 min: still inside the clock-skew leeway.",
            to_qr(late),
            benefit="heating-2027",
            issuer="mosa",
            jti=credential_id("valid-trust-list-expiry-edge"),
            now=iso(TRUST_LIST_EXP + SKEW_SECONDS),
        ),
        bad(
            "trust-list-expired-edge",
            "The trust list's exp + 5 min + 1 s: the list is out of date.",
            "trust_list_expired",
            late,
            status="INDETERMINATE",
            now=iso(TRUST_LIST_EXP + SKEW_SECONDS + 1),
        ),
    ]
    return cases


def input_cases() -> list[Case]:
    text = to_qr(genuine("valid-mosa-heating"))
    digits = text[4:]
    fake_shc = "eyJ6aXAiOiJERUYiLCJhbGciOiJFUzI1NiIsImtpZCI6ImRlbW8ifQ.AAAA.BBBB"
    fake_dcc = base45(zlib.compress(b"\xd2\x84C\xa1\x01&\xa0Y demo COSE_Sign1, not a real DCC"))
    return [
        bad_text(
            "input-too-large",
            f"{MAX_TEXT_CHARS + 1} characters: refused before any parsing.",
            "input_too_large",
            "PC1:" + "0" * (MAX_TEXT_CHARS - 3),
        ),
        bad_text(
            "input-charset-nul",
            "A NUL byte inside the digits.",
            "input_charset",
            text[:20] + "\x00" + text[20:],
        ),
        bad_text(
            "input-charset-fullwidth-digits",
            "Full-width digits (str.isdigit() accepts them; the charset check must not).",
            "input_charset",
            "PC1:" + "".join(chr(0xFF10 + int(d)) for d in digits[:40]),
        ),
        bad_text(
            "input-charset-line-break-inside",
            "A line break in the middle: only trailing CR/LF/Tab are wedge trailers.",
            "input_charset",
            text[:30] + "\n" + text[30:],
        ),
        bad_text(
            "unknown-prefix",
            "A plainclaim body under another prefix.",
            "unknown_prefix",
            "PX1:" + digits,
        ),
        bad_text(
            "unsupported-format-version",
            "A later plainclaim format (PC2:) than this verifier knows: it cannot tell.",
            "unsupported_format_version",
            "PC2:" + digits,
            status="INDETERMINATE",
        ),
        bad_text("unknown-prefix-url", "A URL QR code.", "unknown_prefix", "https://example.org/"),
        bad_text(
            "foreign-smart-health-card",
            "A SMART Health Card QR text (shc:/ and digits).",
            "foreign_smart_health_card",
            to_qr(fake_shc, prefix="shc:/"),
        ),
        bad_text(
            "foreign-eu-dcc",
            "An EU DCC QR text (HC1: and Base45); made-up content.",
            "foreign_eu_dcc",
            "HC1:" + fake_dcc,
        ),
        bad_text("odd-digit-count", "The last digit is missing.", "odd_digit_count", text[:-1]),
        bad_text(
            "digit-pair-out-of-range",
            "A digit pair 78: above 'z', no JWS character.",
            "digit_pair_out_of_range",
            "PC1:78" + digits[2:],
        ),
        bad_text(
            "digit-pair-99",
            "A digit pair 99.",
            "digit_pair_out_of_range",
            text[:-2] + "99",
        ),
        bad_text(
            "non-digit", "A letter among the digits.", "non_digit", text[:40] + "a" + text[41:]
        ),
        bad_text(
            "non-digit-space", "A space among the digits.", "non_digit", text[:40] + " " + text[41:]
        ),
    ]


def token_cases() -> list[Case]:
    good = genuine("valid-mosa-heating")
    h, p, s = good.split(".")
    trust_token = (TRUST_DIR / VALID_TRUST_LIST).read_text().strip()
    der = es256_der("mosa-1", f"{h}.{p}".encode())
    base = json_bytes(claims())
    hs256_key = public_key("mosa-1").public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs256_input = f"{b64u(json_bytes(header(alg='HS256')))}.{p}"
    hs256 = f"{hs256_input}.{b64u(hmac.digest(hs256_key, hs256_input.encode(), 'sha256'))}"
    nbf_nan = base.replace(str(NBF).encode(), b"NaN")
    s_last = s[-1]
    s_sibling = chr(ord(s_last) + 1)
    return [
        bad("malformed-two-segments", "Only header and payload.", "malformed_token", f"{h}.{p}"),
        bad("malformed-four-segments", "A fourth segment.", "malformed_token", f"{good}.{s}"),
        bad(
            "base64-padding-header", "'=' padding on the header.", "base64_invalid", f"{h}=.{p}.{s}"
        ),
        bad(
            "base64-padding-payload",
            "'=' padding on the payload.",
            "base64_invalid",
            f"{h}.{p}=.{s}",
        ),
        bad(
            "base64-padding-signature",
            "'=' padding on the signature.",
            "base64_invalid",
            f"{good}==",
        ),
        bad(
            "base64-non-canonical-signature",
            "Same signature bytes, but non-zero unused bits in the last character.",
            "base64_invalid",
            f"{h}.{p}.{s[:-1]}{s_sibling}",
        ),
        bad(
            "base64-invalid-character",
            "A '/' (standard base64, not base64url) in the payload.",
            "base64_invalid",
            f"{h}.{p[:10]}/{p[11:]}.{s}",
        ),
        bad("signature-missing", "An empty signature segment.", "base64_invalid", f"{h}.{p}."),
        bad(
            "json-invalid-header",
            "Header bytes are cut-off JSON.",
            "json_invalid",
            craft(b'{"alg":"ES256","kid":"mosa-1",', claims()),
        ),
        bad(
            "json-payload-not-object",
            "The payload is a JSON array.",
            "json_invalid",
            craft(header(), b'["mosa","heating-2027"]'),
        ),
        bad("json-nan", "NaN as nbf (not JSON).", "json_invalid", craft(header(), nbf_nan)),
        bad(
            "json-utf16",
            "The payload JSON in UTF-16: format 1 is UTF-8 only.",
            "json_invalid",
            craft(header(), base.decode().encode("utf-16")),
        ),
        bad(
            "json-non-utf8",
            "A byte 0xFF inside a JSON string.",
            "json_invalid",
            craft(header(), base.replace(b"mosa", b"mos\xff")),
        ),
        bad(
            "json-nesting-bomb",
            "An unclosed 1200-deep array nest in the payload.",
            "json_invalid",
            craft(header(), b'{"iss":"mosa","x":' + b"[" * 1200),
        ),
        bad(
            "duplicate-json-key-header-alg",
            "alg twice: 'none' then 'ES256' (a last-wins parser would accept it).",
            "duplicate_json_key",
            craft(b'{"alg":"none","alg":"ES256","kid":"mosa-1","typ":"pc1"}', claims()),
        ),
        bad(
            "duplicate-json-key-payload-iss",
            "iss twice: 'city' then 'mosa', signed by mosa-1 (a last-wins parser would accept it).",
            "duplicate_json_key",
            craft(header(), b'{"iss":"city",' + base[1:]),
        ),
        bad(
            "forbidden-header-jwk",
            "An embedded jwk header (key injection), otherwise genuine.",
            "forbidden_header",
            craft(header(jwk=public_key_to_jwk(public_key("rogue"))), claims()),
        ),
        bad(
            "forbidden-header-crit",
            "A crit header, otherwise genuine.",
            "forbidden_header",
            craft(header(crit=["exp"]), claims()),
        ),
        bad(
            "forbidden-header-jku",
            "A jku header (key URL), otherwise genuine.",
            "forbidden_header",
            craft(header(jku="https://evil.example/keys.json"), claims()),
        ),
        bad("wrong-type-jwt", "typ 'JWT'.", "wrong_type", craft(header(typ="JWT"), claims())),
        bad("wrong-type-missing", "No typ.", "wrong_type", craft(header(typ=DROP), claims())),
        bad(
            "wrong-token-kind-trust-list",
            "The signed trust list presented as a credential.",
            "wrong_token_kind",
            trust_token,
        ),
        bad(
            "wrong-token-kind-status-list",
            "A credential payload typed as a status list.",
            "wrong_token_kind",
            craft(header(typ="statuslist+jwt"), claims()),
        ),
        bad(
            "alg-none-unsigned",
            "alg 'none' and an empty signature.",
            "alg_none",
            craft(header(alg="none"), claims(), signer=None),
        ),
        bad(
            "alg-none-signed",
            "alg 'NONE' with a genuine signature appended.",
            "alg_none",
            craft(header(alg="NONE"), claims()),
        ),
        bad(
            "alg-mismatch-hs256",
            "HS256 with the issuer's public key (PEM) as HMAC secret.",
            "alg_mismatch",
            hs256,
        ),
        bad(
            "alg-mismatch-es384",
            "alg ES384 over a genuine ES256 signature.",
            "alg_mismatch",
            craft(header(alg="ES384"), claims()),
        ),
        bad(
            "alg-missing",
            "No alg in the header.",
            "malformed_token",
            craft(header(alg=DROP), claims()),
        ),
        bad(
            "kid-missing", "No kid in the header.", "unknown_kid", craft(header(kid=DROP), claims())
        ),
        bad(
            "invalid-kid-path",
            "kid '../../etc/passwd'.",
            "invalid_kid",
            craft(header(kid="../../etc/passwd"), claims()),
        ),
        bad(
            "invalid-kid-sql",
            "kid with an SQL injection.",
            "invalid_kid",
            craft(header(kid="mosa-1' OR '1'='1"), claims()),
        ),
        bad(
            "unknown-issuer",
            "iss 'acme' is not on the trust list.",
            "unknown_issuer",
            craft(header(), claims(iss="acme")),
        ),
        bad(
            "unknown-kid",
            "kid 'mosa-9' is not on the trust list.",
            "unknown_kid",
            craft(header(kid="mosa-9"), claims()),
        ),
        bad(
            "kid-of-another-issuer",
            "city's key, with a valid city signature, claiming iss mosa.",
            "kid_of_another_issuer",
            craft(header(kid="city-1"), claims(), signer="city-1"),
        ),
        bad(
            "key-not-valid-retired",
            "Genuinely signed with mosa-0, whose window ended.",
            "key_not_valid",
            genuine("key-not-valid-retired", kid="mosa-0"),
        ),
        bad(
            "key-not-valid-future",
            "Genuinely signed with mosa-2, whose window has not begun.",
            "key_not_valid",
            genuine("key-not-valid-future", kid="mosa-2"),
        ),
        bad(
            "bad-signature-tampered-payload",
            "ben changed to child-allowance (which mosa may grant); original signature.",
            "bad_signature",
            f"{h}.{b64u(base.replace(b'heating-2027', b'child-allowance'))}.{s}",
        ),
        bad(
            "bad-signature-tampered-header",
            "typ rewritten 'pc1' -> 'PC1' (still acceptable); original signature.",
            "bad_signature",
            f"{b64u(json_bytes(header(typ='PC1')))}.{p}.{s}",
        ),
        bad(
            "bad-signature-bit-flip",
            "The last signature bit flipped.",
            "bad_signature",
            flip_last_signature_bit(good),
        ),
        bad(
            "bad-signature-rogue-key",
            "Signed by a key not on the trust list, under kid mosa-1.",
            "bad_signature",
            craft(header(), claims(), signer="rogue"),
        ),
        bad(
            "bad-signature-zero",
            "64 zero bytes as signature.",
            "bad_signature",
            craft(header(), claims(), signature=bytes(64)),
        ),
        bad(
            "signature-encoding-der",
            "A genuine signature of the right message, DER-encoded.",
            "signature_encoding",
            f"{h}.{p}.{b64u(der)}",
        ),
        bad(
            "signature-encoding-short",
            "A signature of 63 bytes.",
            "signature_encoding",
            craft(header(), claims(), signature=bytes(63)),
        ),
    ]


def claim_cases() -> list[Case]:
    def signed(**changes: object) -> str:
        return craft(header(), claims(**changes))

    cases = [
        bad(
            "unknown-claim-name",
            "A name claim: personal data format 1 never carries.",
            "unknown_claim",
            signed(name="A. Holder"),
        ),
        bad(
            "unknown-claim-iat",
            "iat is not in the closed claim set.",
            "unknown_claim",
            signed(iat=NBF),
        ),
        bad("unknown-claim-score", "A score claim.", "unknown_claim", signed(score=97)),
    ]
    for name in ("iss", "ben", "nbf", "exp", "jti", "st"):
        cases.append(
            bad(
                f"missing-claim-{name}",
                f"No {name} claim.",
                "missing_claim",
                signed(**{name: DROP}),
            )
        )
    cases += [
        bad("claim-type-string-timestamp", "nbf as a string.", "claim_type", signed(nbf=str(NBF))),
        bad("claim-type-float-timestamp", "exp as a float.", "claim_type", signed(exp=float(EXP))),
        bad("claim-type-bool-timestamp", "nbf true.", "claim_type", signed(nbf=True)),
        bad("claim-type-negative-timestamp", "nbf before 1970.", "claim_type", signed(nbf=-1)),
        bad("claim-type-iss-number", "iss a number.", "claim_type", signed(iss=7)),
        bad(
            "claim-type-ben-upper-case",
            "ben outside [a-z0-9-].",
            "claim_type",
            signed(ben="HEATING-2027"),
        ),
        bad(
            "claim-type-jti-short",
            "jti of 15 characters (< 96 bits).",
            "claim_type",
            signed(jti="A" * 15),
        ),
        bad(
            "claim-type-st-object",
            "st as an object.",
            "claim_type",
            signed(st={"list": 1, "index": 42}),
        ),
        bad("claim-type-st-bool", "st index true.", "claim_type", signed(st=[1, True])),
        bad("claim-type-cnf", "cnf not an object with jwk.", "claim_type", signed(cnf="key")),
        bad(
            "timestamp-milliseconds",
            "exp in milliseconds.",
            "timestamp_milliseconds",
            signed(exp=EXP * 1000),
        ),
        bad(
            "validity-window-invalid-equal",
            "exp equal to nbf.",
            "validity_window_invalid",
            signed(exp=NBF),
        ),
        bad(
            "validity-window-invalid-reversed",
            "exp before nbf.",
            "validity_window_invalid",
            signed(nbf=EXP, exp=NBF),
        ),
        bad(
            "benefit-not-allowed",
            "mosa vouching for city's transport-discount.",
            "benefit_not_allowed",
            genuine("benefit-not-allowed", benefit="transport-discount"),
        ),
        bad(
            "benefit-not-allowed-unknown",
            "A benefit no issuer may grant.",
            "benefit_not_allowed",
            genuine("benefit-not-allowed-unknown", benefit="free-money"),
        ),
        bad(
            "expired",
            "A month after exp.",
            "expired",
            genuine("valid-mosa-heating"),
            now="2028-02-01T00:00:00Z",
        ),
        bad(
            "expired-clock-skew-edge",
            "Exactly exp + 5 min: expired (the leeway's end is exclusive).",
            "expired",
            genuine("valid-mosa-heating"),
            now=iso(EXP + SKEW_SECONDS),
        ),
        bad(
            "not-yet-valid",
            "nbf in June, verified in March.",
            "not_yet_valid",
            genuine("not-yet-valid", not_before=ts("2027-06-01T00:00:00Z")),
        ),
        bad(
            "not-yet-valid-clock-skew-edge",
            "nbf - 5 min - 1 s: one second before the leeway.",
            "not_yet_valid",
            genuine("valid-mosa-heating"),
            now=iso(NBF - SKEW_SECONDS - 1),
        ),
        bad(
            "holder-proof-required",
            "A genuine credential bound to a holder key (cnf): format 1 cannot check it.",
            "holder_proof_required",
            genuine("holder-proof-required", holder_jwk=public_key_to_jwk(public_key("rogue"))),
            status="INDETERMINATE",
        ),
    ]
    return cases


def status_cases() -> list[Case]:
    return [
        bad(
            "revoked",
            "Entry 7 of mosa's status list 1 is 'invalid': the issuer withdrew it.",
            "revoked",
            genuine("revoked", status=(1, REVOKED_INDEX)),
        ),
        bad(
            "revoked-stale-list",
            "Revocation is final: believed even from a 16-day-old list.",
            "revoked",
            genuine("revoked", status=(1, REVOKED_INDEX)),
            now="2027-03-30T00:00:00Z",
        ),
        bad(
            "suspended",
            "Entry 8 of mosa's status list 1 is 'suspended'.",
            "suspended",
            genuine("suspended", status=(1, SUSPENDED_INDEX)),
        ),
        bad(
            "status-stale",
            "A genuine credential, but its status list is 16 days old (limit 7).",
            "status_stale",
            genuine("valid-mosa-heating"),
            status="INDETERMINATE",
            now="2027-03-30T00:00:00Z",
        ),
        bad(
            "status-list-missing",
            f"The credential points to status list {UNSYNCED_LIST}, never synced.",
            "status_list_missing",
            genuine("status-list-missing", status=(UNSYNCED_LIST, 42)),
            status="INDETERMINATE",
        ),
        bad(
            "status-value-undefined",
            "Entry 9 holds status 3, which format 1 does not define.",
            "status_list_invalid",
            genuine("status-value-undefined", status=(1, UNDEFINED_INDEX)),
            status="INDETERMINATE",
        ),
        bad(
            "status-index-out-of-range",
            f"Index 42 of status list {SHORT_LIST}, which holds 16 entries.",
            "status_index_out_of_range",
            genuine("status-index-out-of-range", status=(SHORT_LIST, 42)),
            status="INDETERMINATE",
        ),
        bad(
            "status-list-invalid",
            "The synced status list is signed by a key not on the trust list.",
            "status_list_invalid",
            genuine("status-list-invalid", status=(BAD_SIGNATURE_LIST, 42)),
            status="INDETERMINATE",
        ),
    ]


def trust_cases() -> list[Case]:
    text = to_qr(genuine("valid-mosa-heating"))
    return [
        bad_text(
            "trust-list-expired",
            "A genuine credential, but the trust list expired on 2027-03-01.",
            "trust_list_expired",
            text,
            status="INDETERMINATE",
            trust_list="trustlist-expired.jwt",
        ),
        bad_text(
            "trust-list-bad-signature",
            "A trust list under the anchor's kid, signed by another key.",
            "trust_list_bad_signature",
            text,
            status="INDETERMINATE",
            trust_list="trustlist-bad-signature.jwt",
        ),
        bad_text(
            "trust-list-rollback",
            "Trust list sequence 6 after sequence 7 was seen.",
            "trust_list_rollback",
            text,
            status="INDETERMINATE",
            trust_list="trustlist-seq6.jwt",
            min_sequence=7,
        ),
        bad_text(
            "trust-list-rollback-guard",
            "The current list (7) when the verifier has already seen 8.",
            "trust_list_rollback",
            text,
            status="INDETERMINATE",
            min_sequence=8,
        ),
        bad_text(
            "trust-list-malformed",
            "An anchor-signed trust list typed as a credential.",
            "trust_list_malformed",
            text,
            status="INDETERMINATE",
            trust_list="trustlist-malformed.jwt",
        ),
    ]


# images


def qr_image(text: str) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny PNG whose IHDR declares ``width`` x ``height``: decoding it would take 400 MB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    # A few rows of zeros; the decoder would need 400 MB before noticing the rest is missing.
    idat = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def image_cases() -> list[Case]:
    IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    heating = to_qr(genuine("valid-mosa-heating"))
    city = to_qr(
        genuine(
            "valid-city-transport-discount",
            issuer="city",
            benefit="transport-discount",
            kid="city-1",
        )
    )
    first, second = qr_image(heating), qr_image(city)
    pair = Image.new("L", (first.width + second.width + 40, max(first.height, second.height)), 255)
    pair.paste(first, (0, 0))
    pair.paste(second, (first.width + 40, 0))
    blank = Image.new("L", (400, 300), 255)
    draw = ImageDraw.Draw(blank)
    draw.rectangle((40, 40, 200, 120), fill=90)
    draw.ellipse((220, 120, 360, 260), fill=30)
    files = {
        "valid-credential.png": png_bytes(first),
        "two-credentials.png": png_bytes(pair),
        "no-qr.png": png_bytes(blank),
        "bomb-20000x20000.png": png_bomb(),
        "not-an-image.png": b"This is a text file with a .png name, not an image.\n",
    }
    for name, data in files.items():
        (IMAGES_DIR / name).write_bytes(data)
    return [
        Case(
            "image-valid-credential",
            "A photo (PNG) of a genuine credential's QR code.",
            "valid",
            "VALID",
            input_file="valid-credential.png",
            credential={
                "credential_id": credential_id("valid-mosa-heating"),
                "benefit": "heating-2027",
                "issuer": "mosa",
            },
        ),
        Case(
            "image-two-credentials",
            "Two different credentials in one image: the verifier must not pick one.",
            "multiple_credentials",
            input_file="two-credentials.png",
        ),
        Case("image-no-qr", "An image without any QR code.", "no_qr_found", input_file="no-qr.png"),
        Case(
            "image-bomb",
            "A 100-byte PNG declaring 20000 x 20000 pixels (decompression bomb).",
            "image_too_large",
            input_file="bomb-20000x20000.png",
        ),
        Case(
            "image-not-an-image",
            "A text file named .png.",
            "not_an_image",
            input_file="not-an-image.png",
        ),
    ]


def main() -> None:
    ensure_keys()
    CASES_DIR.mkdir(parents=True, exist_ok=True)
    _remember_previous_tokens()
    write_trust()
    write_status_lists()
    cases = valid_cases() + input_cases() + token_cases() + claim_cases() + status_cases()
    cases += trust_cases()
    cases += image_cases()
    names = [case.name for case in cases]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise SystemExit(f"duplicate case names: {sorted(duplicates)}")
    for stale in CASES_DIR.glob("*.json"):
        if stale.stem not in names:
            stale.unlink()
    for case in cases:
        path = CASES_DIR / f"{case.name}.json"
        path.write_text(json.dumps(case.to_json(), indent=2, ensure_ascii=True) + "\n")
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(CASES_DIR.glob("*.json"))))
    print(f"{len(cases)} cases written to {CASES_DIR} (sha256 {digest.hexdigest()[:16]})")


if __name__ == "__main__":
    main()
