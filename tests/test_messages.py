"""What the clerk reads: a message for every reason code, and dates in plain words."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

from verifier import errors
from verifier.messages import MESSAGES, until_words


def _reason_codes() -> set[str]:
    return {
        cls.reason
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.PlainclaimError)
    }


def test_every_reason_code_has_its_own_message() -> None:
    assert _reason_codes() - MESSAGES.keys() == set()
    assert MESSAGES.keys() - _reason_codes() == set()


def test_messages_are_plain_sentences_without_jargon() -> None:
    for reason, message in MESSAGES.items():
        assert message.endswith("."), reason
        for jargon in ("JWS", "JWT", "kid", "base64", "JSON", "ES256", "nbf", "exp"):
            assert jargon not in message.split(), (reason, jargon)


def test_a_midnight_expiry_reads_as_the_end_of_the_day_before() -> None:
    assert until_words(datetime(2027, 4, 1, tzinfo=UTC)) == "until the end of 31 March 2027 (UTC)"
    assert until_words(datetime(2027, 3, 31, 21, 0, tzinfo=UTC)) == "until 31 March 2027, 21:00 UTC"
