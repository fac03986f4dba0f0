"""The status list codec: draft vectors, round trips, hostile lists and the token payload."""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifier import errors
from verifier.status_list import (
    MAX_ENTRIES,
    StatusList,
    StatusListBuilder,
    StatusListToken,
    StatusValue,
    parse_status_list_claims,
    status_list_claims,
)

ROOT = Path(__file__).resolve().parent.parent
URI = "https://benefits.example/status/7"
IAT = datetime(2025, 1, 1, tzinfo=UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _lst(raw: bytes) -> str:
    return _b64(zlib.compress(raw, 9))


def _payload(**changes: object) -> dict[str, object]:
    builder = StatusListBuilder(100)
    builder.set(5, StatusValue.INVALID)
    payload = status_list_claims(
        builder,
        subject_uri=URI,
        issued_at=IAT,
        expires_at=IAT + timedelta(days=1),
        ttl=timedelta(hours=12),
        fast=True,
    )
    payload.update(changes)
    return payload


def _with_list(**changes: object) -> dict[str, object]:
    payload = _payload()
    status_list = payload["status_list"]
    assert isinstance(status_list, dict)
    return _payload(status_list={**status_list, **changes})


# Vectors of draft-ietf-oauth-status-list (section 4 and appendix C)


@pytest.mark.parametrize(
    ("lst", "bits", "size", "byte_array"),
    [
        ("eNrbuRgAAhcBXQ", 1, 16, bytes([0xB9, 0xA3])),
        ("eNo76fITAAPfAgc", 2, 12, bytes([0xC9, 0x44, 0xF9])),
    ],
)
def test_draft_section_4_examples(lst: str, bits: int, size: int, byte_array: bytes) -> None:
    status_list = StatusList.from_encoded(lst, bits, size)
    assert status_list.to_bytes() == byte_array
    assert zlib.decompress(base64.urlsafe_b64decode(lst + "==")) == byte_array


def test_draft_bit_order_is_least_significant_first() -> None:
    # The draft's 2-bit example: status[0] = 0b01 sits in the low bits of 0xC9 = 0b11_00_10_01.
    status_list = StatusList.from_encoded("eNo76fITAAPfAgc", 2, 12)
    expected = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    assert [status_list.raw_status(i) for i in range(12)] == expected
    builder = StatusListBuilder(12)
    for index, value in enumerate(expected):
        builder.set(index, value)
    assert builder.to_bytes() == bytes([0xC9, 0x44, 0xF9])


_APPENDIX_C = [
    (
        1,
        "eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogEAAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAAvhsSAAAA"
        "AAAAAAAA7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAAAACAZC8L2AEb",
        dict.fromkeys(
            (0, 1993, 25460, 159495, 495669, 554353, 645645, 723232, 854545, 934534, 1000345), 1
        ),
    ),
    (
        2,
        "eNrt2zENACEQAEEuoaBABP5VIO01fCjIHTMStt9ovGVIAAAAAABAbiEBAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAEB5WwIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAID0ugQAAAAAAAAAAAAAAAAAQG12SgAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAOCSIQEAAAAAAAAAAAAAAAAAAAAAAAD8ExIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAwJEuAQAAAAAAAAAAAAAAAAAAAAAAAMB9SwIAAAAAAAAAAAAAAAAAAACoYUoAAAAAAAAAAAAAAEBqH81g"
        "AQw",
        {
            0: 1,
            1993: 2,
            25460: 1,
            159495: 3,
            495669: 1,
            554353: 1,
            645645: 2,
            723232: 1,
            854545: 1,
            934534: 2,
            1000345: 3,
        },
    ),
    (
        4,
        "eNrt0EENgDAQADAIHwImkIIEJEwCUpCEBBQRHOy35Li1EjoOQGabAgAAAAAAAAAAAAAAAAAAACC1SQEAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAABADrsCAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAADoxaEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIIoCgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAACArpwKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAGhqVkAz"
        "lwIAAAAAiGVRAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABx3AoAgLpVAQAAAAAAAAAAAAAAwM89"
        "rwMAAAAAAAAAAAjsA9xMBMA",
        {
            0: 1,
            1993: 2,
            35460: 3,
            459495: 4,
            595669: 5,
            754353: 6,
            845645: 7,
            923232: 8,
            924445: 9,
            934534: 10,
            1004534: 11,
            1000345: 12,
            1030203: 13,
            1030204: 14,
            1030205: 15,
        },
    ),
]


@pytest.mark.parametrize(("bits", "lst", "statuses"), _APPENDIX_C, ids=["1bit", "2bit", "4bit"])
def test_draft_appendix_c_vectors(bits: int, lst: str, statuses: dict[int, int]) -> None:
    status_list = StatusList.from_encoded(lst, bits, 2**20)
    for index, value in statuses.items():
        assert status_list.raw_status(index) == value
    expected = StatusListBuilder(2**20, bits)
    for index, value in statuses.items():
        expected.set(index, value)
    assert status_list.to_bytes() == expected.to_bytes()  # every other entry is VALID


# Lookups


def test_status_lookups() -> None:
    builder = StatusListBuilder(10)
    builder.set(1, StatusValue.INVALID)
    builder.set(2, StatusValue.SUSPENDED)
    builder.set(3, StatusValue.APPLICATION_SPECIFIC)
    status_list = StatusList.from_encoded(builder.encode(), 2, 10)
    assert len(status_list) == 10
    assert status_list.bits == 2
    assert [status_list.status(i) for i in range(4)] == list(StatusValue)
    assert status_list.is_revoked(1)
    assert not status_list.is_revoked(2)
    assert status_list.is_suspended(2)
    assert not status_list.is_suspended(0)
    assert repr(status_list) == "StatusList(bits=2, size=10)"


@pytest.mark.parametrize("index", [-1, 10, 11, 2**31, -(2**63)])
def test_index_outside_the_list_is_indeterminate(index: int) -> None:
    status_list = StatusListBuilder(10).freeze()
    with pytest.raises(errors.StatusIndexOutOfRange) as caught:
        status_list.status(index)
    assert caught.value.status is errors.Status.INDETERMINATE


@pytest.mark.parametrize("index", [1.0, "1", True, None])
def test_index_must_be_an_int(index: object) -> None:
    with pytest.raises(errors.UsageError):
        StatusListBuilder(10).freeze().status(index)  # type: ignore[arg-type]


def test_codes_above_3_are_not_guessed() -> None:
    builder = StatusListBuilder(4, bits=8)
    builder.set(0, 0x0B)
    status_list = builder.freeze()
    assert status_list.raw_status(0) == 0x0B
    with pytest.raises(errors.StatusListInvalid):
        status_list.is_revoked(0)


# Builder


def test_builder_set_get_and_overwrite() -> None:
    builder = StatusListBuilder(9)
    builder.set(8, 3)
    builder.set(8, StatusValue.INVALID)
    builder.set(4, 2)
    assert [builder.get(i) for i in range(9)] == [0, 0, 0, 0, 2, 0, 0, 0, 1]
    assert builder.to_bytes() == bytes([0, 0b10, 0b01])
    assert len(builder) == 9
    assert builder.bits == 2


def test_builder_from_status_list_round_trip() -> None:
    original = StatusListBuilder(1000)
    original.set(999, 1)
    copy = StatusListBuilder.from_status_list(original.freeze())
    copy.set(0, 2)
    assert copy.get(999) == 1
    assert original.get(0) == 0


@pytest.mark.parametrize(
    ("size", "bits"), [(0, 2), (-1, 2), (MAX_ENTRIES + 1, 2), (10, 3), (10, 0), (True, 2)]
)
def test_builder_refuses_lists_verifiers_refuse(size: int, bits: int) -> None:
    with pytest.raises(errors.UsageError):
        StatusListBuilder(size, bits)


def test_builder_refuses_more_than_the_default_verifier_limit() -> None:
    with pytest.raises(errors.UsageError):
        StatusListBuilder(MAX_ENTRIES, bits=8)


@pytest.mark.parametrize(("index", "value"), [(-1, 0), (10, 0), (0, 4), (0, -1), (0, True)])
def test_builder_set_refuses_bad_arguments(index: int, value: int) -> None:
    with pytest.raises(errors.UsageError):
        StatusListBuilder(10).set(index, value)


def test_encode_without_zopfli_falls_back_to_zlib(monkeypatch: pytest.MonkeyPatch) -> None:
    builder = StatusListBuilder(10_000)
    builder.set(1234, 1)
    monkeypatch.setitem(sys.modules, "zopfli.zlib", None)  # makes the import fail
    assert builder.encode() == builder.encode(fast=True)


def test_zopfli_is_smaller_than_zlib_on_a_sparse_list() -> None:
    pytest.importorskip("zopfli.zlib")
    builder = StatusListBuilder(100_000)
    for index in range(0, 100_000, 97):
        builder.set(index, 1)
    best, fast = builder.encode(), builder.encode(fast=True)
    assert len(best) < len(fast)
    assert StatusList.from_encoded(best, 2, 100_000).to_bytes() == builder.to_bytes()


def test_the_verifier_never_imports_zopfli() -> None:
    code = (
        "import sys\n"
        "from verifier.status_list import StatusList\n"
        "StatusList.from_encoded('eNo76fITAAPfAgc', 2, 12)\n"
        "assert not [m for m in sys.modules if m.startswith('zopfli')]\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# Round trips (hypothesis)


@st.composite
def _lists(draw: st.DrawFn) -> tuple[int, int, dict[int, int]]:
    bits = draw(st.sampled_from([1, 2, 4, 8]))
    size = draw(st.integers(1, 3000))
    statuses = draw(
        st.dictionaries(st.integers(0, size - 1), st.integers(0, 2**bits - 1), max_size=50)
    )
    return bits, size, statuses


@settings(deadline=None, max_examples=150)
@given(_lists(), st.booleans())
def test_round_trip(case: tuple[int, int, dict[int, int]], fast: bool) -> None:
    bits, size, statuses = case
    builder = StatusListBuilder(size, bits)
    for index, value in statuses.items():
        builder.set(index, value)
    status_list = StatusList.from_encoded(builder.encode(fast=fast), bits, size)
    assert status_list.to_bytes() == builder.to_bytes()
    assert all(status_list.raw_status(i) == statuses.get(i, 0) for i in range(size))


@settings(max_examples=300)
@given(
    st.text() | st.from_regex(r"[A-Za-z0-9_-]*", fullmatch=True),
    st.sampled_from([1, 2, 4, 8, 0, 3, 16, -2]),
    st.integers(-10, 10**9),
)
def test_arbitrary_lst_text_only_raises_status_list_invalid(lst: str, bits: int, size: int) -> None:
    with contextlib.suppress(errors.StatusListInvalid):
        StatusList.from_encoded(lst, bits, size)


@settings(max_examples=300)
@given(st.binary(max_size=600), st.sampled_from([1, 2, 4, 8]), st.integers(1, 5000))
def test_arbitrary_streams_only_raise_status_list_invalid(
    data: bytes, bits: int, size: int
) -> None:
    # Arbitrary bytes as a zlib stream, then as an inflated list wrapped in a valid stream.
    with contextlib.suppress(errors.StatusListInvalid):
        StatusList.from_encoded(_b64(data), bits, size)
    try:
        status_list = StatusList.from_encoded(_lst(data), bits, size)
    except errors.StatusListInvalid:
        assert len(data) != -(-size * bits // 8) or data[-1] >> (8 - (-size * bits) % 8)
    else:
        assert status_list.to_bytes() == data


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.text(max_size=12), _JSON)
    # A valid payload with one claim, or one status_list member, replaced by arbitrary JSON.
    | st.tuples(st.sampled_from(["sub", "iat", "exp", "ttl", "status_list"]), _JSON).map(
        lambda change: _payload(**dict([change]))
    )
    | st.tuples(st.sampled_from(["bits", "lst", "size"]), _JSON).map(
        lambda change: _with_list(**dict([change]))
    )
)
def test_arbitrary_payloads_only_raise_status_list_invalid(payload: dict[str, object]) -> None:
    with contextlib.suppress(errors.StatusListInvalid):
        parse_status_list_claims(payload, expected_uri=None)


# Hostile and malformed lists


def _zero_bomb(total: int, chunk: int = 1 << 24) -> bytes:
    """A zlib stream that inflates to ``total`` zero bytes, built without ever holding them.

    After a full flush zlib forgets what came before, so each flushed chunk of zeros compresses
    to the same segment: compress two, repeat the second, end with the Adler-32 of ``total``
    zeros (which is ``(total mod 65521) << 16 | 1``).
    """
    zeros = bytes(chunk)
    deflater = zlib.compressobj(9)
    head = deflater.compress(zeros) + deflater.flush(zlib.Z_FULL_FLUSH)
    segment = deflater.compress(zeros) + deflater.flush(zlib.Z_FULL_FLUSH)
    final_block = deflater.flush()[:-4]
    adler = ((total % 65521) << 16) | 1
    return head + segment * (total // chunk - 1) + final_block + adler.to_bytes(4, "big")


def test_zero_bomb_helper_builds_a_valid_stream() -> None:
    inflater, total, data = zlib.decompressobj(), 0, _zero_bomb(4 << 20, chunk=1 << 20)
    while not inflater.eof:
        total += len(inflater.decompress(data, 1 << 20))
        data = inflater.unconsumed_tail
    assert total == 4 << 20


@pytest.fixture(scope="module")
def gigabyte_bomb() -> str:
    return _b64(_zero_bomb(1 << 30))


def _measure(action: Callable[[], object]) -> tuple[BaseException, float, int]:
    """Run ``action``, which must refuse; return the error, the seconds and the peak bytes."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        action()
    except errors.PlainclaimError as exc:
        caught: BaseException = exc
    else:
        pytest.fail("the bomb was accepted")
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return caught, elapsed, peak


def test_gigabyte_bomb_with_small_declared_size_refused_before_decoding(
    gigabyte_bomb: str,
) -> None:
    caught, elapsed, peak = _measure(lambda: StatusList.from_encoded(gigabyte_bomb, 2, 1000))
    assert isinstance(caught, errors.StatusListInvalid)
    assert "characters, limit" in caught.detail
    assert elapsed < 0.5
    assert peak < 100_000


def test_gigabyte_bomb_inflation_stops_at_the_declared_size(gigabyte_bomb: str) -> None:
    # 4 million 2-bit entries declare 1 MB: enough for the 1 MB stream to pass the length check.
    size = 4_000_000
    caught, elapsed, peak = _measure(lambda: StatusList.from_encoded(gigabyte_bomb, 2, size))
    assert isinstance(caught, errors.StatusListInvalid)
    assert "more than 1000000 bytes" in caught.detail
    assert elapsed < 1.0
    assert peak < 6_000_000  # the decoded stream, the capped output and zlib's window


def test_bomb_inside_a_token_payload(gigabyte_bomb: str) -> None:
    payload = _with_list(lst=gigabyte_bomb, size=4_000_000)
    caught, _elapsed, peak = _measure(lambda: parse_status_list_claims(payload, expected_uri=URI))
    assert isinstance(caught, errors.StatusListInvalid)
    assert peak < 6_000_000


def test_max_bytes_caps_the_declared_size_before_decoding() -> None:
    with pytest.raises(errors.StatusListInvalid, match="limit 1000"):
        StatusList.from_encoded(_lst(bytes(1001)), 8, 1001, max_bytes=1000)
    assert len(StatusList.from_encoded(_lst(bytes(1000)), 8, 1000, max_bytes=1000)) == 1000


def test_declared_size_above_the_cap_is_refused() -> None:
    with pytest.raises(errors.StatusListInvalid, match="outside"):
        StatusList.from_encoded(_lst(b""), 1, MAX_ENTRIES + 1, max_bytes=2**40)


@pytest.mark.parametrize(
    ("raw", "size", "message"),
    [
        (bytes(24), 100, "inflates to 24 bytes, 25 declared"),  # shorter
        (bytes(26), 100, "more than 25 bytes"),  # longer by one byte
        (bytes(5000), 100, "more than 25 bytes"),  # a long match still pending when output fills
        (b"", 1, "inflates to 0 bytes"),
        (b"\xc0", 3, "non-zero bits after the last entry"),  # a hidden fourth entry
    ],
)
def test_length_must_match_the_declared_size(raw: bytes, size: int, message: str) -> None:
    with pytest.raises(errors.StatusListInvalid, match=message):
        StatusList.from_encoded(_lst(raw), 2, size)


def test_output_pending_after_the_last_input_byte_counts() -> None:
    # Cut a stream where zlib has read a long match whose copy is not yet written: the input is
    # used up, the declared 25 bytes are full, and the pending bytes still make it too long.
    stream = zlib.compress(bytes(5000), 9)
    for cut in range(len(stream) - 1, 2, -1):
        inflater = zlib.decompressobj()
        if len(inflater.decompress(stream[:cut], 25)) == 25 and not inflater.unconsumed_tail:
            break
    else:
        pytest.skip("this zlib leaves no such cut")
    with pytest.raises(errors.StatusListInvalid, match="more than 25 bytes"):
        StatusList.from_encoded(_b64(stream[:cut]), 2, 100)


@pytest.mark.parametrize(
    ("lst", "message"),
    [
        ("eNo76fITAAPfAgc=", "outside base64url"),  # padding
        ("eNo76fITAAPfAgc==", "outside base64url"),
        ("eNo76fITAAPfAg+", "outside base64url"),  # standard alphabet
        ("eNo76fITAAPf/gc", "outside base64url"),
        ("eNo76fITAAPfAgc\n", "outside base64url"),
        ("eNo76fITAAPfAg\u00e7", "outside base64url"),
        (" eNo76fITAAPfAgc", "outside base64url"),
        ("eNo76fITAAPfAgd", "not canonical"),  # non-zero unused bits
        ("eNo76fITAAPfAgcA1", "impossible base64url length"),
        ("eNo76fITAAPfAg", "truncated"),
        ("", "truncated"),
        (_b64(zlib.compress(bytes([0xC9, 0x44, 0xF9])) + b"\0"), "after the end"),
        (_b64(zlib.compress(bytes([0xC9, 0x44, 0xF9]))[:-1] + b"\0"), "not a valid zlib"),
        (_b64(zlib.compress(bytes([0xC9, 0x44, 0xF9]), wbits=-15)), "not a valid zlib"),  # raw
        (_b64(zlib.compress(bytes([0xC9, 0x44, 0xF9]), wbits=31)), "not a valid zlib"),  # gzip
    ],
)
def test_malformed_lst_refused(lst: str, message: str) -> None:
    with pytest.raises(errors.StatusListInvalid, match=message):
        StatusList.from_encoded(lst, 2, 12)


def test_preset_dictionary_refused() -> None:
    deflater = zlib.compressobj(zdict=b"\xc9\x44\xf9")
    lst = _b64(deflater.compress(bytes([0xC9, 0x44, 0xF9])) + deflater.flush())
    with pytest.raises(errors.StatusListInvalid, match="not a valid zlib"):
        StatusList.from_encoded(lst, 2, 12)


@pytest.mark.parametrize(("bits", "size"), [(3, 12), ("2", 12), (True, 12), (2, 0), (2, 1.5)])
def test_bad_width_or_size_refused(bits: object, size: object) -> None:
    with pytest.raises(errors.StatusListInvalid):
        StatusList.from_encoded("eNo76fITAAPfAgc", bits, size)  # type: ignore[arg-type]


def test_constructor_validates_the_byte_array() -> None:
    with pytest.raises(errors.StatusListInvalid):
        StatusList(bytes(2), 2, 12)
    with pytest.raises(errors.UsageError):
        StatusList(bytearray(3), 2, 12)  # type: ignore[arg-type]


# Token payload


def test_payload_round_trip_through_json() -> None:
    payload = json.loads(json.dumps(_payload()))
    assert list(payload) == ["sub", "iat", "exp", "ttl", "status_list"]
    assert payload["status_list"]["size"] == 100
    token = parse_status_list_claims(payload, expected_uri=URI)
    assert isinstance(token, StatusListToken)
    assert token.subject_uri == URI
    assert token.issued_at == IAT
    assert token.expires_at == IAT + timedelta(days=1)
    assert token.ttl_seconds == 43200
    assert token.ttl == timedelta(hours=12)
    assert token.status_list.is_revoked(5)
    assert not token.status_list.is_revoked(4)


def test_payload_from_a_frozen_list() -> None:
    builder = StatusListBuilder(20, bits=1)
    builder.set(19, 1)
    payload = status_list_claims(
        builder.freeze(),
        subject_uri=URI,
        issued_at=IAT,
        expires_at=IAT + timedelta(hours=1),
        ttl=timedelta(minutes=5),
    )
    token = parse_status_list_claims(payload, expected_uri=None)
    assert token.status_list.to_bytes() == builder.to_bytes()


_REFUSED_PAYLOADS = {
    "unknown claim": _payload(iss="https://benefits.example"),
    "sub wrong uri": _payload(sub="https://benefits.example/status/8"),
    "sub not a string": _payload(sub=7),
    "sub empty": _payload(sub=""),
    "iat bool": _payload(iat=True),
    "iat float": _payload(iat=1735689600.0),
    "iat string": _payload(iat="1735689600"),
    "iat milliseconds": _payload(iat=1735689600000, exp=1735689700000),
    "iat zero": _payload(iat=0),
    "exp equals iat": _payload(exp=1735689600),
    "exp before iat": _payload(exp=1735689599),
    "exp null": _payload(exp=None),
    "ttl zero": _payload(ttl=0),
    "ttl negative": _payload(ttl=-1),
    "ttl float": _payload(ttl=1.5),
    "ttl bool": _payload(ttl=True),
    "status_list not an object": _payload(status_list=[2, "eNo", 12]),
    "status_list extra member": _with_list(aggregation_uri="https://benefits.example/agg"),
    "bits 3": _with_list(bits=3),
    "bits string": _with_list(bits="2"),
    "bits bool": _with_list(bits=True),
    "size zero": _with_list(size=0),
    "size float": _with_list(size=100.0),
    "size bool": _with_list(size=True),
    "size too large": _with_list(size=MAX_ENTRIES + 1),
    "size larger than list": _with_list(size=104),
    "size smaller than list": _with_list(size=96),
    "lst not a string": _with_list(lst=None),
    "lst padded": _with_list(lst=_b64(zlib.compress(bytes(25))) + "="),
}
_REFUSED_PAYLOADS.update(
    {f"missing {name}": {k: v for k, v in _payload().items() if k != name} for name in _payload()}
)
_REFUSED_PAYLOADS.update(
    {
        f"missing status_list.{name}": _payload(
            status_list={k: v for k, v in _with_list()["status_list"].items() if k != name}  # type: ignore[attr-defined]
        )
        for name in ("bits", "lst", "size")
    }
)


@pytest.mark.parametrize("payload", _REFUSED_PAYLOADS.values(), ids=_REFUSED_PAYLOADS.keys())
def test_payload_refused(payload: dict[str, object]) -> None:
    with pytest.raises(errors.StatusListInvalid):
        parse_status_list_claims(payload, expected_uri=URI)


def test_payload_that_is_not_an_object_refused() -> None:
    with pytest.raises(errors.StatusListInvalid):
        parse_status_list_claims(["sub"], expected_uri=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"issued_at": datetime(2025, 1, 1)},  # naive
        {"expires_at": IAT},
        {"expires_at": IAT - timedelta(seconds=1)},
        {"ttl": timedelta(0)},
        {"ttl": timedelta(seconds=1.5)},
        {"subject_uri": ""},
        {"issued_at": datetime(1969, 1, 1, tzinfo=UTC)},
    ],
)
def test_issuer_cannot_build_a_payload_verifiers_refuse(changes: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "subject_uri": URI,
        "issued_at": IAT,
        "expires_at": IAT + timedelta(days=1),
        "ttl": timedelta(hours=1),
        "fast": True,
        **changes,
    }
    with pytest.raises(errors.UsageError):
        status_list_claims(StatusListBuilder(8), **arguments)  # type: ignore[arg-type]
