"""The QR text codec: ``PC1:`` and two decimal digits per JWS character."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import errors
from verifier.qrtext import MAX_TEXT_CHARS, PREFIX, decode_qr_text, encode_qr_text

JWS_ALPHABET = string.ascii_letters + string.digits + "-_."
jws_text = st.text(alphabet=JWS_ALPHABET, max_size=(MAX_TEXT_CHARS - len(PREFIX)) // 2)
#: Every character the digit pairs 00..77 can carry: '-' (45) to 'z' (122).
PAIR_CHARS = "".join(chr(45 + n) for n in range(78))


@settings(max_examples=300)
@given(jws_text)
def test_round_trip(jws: str) -> None:
    text = encode_qr_text(jws)
    assert text.startswith(PREFIX)
    assert text[len(PREFIX) :].isdigit() or jws == ""
    assert len(text) == len(PREFIX) + 2 * len(jws)
    if jws:
        assert decode_qr_text(text) == jws


@settings(max_examples=200)
@given(st.text(alphabet=PAIR_CHARS, min_size=1, max_size=200))
def test_round_trip_of_every_pair_character(chars: str) -> None:
    assert decode_qr_text(encode_qr_text(chars)) == chars


@pytest.mark.parametrize("pair", range(78))
def test_each_pair_decodes_to_its_character(pair: int) -> None:
    assert decode_qr_text(f"PC1:{pair:02d}") == chr(45 + pair)


@pytest.mark.parametrize("pair", range(78, 100))
def test_pairs_above_77_are_refused(pair: int) -> None:
    with pytest.raises(errors.DigitPairOutOfRange):
        decode_qr_text(f"PC1:0102{pair:02d}03")


def test_known_encoding() -> None:
    assert encode_qr_text("eyJ.a-_") == "PC1:56762901520050"
    assert decode_qr_text("PC1:56762901520050") == "eyJ.a-_"


@settings(max_examples=100)
@given(jws_text.filter(bool), st.text(alphabet="\r\n\t", min_size=1, max_size=4))
def test_wedge_trailers_are_tolerated(jws: str, trailer: str) -> None:
    assert decode_qr_text(encode_qr_text(jws) + trailer) == jws


@pytest.mark.parametrize("prefix", ["PC1:", "pc1:", "Pc1:", "pC1:"])
def test_prefix_case_is_ignored(prefix: str) -> None:
    assert decode_qr_text(prefix + "5676") == "ey"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("PC1:12\n34", errors.InputCharset),
        ("\nPC1:1234", errors.InputCharset),
        ("PC1:1234\x00", errors.InputCharset),
        ("PC1:1234 \n", errors.NonDigit),  # a space is no trailer
        ("PC1:１２３４", errors.InputCharset),
        ("PC1:12é4", errors.InputCharset),
        ("PC1:12\x7f4", errors.InputCharset),
        ("PC1:1234\v", errors.InputCharset),
        ("PC1:12a4", errors.NonDigit),
        ("PC1:12-4", errors.NonDigit),
        ("PC1:+1234", errors.NonDigit),
        ("PC1: 1234", errors.NonDigit),
        ("PC1:", errors.NonDigit),
        ("PC1:123", errors.OddDigitCount),
        ("PC1:1", errors.OddDigitCount),
        ("PC2:1234", errors.UnsupportedFormatVersion),
        ("pc12:1234", errors.UnsupportedFormatVersion),
        ("PX1:1234", errors.UnknownPrefix),
        ("PC:1234", errors.UnknownPrefix),
        ("PC1;1234", errors.UnknownPrefix),
        ("1234", errors.UnknownPrefix),
        ("", errors.UnknownPrefix),
        ("https://example.org", errors.UnknownPrefix),
        (" PC1:1234", errors.UnknownPrefix),
        ("shc:/5676", errors.ForeignSmartHealthCard),
        ("SHC:/5676", errors.ForeignSmartHealthCard),
        ("shc:5676", errors.UnknownPrefix),
        ("HC1:NCFOXN", errors.ForeignEuDcc),
        ("hc1:NCFOXN", errors.ForeignEuDcc),
        ("HC2:NCFOXN", errors.UnknownPrefix),
    ],
)
def test_refusals(text: str, error: type[errors.PlainclaimError]) -> None:
    with pytest.raises(error) as raised:
        decode_qr_text(text)
    assert type(raised.value) is error


def test_size_limit_applies_after_trailers() -> None:
    at_limit = "PC1:" + "56" * ((MAX_TEXT_CHARS - 4) // 2)
    assert len(at_limit) == MAX_TEXT_CHARS
    assert decode_qr_text(at_limit + "\r\n") == "e" * ((MAX_TEXT_CHARS - 4) // 2)
    with pytest.raises(errors.InputTooLarge):
        decode_qr_text(at_limit + "56")


def test_size_is_checked_before_charset_and_prefix() -> None:
    with pytest.raises(errors.InputTooLarge):
        decode_qr_text("\x00" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(errors.InputTooLarge):
        decode_qr_text("shc:/" + "1" * MAX_TEXT_CHARS)


def test_charset_is_checked_before_prefix() -> None:
    with pytest.raises(errors.InputCharset):
        decode_qr_text("XX\x00")


@pytest.mark.parametrize("char", [" ", "+", ",", "{", "~", "é", "\x00", "€"])
def test_encoder_refuses_characters_without_a_pair(char: str) -> None:
    with pytest.raises(errors.InputCharset):
        encode_qr_text("eyJ" + char)


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_decoder_raises_only_input_refusals(text: str) -> None:
    try:
        decoded = decode_qr_text(text)
    except (errors.InputRejected, errors.UnsupportedFormatVersion):
        return
    assert set(decoded) <= set(PAIR_CHARS)


@settings(max_examples=200)
@given(st.text(alphabet="0123456789", max_size=80))
def test_any_even_digit_run_decodes_or_is_out_of_range(digits: str) -> None:
    try:
        decoded = decode_qr_text(PREFIX + digits)
    except (errors.OddDigitCount, errors.DigitPairOutOfRange, errors.NonDigit):
        return
    assert encode_qr_text(decoded) == PREFIX + digits
