"""The issuer registry, on SQLite and on PostgreSQL (skipped when no server is configured)."""

from __future__ import annotations

import dataclasses
import itertools
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import create_engine, text

from issuer import errors
from issuer.registry import IssuedRecord, IssueRequest, Registry
from issuer.registry_allocation import IndexPermutation, new_key
from issuer.registry_db import MIGRATIONS_DIR, SCHEMA_REVISION
from issuer.registry_schema import metadata
from tests.pg import fresh_schema
from verifier.claims import CredentialClaims
from verifier.errors import ConfigurationError, UsageError
from verifier.jws import CREDENTIAL_TYP, parse_compact, sign_compact, verify_signature
from verifier.keys import ALGORITHM
from verifier.status_list import StatusListBuilder, StatusValue

ISSUER = "mosa"
NBF = 1_798_761_600  # 2027-01-01
EXP = 1_830_297_600  # 2028-01-01
KID = "mosa-test"
_KEY = ec.generate_private_key(ec.SECP256R1())

Signer = Callable[[CredentialClaims], str]


def sign(claims: CredentialClaims) -> str:
    return sign_compact(claims.to_payload(), _KEY, KID, CREDENTIAL_TYP)


def request(request_id: str, **changes: object) -> IssueRequest:
    fields: dict[str, object] = {
        "request_id": request_id,
        "benefit": "heating-2027",
        "not_before": NBF,
        "expires": EXP,
        "case_ref": None,
        "issued_by": "test",
    }
    fields.update(changes)
    return IssueRequest(**fields)  # type: ignore[arg-type]


def verified_claims(record: IssuedRecord) -> CredentialClaims:
    jws = parse_compact(record.token, CREDENTIAL_TYP)
    verify_signature(jws, _KEY.public_key(), ALGORITHM)
    return CredentialClaims.from_payload(jws.unverified_payload)


class Clock:
    def __init__(self, start: int = NBF - 86_400) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    else:
        with fresh_schema("registry") as url:
            yield url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def open_registry(db_url: str, clock: Clock) -> Iterator[Callable[..., Registry]]:
    opened: list[Registry] = []

    def open_registry(**options: object) -> Registry:
        options.setdefault("issuer_id", ISSUER)
        options.setdefault("clock", clock)
        registry = Registry.open(db_url, **options)  # type: ignore[arg-type]
        opened.append(registry)
        return registry

    yield open_registry
    for registry in opened:
        registry.close()


@pytest.fixture
def registry(open_registry: Callable[..., Registry]) -> Registry:
    return open_registry()


# Issuing


def test_issue_stores_a_signed_credential(
    registry: Registry, open_registry: Callable[..., Registry], clock: Clock
) -> None:
    record = registry.issue(request("req-1", case_ref="file/2027:0042"), sign)

    claims = verified_claims(record)
    assert claims.issuer_id == ISSUER
    assert (claims.benefit, claims.not_before, claims.expires) == ("heating-2027", NBF, EXP)
    assert claims.credential_id == record.credential_id
    assert len(record.credential_id) == 16
    assert claims.status == record.status_ref
    assert record.status is StatusValue.VALID
    assert not record.replayed
    assert (record.issued_at, record.case_ref, record.issued_by) == (
        clock.now,
        "file/2027:0042",
        "test",
    )
    # Committed: another connection (another registry object) sees it at once.
    other = open_registry()
    assert other.get(record.credential_id) == record
    assert other.find_by_request("req-1") == record
    assert other.get("AAAAAAAAAAAAAAAA") is None
    assert other.find_by_request("req-2") is None


def test_same_request_returns_the_stored_credential(registry: Registry) -> None:
    first = registry.issue(request("req-1"), sign)
    again = registry.issue(request("req-1", issued_by="other-operator"), sign)

    assert again.replayed
    assert again.credential_id == first.credential_id
    assert again.token == first.token
    assert again.issued_by == "test"  # the record as stored, not as asked the second time
    assert registry.status_lists()[0].allocated == 1


