"""pyjwt as the reference JWS implementation: it agrees with the verifier on every vector.

The verifier checks signatures with its own strict parser and ``cryptography`` directly (for
speed, and so the verify path need not load pyjwt). pyjwt makes every token the issuer signs;
here it also checks them: every credential the verifier accepts, pyjwt accepts with the same
key and reads the same claims from, and every token refused for its signature or algorithm,
pyjwt refuses too.
"""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest

from tests.vectorlib import CASES_DIR, TRUST_DIR, anchor
from verifier.qrtext import decode_qr_text
from verifier.trust import TrustList
from verifier.trust_dir import TRUST_LIST_FILE

SIGNATURE_REASONS = frozenset({"bad_signature", "signature_encoding", "alg_none", "alg_mismatch"})


def _cases(predicate: object) -> list[Path]:
    chosen = []
    for path in sorted(CASES_DIR.glob("*.json")):
        case = json.loads(path.read_text())
        if "input" in case and predicate(case):  # type: ignore[operator]
            chosen.append(path)
    return chosen


TRUST = TrustList.from_jws((TRUST_DIR / TRUST_LIST_FILE).read_bytes(), anchor())
VALID = _cases(lambda case: case["expected"]["status"] == "VALID")
REFUSED_SIGNATURES = _cases(lambda case: case["expected"]["reason"] in SIGNATURE_REASONS)


def _token_and_key(path: Path) -> tuple[str, object]:
    token = decode_qr_text(json.loads(path.read_text())["input"])
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    key = TRUST.issuers[claims["iss"]].keys[header["kid"]].public_key
    return token, key


def test_there_are_cases_on_both_sides() -> None:
    assert len(VALID) >= 3
    assert len(REFUSED_SIGNATURES) >= 5


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_pyjwt_accepts_what_the_verifier_accepts(path: Path) -> None:
    token, key = _token_and_key(path)
    decoded = jwt.PyJWS().decode_complete(token, key, algorithms=["ES256"])  # type: ignore[arg-type]
    assert decoded["header"]["typ"].lower() == "pc1"  # media types compare without case
    claims = json.loads(decoded["payload"])
    assert set(claims) <= {"iss", "ben", "nbf", "exp", "jti", "st", "cnf"}


@pytest.mark.parametrize("path", REFUSED_SIGNATURES, ids=lambda p: p.stem)
def test_pyjwt_refuses_what_the_verifier_refuses_for_its_signature(path: Path) -> None:
    token = decode_qr_text(json.loads(path.read_text())["input"])
    keys = [key.public_key for key in TRUST.keys_by_kid.values()]
    for key in keys:
        with pytest.raises(jwt.InvalidTokenError):
            jwt.PyJWS().decode_complete(token, key, algorithms=["ES256"])  # type: ignore[arg-type]
