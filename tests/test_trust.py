"""Trust lists: the pinned anchor, building, signing, verifying, and every malformed case."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.vectorlib import (
    ANCHOR_KID,
    TRUST_DIR,
    anchor,
    b64u,
    craft,
    es256_der,
    json_bytes,
    private_key,
    public_key,
    split,
    trust_list,
    trust_list_token,
    ts,
)
from verifier import errors
from verifier.jws import CREDENTIAL_TYP, TRUST_LIST_TYP, sign_compact
from verifier.keys import public_key_to_jwk
from verifier.trust import (
    MAX_TRUST_LIST_BYTES,
    AnchorKey,
    TrustedIssuer,
    TrustedKey,
    TrustList,
)
from verifier.trust_dir import (
    ANCHOR_FILE,
    STATE_FILE,
    TRUST_LIST_FILE,
    highest_sequence_seen,
    load_anchor,
    load_trust_list,
    load_trust_store,
)

IAT = ts("2027-01-01T00:00:00Z")
EXP = ts("2028-01-01T00:00:00Z")
ANCHOR_JWK = json.loads((TRUST_DIR / "anchor.jwk").read_text())


def key(kid: str, issuer: str, nbf: int = IAT, exp: int = EXP) -> TrustedKey:
    return TrustedKey(kid, issuer, "ES256", public_key(kid), nbf, exp)


def small_list(sequence: int = 3) -> TrustList:
    mosa = TrustedIssuer(
        "mosa",
        "Ministry",
        {"mosa-1": key("mosa-1", "mosa")},
        {"heating-2027": "Heating"},
        "https://s.example/{list}",
    )
    city = TrustedIssuer("city", "City", {"city-1": key("city-1", "city")}, {"bus": "Bus"})
    return TrustList.build(
        authority="authority",
        sequence=sequence,
        issued_at=IAT,
        expires_at=EXP,
        issuers=[mosa, city],
    )


def sign(payload: dict[str, object], typ: str = TRUST_LIST_TYP) -> str:
    return sign_compact(payload, private_key("anchor"), ANCHOR_KID, typ)


def signed_variant(change: Callable[[dict[str, object]], object]) -> str:
    """The small list's payload, changed in place by ``change``, signed by the anchor."""
    payload = copy.deepcopy(small_list().to_payload())
    change(payload)
    return sign(payload)


# the anchor


def test_anchor_round_trip() -> None:
    pinned = AnchorKey.from_jwk(ANCHOR_JWK)
    assert pinned.kid == ANCHOR_KID
    assert pinned.to_jwk() == ANCHOR_JWK
    assert AnchorKey.from_jwk({k: v for k, v in ANCHOR_JWK.items() if k != "alg"}).kid


@pytest.mark.parametrize(
    "change",
    [
        {"kid": None},
        {"kid": 1},
        {"kid": "../anchor"},
        {"alg": "ES384"},
        {"alg": "HS256"},
        {"kty": "RSA"},
        {"crv": "P-384"},
        {"d": "c2VjcmV0"},
        {"x": None},
        {"y": 7},
        {"x": "AAAA"},
        {"x": ANCHOR_JWK["y"]},  # a point off the curve
        {"x": "A" * 43},
        {"x": "é" * 43},
        {"x": ANCHOR_JWK["x"] + "="},
    ],
    ids=lambda change: "-".join(f"{k}={str(v)[:8]}" for k, v in change.items()),
)
def test_anchor_refusals(change: dict[str, object]) -> None:
    jwk = {**ANCHOR_JWK, **change}
    jwk = {k: v for k, v in jwk.items() if v is not None}
    with pytest.raises(errors.PlainclaimError) as raised:
        AnchorKey.from_jwk(jwk)
    assert isinstance(raised.value, errors.TrustListMalformed | errors.InvalidKid)


def test_anchor_non_canonical_coordinate() -> None:
    x = ANCHOR_JWK["x"]
    # 43 characters carry 258 bits for 256: the last character's low 2 bits must be zero.
    siblings = [c for c in "ABCD" if c != x[-1]] if x[-1] in "ABCD" else []
    for sibling in siblings:
        with pytest.raises(errors.TrustListMalformed):
            AnchorKey.from_jwk({**ANCHOR_JWK, "x": x[:-1] + sibling})


# building and signing


