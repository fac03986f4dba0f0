"""The strict JWS profile: parsing, the header rules, base64url, JSON, signing and checking."""

from __future__ import annotations

import base64
import contextlib
import json
import string
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.vectorlib import (
    DROP,
    b64u,
    claims,
    craft,
    credential_token,
    es256_der,
    header,
    private_key,
    public_key,
    split,
)
from verifier import errors
from verifier.jws import (
    ALLOWED_HEADER_FIELDS,
    CREDENTIAL_TYP,
    SIGNATURE_BYTES,
    STATUS_LIST_TYP,
    TRUST_LIST_TYP,
    JwsHeader,
    UnverifiedJws,
    check_kid,
    parse_compact,
    sign_compact,
    verify_signature,
)

GENUINE = credential_token()
B64URL = string.ascii_letters + string.digits + "-_"


def parse(
    hdr: dict[str, object] | bytes,
    payload: dict[str, object] | bytes | None = None,
    typ: str = CREDENTIAL_TYP,
) -> UnverifiedJws:
    """Parse a crafted, genuinely signed token (header and payload as dicts or raw bytes)."""
    return parse_compact(craft(hdr, claims() if payload is None else payload), typ)


# parsing


def test_parse_genuine_token() -> None:
    jws = parse_compact(GENUINE, CREDENTIAL_TYP)
    assert jws.header == JwsHeader(alg="ES256", typ="pc1", kid="mosa-1")
    assert jws.unverified_payload == claims()
    h, p, s = split(GENUINE)
    assert jws.signing_input == f"{h}.{p}".encode()
    assert len(jws.signature) == SIGNATURE_BYTES
    assert b64u(jws.signature) == s


def test_str_and_bytes_parse_alike() -> None:
    assert parse_compact(GENUINE, CREDENTIAL_TYP) == parse_compact(GENUINE.encode(), CREDENTIAL_TYP)


def test_non_ascii_str_is_refused_as_base64() -> None:
    h, p, s = split(GENUINE)
    with pytest.raises(errors.Base64Invalid):
        parse_compact(f"{h}.{p}é.{s}", CREDENTIAL_TYP)


def test_typ_is_folded_to_lower_case() -> None:
    jws = parse(header(typ="Pc1"))
    assert jws.header.typ == "pc1"


def test_header_cache_keeps_the_expected_typ_apart() -> None:
    # The parsed-header cache is keyed on the segment *and* the expected typ.
    parse_compact(GENUINE, CREDENTIAL_TYP)
    with pytest.raises(errors.WrongTokenKind):
        parse_compact(GENUINE, TRUST_LIST_TYP)
    with pytest.raises(errors.WrongTokenKind):
        parse_compact(GENUINE, STATUS_LIST_TYP)
    assert parse_compact(GENUINE, CREDENTIAL_TYP).header.kid == "mosa-1"


@pytest.mark.parametrize("token", ["", "a", "a.b", "a.b.c.d", "....", GENUINE + "."])
def test_segment_count(token: str) -> None:
    with pytest.raises(errors.MalformedToken) as raised:
        parse_compact(token, CREDENTIAL_TYP)
    assert type(raised.value) is errors.MalformedToken


# base64url


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s + "=",
        lambda s: s + "==",
        lambda s: s[:3] + "+" + s[4:],
        lambda s: s[:3] + "/" + s[4:],
        lambda s: s[:3] + " " + s[4:],
        lambda s: s[:3] + "\n" + s[4:],
        lambda s: "",
        lambda s: s + "A" * ((1 - len(s)) % 4 or 4),
    ],
    ids=["pad1", "pad2", "plus", "slash", "space", "newline", "empty", "length-1-mod-4"],
)
@pytest.mark.parametrize("index", [0, 1, 2])
def test_base64_refusals(mangle: Callable[[str], str], index: int) -> None:
    segments = split(GENUINE)
    segments[index] = mangle(segments[index])
    with pytest.raises(errors.Base64Invalid):
        parse_compact(".".join(segments), CREDENTIAL_TYP)


@settings(max_examples=200)
@given(st.binary(min_size=1, max_size=80))
def test_each_byte_string_has_exactly_one_accepted_encoding(data: bytes) -> None:
    h, p, _ = split(GENUINE)
    encoded = b64u(data)
    assert parse_compact(f"{h}.{p}.{encoded}", CREDENTIAL_TYP).signature == data
    for sibling in B64URL:
        other = encoded[:-1] + sibling
        if other == encoded:
            continue
        if base64.urlsafe_b64decode(other + "=" * (-len(other) % 4)) == data:
            with pytest.raises(errors.Base64Invalid):
                parse_compact(f"{h}.{p}.{other}", CREDENTIAL_TYP)


def test_non_canonical_signature_encoding() -> None:
    h, p, s = split(GENUINE)
    assert len(s) % 4 == 2
    sibling = chr(ord(s[-1]) + 1)
    with pytest.raises(errors.Base64Invalid):
        parse_compact(f"{h}.{p}.{s[:-1]}{sibling}", CREDENTIAL_TYP)


