"""The test vectors of tests/vectors/cases, one test per case file.

Each case names its input (QR text, or an image file), the trust list and rollback guard the
verifier holds, the time, and the verdict with its reason code. The verifier always holds the
status lists synced under ``tests/vectors/trust/status/`` (the trust directory layout). Rebuild
them with
``.venv/bin/python tests/vectors/generate.py``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests.vectorlib import CASES_DIR, IMAGES_DIR, TRUST_DIR, anchor, at, reasons_under
from verifier import errors
from verifier.result import VerificationResult
from verifier.status_store import StatusStore
from verifier.trust import TrustList
from verifier.verify import verify

CASE_FILES = sorted(CASES_DIR.glob("*.json"))
HAVE_SCAN = importlib.util.find_spec("verifier.scan") is not None

#: Reason codes that no text input can produce: base classes never raised as such, image
#: decoding, and a missing trust list file (trust_dir's concern, before any input).
NOT_FROM_TEXT = frozenset(
    {
        "error",
        "input_rejected",
        "key_rejected",
        "claims_rejected",
        "cannot_verify",
        "trust_list_rejected",
        "trust_list_missing",
        "status_unavailable",
        "not_an_image",
        "image_too_large",
        "no_qr_found",
        "multiple_credentials",
    }
)
IMAGE_REASONS = frozenset(
    {"not_an_image", "image_too_large", "no_qr_found", "multiple_credentials"}
)


def _load(path: Path) -> dict[str, object]:
    case = json.loads(path.read_text())
    assert isinstance(case, dict)
    return case


def run_case(case: dict[str, object]) -> VerificationResult:
    """Verify a case the way a verifier holding its trust list would."""
    try:
        trust = TrustList.from_jws(
            (TRUST_DIR / str(case.get("trust_list", "trustlist.jwt"))).read_bytes(),
            anchor(),
            min_sequence=int(case.get("min_sequence", 0)),  # type: ignore[call-overload]
        )
    except errors.TrustListRejected as error:
        return VerificationResult.from_error(error)
    now = at(str(case["now"]))
    status = StatusStore(TRUST_DIR, trust)
    if "input_file" in case:
        return verify(IMAGES_DIR / str(case["input_file"]), trust, status=status, now=now)
    return verify(str(case["input"]), trust, status=status, now=now)


@pytest.mark.parametrize("path", CASE_FILES, ids=[path.stem for path in CASE_FILES])
def test_vector(path: Path) -> None:
    case = _load(path)
    if "input_file" in case and not HAVE_SCAN:
        pytest.skip("verifier.scan is not there yet")
    expected = case["expected"]
    assert isinstance(expected, dict)
    result = run_case(case)
    assert (result.status.value, result.reason) == (expected["status"], expected["reason"])
    if expected["status"] == "VALID":
        assert result.credential is not None
        assert result.credential.credential_id == expected["credential_id"]
        assert result.credential.benefit.code == expected["benefit"]
        assert result.credential.issuer.issuer_id == expected["issuer"]
    else:
        assert result.credential is None


def test_case_files_are_well_formed() -> None:
    assert len(CASE_FILES) >= 100
    for path in CASE_FILES:
        case = _load(path)
        assert set(case) <= {
            "description",
            "input",
            "input_file",
            "trust_list",
            "min_sequence",
            "now",
            "expected",
        }, path.name
        assert ("input" in case) != ("input_file" in case), path.name
        assert isinstance(case["description"], str) and case["description"], path.name
        assert at(str(case["now"])).utcoffset() is not None
        expected = case["expected"]
        assert isinstance(expected, dict)
        assert expected["status"] in {"VALID", "INVALID", "INDETERMINATE"}, path.name
        if expected["status"] == "VALID":
            assert set(expected) == {"status", "reason", "credential_id", "benefit", "issuer"}


def test_every_text_reason_has_a_vector() -> None:
    covered = {str(_load(path)["expected"]["reason"]) for path in CASE_FILES}  # type: ignore[index]
    required = (
        reasons_under(errors.PlainclaimError) - reasons_under(errors.UsageError) - NOT_FROM_TEXT
    )
    required.add("valid")
    assert required - covered == set()


def test_every_image_reason_has_a_vector() -> None:
    image_cases = [_load(path) for path in CASE_FILES if "input_file" in _load(path)]
    covered = {str(case["expected"]["reason"]) for case in image_cases}  # type: ignore[index]
    assert IMAGE_REASONS | {"valid"} <= covered