def test_build_to_payload_from_payload() -> None:
    built = small_list()
    assert TrustList.from_payload(built.to_payload()) == built
    assert set(built.keys_by_kid) == {"mosa-1", "city-1"}
    assert built.keys_by_kid["city-1"].issuer_id == "city"


def test_sign_and_verify() -> None:
    built = small_list()
    loaded = TrustList.from_jws(sign(built.to_payload()), anchor())
    assert loaded == built
    assert loaded.issuers["mosa"].may_vouch_for("heating-2027")
    assert not loaded.issuers["mosa"].may_vouch_for("bus")
    assert loaded.issuers["mosa"].status_list_uri(12) == "https://s.example/12"
    assert loaded.issuers["city"].status_list_uri(1) is None


def test_str_bytes_and_surrounding_whitespace() -> None:
    token = sign(small_list().to_payload())
    for form in (token, token.encode(), f"\n{token}\n", f"{token}\r\n".encode()):
        assert TrustList.from_jws(form, anchor()).sequence == 3


def test_the_vector_trust_list() -> None:
    listed = trust_list()
    assert listed.sequence == 7
    assert set(listed.issuers) == {"mosa", "city"}
    assert set(listed.issuers["mosa"].keys) == {"mosa-0", "mosa-1", "mosa-2"}
    assert set(listed.issuers["mosa"].benefits) == {"heating-2027", "child-allowance"}
    assert set(listed.issuers["city"].benefits) == {"transport-discount"}
    now = datetime(2027, 3, 15, 12, tzinfo=UTC).timestamp()
    assert not listed.keys_by_kid["mosa-0"].is_valid_at(now)
    assert listed.keys_by_kid["mosa-1"].is_valid_at(now)
    assert not listed.keys_by_kid["mosa-2"].is_valid_at(now)
    assert all(issuer.status_uri for issuer in listed.issuers.values())


def test_key_window_is_inclusive() -> None:
    k = key("mosa-1", "mosa", nbf=100, exp=200)
    assert [k.is_valid_at(t) for t in (99, 99.999, 100, 200, 200.001, 201)] == [
        False,
        False,
        True,
        True,
        False,
        False,
    ]


def test_key_to_jwk() -> None:
    jwk = key("mosa-1", "mosa").to_jwk()
    assert jwk == {
        **public_key_to_jwk(public_key("mosa-1")),
        "kid": "mosa-1",
        "use": "sig",
        "alg": "ES256",
        "nbf": IAT,
        "exp": EXP,
    }


def test_expiry_with_leeway() -> None:
    built = small_list()
    assert not built.is_expired_at(EXP)
    assert built.is_expired_at(EXP + 1)
    assert not built.is_expired_at(EXP + 300, leeway_seconds=300)
    assert built.is_expired_at(EXP + 300.5, leeway_seconds=300)
    assert built.expires == datetime.fromtimestamp(EXP, UTC)


# from_jws refusals


def test_rollback() -> None:
    token = sign(small_list(sequence=3).to_payload())
    assert TrustList.from_jws(token, anchor(), min_sequence=3).sequence == 3
    with pytest.raises(errors.TrustListRollback):
        TrustList.from_jws(token, anchor(), min_sequence=4)


def test_too_large() -> None:
    with pytest.raises(errors.TrustListMalformed):
        TrustList.from_jws(b"A" * (MAX_TRUST_LIST_BYTES + 1), anchor())


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a jws",
        "a.b",
        "a.b.c",
        sign({"a": 1}, typ=CREDENTIAL_TYP),
        craft({"alg": "none", "kid": ANCHOR_KID, "typ": TRUST_LIST_TYP}, {"a": 1}, signer=None),
        craft(
            {"alg": "ES256", "kid": ANCHOR_KID, "typ": TRUST_LIST_TYP, "jwk": {}},
            {"a": 1},
            signer="anchor",
        ),
        craft(
            b'{"alg":"ES256","kid":"x","kid":"anchor-1","typ":"pc1-trust+jwt"}',
            {"a": 1},
            signer="anchor",
        ),
        craft({"alg": "ES256", "kid": ANCHOR_KID}, {"a": 1}, signer="anchor"),
    ],
    ids=[
        "empty",
        "text",
        "two-segments",
        "garbage",
        "credential-typ",
        "alg-none",
        "jwk-header",
        "duplicate-kid",
        "no-typ",
    ],
)
def test_malformed_envelope(token: str) -> None:
    with pytest.raises(errors.TrustListMalformed):
        TrustList.from_jws(token, anchor())