# header


@pytest.mark.parametrize(
    "name", ["jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit", "zip", "cty", "b64", "x"]
)
def test_forbidden_header_fields(name: str) -> None:
    with pytest.raises(errors.ForbiddenHeader):
        parse(header(**{name: "x"}))


def test_forbidden_header_is_checked_first() -> None:
    with pytest.raises(errors.ForbiddenHeader):
        parse(header(alg="none", typ="JWT", jku="https://evil.example"))


def test_allowed_header_fields() -> None:
    assert frozenset({"alg", "typ", "kid"}) == ALLOWED_HEADER_FIELDS


@pytest.mark.parametrize("alg", [DROP, None, 256, ["ES256"]])
def test_alg_missing_or_not_a_string(alg: object) -> None:
    with pytest.raises(errors.MalformedToken) as raised:
        parse(header(alg=alg))
    assert type(raised.value) is errors.MalformedToken


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none(alg: str) -> None:
    with pytest.raises(errors.AlgorithmNone):
        parse(header(alg=alg))


def test_alg_none_is_checked_before_typ() -> None:
    with pytest.raises(errors.AlgorithmNone):
        parse(header(alg="none", typ="JWT"))


@pytest.mark.parametrize("alg", ["HS256", "ES384", "es256", "none "])
def test_other_algs_parse_and_fail_at_the_signature(alg: str) -> None:
    jws = parse_compact(craft(header(alg=alg), claims()), CREDENTIAL_TYP)
    with pytest.raises(errors.AlgorithmMismatch):
        verify_signature(jws, public_key("mosa-1"), "ES256")


@pytest.mark.parametrize("typ", [DROP, None, 1, "", "JWT", "application/pc1", "pc1 "])
def test_wrong_type(typ: object) -> None:
    with pytest.raises(errors.WrongType) as raised:
        parse(header(typ=typ))
    assert type(raised.value) is errors.WrongType


@pytest.mark.parametrize(
    ("typ", "expected"),
    [
        (TRUST_LIST_TYP, CREDENTIAL_TYP),
        (STATUS_LIST_TYP, CREDENTIAL_TYP),
        (CREDENTIAL_TYP, TRUST_LIST_TYP),
        ("PC1", STATUS_LIST_TYP),
        ("PC1-Trust+JWT", CREDENTIAL_TYP),
    ],
)
def test_wrong_token_kind(typ: str, expected: str) -> None:
    with pytest.raises(errors.WrongTokenKind):
        parse(header(typ=typ), typ=expected)


@pytest.mark.parametrize("kid", [DROP, None, 7, ["mosa-1"]])
def test_kid_missing_or_not_a_string(kid: object) -> None:
    with pytest.raises(errors.UnknownKey):
        parse(header(kid=kid))


def test_parse_leaves_the_kid_form_to_check_kid() -> None:
    jws = parse(header(kid="../x"))
    with pytest.raises(errors.InvalidKid):
        check_kid(jws.header.kid)


@pytest.mark.parametrize("kid", ["a", "mosa-1", "A_b-9", "x" * 64])
def test_check_kid_accepts(kid: str) -> None:
    check_kid(kid)


@pytest.mark.parametrize(
    "kid", ["", "x" * 65, "../a", "a b", "a.b", "a/b", "a\x00", "ä", "a\n", "a'--", "١"]
)
def test_check_kid_refuses(kid: str) -> None:
    with pytest.raises(errors.InvalidKid):
        check_kid(kid)


# JSON


@pytest.mark.parametrize(
    "payload",
    [
        b'{"a":1,"a":1}',
        b'{"a":1,"b":{"c":1,"c":2}}',
        b'{"a":[{"c":1,"c":2}]}',
        b'{"a":1,"\\u0061":2}',
    ],
)
def test_duplicate_keys_anywhere(payload: bytes) -> None:
    with pytest.raises(errors.DuplicateJsonKey):
        parse(header(), payload)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":-Infinity}',
        b'{"a":1',
        b"{'a':1}",
        b'{"a":1,}',
        b"[]",
        b"1",
        b'"a"',
        b"null",
        b"\xef\xbb\xbf{}",
        '{"a":1}'.encode("utf-16"),
        '{"a":1}'.encode("utf-32"),
        b'{"a":"\xff"}',
        b'{"a":"\xc0\x80"}',
        b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"a":' + b"1" * 5000 + b"}",
        b"{} {}",
    ],
    ids=[
        "nan",
        "infinity",
        "-infinity",
        "unclosed",
        "single-quotes",
        "trailing-comma",
        "array",
        "number",
        "string",
        "null",
        "utf8-bom",
        "utf16",
        "utf32",
        "invalid-utf8",
        "overlong-nul",
        "deep-nesting",
        "5000-digit-integer",
        "two-documents",
    ],
)
def test_json_refusals(payload: bytes) -> None:
    with pytest.raises(errors.JsonInvalid):
        parse(header(), payload)


def test_json_accepts_whitespace_and_escapes() -> None:
    jws = parse(header(), b' { "iss" : "mos\\u0061" } ')
    assert jws.unverified_payload == {"iss": "mosa"}


