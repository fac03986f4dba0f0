"""Revocation status at verification time: revoked, suspended, stale, missing, and precedence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.demo_world import ISSUER, World, make_world
from verifier import Status, load_trust_store, verify
from verifier.status_store import status_list_path
from verifier.verify import VerifyPolicy


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


def _trust_dir(
    tmp_path: Path,
    world: World,
    *,
    revoked: tuple[int, ...] = (),
    suspended: tuple[int, ...] = (),
    issued_days_ago: float = 0,
) -> Path:
    world.write_trust_dir(tmp_path, status_size=4096)
    token = world.status_list_jws(
        size=4096, revoked=revoked, suspended=suspended, issued_days_ago=issued_days_ago
    )
    status_list_path(tmp_path, ISSUER, 0).write_text(token)
    return tmp_path


def _verify(
    trust_dir: Path,
    qr_text: str,
    *,
    now: datetime | None = None,
    policy: VerifyPolicy | None = None,
):  # type: ignore[no-untyped-def]
    store = load_trust_store(trust_dir)
    kwargs = {"policy": policy} if policy else {}
    return verify(qr_text, store.trust_list, status=store.status, now=now, **kwargs)


def test_valid_credential_reports_status_age(tmp_path: Path, world: World) -> None:
    result = _verify(_trust_dir(tmp_path, world), world.qr_text(index=7))
    assert result.status is Status.VALID
    assert result.credential is not None
    assert result.credential.status_as_of is not None
    assert result.warnings == ()


def test_revoked(tmp_path: Path, world: World) -> None:
    result = _verify(_trust_dir(tmp_path, world, revoked=(7,)), world.qr_text(index=7))
    assert (result.status, result.reason) == (Status.INVALID, "revoked")
    assert "withdrawn" in result.message


def test_suspended(tmp_path: Path, world: World) -> None:
    result = _verify(_trust_dir(tmp_path, world, suspended=(9,)), world.qr_text(index=9))
    assert (result.status, result.reason) == (Status.INVALID, "suspended")


def test_other_entries_do_not_leak(tmp_path: Path, world: World) -> None:
    trust_dir = _trust_dir(tmp_path, world, revoked=(6, 8), suspended=(10,))
    assert _verify(trust_dir, world.qr_text(index=7)).status is Status.VALID


def test_old_status_data_warns_then_becomes_indeterminate(tmp_path: Path, world: World) -> None:
    trust_dir = _trust_dir(tmp_path, world, issued_days_ago=3)
    warned = _verify(trust_dir, world.qr_text(index=7))
    assert warned.status is Status.VALID
    assert warned.warnings and "3 days old" in warned.warnings[0]

    later = datetime.now(UTC) + timedelta(days=6)
    stale = _verify(trust_dir, world.qr_text(index=7), now=later)
    assert (stale.status, stale.reason) == (Status.INDETERMINATE, "status_stale")
    assert "9 days old" in stale.message
    assert stale.status_as_of is not None


def test_policy_ages_are_configurable(tmp_path: Path, world: World) -> None:
    trust_dir = _trust_dir(tmp_path, world, issued_days_ago=1)
    strict = VerifyPolicy(status_warn_age=timedelta(hours=1), status_max_age=timedelta(hours=12))
    result = _verify(trust_dir, world.qr_text(index=7), policy=strict)
    assert (result.status, result.reason) == (Status.INDETERMINATE, "status_stale")


def test_revoked_is_believed_even_from_old_data(tmp_path: Path, world: World) -> None:
    # Revocation is final, so old data that says "revoked" is still right.
    trust_dir = _trust_dir(tmp_path, world, revoked=(7,), issued_days_ago=20)
    assert _verify(trust_dir, world.qr_text(index=7)).reason == "revoked"


def test_suspended_from_old_data_is_indeterminate(tmp_path: Path, world: World) -> None:
    trust_dir = _trust_dir(tmp_path, world, suspended=(7,), issued_days_ago=20)
    assert _verify(trust_dir, world.qr_text(index=7)).reason == "status_stale"


def test_token_failures_take_precedence_over_status(tmp_path: Path, world: World) -> None:
    trust_dir = _trust_dir(tmp_path, world, revoked=(7,))
    qr_text = world.qr_text(index=7, days=1)
    after_expiry = datetime.now(UTC) + timedelta(days=2)
    assert _verify(trust_dir, qr_text, now=after_expiry).reason == "expired"


def test_missing_list_is_indeterminate(tmp_path: Path, world: World) -> None:
    trust_dir = _trust_dir(tmp_path, world)
    status_list_path(trust_dir, ISSUER, 0).unlink()
    result = _verify(trust_dir, world.qr_text(index=7))
    assert (result.status, result.reason) == (Status.INDETERMINATE, "status_list_missing")


def test_index_beyond_list_is_indeterminate(tmp_path: Path, world: World) -> None:
    result = _verify(_trust_dir(tmp_path, world), world.qr_text(index=5000))
    assert (result.status, result.reason) == (Status.INDETERMINATE, "status_index_out_of_range")


def test_tampered_status_list_is_indeterminate(tmp_path: Path, world: World) -> None:
    trust_dir = _trust_dir(tmp_path, world, revoked=(7,))
    path = status_list_path(trust_dir, ISSUER, 0)
    header, _payload, signature = path.read_text().split(".")
    forged = _trust_dir(tmp_path / "other", world)  # an all-valid list, same issuer
    _, forged_payload, _ = status_list_path(forged, ISSUER, 0).read_text().split(".")
    path.write_text(f"{header}.{forged_payload}.{signature}")
    result = _verify(trust_dir, world.qr_text(index=7))
    assert (result.status, result.reason) == (Status.INDETERMINATE, "status_list_invalid")


def test_status_list_signed_by_another_issuer_is_refused(tmp_path: Path, world: World) -> None:
    stranger = make_world()  # same issuer id and kid, different key: not the trusted one
    trust_dir = _trust_dir(tmp_path, world)
    status_list_path(trust_dir, ISSUER, 0).write_text(stranger.status_list_jws(size=4096))
    assert _verify(trust_dir, world.qr_text(index=7)).reason == "status_list_invalid"


def test_without_status_data_never_valid(world: World) -> None:
    result = verify(world.qr_text(index=7), world.trust_list)
    assert (result.status, result.reason) == (Status.INDETERMINATE, "status_list_missing")
