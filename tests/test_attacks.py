"""The adversarial corpus: one test per attack on the verifier, each with its exact reason code.

Every hostile token here is crafted so that the attack is its only defect (the rest is genuine,
signed by the right key), and every test goes through :func:`verify`, which must hand back a
:class:`VerificationResult`, never raise. Tests marked ``xfail(strict=True)`` pin a verifier
gap that is reported for a fix; they turn red as soon as the fix lands, to be unmarked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import io
import json
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import qrcode
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.vectorlib import (
    DROP,
    EXP,
    IMAGES_DIR,
    NBF,
    NOW,
    P256_ORDER,
    TRUST_DIR,
    anchor,
    b64u,
    claims,
    craft,
    credential_token,
    es256_der,
    header,
    json_bytes,
    private_key,
    public_key,
    reasons_under,
    split,
    status_store,
    to_qr,
    trust_list,
    trust_list_token,
    ts,
)
from verifier import errors
from verifier.errors import Status
from verifier.jws import STATUS_LIST_TYP, sign_compact
from verifier.keys import public_key_to_jwk
from verifier.qrtext import MAX_TEXT_CHARS, decode_qr_text
from verifier.result import VerificationResult
from verifier.status_list import StatusListBuilder, status_list_claims
from verifier.status_store import StatusStore, status_list_path
from verifier.trust import TrustList
from verifier.verify import DEFAULT_POLICY, VerifyPolicy, verify

TRUST = trust_list()
STATUS = status_store(TRUST)
GENUINE = credential_token()
GENUINE_TEXT = to_qr(GENUINE)

#: Every reason code the verifier knows, for tests that only insist on "refused, not crashed".
ALL_REASONS = frozenset(reasons_under(errors.PlainclaimError))


def check(
    source: object,
    reason: str,
    *,
    now: datetime = NOW,
    trust: TrustList = TRUST,
    status: StatusStore | None = STATUS,
    policy: VerifyPolicy = DEFAULT_POLICY,
) -> VerificationResult:
    """Verify ``source`` and insist on a verdict with exactly ``reason``."""
    result = verify(source, trust, status=status, now=now, policy=policy)  # type: ignore[arg-type]
    assert isinstance(result, VerificationResult)
    assert result.reason == reason, f"expected {reason}, got {result.reason}"
    if reason == "valid":
        assert result.status is Status.VALID and result.credential is not None
    else:
        assert result.status is not Status.VALID and result.credential is None
    assert result.message
    return result


def refused(source: object, *, now: datetime = NOW) -> VerificationResult:
    """Verify ``source`` and insist only on a refusal (any known reason), never a crash."""
    result = verify(source, TRUST, status=STATUS, now=now)  # type: ignore[arg-type]
    assert isinstance(result, VerificationResult)
    assert result.status is not Status.VALID
    assert result.reason in ALL_REASONS
    return result


def signed(hdr: dict[str, object] | bytes | str, payload: dict[str, object] | bytes | str) -> str:
    """QR text of a token signed by mosa-1 (the genuine key for the default claims)."""
    return to_qr(craft(hdr, payload))


# the genuine side


def test_genuine_credential_passes() -> None:
    result = check(GENUINE_TEXT, "valid")
    assert result.credential is not None
    assert result.credential.issuer.issuer_id == "mosa"
    assert result.credential.benefit.code == "heating-2027"
    assert result.credential.valid_until == datetime.fromtimestamp(EXP, UTC)


def test_genuine_hand_crafted_credential_passes() -> None:
    # The crafting helpers build exactly what the issuer builds: the attacks differ from a
    # genuine token only where they say so.
    check(signed(header(), claims()), "valid")


# Status list 2 is fresh around nbf, list 3 around exp (see tests/vectors/generate.py).
AT_NBF = to_qr(credential_token(status=(2, 42)))
AT_EXP = to_qr(credential_token(status=(3, 42)))


@pytest.mark.parametrize(
    ("text", "moment", "reason"),
    [
        (AT_NBF, NBF - 300, "valid"),  # exactly nbf - 5 min passes
        (AT_NBF, NBF - 301, "not_yet_valid"),
        (AT_NBF, NBF - 300.000001, "not_yet_valid"),  # no rounding in the holder's favour
        (AT_NBF, NBF, "valid"),
        (AT_EXP, EXP, "valid"),  # exp itself is inside the leeway
        (AT_EXP, EXP + 299, "valid"),  # exp + 5 min - 1 s passes
        (AT_EXP, EXP + 299.999999, "valid"),
        (AT_EXP, EXP + 300, "expired"),  # exp + 5 min fails
        (AT_EXP, EXP + 301, "expired"),
    ],
    ids=[
        "nbf-300",
        "nbf-301",
        "nbf-300.000001",
        "nbf",
        "exp",
        "exp+299",
        "exp+299.999999",
        "exp+300",
        "exp+301",
    ],
)
def test_clock_skew_window_edges(text: str, moment: float, reason: str) -> None:
    check(text, reason, now=datetime.fromtimestamp(moment, UTC))


@pytest.mark.parametrize(
    ("moment", "reason"),
    [(NBF - 1, "not_yet_valid"), (NBF, "valid"), (EXP - 1, "valid"), (EXP, "expired")],
)
def test_window_edges_without_leeway(moment: int, reason: str) -> None:
    text = AT_NBF if moment < NBF + 86400 else AT_EXP
    policy = VerifyPolicy(clock_skew=timedelta(0))
    check(text, reason, now=datetime.fromtimestamp(moment, UTC), policy=policy)


def test_naive_clock_is_a_usage_error_not_a_verdict() -> None:
    with pytest.raises(errors.UsageError):
        verify(GENUINE_TEXT, TRUST, status=STATUS, now=datetime(2027, 3, 15, 12))


# alg


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("with_signature", [False, True], ids=["unsigned", "signed"])
def test_alg_none(alg: str, with_signature: bool) -> None:
    token = craft(header(alg=alg), claims(), signer="mosa-1" if with_signature else None)
    check(to_qr(token), "alg_none")


def _public_key_encodings() -> dict[str, bytes]:
    key = public_key("mosa-1")
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    compressed = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    openssh = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    jwk = public_key_to_jwk(key)
    listed = TRUST.keys_by_kid["mosa-1"].to_jwk()
    return {
        "pem-spki": pem,
        "pem-spki-stripped": pem.strip(),
        "pem-spki-crlf": pem.replace(b"\n", b"\r\n"),
        "der-spki": der,
        "point-uncompressed": point,
        "point-compressed": compressed,
        "x-y": point[1:],
        "x-only": point[1:33],
        "openssh": openssh,
        "jwk-json": json.dumps(jwk, separators=(",", ":")).encode(),
        "jwk-json-spaced": json.dumps(jwk).encode(),
        "jwk-json-sorted": json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode(),
        "trust-list-jwk-json": json.dumps(listed, separators=(",", ":")).encode(),
        "jwk-x-string": jwk["x"].encode(),
        "jwk-x-y-strings": (jwk["x"] + jwk["y"]).encode(),
        "b64-der": base64.b64encode(der),
        "b64url-der": b64u(der).encode(),
        "b64-point": base64.b64encode(point),
        "b64url-point": b64u(point).encode(),
        "b64url-x-y": b64u(point[1:]).encode(),
        "hex-point": point.hex().encode(),
        "pem-body-only": b"".join(pem.strip().splitlines()[1:-1]),
        "empty": b"",
    }


@pytest.mark.parametrize("encoding", sorted(_public_key_encodings()))
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_with_the_public_key_as_secret(encoding: str, alg: str) -> None:
    # The classic key-confusion attack: anyone holds the public key, so if the verifier let
    # the token pick HMAC, anyone could sign. The trust list fixes ES256 for the key.
    secret = _public_key_encodings()[encoding]
    digest = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}[alg]
    signing_input = f"{b64u(json_bytes(header(alg=alg)))}.{b64u(json_bytes(claims()))}"
    mac = hmac.digest(secret, signing_input.encode(), digest)
    check(to_qr(f"{signing_input}.{b64u(mac)}"), "alg_mismatch")


def test_hmac_tag_under_the_es256_name() -> None:
    # A 64-byte HMAC-SHA512 tag is the size of an r||s signature: it must not get past ES256.
    secret = _public_key_encodings()["pem-spki"]
    signing_input = f"{b64u(json_bytes(header()))}.{b64u(json_bytes(claims()))}"
    tag = hmac.digest(secret, signing_input.encode(), "sha512")
    check(to_qr(f"{signing_input}.{b64u(tag)}"), "bad_signature")


@pytest.mark.parametrize(
    "alg",
    ["ES384", "ES512", "RS256", "PS256", "EdDSA", "Ed25519", "ES256K", "es256", "ES256 ", ""],
)
def test_algorithm_other_than_the_keys(alg: str) -> None:
    check(signed(header(alg=alg), claims()), "alg_mismatch")


@pytest.mark.parametrize("alg", [None, 256, ["ES256"], {"name": "ES256"}, True])
def test_alg_not_a_string(alg: object) -> None:
    check(signed(header(alg=alg), claims()), "malformed_token")


# kid


def test_unknown_kid() -> None:
    check(signed(header(kid="mosa-7"), claims()), "unknown_kid")


def test_kid_of_another_issuer_with_its_valid_signature() -> None:
    token = craft(header(kid="city-1"), claims(), signer="city-1")
    check(to_qr(token), "kid_of_another_issuer")


def test_other_issuers_key_for_its_own_issuer_but_foreign_benefit() -> None:
    token = craft(header(kid="city-1"), claims(iss="city"), signer="city-1")
    check(to_qr(token), "benefit_not_allowed")


@pytest.mark.parametrize(
    "kid",
    [
        "../../etc/passwd",
        "..\\..\\keys\\mosa-1",
        "/etc/passwd",
        "mosa-1' OR '1'='1",
        "mosa-1;DROP TABLE keys",
        'mosa-1"--',
        "mosa-1\x00",
        "\x00",
        "mosa-1\n",
        "mosa 1",
        "mosa\u20111",  # non-breaking hyphen
        "m\u043esa-1",  # Cyrillic o
        "mosa-1\u202e",  # right-to-left override
        "%2e%2e%2fmosa-1",
        "mosa-1.jwk",
        "",
        "A" * 65,
        "A" * 1000,
    ],
)
def test_hostile_kid(kid: str) -> None:
    check(signed(header(kid=kid), claims()), "invalid_kid")


@pytest.mark.parametrize("kid", [None, 1, ["mosa-1"], {"kid": "mosa-1"}])
def test_kid_not_a_string(kid: object) -> None:
    check(signed(header(kid=kid), claims()), "unknown_kid")


def test_kid_missing() -> None:
    check(signed(header(kid=DROP), claims()), "unknown_kid")


def test_kid_longest_allowed_but_unknown() -> None:
    check(signed(header(kid="A" * 64), claims()), "unknown_kid")


@pytest.mark.parametrize(
    ("kid", "moment", "reason"),
    [
        ("mosa-0", NOW, "key_not_valid"),  # retired
        ("mosa-0", datetime(2027, 1, 1, tzinfo=UTC), "key_not_valid"),  # 1 s after its end
        ("mosa-2", NOW, "key_not_valid"),  # not yet valid
        ("mosa-2", datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC), "key_not_valid"),
    ],
    ids=["retired", "retired-by-1s", "future", "future-by-1s"],
)
def test_key_outside_its_window(kid: str, moment: datetime, reason: str) -> None:
    token = credential_token(kid=kid, not_before=ts("2026-01-01T00:00:00Z"))
    check(to_qr(token), reason, now=moment)


# header fields


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("jku", "https://evil.example/jwks.json"),
        ("x5u", "https://evil.example/cert.pem"),
        ("jwk", public_key_to_jwk(public_key("rogue"))),
        ("x5c", ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
        ("x5t", "dGh1bWJwcmludA"),
        ("x5t#S256", "dGh1bWJwcmludA"),
        ("crit", ["exp"]),
        ("crit", []),
        ("zip", "DEF"),
        ("cty", "JWT"),
        ("b64", False),
        ("enc", "A256GCM"),
        ("epk", {"kty": "EC"}),
        ("iss", "mosa"),
        ("nonce", "x"),
        ("x-made-up", 1),
        ("", ""),
    ],
)
def test_extra_header_field(name: str, value: object) -> None:
    check(signed(header(**{name: value}), claims()), "forbidden_header")


# duplicate JSON keys

_CLAIMS_JSON = json_bytes(claims()).decode()


@pytest.mark.parametrize(
    ("hdr", "payload"),
    [
        ('{"alg":"none","alg":"ES256","kid":"mosa-1","typ":"pc1"}', _CLAIMS_JSON),
        ('{"alg":"ES256","kid":"city-1","kid":"mosa-1","typ":"pc1"}', _CLAIMS_JSON),
        ('{"alg":"ES256","kid":"mosa-1","typ":"JWT","typ":"pc1"}', _CLAIMS_JSON),
        ('{"alg":"ES256","kid":"mosa-1","typ":"pc1","typ":"pc1"}', _CLAIMS_JSON),
        ('{"alg":"ES256","kid":"mosa-1","typ":"pc1"}', '{"iss":"city",' + _CLAIMS_JSON[1:]),
        ('{"alg":"ES256","kid":"mosa-1","typ":"pc1"}', '{"exp":1,' + _CLAIMS_JSON[1:]),
        # The second spelling decodes to the same key: a byte-level check would miss it.
        ('{"alg":"ES256","kid":"mosa-1","typ":"pc1"}', '{"\\u0069ss":"city",' + _CLAIMS_JSON[1:]),
        (
            '{"alg":"ES256","kid":"mosa-1","typ":"pc1"}',
            _CLAIMS_JSON[:-1] + ',"cnf":{"jwk":{"kty":"EC","kty":"EC"}}}',
        ),
    ],
    ids=[
        "header-alg",
        "header-kid",
        "header-typ",
        "header-typ-same-value",
        "payload-iss",
        "payload-exp",
        "payload-iss-escaped",
        "payload-nested",
    ],
)
def test_duplicate_json_keys(hdr: str, payload: str) -> None:
    check(signed(hdr, payload), "duplicate_json_key")


# typ


@pytest.mark.parametrize(
    "typ", ["JWT", "jwt", "", 1, None, ["pc1"], "application/pc1", "pc1 ", "pc2", "vc+sd-jwt"]
)
def test_wrong_typ(typ: object) -> None:
    check(signed(header(typ=typ), claims()), "wrong_type")


def test_missing_typ() -> None:
    check(signed(header(typ=DROP), claims()), "wrong_type")


@pytest.mark.parametrize("typ", ["pc1-trust+jwt", "PC1-TRUST+JWT", "statuslist+jwt"])
def test_other_plainclaim_token_kinds(typ: str) -> None:
    check(signed(header(typ=typ), claims()), "wrong_token_kind")


def test_trust_list_presented_as_credential() -> None:
    check(to_qr(trust_list_token()), "wrong_token_kind")


def test_status_list_presented_as_credential() -> None:
    token = status_list_path(TRUST_DIR, "city", 1).read_text().strip()
    check(to_qr(token), "wrong_token_kind")


# tampering


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _with_segment(token: str, index: int, data: bytes) -> str:
    segments = split(token)
    segments[index] = b64u(data)
    return ".".join(segments)


def test_tampered_header_typ_case_flip() -> None:
    # 'p' -> 'P' (one bit): still an acceptable header, but no longer the signed one.
    hdr = _b64decode(split(GENUINE)[0]).replace(b'"pc1"', b'"Pc1"')
    check(to_qr(_with_segment(GENUINE, 0, hdr)), "bad_signature")


def test_tampered_header_kid_bit_flip() -> None:
    # mosa-1 -> mosa-0 (one bit): the retired key is refused before its signature is tried.
    hdr = _b64decode(split(GENUINE)[0]).replace(b"mosa-1", b"mosa-0")
    check(to_qr(_with_segment(GENUINE, 0, hdr)), "key_not_valid")


def test_tampered_payload_exp_bit_flip() -> None:
    payload = _b64decode(split(GENUINE)[1])
    flipped = payload.replace(str(EXP).encode(), str(EXP ^ 1).encode())
    assert flipped != payload
    check(to_qr(_with_segment(GENUINE, 1, flipped)), "bad_signature")


def test_tampered_payload_benefit() -> None:
    payload = _b64decode(split(GENUINE)[1]).replace(b"heating-2027", b"child-allowance")
    check(to_qr(_with_segment(GENUINE, 1, payload)), "bad_signature")


def test_every_signature_bit_flip() -> None:
    signature = _b64decode(split(GENUINE)[2])
    for bit in range(len(signature) * 8):
        flipped = bytearray(signature)
        flipped[bit // 8] ^= 0x80 >> (bit % 8)
        check(to_qr(_with_segment(GENUINE, 2, bytes(flipped))), "bad_signature")


def test_every_header_and_payload_bit_flip_is_refused() -> None:
    for index in (0, 1):
        data = _b64decode(split(GENUINE)[index])
        for bit in range(len(data) * 8):
            flipped = bytearray(data)
            flipped[bit // 8] ^= 0x80 >> (bit % 8)
            refused(to_qr(_with_segment(GENUINE, index, bytes(flipped))))


def test_der_signature_of_the_right_message() -> None:
    h, p, _ = split(GENUINE)
    der = es256_der("mosa-1", f"{h}.{p}".encode())
    check(to_qr(f"{h}.{p}.{b64u(der)}"), "signature_encoding")


@pytest.mark.parametrize("length", [0, 1, 32, 63, 65, 72, 128])
def test_signature_of_wrong_length(length: int) -> None:
    reason = "base64_invalid" if length == 0 else "signature_encoding"
    check(signed_with_signature(bytes(length)), reason)


def signed_with_signature(signature: bytes) -> str:
    return to_qr(craft(header(), claims(), signature=signature))


@pytest.mark.parametrize(
    ("r", "s"),
    [
        (0, 0),
        (0, 1),
        (1, 0),
        (P256_ORDER, 1),
        (1, P256_ORDER),
        (P256_ORDER - 1, P256_ORDER - 1),
        (2**256 - 1, 2**256 - 1),
    ],
    ids=["zero", "r-zero", "s-zero", "r-order", "s-order", "order-1", "all-ones"],
)
def test_degenerate_signature_values(r: int, s: int) -> None:
    check(signed_with_signature(r.to_bytes(32, "big") + s.to_bytes(32, "big")), "bad_signature")


def test_signature_by_a_key_not_on_the_list() -> None:
    check(to_qr(craft(header(), claims(), signer="rogue")), "bad_signature")


def test_signature_of_another_credential() -> None:
    other = credential_token(jti="AAAAAAAAAAAAAAAAAAAAAA")
    h, p, _ = split(GENUINE)
    check(to_qr(f"{h}.{p}.{split(other)[2]}"), "bad_signature")


def test_high_s_twin_is_the_same_credential() -> None:
    # ECDSA is malleable: (r, n - s) verifies too. docs/format.md section 2 accepts this and
    # makes the jti, never a digest of the token, the credential's identity: pin both halves.
    h, p, sig = split(GENUINE)
    raw = _b64decode(sig)
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    twin = r.to_bytes(32, "big") + (P256_ORDER - s).to_bytes(32, "big")
    twin_text = to_qr(f"{h}.{p}.{b64u(twin)}")
    assert twin_text != GENUINE_TEXT
    original, other = check(GENUINE_TEXT, "valid"), check(twin_text, "valid")
    assert original.credential == other.credential


# base64


@pytest.mark.parametrize("index", [0, 1, 2], ids=["header", "payload", "signature"])
@pytest.mark.parametrize("padding", ["=", "=="])
def test_base64_padding(index: int, padding: str) -> None:
    segments = split(GENUINE)
    segments[index] += padding
    check(to_qr(".".join(segments)), "base64_invalid")


def _pad_to_partial_block(payload: dict[str, object]) -> bytes:
    # JSON whitespace moves the base64 length until its last character carries unused bits.
    data = json_bytes(payload)
    while len(b64u(data)) % 4 not in (2, 3):
        data = data[:-1] + b" }"
    return data


@pytest.mark.parametrize("index", [0, 1, 2], ids=["header", "payload", "signature"])
def test_base64_non_canonical_trailing_bits(index: int) -> None:
    # The same bytes under another spelling: the profile accepts exactly one spelling of each
    # byte string.
    hdr = _pad_to_partial_block(header()) if index == 0 else json_bytes(header())
    payload = _pad_to_partial_block(claims()) if index == 1 else json_bytes(claims())
    token = craft(hdr, payload)
    check(to_qr(token), "valid")
    segments = split(token)
    last = segments[index][-1]
    sibling = chr(ord(last) + 1)
    assert _b64decode(segments[index][:-1] + sibling) == _b64decode(segments[index])
    segments[index] = segments[index][:-1] + sibling
    check(to_qr(".".join(segments)), "base64_invalid")


@pytest.mark.parametrize("char", ["/", "=", ":", "@", "[", "^", "`"])
def test_base64_foreign_character(char: str) -> None:
    h, p, s = split(GENUINE)
    check(to_qr(f"{h}.{p[:5]}{char}{p[6:]}.{s}"), "base64_invalid")


def test_base64_impossible_length() -> None:
    h, p, s = split(GENUINE)
    check(to_qr(f"{h}.{p}.{s}AAA"), "base64_invalid")  # 89 characters: 1 mod 4


@pytest.mark.parametrize(
    "token",
    ["", ".", "..", "...", "a.b", "a.b.c.d", f"{GENUINE}.", f".{GENUINE}", f"{GENUINE}.."],
)
def test_segment_structure(token: str) -> None:
    reason = "malformed_token" if token.count(".") != 2 else "base64_invalid"
    if token == "":
        check("PC1:", "non_digit")
    else:
        check(to_qr(token), reason)


# truncation


def test_every_truncation_of_the_qr_text() -> None:
    for end in range(len(GENUINE_TEXT)):
        refused(GENUINE_TEXT[:end])


def test_every_truncation_of_the_token() -> None:
    for end in range(len(GENUINE)):
        refused(to_qr(GENUINE[:end]))


# claims


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rating", 5),
        ("score", 97),
        ("name", "A. Holder"),
        ("nationalId", "123456789"),
        ("iat", NBF),
        ("sub", "holder-1"),
        ("aud", "verifier"),
        ("vc", {}),
        ("", ""),
        ("ISS", "mosa"),
    ],
)
def test_extra_claim(name: str, value: object) -> None:
    check(signed(header(), claims(**{name: value})), "unknown_claim")


@pytest.mark.parametrize("name", ["iss", "ben", "nbf", "exp", "jti", "st"])
def test_missing_claim(name: str) -> None:
    check(signed(header(), claims(**{name: DROP})), "missing_claim")


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("nbf", str(NBF), "claim_type"),
        ("exp", str(EXP), "claim_type"),
        ("exp", EXP * 1000, "timestamp_milliseconds"),
        ("nbf", NBF * 1000, "timestamp_milliseconds"),
        ("exp", float(EXP), "claim_type"),
        ("exp", EXP + 0.5, "claim_type"),
        ("nbf", True, "claim_type"),
        ("exp", False, "claim_type"),
        ("nbf", None, "claim_type"),
        ("nbf", -1, "claim_type"),
        ("exp", 10**30, "timestamp_milliseconds"),
        ("exp", [EXP], "claim_type"),
        ("exp", {"$date": EXP}, "claim_type"),
        ("nbf", "2027-01-01T00:00:00Z", "claim_type"),
    ],
)
def test_timestamp_types(name: str, value: object, reason: str) -> None:
    check(signed(header(), claims(**{name: value})), reason)


def test_float_overflow_timestamp() -> None:
    # 1e999 is valid JSON for infinity in Python's parser: it must still be refused as a type.
    payload = json_bytes(claims()).replace(str(EXP).encode(), b"1e999")
    check(signed(header(), payload), "claim_type")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ben", "Heating-2027"),
        ("ben", 7),
        ("jti", "short"),
        ("jti", "A" * 44),
        ("jti", "has space in it!!"),
        ("st", [1]),
        ("st", [1, 2, 3]),
        ("st", [1, -1]),
        ("st", [1, 2**31]),
        ("st", ["1", 42]),
        ("st", [1.0, 42]),
        ("st", "1:42"),
        ("cnf", {"jwk": "key"}),
        ("cnf", {"kid": "x"}),
        ("cnf", []),
        ("cnf", None),
    ],
)
def test_claim_types(name: str, value: object) -> None:
    check(signed(header(), claims(**{name: value})), "claim_type")


@pytest.mark.parametrize(("nbf", "exp"), [(NBF, NBF), (EXP, NBF), (NBF + 1, NBF)])
def test_validity_window_invalid(nbf: int, exp: int) -> None:
    check(signed(header(), claims(nbf=nbf, exp=exp)), "validity_window_invalid")


def test_expired() -> None:
    check(GENUINE_TEXT, "expired", now=datetime(2028, 3, 1, tzinfo=UTC))


def test_not_yet_valid() -> None:
    check(to_qr(credential_token(not_before=ts("2027-06-01T00:00:00Z"))), "not_yet_valid")


@pytest.mark.parametrize("benefit", ["transport-discount", "free-money", "heating-2028"])
def test_benefit_the_issuer_may_not_vouch_for(benefit: str) -> None:
    check(to_qr(credential_token(benefit=benefit)), "benefit_not_allowed")


@pytest.mark.parametrize("issuer", ["acme", "MOSA", "mosa ", "", "city\u0000"])
def test_unknown_issuer(issuer: str) -> None:
    # The issuer is looked up before the claim set is checked (verify.py, step 4).
    check(signed(header(), claims(iss=issuer)), "unknown_issuer")


def test_issuer_escaped_lone_surrogate() -> None:
    payload = json_bytes(claims()).replace(b'"mosa"', b'"\\ud800"')
    check(signed(header(), payload), "unknown_issuer")


def test_iss_null_is_a_claim_type_error() -> None:
    check(signed(header(), claims(iss=None)), "claim_type")


def test_holder_bound_credential_is_not_checked_here() -> None:
    token = credential_token(holder_jwk=public_key_to_jwk(public_key("rogue")))
    check(to_qr(token), "holder_proof_required")


# trust list


def test_trust_list_with_a_bad_signature() -> None:
    with pytest.raises(errors.TrustListSignatureInvalid):
        TrustList.from_jws(trust_list_token("trustlist-bad-signature.jwt"), anchor())


def test_trust_list_hmac_with_the_anchor_public_key() -> None:
    token = trust_list_token()
    segments = split(token)
    hdr = json_bytes({"alg": "HS256", "kid": "anchor-1", "typ": "pc1-trust+jwt"})
    signing_input = f"{b64u(hdr)}.{segments[1]}"
    secret = public_key("anchor").public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    mac = hmac.digest(secret, signing_input.encode(), "sha256")
    with pytest.raises(errors.TrustListSignatureInvalid):
        TrustList.from_jws(f"{signing_input}.{b64u(mac)}", anchor())


def test_trust_list_signed_by_an_issuer_key() -> None:
    segments = split(trust_list_token())
    hdr = json_bytes({"alg": "ES256", "kid": "anchor-1", "typ": "pc1-trust+jwt"})
    token = craft(hdr, _b64decode(segments[1]), signer="mosa-1")
    with pytest.raises(errors.TrustListSignatureInvalid):
        TrustList.from_jws(token, anchor())


def test_expired_trust_list() -> None:
    expired = TrustList.from_jws(trust_list_token("trustlist-expired.jwt"), anchor())
    check(GENUINE_TEXT, "trust_list_expired", trust=expired, status=status_store(expired))


def test_trust_list_older_than_one_already_seen() -> None:
    with pytest.raises(errors.TrustListRollback):
        TrustList.from_jws(trust_list_token("trustlist-seq6.jwt"), anchor(), min_sequence=7)


# status lists


def test_revoked() -> None:
    check(to_qr(credential_token(status=(1, 7))), "revoked")


def test_suspended() -> None:
    check(to_qr(credential_token(status=(1, 8))), "suspended")


def test_no_status_data_given() -> None:
    check(GENUINE_TEXT, "status_list_missing", status=None)


def _trust_dir_with_status_list(tmp_path: Path, token: str, list_id: int = 1) -> StatusStore:
    path = status_list_path(tmp_path, "mosa", list_id)
    path.parent.mkdir(parents=True)
    path.write_text(token)
    return StatusStore(tmp_path, TRUST)


def _status_list(issued: datetime, *, signer: str = "mosa-1", size: int = 1024) -> str:
    uri = TRUST.issuers["mosa"].status_list_uri(1)
    assert uri is not None
    payload = status_list_claims(
        StatusListBuilder(size),
        subject_uri=uri,
        issued_at=issued,
        expires_at=issued + timedelta(days=31),
        ttl=timedelta(days=1),
        fast=True,
    )
    return sign_compact(payload, private_key(signer), signer, STATUS_LIST_TYP)


def test_status_list_of_another_issuer_in_the_issuers_place(tmp_path: Path) -> None:
    token = _status_list(NOW - timedelta(days=1), signer="city-1")
    check(GENUINE_TEXT, "status_list_invalid", status=_trust_dir_with_status_list(tmp_path, token))


def test_status_index_beyond_the_list(tmp_path: Path) -> None:
    token = _status_list(NOW - timedelta(days=1), size=16)
    status = _trust_dir_with_status_list(tmp_path, token)
    check(GENUINE_TEXT, "status_index_out_of_range", status=status)


def test_status_list_of_another_list_in_its_place(tmp_path: Path) -> None:
    # The right issuer's genuine list 2, filed as list 1: its sub names list 2.
    token = status_list_path(TRUST_DIR, "mosa", 2).read_text()
    check(GENUINE_TEXT, "status_list_invalid", status=_trust_dir_with_status_list(tmp_path, token))


@pytest.mark.parametrize("signer", ["mosa-1", "mosa-2"])
def test_status_list_issued_in_the_future(tmp_path: Path, signer: str) -> None:
    token = _status_list(datetime(2028, 1, 2, tzinfo=UTC), signer=signer)
    status = _trust_dir_with_status_list(tmp_path, token)
    check(GENUINE_TEXT, "status_list_invalid", status=status)


# QR text


def test_odd_number_of_digits() -> None:
    check(GENUINE_TEXT[:-1], "odd_digit_count")


@pytest.mark.parametrize("pair", [f"{n:02d}" for n in range(78, 100)])
def test_digit_pair_above_77(pair: str) -> None:
    check(GENUINE_TEXT[:-2] + pair, "digit_pair_out_of_range")


@pytest.mark.parametrize(
    "garbage", ["a", "A", " ", "+", "-", ".", "/", ":", "~", "e", "٣", "½", "²", "\u00a0"]
)
def test_non_digit_garbage(garbage: str) -> None:
    text = GENUINE_TEXT[:50] + garbage + GENUINE_TEXT[51:]
    reason = "non_digit" if garbage.isascii() else "input_charset"
    check(text, reason)


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f", "\r", "\n", "\t", "\x0b", "\x0c"])
def test_control_characters_inside(control: str) -> None:
    check(GENUINE_TEXT[:50] + control + GENUINE_TEXT[50:], "input_charset")


@pytest.mark.parametrize("trailer", ["\r", "\n", "\t", "\r\n", "\n\t", "\r\n\r\n"])
def test_wedge_trailers_tolerated(trailer: str) -> None:
    check(GENUINE_TEXT + trailer, "valid")


@pytest.mark.parametrize("prefix", ["pc1:", "Pc1:", "pC1:"])
def test_prefix_case_tolerated(prefix: str) -> None:
    check(prefix + GENUINE_TEXT[4:], "valid")


@pytest.mark.parametrize(
    "text", [" " + GENUINE_TEXT, "PC1 " + GENUINE_TEXT[4:], "PC1" + GENUINE_TEXT[4:]]
)
def test_prefix_variants_refused(text: str) -> None:
    check(text, "unknown_prefix")


@pytest.mark.parametrize("prefix", ["PC2:", "pc2:", "PC10:", "PC0:"])
def test_later_format_version(prefix: str) -> None:
    result = check(prefix + GENUINE_TEXT[4:], "unsupported_format_version")
    assert result.status is Status.INDETERMINATE


def test_input_over_the_size_limit() -> None:
    check("PC1:" + "0" * (MAX_TEXT_CHARS - 3), "input_too_large")
    check("PC1:" + "1" * 10_000_000, "input_too_large")


def test_input_at_the_size_limit_is_parsed() -> None:
    result = refused("PC1:" + "0" * (MAX_TEXT_CHARS - 4))
    assert result.reason != "input_too_large"


def test_smart_health_card() -> None:
    check("shc:/" + GENUINE_TEXT[4:], "foreign_smart_health_card")
    check("SHC:/5676", "foreign_smart_health_card")


def test_eu_dcc() -> None:
    check("HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH-R6IOO6", "foreign_eu_dcc")
    check("hc1:6BF", "foreign_eu_dcc")


# JSON


def test_nesting_bomb_unclosed_in_payload() -> None:
    check(signed(header(), b'{"iss":"mosa","x":' + b"[" * 1200), "json_invalid")


def test_nesting_bomb_closed_in_extra_claim() -> None:
    nested = b"[" * 400 + b"]" * 400
    payload = json_bytes(claims())[:-1] + b',"x":' + nested + b"}"
    check(signed(header(), payload), "unknown_claim")


def test_nesting_bomb_in_header() -> None:
    hdr = b'{"alg":"ES256","kid":"mosa-1","typ":"pc1","x":' + b"{" * 1000
    check(signed(hdr, claims()), "json_invalid")


def test_huge_integers() -> None:
    payload = json_bytes(claims()).replace(str(EXP).encode(), b"9" * 1000)
    check(signed(header(), payload), "timestamp_milliseconds")
    payload = json_bytes(claims()).replace(b"[1,42]", b"[1," + b"9" * 800 + b"]")
    check(signed(header(), payload), "claim_type")
    payload = json_bytes(claims()).replace(str(NBF).encode(), b"-" + b"9" * 800)
    check(signed(header(), payload), "claim_type")


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity(constant: bytes) -> None:
    payload = json_bytes(claims()).replace(str(NBF).encode(), constant)
    check(signed(header(), payload), "json_invalid")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
@pytest.mark.parametrize("index", [0, 1], ids=["header", "payload"])
def test_json_in_other_unicode_encodings(codec: str, index: int) -> None:
    hdr = json_bytes(header())
    payload = json_bytes(claims())
    if index == 0:
        hdr = hdr.decode().encode(codec)
    else:
        payload = payload.decode().encode(codec)
    check(signed(hdr, payload), "json_invalid")


@pytest.mark.parametrize(
    "bad_bytes",
    [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80", b"\xf4\x90\x80\x80"],
    ids=["ff", "overlong-slash", "encoded-surrogate", "lone-continuation", "above-u10ffff"],
)
def test_non_utf8_bytes(bad_bytes: bytes) -> None:
    payload = json_bytes(claims()).replace(b"mosa", b"mo" + bad_bytes)
    check(signed(header(), payload), "json_invalid")


@pytest.mark.parametrize(
    "payload", [b"[]", b'"mosa"', b"42", b"null", b"true", b"", b" ", b"{}{}", b"{} x"]
)
def test_payload_not_a_json_object(payload: bytes) -> None:
    reason = "base64_invalid" if payload == b"" else "json_invalid"
    check(signed(header(), payload), reason)


def test_empty_payload_object() -> None:
    check(signed(header(), b"{}"), "missing_claim")


# images

needs_scan = pytest.mark.skipif(
    importlib.util.find_spec("verifier.scan") is None, reason="verifier.scan is not there yet"
)


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@needs_scan
@pytest.mark.parametrize(
    ("width", "height"), [(20000, 20000), (100000, 1000), (1, 100000000), (8000, 8000)]
)
def test_image_bomb(width: int, height: int) -> None:
    check(_png(width, height), "image_too_large")


@needs_scan
def test_image_bomb_file() -> None:
    check(IMAGES_DIR / "bomb-20000x20000.png", "image_too_large")


@needs_scan
@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image",
        b"%PDF-1.7\n",
        b"\x89PNG\r\n\x1a\n",
        (IMAGES_DIR / "valid-credential.png").read_bytes()[:300],
        GENUINE_TEXT.encode(),
    ],
    ids=["empty", "text", "pdf", "png-signature-only", "truncated-png", "qr-text-as-bytes"],
)
def test_not_an_image(data: bytes) -> None:
    check(data, "not_an_image")


@needs_scan
@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF"])
def test_image_format_outside_the_list(image_format: str) -> None:
    buffer = io.BytesIO()
    Image.open(IMAGES_DIR / "valid-credential.png").save(buffer, format=image_format)
    check(buffer.getvalue(), "not_an_image")


@needs_scan
def test_not_an_image_file() -> None:
    check(IMAGES_DIR / "not-an-image.png", "not_an_image")


@needs_scan
def test_image_without_qr() -> None:
    check(IMAGES_DIR / "no-qr.png", "no_qr_found")
    check(Image.new("L", (64, 64), 255), "no_qr_found")


@needs_scan
def test_image_of_a_genuine_credential() -> None:
    path = IMAGES_DIR / "valid-credential.png"
    check(path, "valid")
    check(path.read_bytes(), "valid")
    with path.open("rb") as handle:
        check(handle, "valid")
    check(Image.open(path), "valid")


@needs_scan
def test_image_with_two_credentials() -> None:
    check(IMAGES_DIR / "two-credentials.png", "multiple_credentials")


def _qr_images(*texts: str) -> Image.Image:
    images = []
    for text in texts:
        code = qrcode.QRCode(box_size=4, border=4)
        code.add_data(text)
        images.append(code.make_image().get_image().convert("L"))
    sheet = Image.new("L", (sum(i.width + 20 for i in images), max(i.height for i in images)), 255)
    left = 0
    for image in images:
        sheet.paste(image, (left, 0))
        left += image.width + 20
    return sheet


@needs_scan
@pytest.mark.parametrize(
    ("texts", "reason"),
    [
        ((GENUINE_TEXT, GENUINE_TEXT), "valid"),  # two prints of one credential: no ambiguity
        (("https://example.org/", GENUINE_TEXT), "valid"),  # a foreign code beside it
        (("https://example.org/",), "unknown_prefix"),
        (("shc:/" + GENUINE_TEXT[4:],), "foreign_smart_health_card"),
        ((to_qr(craft(header(alg="none"), claims(), signer=None)),), "alg_none"),
        ((GENUINE_TEXT[:-2] + "99",), "digit_pair_out_of_range"),
    ],
    ids=["same-twice", "with-url", "url-only", "shc", "alg-none", "pair-99"],
)
def test_image_content_goes_through_the_text_checks(texts: tuple[str, ...], reason: str) -> None:
    check(_qr_images(*texts), reason)


# properties


def _accepted_only_if_unchanged(text: str) -> None:
    result = verify(text, TRUST, status=STATUS, now=NOW)
    assert isinstance(result, VerificationResult)
    assert result.reason in ALL_REASONS | {"valid"}
    if result.is_valid:
        # Only the tolerated spellings of the same token: prefix case and wedge trailers.
        assert decode_qr_text(text) == GENUINE


_text_edit = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, len(GENUINE_TEXT)), st.text(max_size=3)),
    st.tuples(st.just("insert"), st.integers(0, len(GENUINE_TEXT)), st.text(max_size=5)),
    st.tuples(st.just("delete"), st.integers(0, len(GENUINE_TEXT)), st.integers(1, 20)),
    st.tuples(
        st.just("digit"), st.integers(4, len(GENUINE_TEXT) - 1), st.sampled_from("0123456789")
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_text_edit, min_size=1, max_size=4))
def test_text_mutations_never_raise_nor_pass(edits: list[tuple[str, int, object]]) -> None:
    text = GENUINE_TEXT
    for kind, position, arg in edits:
        if kind == "replace":
            text = text[:position] + str(arg) + text[position + len(str(arg)) :]
        elif kind == "insert":
            text = text[:position] + str(arg) + text[position:]
        elif kind == "delete":
            text = text[:position] + text[position + int(arg) :]  # type: ignore[call-overload]
        else:
            text = text[:position] + str(arg) + text[position + 1 :]
    _accepted_only_if_unchanged(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(GENUINE_TEXT) - 1), st.integers(1, 255)), max_size=4))
def test_byte_mutations_never_raise_nor_pass(flips: list[tuple[int, int]]) -> None:
    data = bytearray(GENUINE_TEXT.encode("ascii"))
    for position, mask in flips:
        data[position] ^= mask
    _accepted_only_if_unchanged(data.decode("latin-1"))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2), st.data())
def test_token_byte_mutations_never_pass(index: int, data: st.DataObject) -> None:
    segments = split(GENUINE)
    raw = bytearray(_b64decode(segments[index]))
    position = data.draw(st.integers(0, len(raw) - 1))
    raw[position] ^= data.draw(st.integers(1, 255))
    segments[index] = b64u(bytes(raw))
    _accepted_only_if_unchanged(to_qr(".".join(segments)))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    _accepted_only_if_unchanged(text)
    _accepted_only_if_unchanged("PC1:" + text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_as_image_never_raise(data: bytes) -> None:
    result = verify(data, TRUST, status=STATUS, now=NOW)
    assert isinstance(result, VerificationResult)
    assert not result.is_valid


def test_verification_leaves_the_trust_list_unchanged() -> None:
    # verify() must not mutate the trust list it is given (it is shared between requests).
    before = hashlib.sha256(json_bytes(TRUST.to_payload())).hexdigest()
    for text in (GENUINE_TEXT, GENUINE_TEXT[:-1], signed(header(kid="mosa-9"), claims())):
        verify(text, TRUST, status=STATUS, now=NOW)
    assert hashlib.sha256(json_bytes(TRUST.to_payload())).hexdigest() == before