def _resigned(payload: bytes, *, kid: str = ANCHOR_KID, signer: str = "anchor") -> str:
    return craft({"alg": "ES256", "kid": kid, "typ": TRUST_LIST_TYP}, payload, signer=signer)


def test_bad_signatures() -> None:
    token = trust_list_token()
    h, p, s = split(token)
    payload = json_bytes(trust_list().to_payload())
    der = es256_der("anchor", f"{h}.{p}".encode())
    flipped = bytearray(split(token)[2].encode())
    flipped[5] = ord("A") if flipped[5] != ord("A") else ord("B")
    forged = [
        trust_list_token("trustlist-bad-signature.jwt"),
        _resigned(payload, signer="mosa-1"),
        _resigned(payload, kid="anchor-2"),
        _resigned(payload, kid="mosa-1", signer="mosa-1"),
        f"{h}.{p}.{b64u(der)}",
        f"{h}.{p}.{flipped.decode()}",
        f"{h}.{b64u(payload.replace(b'heating-2027', b'heating-2099'))}.{s}",
        craft({"alg": "ES384", "kid": ANCHOR_KID, "typ": TRUST_LIST_TYP}, payload, signer="anchor"),
    ]
    for token in forged:
        with pytest.raises(errors.TrustListSignatureInvalid):
            TrustList.from_jws(token, anchor())


def test_expired_list_loads_and_reports_its_expiry() -> None:
    # Expiry is the verifier's decision at a given time (verify() says trust_list_expired).
    expired = TrustList.from_jws(trust_list_token("trustlist-expired.jwt"), anchor())
    assert expired.is_expired_at(datetime(2027, 3, 15, tzinfo=UTC).timestamp())


def test_vector_rollback_list() -> None:
    with pytest.raises(errors.TrustListRollback):
        TrustList.from_jws(trust_list_token("trustlist-seq6.jwt"), anchor(), min_sequence=7)


# payload refusals


def _issuer(payload: dict[str, object], index: int = 0) -> dict[str, object]:
    return payload["issuers"][index]  # type: ignore[index,no-any-return]


def _key(payload: dict[str, object]) -> dict[str, object]:
    return _issuer(payload)["keys"][0]  # type: ignore[index,no-any-return]


def _benefit(payload: dict[str, object]) -> dict[str, object]:
    return _issuer(payload)["benefits"][0]  # type: ignore[index,no-any-return]


def _set(getter: Callable[[dict[str, object]], dict[str, object]], **values: object):  # type: ignore[no-untyped-def]
    def change(payload: dict[str, object]) -> None:
        target = getter(payload)
        for name, value in values.items():
            if value is _DROP:
                target.pop(name, None)
            else:
                target[name] = value

    return change


_DROP = object()


def _top(payload: dict[str, object]) -> dict[str, object]:
    return payload


