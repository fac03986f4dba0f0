"""issuer.issuance, issuer.issuer_dir and issuer.keys: what an issuer signs, and what it refuses."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from issuer import issuance
from issuer.issuer_dir import IssuerDir
from issuer.keys import generate_private_key, load_private_key, write_private_key
from verifier import Status, errors, load_trust_list, verify
from verifier.claims import REQUIRED_CLAIMS
from verifier.jws import CREDENTIAL_TYP, parse_compact
from verifier.qrtext import decode_qr_text

# Issuing


def test_issued_credential_verifies_with_names_from_the_trust_list(issue, trust_dir, now):
    credential = issue("child-allowance", date(2027, 6, 30))

    result = verify(credential.qr_text, load_trust_list(trust_dir), now=now + timedelta(days=1))

    assert result.status is Status.VALID, result.reason
    assert result.credential is not None
    assert result.credential.credential_id == credential.credential_id
    assert result.credential.benefit.name == "Child allowance"
    assert result.credential.issuer.name == "Ministry of Social Affairs"
    assert result.credential.valid_until == datetime(2027, 7, 1, tzinfo=UTC)
    assert decode_qr_text(credential.qr_text) == credential.token


def test_payload_holds_exactly_the_closed_claim_set(issue):
    token = issue(case_ref="F-2027/0042").token

    jws = parse_compact(token, CREDENTIAL_TYP)

    assert set(jws.unverified_payload) == set(REQUIRED_CLAIMS)
    assert "F-2027/0042" not in json.dumps(jws.unverified_payload)
    assert jws.header.kid == "mosa-1"


def test_nbf_defaults_to_now_in_whole_seconds(issue, now):
    moment = now.replace(microsecond=987_654)

    credential = issue(now=moment)

    assert credential.not_before == int(now.timestamp())


def test_valid_until_ends_at_midnight_in_the_issuer_time_zone(tmp_path, now):
    tallinn = IssuerDir.create(
        tmp_path / "ee", issuer_id="ee", name="EE", benefits=["x"], timezone="Europe/Tallinn"
    )

    credential = issuance.issue_credential(tallinn, "x", date(2027, 6, 30), now=now)

    end = datetime(2027, 7, 1, tzinfo=ZoneInfo("Europe/Tallinn"))
    assert credential.expires == int(end.timestamp())
    assert datetime.fromtimestamp(credential.expires, UTC) == datetime(2027, 6, 30, 21, tzinfo=UTC)


def test_valid_from_starts_that_day_but_never_before_issuance(issue, now):
    later = issue(valid_from=date(2027, 4, 1))
    today = issue(valid_from=now.date())

    assert later.not_before == int(datetime(2027, 4, 1, tzinfo=UTC).timestamp())
    assert today.not_before == int(now.timestamp())


def test_a_repeated_request_id_returns_the_first_credential(issue, now):
    first = issue(request_id="letter-7")
    again = issue(request_id="letter-7", now=now + timedelta(minutes=5))

    assert not first.replayed
    assert again.replayed
    assert (again.credential_id, again.token) == (first.credential_id, first.token)


def test_each_request_gets_its_own_credential_and_status_entry(issue):
    first, second = issue(), issue()

    assert first.credential_id != second.credential_id
    assert first.status_ref != second.status_ref


@pytest.mark.parametrize(
    ("benefit", "valid_until", "options", "error"),
    [
        ("transport-discount", date(2027, 6, 30), {}, issuance.BenefitNotConfigured),
        ("heating-2027", date(2027, 2, 28), {}, issuance.ValidityInPast),
        (
            "heating-2027",
            date(2027, 6, 30),
            {"valid_from": date(2027, 2, 28)},
            issuance.ValidityInPast,
        ),
        (
            "heating-2027",
            date(2027, 6, 30),
            {"valid_from": date(2027, 7, 1)},
            issuance.ValidityReversed,
        ),
        ("heating-2027", date(2028, 4, 5), {}, issuance.ValidityTooLong),
        (
            "heating-2027",
            date(2028, 6, 1),
            {"valid_from": date(2027, 4, 1)},
            issuance.ValidityTooLong,
        ),
    ],
    ids=["benefit", "until-past", "from-past", "from-after-until", "too-long", "too-long-from"],
)
def test_refusals_come_before_anything_is_signed_or_recorded(
    issue, issuer_dir, benefit, valid_until, options, error
):
    with pytest.raises(error) as refused:
        issue(benefit, valid_until, **options)

    assert refused.value.exit_code == 65
    assert not (issuer_dir.path / "registry.sqlite3").exists()


def test_max_validity_days_is_inclusive(issue, now):
    credential = issue(valid_until=now.date() + timedelta(days=400))

    assert credential.expires > credential.not_before


def test_naive_now_is_refused(issue):
    with pytest.raises(errors.UsageError):
        issue(now=datetime(2027, 3, 1, 10, 30))


def test_a_key_readable_by_others_stops_issuance(issue, issuer_dir):
    os.chmod(issuer_dir.key_path("mosa-1"), 0o644)

    with pytest.raises(errors.ConfigurationError, match="chmod 600"):
        issue()


# Key files


def test_key_file_is_created_owner_only_and_never_overwritten(tmp_path):
    path = tmp_path / "k.pem"
    write_private_key(generate_private_key(), path)

    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(errors.ConfigurationError, match="never overwritten"):
        write_private_key(generate_private_key(), path)
    assert isinstance(load_private_key(path), ec.EllipticCurvePrivateKey)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_key_file_group_or_others_can_read_is_refused(tmp_path, mode):
    path = tmp_path / "k.pem"
    write_private_key(generate_private_key(), path)
    os.chmod(path, mode)

    with pytest.raises(errors.ConfigurationError, match=f"chmod 600 {path}"):
        load_private_key(path)


@pytest.mark.parametrize(
    "pem",
    [
        b"not a key",
        generate_private_key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        ),
        ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    ],
    ids=["garbage", "encrypted", "p384"],
)
def test_only_unencrypted_p256_keys_load(tmp_path, pem):
    path = tmp_path / "k.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)

    with pytest.raises(errors.ConfigurationError):
        load_private_key(path)


# The issuer directory


def test_init_creates_a_private_directory_with_an_active_first_key(issuer_dir):
    assert issuer_dir.config.active_kid == "mosa-1"
    assert issuer_dir.key_ids() == ["mosa-1"]
    assert issuer_dir.keys_dir.stat().st_mode & 0o777 == 0o700
    assert IssuerDir.open(issuer_dir.path).config == issuer_dir.config


def test_init_refuses_an_existing_issuer(issuer_dir):
    with pytest.raises(errors.ConfigurationError, match="exists already"):
        IssuerDir.create(issuer_dir.path, issuer_id="other", name="Other", benefits=["x"])


def test_a_new_key_is_not_active_until_activated(issuer_dir):
    kid = issuer_dir.new_key()

    assert kid == "mosa-2"
    assert IssuerDir.open(issuer_dir.path).config.active_kid == "mosa-1"
    issuer_dir.activate_key(kid)
    assert IssuerDir.open(issuer_dir.path).config.active_kid == "mosa-2"
    assert issuer_dir.key_ids() == ["mosa-1", "mosa-2"]


def test_activating_an_unknown_key_is_refused(issuer_dir):
    with pytest.raises(errors.ConfigurationError, match="no key"):
        issuer_dir.activate_key("mosa-9")


def test_exported_jwks_is_public_only(issuer_dir):
    jwks = issuer_dir.public_jwks()

    assert [set(jwk) for jwk in jwks["keys"]] == [{"kty", "crv", "x", "y", "kid", "use", "alg"}]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"note": "x"}, "unknown fields"),
        ({"format": 2}, "format"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"benefits": []}, "at least one benefit"),
        ({"max_validity_days": "400"}, "max_validity_days"),
        ({"active_kid": "../../etc/passwd"}, "key id"),
    ],
)
def test_issuer_json_is_read_strictly(issuer_dir, change, message):
    path = issuer_dir.path / "issuer.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))

    with pytest.raises(errors.ConfigurationError, match=message):
        IssuerDir.open(issuer_dir.path)


def test_a_missing_issuer_json_says_how_to_create_one(tmp_path):
    with pytest.raises(errors.ConfigurationError, match="init"):
        IssuerDir.open(tmp_path)


def test_registry_url_from_file_or_environment(issuer_dir):
    default = f"sqlite:///{(issuer_dir.path / 'registry.sqlite3').resolve()}"
    postgres = "postgresql+psycopg://issuer@db/plainclaim"

    assert issuer_dir.registry_url({}) == default
    assert default.startswith("sqlite:////")
    assert issuer_dir.registry_url({"PLAINCLAIM_REGISTRY_URL": postgres}) == postgres


def test_registry_path_is_relative_to_the_issuer_directory(tmp_path):
    issuer = IssuerDir.create(
        tmp_path / "i", issuer_id="i", name="I", benefits=["x"], registry="db/r.sqlite3"
    )

    assert issuer.registry_url({}) == f"sqlite:///{(tmp_path / 'i' / 'db' / 'r.sqlite3').resolve()}"
    assert Path(issuer.registry_url({}).removeprefix("sqlite:///")).is_absolute()
