"""issuer.authority: what the trust authority publishes, and what verifiers then accept."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from issuer.authority import Authority, parse_jwks, read_jwks
from issuer.issuer_dir import IssuerDir
from verifier import Status, errors, load_trust_list, verify
from verifier.jws import CREDENTIAL_TYP, parse_compact
from verifier.trust_dir import load_anchor

KEYS_EXAMPLE = Path(__file__).resolve().parent.parent / "keys_example"


def test_published_directory_is_a_verifier_trust_directory(authority, trust_dir, issuer_dir, now):
    trust_list = load_trust_list(trust_dir)

    assert load_anchor(trust_dir).kid == "demo-anchor-1"
    assert trust_list.authority == "demo"
    assert trust_list.sequence == 1
    assert trust_list.expires_at == int(now.timestamp()) + 30 * 86400
    mosa = trust_list.issuers["mosa"]
    assert mosa.name == "Ministry of Social Affairs"
    assert dict(mosa.benefits) == {
        "heating-2027": "Heating support 2027",
        "child-allowance": "Child allowance",
    }
    assert list(mosa.keys) == ["mosa-1"]
    exported = issuer_dir.public_jwks()["keys"][0]
    assert mosa.keys["mosa-1"].to_jwk().items() >= exported.items()


def test_each_publication_takes_the_next_sequence_and_old_lists_are_refused(
    authority, trust_dir, now
):
    first = (trust_dir / "trustlist.jwt").read_bytes()
    assert load_trust_list(trust_dir).sequence == 1

    authority.publish(trust_dir, now=now + timedelta(days=1))
    assert load_trust_list(trust_dir).sequence == 2
    assert Authority.open(authority.path).state.sequence == 2

    (trust_dir / "trustlist.jwt").write_bytes(first)
    with pytest.raises(errors.TrustListRollback):
        load_trust_list(trust_dir)


def test_a_failed_publication_still_uses_up_its_sequence(authority, tmp_path, now):
    out = tmp_path / "trust"
    (out / "trustlist.jwt").mkdir(parents=True)  # the signed list cannot be written there

    with pytest.raises(errors.ConfigurationError):
        authority.publish(out, now=now)

    assert Authority.open(authority.path).state.sequence == 1
    (out / "trustlist.jwt").rmdir()
    assert authority.publish(out, now=now).sequence == 2


def test_removing_an_issuer_makes_its_credentials_unknown(authority, trust_dir, issue, now):
    credential = issue()
    authority.remove_issuer("mosa")
    authority.publish(trust_dir, now=now)

    result = verify(credential.qr_text, load_trust_list(trust_dir), now=now)

    assert (result.status, result.reason) == (Status.INVALID, "unknown_issuer")


def test_disallowing_a_benefit_refuses_its_credentials(authority, trust_dir, issue, now):
    heating, child = issue("heating-2027"), issue("child-allowance")
    authority.disallow_benefit("mosa", "heating-2027")
    authority.publish(trust_dir, now=now)
    trust_list = load_trust_list(trust_dir)

    assert verify(heating.qr_text, trust_list, now=now).reason == "benefit_not_allowed"
    assert verify(child.qr_text, trust_list, now=now).status is Status.VALID


def test_removing_a_key_refuses_what_it_signed(authority, trust_dir, issue, now):
    credential = issue()
    assert authority.remove_key("mosa-1") == "mosa"
    authority.publish(trust_dir, now=now)

    assert verify(credential.qr_text, load_trust_list(trust_dir), now=now).reason == "unknown_kid"


def test_key_rotation_publishes_the_new_key_before_it_signs(
    authority, trust_dir, issuer_dir, issue, now
):
    old = issue()
    new_kid = issuer_dir.new_key()
    added = authority.add_keys("mosa", parse_jwks(issuer_dir.public_jwks()), now=now)
    authority.publish(trust_dir, now=now)
    before_activation = issue()
    issuer_dir.activate_key(new_kid)
    new = issue()
    trust_list = load_trust_list(trust_dir)

    assert added == ["mosa-2"]
    assert [kid_of(c.token) for c in (old, before_activation, new)] == [
        "mosa-1",
        "mosa-1",
        "mosa-2",
    ]
    for credential in (old, before_activation, new):
        assert verify(credential.qr_text, trust_list, now=now).status is Status.VALID


def test_key_window_bounds_verification(authority, tmp_path, issuer_dir, issue, now):
    authority.remove_key("mosa-1")
    authority.add_keys(
        "mosa",
        parse_jwks(issuer_dir.public_jwks()),
        not_before=date(2027, 2, 1),
        not_after=date(2027, 3, 5),
    )
    authority.publish(tmp_path / "trust", validity_days=60, now=now)
    trust_list = load_trust_list(tmp_path / "trust")
    credential = issue()

    key = trust_list.keys_by_kid["mosa-1"]
    first_second = datetime(2027, 2, 1, tzinfo=UTC).timestamp()
    last_second = datetime(2027, 3, 5, 23, 59, 59, tzinfo=UTC).timestamp()
    assert (key.not_before, key.not_after) == (first_second, last_second)
    assert verify(credential.qr_text, trust_list, now=now).status is Status.VALID
    late = now + timedelta(days=5)
    assert verify(credential.qr_text, trust_list, now=late).reason == "key_not_valid"


def test_keys_listed_already_are_left_alone(authority, issuer_dir):
    assert authority.add_keys("mosa", parse_jwks(issuer_dir.public_jwks())) == []


def test_a_kid_of_another_key_or_issuer_is_refused(authority, issuer_dir, tmp_path):
    impostor = IssuerDir.create(tmp_path / "x", issuer_id="mosa", name="X", benefits=["x"])
    authority.add_issuer("city", "City")

    with pytest.raises(errors.UsageError, match="another key"):
        authority.add_keys("mosa", parse_jwks(impostor.public_jwks()))
    with pytest.raises(errors.UsageError, match="listed already"):
        authority.add_keys("city", parse_jwks(issuer_dir.public_jwks()))


def test_private_key_members_are_refused(tmp_path, issuer_dir):
    jwk = issuer_dir.public_jwks()["keys"][0] | {"d": "c2VjcmV0"}
    path = tmp_path / "leaked.jwks"
    path.write_text(json.dumps({"keys": [jwk]}))

    with pytest.raises(errors.UsageError, match="PRIVATE"):
        read_jwks(path)


def test_publish_refuses_to_replace_another_anchor(authority, tmp_path, now):
    other = Authority.init(tmp_path / "other", "other")
    other.publish(tmp_path / "theirs", now=now)

    with pytest.raises(errors.ConfigurationError, match="another anchor"):
        authority.publish(tmp_path / "theirs", now=now)
    assert load_trust_list(tmp_path / "theirs").authority == "other"


def test_authority_init_refuses_an_existing_directory(authority):
    with pytest.raises(errors.ConfigurationError, match="exists already"):
        Authority.init(authority.path, "again")


def test_anchor_key_is_owner_only(authority):
    assert (authority.path / "anchor.pem").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda a: a.add_issuer("mosa", "Again"), "already"),
        (lambda a: a.add_issuer("Bad_Id", "Bad"), "issuer id"),
        (lambda a: a.add_issuer("city", "City", "https://x.example/status.jwt"), "{list}"),
        (lambda a: a.remove_issuer("nobody"), "no issuer"),
        (lambda a: a.allow_benefit("mosa", "Heating 2027", "Heating"), "benefit code"),
        (lambda a: a.disallow_benefit("mosa", "transport-discount"), "not allowed"),
        (lambda a: a.remove_key("mosa-9"), "no key"),
        (lambda a: a.set_validity(0), "validity"),
    ],
)
def test_authority_refusals(authority, action, message):
    before = (authority.path / "authority.json").read_bytes()

    with pytest.raises(errors.UsageError, match=message):
        action(authority)

    assert (authority.path / "authority.json").read_bytes() == before


def test_the_committed_example_world_is_consistent():
    trust_list = load_trust_list(KEYS_EXAMPLE / "verifier", remember=False)

    assert set(trust_list.issuers) == {"mosa", "city"}
    for issuer_id in trust_list.issuers:
        config = IssuerDir.open(KEYS_EXAMPLE / "issuers" / issuer_id).config
        listed = trust_list.issuers[issuer_id]
        assert config.active_kid in listed.keys
        assert set(config.benefits) == set(listed.benefits)
        assert listed.status_uri == f"https://status.example.org/{issuer_id}/{{list}}.jwt"
    assert trust_list.issuers["city"].benefits == {"transport-discount": "Transport discount"}
    assert trust_list.expires_at - trust_list.issued_at > 9 * 365 * 86400
    example_state = json.loads((KEYS_EXAMPLE / "authority" / "authority.json").read_text())
    assert example_state["sequence"] == trust_list.sequence


def kid_of(token: str) -> str:
    return parse_compact(token, CREDENTIAL_TYP).header.kid


def test_copying_a_published_directory_keeps_it_usable(trust_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(trust_dir, copy)

    assert load_trust_list(copy, remember=False).sequence == 1