MALFORMED = {
    "extra-top-field": _set(_top, sig="x"),
    "iss-missing": _set(_top, iss=_DROP),
    "iss-empty": _set(_top, iss=""),
    "iss-long": _set(_top, iss="a" * 201),
    "iss-number": _set(_top, iss=1),
    "seq-negative": _set(_top, seq=-1),
    "seq-bool": _set(_top, seq=True),
    "seq-float": _set(_top, seq=3.0),
    "seq-huge": _set(_top, seq=2**53 + 1),
    "seq-missing": _set(_top, seq=_DROP),
    "iat-string": _set(_top, iat="2027"),
    "iat-milliseconds": _set(_top, iat=IAT * 1000),
    "exp-equal-iat": _set(_top, exp=IAT),
    "exp-before-iat": _set(_top, exp=IAT - 1),
    "issuers-missing": _set(_top, issuers=_DROP),
    "issuers-object": _set(_top, issuers={"mosa": {}}),
    "issuer-not-object": _set(_top, issuers=["mosa"]),
    "issuer-extra-field": _set(_issuer, rating=5),
    "issuer-id-upper-case": _set(_issuer, id="MOSA"),
    "issuer-id-path": _set(_issuer, id="../mosa"),
    "issuer-id-long": _set(_issuer, id="a" * 33),
    "issuer-name-missing": _set(_issuer, name=_DROP),
    "issuer-name-empty": _set(_issuer, name=""),
    "issuer-keys-object": _set(_issuer, keys={}),
    "issuer-benefits-missing": _set(_issuer, benefits=_DROP),
    "status-uri-no-placeholder": _set(_issuer, status_uri="https://s.example/1"),
    "status-uri-number": _set(_issuer, status_uri=1),
    "status-uri-empty": _set(_issuer, status_uri=""),
    "key-not-object": _set(_issuer, keys=["mosa-1"]),
    "key-extra-field": _set(_key, x5c=["x"]),
    "key-private-member": _set(_key, d="c2VjcmV0"),
    "key-kid-path": _set(_key, kid="../mosa-1"),
    "key-kid-missing": _set(_key, kid=_DROP),
    "key-use-enc": _set(_key, use="enc"),
    "key-use-missing": _set(_key, use=_DROP),
    "key-alg-es384": _set(_key, alg="ES384"),
    "key-alg-hs256": _set(_key, alg="HS256"),
    "key-alg-missing": _set(_key, alg=_DROP),
    "key-kty-rsa": _set(_key, kty="RSA"),
    "key-crv-p384": _set(_key, crv="P-384"),
    "key-x-short": _set(_key, x="AAAA"),
    "key-off-curve": _set(_key, x="A" * 43),
    "key-nbf-missing": _set(_key, nbf=_DROP),
    "key-nbf-float": _set(_key, nbf=float(IAT)),
    "key-exp-equal-nbf": _set(_key, exp=IAT),
    "key-exp-milliseconds": _set(_key, exp=EXP * 1000),
    "benefit-not-object": _set(_issuer, benefits=["heating-2027"]),
    "benefit-extra-field": _set(_benefit, amount=100),
    "benefit-code-upper-case": _set(_benefit, code="Heating"),
    "benefit-code-long": _set(_benefit, code="b" * 49),
    "benefit-name-missing": _set(_benefit, name=_DROP),
    "benefit-name-long": _set(_benefit, name="n" * 201),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_payload(name: str) -> None:
    token = signed_variant(MALFORMED[name])
    with pytest.raises(errors.TrustListMalformed):
        TrustList.from_jws(token, anchor())


def test_duplicate_issuer() -> None:
    def change(payload: dict[str, object]) -> None:
        payload["issuers"].append(copy.deepcopy(_issuer(payload)))  # type: ignore[attr-defined]
        _issuer(payload, 1)["keys"] = []

    with pytest.raises(errors.TrustListMalformed):
        TrustList.from_jws(signed_variant(change), anchor())


def test_duplicate_kid_across_issuers() -> None:
    def change(payload: dict[str, object]) -> None:
        _issuer(payload, 1)["keys"] = [copy.deepcopy(_key(payload))]

    with pytest.raises(errors.TrustListMalformed):
        TrustList.from_jws(signed_variant(change), anchor())


def test_duplicate_kid_within_one_issuer() -> None:
    def change(payload: dict[str, object]) -> None:
        other = {
            **public_key_to_jwk(public_key("rogue")),
            **{k: _key(payload)[k] for k in ("kid", "use", "alg", "nbf", "exp")},
        }
        _issuer(payload)["keys"].append(other)  # type: ignore[attr-defined]

    with pytest.raises(errors.TrustListMalformed):
        TrustList.from_jws(signed_variant(change), anchor())


def test_duplicate_benefit_within_one_issuer() -> None:
    def change(payload: dict[str, object]) -> None:
        _issuer(payload)["benefits"].append({**_benefit(payload), "name": "Other"})  # type: ignore[attr-defined]

    with pytest.raises(errors.TrustListMalformed):
        TrustList.from_jws(signed_variant(change), anchor())


def test_empty_lists_are_allowed() -> None:
    def change(payload: dict[str, object]) -> None:
        payload["issuers"] = []

    assert TrustList.from_jws(signed_variant(change), anchor()).issuers == {}


@pytest.mark.parametrize("payload", [b"[]", b'"x"', b"{}", b'{"iss":"a","iss":"b"}'])
def test_payload_not_a_trust_list(payload: bytes) -> None:
    with pytest.raises(errors.TrustListMalformed):
        TrustList.from_jws(_resigned(payload), anchor())


# the trust directory


@pytest.fixture
def trust_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "trust"
    directory.mkdir()
    shutil.copy(TRUST_DIR / "anchor.jwk", directory / ANCHOR_FILE)
    shutil.copy(TRUST_DIR / "trustlist.jwt", directory / TRUST_LIST_FILE)
    shutil.copytree(TRUST_DIR / "status", directory / "status")
    return directory


def test_load_and_remember(trust_dir: Path) -> None:
    assert highest_sequence_seen(trust_dir) == 0
    assert load_trust_list(trust_dir).sequence == 7
    assert highest_sequence_seen(trust_dir) == 7
    assert json.loads((trust_dir / STATE_FILE).read_text()) == {"trust_list_sequence": 7}


def test_load_without_remembering(trust_dir: Path) -> None:
    load_trust_list(trust_dir, remember=False)
    assert not (trust_dir / STATE_FILE).exists()


def test_load_trust_store(trust_dir: Path) -> None:
    store = load_trust_store(trust_dir)
    assert store.trust_list.sequence == 7
    assert len(store.status.status_list("mosa", 1).status_list) == 1024


def test_rollback_through_the_state_file(trust_dir: Path) -> None:
    load_trust_list(trust_dir)
    shutil.copy(TRUST_DIR / "trustlist-seq6.jwt", trust_dir / TRUST_LIST_FILE)
    with pytest.raises(errors.TrustListRollback):
        load_trust_list(trust_dir)
    assert highest_sequence_seen(trust_dir) == 7


def test_missing_trust_list(trust_dir: Path) -> None:
    (trust_dir / TRUST_LIST_FILE).unlink()
    with pytest.raises(errors.TrustListMissing):
        load_trust_list(trust_dir)


def test_trust_list_that_is_a_directory(trust_dir: Path) -> None:
    (trust_dir / TRUST_LIST_FILE).unlink()
    (trust_dir / TRUST_LIST_FILE).mkdir()
    with pytest.raises(errors.TrustListMissing):
        load_trust_list(trust_dir)


@pytest.mark.parametrize(
    "content",
    [None, b"", b"{", b"[]", b'{"kid":"anchor-1"}', b"\xff\xfe", b" " * (64 * 1024 + 1)],
    ids=["missing", "empty", "broken", "array", "no-key", "not-utf8", "too-large"],
)
def test_bad_anchor_file(trust_dir: Path, content: bytes | None) -> None:
    path = trust_dir / ANCHOR_FILE
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)
    with pytest.raises(errors.ConfigurationError):
        load_anchor(trust_dir)