def test_json_big_but_bounded_integers_parse() -> None:
    jws = parse(header(), b'{"a":' + b"9" * 4000 + b"}")
    assert jws.unverified_payload["a"] == int("9" * 4000)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_malformed_token(data: bytes) -> None:
    with contextlib.suppress(errors.MalformedToken):
        parse_compact(data, CREDENTIAL_TYP)


@settings(max_examples=300)
@given(st.lists(st.text(alphabet=B64URL, max_size=60), min_size=3, max_size=3))
def test_arbitrary_segments_raise_only_malformed_token(segments: list[str]) -> None:
    with contextlib.suppress(errors.MalformedToken):
        parse_compact(".".join(segments), CREDENTIAL_TYP)


@settings(max_examples=200)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=20,
    )
)
def test_arbitrary_json_payload_parses_or_is_refused(value: object) -> None:
    try:
        jws = parse(header(), json.dumps(value).encode())
    except errors.JsonInvalid:
        assert not isinstance(value, dict)
        return
    assert jws.unverified_payload == value


# signing and checking


def test_sign_compact_round_trip() -> None:
    payload = {"iss": "mosa", "x": [1, 2], "é": "ü"}
    token = sign_compact(payload, private_key("mosa-1"), "mosa-1", CREDENTIAL_TYP)
    h, p, _ = split(token)
    assert base64.urlsafe_b64decode(h + "==") == b'{"alg":"ES256","kid":"mosa-1","typ":"pc1"}'
    assert base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).isascii()
    jws = parse_compact(token, CREDENTIAL_TYP)
    assert jws.unverified_payload == payload
    verify_signature(jws, public_key("mosa-1"), "ES256")


def test_sign_compact_keeps_claim_order_and_is_compact() -> None:
    token = sign_compact({"b": 1, "a": 2}, private_key("mosa-1"), "mosa-1", CREDENTIAL_TYP)
    assert base64.urlsafe_b64decode(split(token)[1] + "==") == b'{"b":1,"a":2}'


@pytest.mark.parametrize("typ", [CREDENTIAL_TYP, TRUST_LIST_TYP, STATUS_LIST_TYP])
def test_sign_compact_each_kind(typ: str) -> None:
    token = sign_compact({"a": 1}, private_key("anchor"), "anchor-1", typ)
    assert parse_compact(token, typ).header.typ == typ


@pytest.mark.parametrize("kid", ["", "../k", "a b", "x" * 65])
def test_sign_compact_refuses_bad_kids(kid: str) -> None:
    with pytest.raises(errors.InvalidKid):
        sign_compact({"a": 1}, private_key("mosa-1"), kid, CREDENTIAL_TYP)


@pytest.mark.parametrize("typ", ["JWT", "PC1", ""])
def test_sign_compact_refuses_unknown_typ(typ: str) -> None:
    with pytest.raises(errors.UsageError):
        sign_compact({"a": 1}, private_key("mosa-1"), "mosa-1", typ)


def test_verify_signature_with_the_wrong_key() -> None:
    jws = parse_compact(GENUINE, CREDENTIAL_TYP)
    with pytest.raises(errors.SignatureInvalid) as raised:
        verify_signature(jws, public_key("city-1"), "ES256")
    assert type(raised.value) is errors.SignatureInvalid


@pytest.mark.parametrize("key_alg", ["ES384", "HS256", "es256", ""])
def test_verify_signature_only_for_es256_keys(key_alg: str) -> None:
    jws = parse_compact(craft(header(alg=key_alg or "x"), claims()), CREDENTIAL_TYP)
    with pytest.raises(errors.AlgorithmMismatch):
        verify_signature(jws, public_key("mosa-1"), key_alg)


def test_verify_signature_refuses_der() -> None:
    h, p, _ = split(GENUINE)
    der = es256_der("mosa-1", f"{h}.{p}".encode())
    jws = parse_compact(f"{h}.{p}.{b64u(der)}", CREDENTIAL_TYP)
    with pytest.raises(errors.SignatureEncoding):
        verify_signature(jws, public_key("mosa-1"), "ES256")


@pytest.mark.parametrize("length", [1, 63, 65, 96, 132])
def test_verify_signature_refuses_other_lengths(length: int) -> None:
    jws = parse_compact(craft(header(), claims(), signature=b"\x01" * length), CREDENTIAL_TYP)
    with pytest.raises(errors.SignatureEncoding):
        verify_signature(jws, public_key("mosa-1"), "ES256")


def test_signature_covers_the_exact_bytes() -> None:
    # Same JSON meaning, other bytes: the signature is over the segments, not the values.
    h, _, s = split(GENUINE)
    respaced = b64u(json.dumps(claims()).encode())
    jws = parse_compact(f"{h}.{respaced}.{s}", CREDENTIAL_TYP)
    assert jws.unverified_payload == claims()
    with pytest.raises(errors.SignatureInvalid):
        verify_signature(jws, public_key("mosa-1"), "ES256")