@pytest.mark.parametrize(
    "change",
    [
        {"benefit": "child-allowance"},
        {"not_before": NBF + 1},
        {"expires": EXP + 1},
        {"case_ref": "file-1"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_same_request_with_other_parameters_conflicts(
    registry: Registry, change: dict[str, object]
) -> None:
    first = registry.issue(request("req-1"), sign)

    with pytest.raises(errors.RequestConflict) as refused:
        registry.issue(request("req-1", **change), sign)

    assert refused.value.credential_id == first.credential_id
    assert refused.value.reason == "request_conflict"
    assert refused.value.exit_code == 65
    assert isinstance(refused.value, UsageError)
    assert registry.find_by_request("req-1") == first


def test_batch_is_idempotent_per_request(registry: Registry) -> None:
    earlier = registry.issue(request("b-2"), sign)

    records = registry.issue_batch(
        [request("b-1"), request("b-2"), request("b-3"), request("b-1")], sign
    )

    assert [r.request_id for r in records] == ["b-1", "b-2", "b-3", "b-1"]
    assert [r.replayed for r in records] == [False, True, False, True]
    assert records[1].credential_id == earlier.credential_id
    assert records[3] == dataclasses.replace(records[0], replayed=True)
    assert registry.status_lists()[0].allocated == 3
    assert registry.issue_batch([], sign) == []


def test_batch_is_all_or_nothing(registry: Registry) -> None:
    registry.issue(request("b-2"), sign)

    with pytest.raises(errors.RequestConflict):
        registry.issue_batch([request("b-1"), request("b-2", expires=EXP + 1)], sign)

    assert registry.find_by_request("b-1") is None
    assert registry.status_lists()[0].allocated == 1
    registry.check_integrity()


def test_a_failing_signer_stores_nothing(registry: Registry) -> None:
    def broken(claims: CredentialClaims) -> str:
        raise RuntimeError("HSM offline")

    with pytest.raises(RuntimeError):
        registry.issue(request("req-1"), broken)

    assert registry.find_by_request("req-1") is None
    assert registry.status_lists() == []


@pytest.mark.parametrize(
    "signer",
    [
        lambda claims: sign_compact({**claims.to_payload(), "ben": "other"}, _KEY, KID, "pc1"),
        lambda claims: sign_compact(claims.to_payload(), _KEY, KID, "statuslist+jwt"),
        lambda claims: "not.a.jws",
        lambda claims: sign(claims).encode(),
        lambda claims: sign(claims)[:-4],
    ],
    ids=["other-claims", "other-typ", "garbage", "bytes", "short-signature"],
)
def test_a_token_other_than_the_claims_is_refused(
    registry: Registry, signer: Callable[[CredentialClaims], object]
) -> None:
    with pytest.raises(errors.SignerMismatch):
        registry.issue(request("req-1"), signer)  # type: ignore[arg-type]

    assert registry.find_by_request("req-1") is None


def test_the_token_check_holds_after_the_first_token_of_a_batch(registry: Registry) -> None:
    calls = 0

    def lying_second_time(claims: CredentialClaims) -> str:
        nonlocal calls
        calls += 1
        payload = claims.to_payload()
        if calls == 2:
            payload["exp"] = EXP + 86_400
        return sign_compact(payload, _KEY, KID, CREDENTIAL_TYP)

    with pytest.raises(errors.SignerMismatch):
        registry.issue_batch([request("b-1"), request("b-2")], lying_second_time)


def test_ids_and_status_entries_are_unique_and_indices_scattered(registry: Registry) -> None:
    records: list[IssuedRecord] = []
    for batch in range(10):
        records += registry.issue_batch([request(f"u-{batch}-{i}") for i in range(500)], sign)

    assert len({r.credential_id for r in records}) == 5000
    assert len({r.status_ref for r in records}) == 5000
    assert {r.status_ref.list_id for r in records} == {0}
    indices = [r.status_ref.index for r in records]
    capacity = 1 << 20
    # Scattered over the whole list, not handed out from the start.
    assert min(indices) < capacity // 100 and max(indices) > capacity - capacity // 100
    assert abs(_rank_correlation(indices)) < 0.1
    ascending = sum(a < b for a, b in itertools.pairwise(indices))
    assert 0.45 < ascending / (len(indices) - 1) < 0.55
    for record in random.Random(7).sample(records, 20):
        assert verified_claims(record).status == record.status_ref
    registry.check_integrity()


def test_concurrent_issuers_agree(open_registry: Callable[..., Registry]) -> None:
    """Four registries in four threads issue the same requests in different orders."""
    numbers = list(range(120))
    outcomes: list[dict[str, str]] = []
    failures: list[BaseException] = []

    def issue_all(registry: Registry, seed: int, batch: int) -> None:
        order = numbers[:]
        random.Random(seed).shuffle(order)
        seen: dict[str, str] = {}
        try:
            for start in range(0, len(order), batch):
                chunk = [request(f"t-{n}") for n in order[start : start + batch]]
                for record in registry.issue_batch(chunk, sign):
                    seen[record.request_id] = record.credential_id
        except BaseException as exc:
            failures.append(exc)
        outcomes.append(seen)

    threads = [
        threading.Thread(target=issue_all, args=(open_registry(list_capacity=50), seed, batch))
        for seed, batch in enumerate((1, 1, 10, 25))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert all(seen == outcomes[0] for seen in outcomes)
    assert len(set(outcomes[0].values())) == len(numbers)
    lists = open_registry().status_lists()
    assert [(s.capacity, s.allocated) for s in lists] == [(50, 50), (50, 50), (50, 20)]
    open_registry().check_integrity()


def test_a_full_list_is_followed_by_a_new_one(open_registry: Callable[..., Registry]) -> None:
    small = 16
    registry_small = open_registry(list_capacity=small)
    records = registry_small.issue_batch([request(f"f-{i}") for i in range(40)], sign)
    records += [registry_small.issue(request(f"f-{i}"), sign) for i in range(40, 50)]

    lists = registry_small.status_lists()
    assert [(s.list_id, s.capacity, s.allocated) for s in lists] == [
        (0, 16, 16),
        (1, 16, 16),
        (2, 16, 16),
        (3, 16, 2),
    ]
    assert [s.is_full for s in lists] == [True, True, True, False]
    for list_id in (0, 1, 2):
        indices = [r.status_ref.index for r in records if r.status_ref.list_id == list_id]
        assert sorted(indices) == list(range(small))
        assert indices != list(range(small))
    registry_small.check_integrity()


def test_new_capacity_applies_to_new_lists_only(open_registry: Callable[..., Registry]) -> None:
    first = open_registry(list_capacity=4)
    first.issue_batch([request(f"c-{i}") for i in range(3)], sign)
    second = open_registry(list_capacity=8)
    second.issue_batch([request(f"c-{i}") for i in range(3, 6)], sign)

    assert [(s.capacity, s.allocated) for s in second.status_lists()] == [(4, 4), (8, 2)]


@pytest.mark.parametrize(
    "fields",
    [
        {"request_id": ""},
        {"request_id": "x" * 129},
        {"request_id": "tab\there"},
        {"request_id": "é"},
        {"benefit": "Heating 2027"},
        {"not_before": NBF * 1000},
        {"not_before": -1},
        {"not_before": True},
        {"expires": NBF},
        {"case_ref": "Jane Doe"},
        {"case_ref": "x" * 65},
        {"case_ref": ""},
        {"issued_by": ""},
        {"issued_by": "ana maria"},
    ],
    ids=repr,
)
def test_invalid_requests_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(errors.RequestInvalid):
        request(fields.pop("request_id", "req-1"), **fields)  # type: ignore[arg-type]


# Status


def test_status_changes_are_kept(registry: Registry, clock: Clock) -> None:
    record = registry.issue(request("s-1"), sign)
    credential = record.credential_id
    registry.issue_batch([request(f"s-{i}") for i in range(2, 6)], sign)

    clock.now += 60
    suspended = registry.set_status(
        credential, StatusValue.SUSPENDED, reason="reported lost", actor="ana"
    )
    clock.now += 60
    registry.set_status(credential, StatusValue.VALID, reason="found again", actor="ana")
    clock.now += 60
    revoked = registry.set_status(
        credential, StatusValue.INVALID, reason="decision 2027/114", actor="bo@office"
    )

    assert suspended.status is StatusValue.SUSPENDED
    assert revoked.status is StatusValue.INVALID
    assert registry.get(credential) == revoked
    history = registry.status_history(credential)
    assert [(c.old_status, c.new_status, c.actor) for c in history] == [
        (StatusValue.VALID, StatusValue.SUSPENDED, "ana"),
        (StatusValue.SUSPENDED, StatusValue.VALID, "ana"),
        (StatusValue.VALID, StatusValue.INVALID, "bo@office"),
    ]
    assert [c.changed_at for c in history] == [clock.now - 120, clock.now - 60, clock.now]
    assert history[2].reason == "decision 2027/114"
    other = registry.find_by_request("s-2")
    assert other is not None
    assert registry.status_history(other.credential_id) == []
    registry.check_integrity()


def test_revocation_is_final(registry: Registry) -> None:
    credential = registry.issue(request("r-1"), sign).credential_id
    registry.set_status(credential, StatusValue.INVALID, reason="fraud", actor="ana")

    for status in (StatusValue.VALID, StatusValue.SUSPENDED):
        with pytest.raises(errors.CredentialAlreadyRevoked) as refused:
            registry.set_status(credential, status, reason="mistake", actor="ana")
        assert refused.value.credential_id == credential
    # Revoking again changes nothing and records nothing.
    again = registry.set_status(credential, StatusValue.INVALID, reason="again", actor="ana")
    assert again.status is StatusValue.INVALID
    assert len(registry.status_history(credential)) == 1
    registry.check_integrity()


def test_status_change_refusals(registry: Registry) -> None:
    credential = registry.issue(request("r-1"), sign).credential_id

    with pytest.raises(errors.UnknownCredential):
        registry.set_status("AAAAAAAAAAAAAAAA", StatusValue.INVALID, reason="x", actor="ana")
    with pytest.raises(errors.UnknownCredential):
        registry.status_history("AAAAAAAAAAAAAAAA")
    with pytest.raises(errors.RequestInvalid):
        registry.set_status(credential, StatusValue.APPLICATION_SPECIFIC, reason="x", actor="ana")
    with pytest.raises(errors.RequestInvalid):
        registry.set_status(credential, StatusValue.INVALID, reason="", actor="ana")
    with pytest.raises(errors.RequestInvalid):
        registry.set_status(credential, StatusValue.INVALID, reason="x\nInjected", actor="ana")
    with pytest.raises(errors.RequestInvalid):
        registry.set_status(credential, StatusValue.INVALID, reason="x", actor="")
    assert registry.status_history(credential) == []


def test_non_valid_entries_make_the_published_list(registry: Registry) -> None:
    records = registry.issue_batch([request(f"p-{i}") for i in range(30)], sign)
    revoked, suspended, reinstated = records[3], records[17], records[20]
    registry.set_status(revoked.credential_id, StatusValue.INVALID, reason="x", actor="ana")
    registry.set_status(suspended.credential_id, StatusValue.SUSPENDED, reason="x", actor="ana")
    registry.set_status(reinstated.credential_id, StatusValue.SUSPENDED, reason="x", actor="a")
    registry.set_status(reinstated.credential_id, StatusValue.VALID, reason="x", actor="ana")

    entries = list(registry.non_valid_entries(0))

    assert entries == sorted(
        [
            (revoked.status_ref.index, StatusValue.INVALID),
            (suspended.status_ref.index, StatusValue.SUSPENDED),
        ]
    )
    builder = StatusListBuilder(registry.status_lists()[0].capacity)
    for index, status in entries:
        builder.set(index, status)
    published = builder.freeze()
    assert published.is_revoked(revoked.status_ref.index)
    assert published.is_suspended(suspended.status_ref.index)
    assert published.status(reinstated.status_ref.index) is StatusValue.VALID
    with pytest.raises(errors.UnknownStatusList):
        registry.non_valid_entries(1)


# Opening, schema, integrity


def test_a_registry_belongs_to_one_issuer(
    registry: Registry, open_registry: Callable[..., Registry]
) -> None:
    with pytest.raises(errors.RegistryMismatch):
        open_registry(issuer_id="other-issuer")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "mysql://user@localhost/db",
        "postgresql+psycopg2://localhost/db",
        "not a url",
    ],
)
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        Registry.open(url, issuer_id=ISSUER)


@pytest.mark.parametrize(
    "options", [{"issuer_id": "Not An Id"}, {"list_capacity": 0}, {"list_capacity": 10**9}]
)
def test_bad_options_are_refused(tmp_path: Path, options: dict[str, object]) -> None:
    options.setdefault("issuer_id", ISSUER)
    with pytest.raises(ConfigurationError):
        Registry.open(f"sqlite:///{tmp_path / 'r.sqlite3'}", **options)  # type: ignore[arg-type]
    assert not (tmp_path / "r.sqlite3").exists()


def test_an_unreachable_database_is_reported(tmp_path: Path) -> None:
    with pytest.raises(errors.RegistryUnavailable):
        Registry.open("postgresql+psycopg://nobody:x@127.0.0.1:1/none", issuer_id=ISSUER)
    with pytest.raises(errors.RegistryUnavailable):
        Registry.open(f"sqlite:///{tmp_path / 'missing' / 'r.sqlite3'}", issuer_id=ISSUER)


def test_migrations_build_exactly_the_schema(registry: Registry, db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            assert context.get_current_revision() == "0001"
    finally:
        engine.dispose()


def test_the_schema_revision_is_the_newest_migration() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_heads() == [SCHEMA_REVISION]


def test_a_registry_from_a_newer_version_is_refused(
    registry: Registry, db_url: str, open_registry: Callable[..., Registry]
) -> None:
    _execute(db_url, "UPDATE alembic_version SET version_num = '9999'")

    with pytest.raises(errors.RegistryMismatch):
        open_registry()


def test_sqlite_is_set_up_for_durability(tmp_path: Path) -> None:
    registry = Registry.open(f"sqlite:///{tmp_path / 'r.sqlite3'}", issuer_id=ISSUER)
    try:
        with registry._engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        registry.close()
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 60_000,
    }


@pytest.mark.parametrize(
    ("tampering", "complaint"),
    [
        ("UPDATE status_lists SET allocated = allocated - 1", "counter"),
        ("UPDATE credentials SET status = 1 WHERE request_id = 'i-1'", "last change"),
        ("UPDATE credentials SET status_index = 2000000 WHERE request_id = 'i-2'", "capacity"),
        ("UPDATE registry SET issuer_id = 'someone-else'", "issuers"),
        (
            "INSERT INTO status_changes (credential_id, old_status, new_status, reason, actor,"
            " changed_at) SELECT credential_id, 1, 1, 'x', 'x', 0 FROM credentials"
            " WHERE request_id = 'i-2'",
            "away from revoked",
        ),
    ],
    ids=["counter", "history", "index", "owner", "unrevoked"],
)
def test_integrity_check_finds_tampering(
    registry: Registry, db_url: str, tampering: str, complaint: str
) -> None:
    records = registry.issue_batch([request(f"i-{i}") for i in range(5)], sign)
    registry.set_status(records[1].credential_id, StatusValue.SUSPENDED, reason="x", actor="a")
    registry.check_integrity()

    _execute(db_url, tampering)

    with pytest.raises(errors.RegistryCorrupt, match=complaint):
        registry.check_integrity()


def test_index_permutation_is_a_keyed_bijection() -> None:
    for capacity in (1, 2, 3, 10, 16, 17, 1000, 4096, 5000):
        permutation = IndexPermutation(new_key(), capacity)
        assert sorted(map(permutation, range(capacity))) == list(range(capacity))
    a, b = IndexPermutation(new_key(), 1 << 20), IndexPermutation(new_key(), 1 << 20)
    assert [a(i) for i in range(10)] != [b(i) for i in range(10)]
    key = new_key()
    assert IndexPermutation(key, 1000)(7) == IndexPermutation(key, 1000)(7)
    with pytest.raises(ValueError):
        a(1 << 20)


# Helpers


def _execute(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _rank_correlation(values: list[int]) -> float:
    """Spearman's rho between issue order and index."""
    count = len(values)
    ranks = {value: rank for rank, value in enumerate(sorted(values))}
    squared = sum((order - ranks[value]) ** 2 for order, value in enumerate(values))
    return 1 - 6 * squared / (count * (count * count - 1))