def test_anchor_of_another_authority(trust_dir: Path) -> None:
    jwk = {**public_key_to_jwk(public_key("rogue")), "kid": ANCHOR_KID}
    (trust_dir / ANCHOR_FILE).write_text(json.dumps(jwk))
    with pytest.raises(errors.TrustListSignatureInvalid):
        load_trust_list(trust_dir)


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"[]", b"{}", b'{"trust_list_sequence":-1}', b'{"trust_list_sequence":true}'],
)
def test_bad_state_file(trust_dir: Path, content: bytes) -> None:
    (trust_dir / STATE_FILE).write_bytes(content)
    with pytest.raises(errors.ConfigurationError):
        load_trust_list(trust_dir)


@pytest.mark.parametrize("name", [ANCHOR_FILE, STATE_FILE])
def test_deeply_nested_local_file(trust_dir: Path, name: str) -> None:
    (trust_dir / name).write_bytes(b"[" * 50_000)
    with pytest.raises(errors.ConfigurationError):
        load_trust_list(trust_dir)


def test_one_key_under_two_kids_is_refused() -> None:
    key = public_key("mosa-1")
    first = TrustedKey("mosa-1", "mosa", "ES256", key, 0, 2_000_000_000)
    second = TrustedKey("city-9", "city", "ES256", key, 0, 2_000_000_000)
    issuers = [
        TrustedIssuer("mosa", "Ministry", {"mosa-1": first}, {"heating-2027": "Heating"}),
        TrustedIssuer("city", "City", {"city-9": second}, {"transport-discount": "Transport"}),
    ]
    with pytest.raises(errors.TrustListMalformed):
        TrustList.build(authority="demo", sequence=1, issued_at=1, expires_at=2, issuers=issuers)
