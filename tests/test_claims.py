"""The closed claim set of format 1: building, round trips, and every validation."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.vectorlib import DROP, EXP, NBF, claims, public_key
from verifier import errors
from verifier.claims import (
    ALLOWED_CLAIMS,
    MAX_STATUS_INDEX,
    MAX_STATUS_LIST_ID,
    MAX_TIMESTAMP,
    REQUIRED_CLAIMS,
    CredentialClaims,
    StatusRef,
)
from verifier.keys import public_key_to_jwk

HOLDER = public_key_to_jwk(public_key("rogue"))


def make(**changes: object) -> CredentialClaims:
    """Default claims (mosa, heating-2027) with fields replaced."""
    fields: dict[str, object] = {
        "issuer_id": "mosa",
        "benefit": "heating-2027",
        "not_before": NBF,
        "expires": EXP,
        "credential_id": "A" * 22,
        "status": StatusRef(1, 42),
        "holder_jwk": None,
    }
    fields.update(changes)
    return CredentialClaims(**fields)  # type: ignore[arg-type]


def test_to_payload_order_and_content() -> None:
    payload = make().to_payload()
    assert list(payload) == ["iss", "ben", "nbf", "exp", "jti", "st"]
    assert payload == {
        "iss": "mosa",
        "ben": "heating-2027",
        "nbf": NBF,
        "exp": EXP,
        "jti": "A" * 22,
        "st": [1, 42],
    }


def test_round_trip() -> None:
    made = make()
    assert CredentialClaims.from_payload(made.to_payload()) == made


def test_round_trip_with_holder_key() -> None:
    made = make(holder_jwk=HOLDER)
    payload = made.to_payload()
    assert payload["cnf"] == {"jwk": HOLDER}
    assert CredentialClaims.from_payload(payload) == made


def test_claims_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        make().benefit = "x"  # type: ignore[misc]


def test_claim_sets() -> None:
    assert REQUIRED_CLAIMS == ("iss", "ben", "nbf", "exp", "jti", "st")
    assert frozenset({*REQUIRED_CLAIMS, "cnf"}) == ALLOWED_CLAIMS


issuer_ids = st.from_regex(r"[a-z0-9][a-z0-9-]{0,31}", fullmatch=True)
benefits = st.from_regex(r"[a-z0-9][a-z0-9-]{0,47}", fullmatch=True)
credential_ids = st.from_regex(r"[A-Za-z0-9_-]{16,43}", fullmatch=True)


@settings(max_examples=200)
@given(
    issuer_ids,
    benefits,
    st.integers(0, MAX_TIMESTAMP - 1),
    st.integers(1, MAX_TIMESTAMP),
    credential_ids,
    st.integers(0, MAX_STATUS_LIST_ID),
    st.integers(0, MAX_STATUS_INDEX),
)
def test_round_trip_property(
    issuer: str, benefit: str, nbf: int, span: int, jti: str, list_id: int, index: int
) -> None:
    exp = min(nbf + span, MAX_TIMESTAMP)
    made = make(
        issuer_id=issuer,
        benefit=benefit,
        not_before=nbf,
        expires=exp,
        credential_id=jti,
        status=StatusRef(list_id, index),
    )
    assert CredentialClaims.from_payload(made.to_payload()) == made


# from_payload: the closed set


@pytest.mark.parametrize("name", ["iat", "sub", "name", "score", "nationalId", "ISS", ""])
def test_unknown_claim(name: str) -> None:
    with pytest.raises(errors.UnknownClaim):
        CredentialClaims.from_payload(claims(**{name: 1}))


@pytest.mark.parametrize("name", REQUIRED_CLAIMS)
def test_missing_claim(name: str) -> None:
    with pytest.raises(errors.MissingClaim):
        CredentialClaims.from_payload(claims(**{name: DROP}))


def test_unknown_is_reported_before_missing() -> None:
    with pytest.raises(errors.UnknownClaim):
        CredentialClaims.from_payload({"name": "x"})


def test_empty_payload() -> None:
    with pytest.raises(errors.MissingClaim):
        CredentialClaims.from_payload({})


# each claim


@pytest.mark.parametrize(
    "value", ["", "MOSA", "-mosa", "mo sa", "mosa_", "a" * 33, "mösa", 7, None, ["mosa"]]
)
def test_issuer_id_form(value: object) -> None:
    with pytest.raises(errors.ClaimType):
        CredentialClaims.from_payload(claims(iss=value))


@pytest.mark.parametrize("value", ["a", "0", "a" * 32, "city-2"])
def test_issuer_id_accepted(value: str) -> None:
    assert make(issuer_id=value).issuer_id == value


@pytest.mark.parametrize(
    "value", ["", "Heating", "-x", "x_y", "x.y", "b" * 49, 2027, None, {"code": "x"}]
)
def test_benefit_form(value: object) -> None:
    with pytest.raises(errors.ClaimType):
        CredentialClaims.from_payload(claims(ben=value))


def test_benefit_longest() -> None:
    assert make(benefit="b" * 48).benefit == "b" * 48


@pytest.mark.parametrize("name", ["nbf", "exp"])
@pytest.mark.parametrize(
    "value", [str(NBF), float(NBF), NBF + 0.5, True, False, None, -1, [NBF], {"t": NBF}]
)
def test_timestamp_types(name: str, value: object) -> None:
    payload = claims(**{name: value})
    with pytest.raises(errors.ClaimType):
        CredentialClaims.from_payload(payload)


@pytest.mark.parametrize("value", [MAX_TIMESTAMP + 1, EXP * 1000, 10**100])
def test_timestamp_milliseconds(value: int) -> None:
    with pytest.raises(errors.TimestampInMilliseconds):
        CredentialClaims.from_payload(claims(exp=value))


def test_timestamp_bounds_accepted() -> None:
    made = make(not_before=0, expires=MAX_TIMESTAMP)
    assert (made.not_before, made.expires) == (0, MAX_TIMESTAMP)


@pytest.mark.parametrize(("nbf", "exp"), [(NBF, NBF), (NBF, NBF - 1), (EXP, NBF), (1, 0)])
def test_validity_window(nbf: int, exp: int) -> None:
    with pytest.raises(errors.ValidityWindowInvalid):
        make(not_before=nbf, expires=exp)


def test_shortest_window() -> None:
    assert make(not_before=NBF, expires=NBF + 1).expires == NBF + 1


@pytest.mark.parametrize(
    "value", ["A" * 15, "A" * 44, "A" * 21 + "=", "A" * 21 + "+", "A" * 21 + " ", "", 12345, None]
)
def test_credential_id_form(value: object) -> None:
    with pytest.raises(errors.ClaimType):
        CredentialClaims.from_payload(claims(jti=value))


@pytest.mark.parametrize("value", ["A" * 16, "A" * 43, "a-_Z09" * 3])
def test_credential_id_accepted(value: str) -> None:
    assert make(credential_id=value).credential_id == value


@pytest.mark.parametrize(
    "value",
    [
        [1],
        [1, 2, 3],
        [],
        [1, -1],
        [-1, 1],
        [MAX_STATUS_LIST_ID + 1, 0],
        [0, MAX_STATUS_INDEX + 1],
        [1, True],
        [False, 1],
        [1.0, 2],
        ["1", 2],
        [None, 2],
        {"list": 1, "index": 2},
        "1/2",
        7,
        None,
    ],
)
def test_status_reference_form(value: object) -> None:
    with pytest.raises(errors.ClaimType):
        CredentialClaims.from_payload(claims(st=value))


def test_status_reference_bounds_accepted() -> None:
    made = make(status=StatusRef(MAX_STATUS_LIST_ID, MAX_STATUS_INDEX))
    assert made.status == StatusRef(MAX_STATUS_LIST_ID, MAX_STATUS_INDEX)
    assert make(status=StatusRef(0, 0)).status == StatusRef(0, 0)


def test_status_must_be_a_status_ref() -> None:
    with pytest.raises(errors.ClaimType):
        make(status=(1, 42))


@pytest.mark.parametrize(
    "cnf",
    [
        "key",
        [],
        {},
        {"jwk": HOLDER, "kid": "x"},
        {"kid": "x"},
        {"jwk": "x"},
        {"jwk": None},  # must not read as "no holder binding", which would pass
        {"jwk": {**HOLDER, "d": "secret"}},
        {"jwk": {k: v for k, v in HOLDER.items() if k != "y"}},
        {"jwk": {**HOLDER, "kty": "RSA"}},
        {"jwk": {**HOLDER, "crv": "P-384"}},
        {"jwk": {**HOLDER, "x": HOLDER["x"][:-1]}},
        {"jwk": {**HOLDER, "x": HOLDER["x"] + "A"}},
        {"jwk": {**HOLDER, "y": 7}},
        {"jwk": {**HOLDER, "x": "+" * 43}},
    ],
)
def test_holder_key_form(cnf: object) -> None:
    with pytest.raises(errors.ClaimType):
        CredentialClaims.from_payload(claims(cnf=cnf))


def test_holder_key_null_is_refused() -> None:
    # A present claim is checked even when null: "cnf": null is not "no holder binding".
    with pytest.raises(errors.ClaimType):
        CredentialClaims.from_payload(claims(cnf=None))


def test_each_check_raises_claims_rejected() -> None:
    for payload in (claims(iss=1), claims(x=1), claims(exp=DROP), claims(exp=NBF)):
        with pytest.raises(errors.ClaimsRejected):
            CredentialClaims.from_payload(payload)
