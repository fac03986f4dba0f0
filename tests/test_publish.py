"""Publishing status lists: layout, signatures, settings, and atomic files under SIGKILL."""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from issuer.cli import main as issuer_main
from issuer.issuance import credential_signer, issue_credential, open_registry
from issuer.issuer_dir import ISSUER_FILE, IssuerDir
from issuer.publish import publish_status_lists
from issuer.registry import IssueRequest
from issuer.registry_schema import status_lists
from issuer.revocation import change_status
from tests.conftest import STATUS_CAPACITY, STATUS_URI, StatusWorld
from verifier import errors, load_trust_list
from verifier.jws import STATUS_LIST_TYP, parse_compact
from verifier.status_list import StatusValue
from verifier.status_store import verify_status_list_token
from verifier.sync import DirectorySource, install_anchor, sync

ROOT = Path(__file__).resolve().parent.parent
KEYS_EXAMPLE = ROOT / "keys_example"
VALID_UNTIL = date.today() + timedelta(days=60)


def _issue(world: StatusWorld, count: int) -> list[str]:
    return [
        issue_credential(world.issuer, "heating-2027", VALID_UNTIL).credential_id
        for _ in range(count)
    ]


def test_every_list_is_signed_and_laid_out_as_sync_reads_it(status_world: StatusWorld) -> None:
    revoked, suspended, valid = _issue(status_world, 3)
    change_status(status_world.issuer, revoked, StatusValue.INVALID, reason="lost", actor="t")
    change_status(status_world.issuer, suspended, StatusValue.SUSPENDED, reason="check", actor="t")

    report = publish_status_lists(status_world.issuer, status_world.source)

    directory = status_world.source / "mosa"
    assert sorted(os.listdir(directory)) == ["0.jwt", "keys.jwks"]
    assert json.loads((directory / "keys.jwks").read_text()) == status_world.issuer.public_jwks()
    assert [(p.list_id, p.placeholder, p.revoked, p.suspended) for p in report.lists] == [
        (0, False, 1, 1)
    ]
    trust = load_trust_list(status_world.source, remember=False)
    mosa = trust.issuers["mosa"]
    token = (directory / "0.jwt").read_bytes()
    assert parse_compact(token, STATUS_LIST_TYP).header.kid == "mosa-1"
    parsed = verify_status_list_token(token, mosa, 0, trust)
    assert parsed.subject_uri == "https://status.example.org/mosa/0.jwt"
    assert len(parsed.status_list) == STATUS_CAPACITY  # full capacity, whatever is issued
    assert parsed.expires_at - parsed.issued_at == timedelta(days=10)
    assert parsed.ttl == timedelta(hours=24)
    expected = {revoked: StatusValue.INVALID, suspended: StatusValue.SUSPENDED}
    with open_registry(status_world.issuer) as registry:
        for credential_id in (revoked, suspended, valid):
            record = registry.get(credential_id)
            assert record is not None
            assert parsed.status_list.status(record.status_ref.index) is expected.get(
                credential_id, StatusValue.VALID
            )
    statuses = [parsed.status_list.status(i) for i in range(STATUS_CAPACITY)]
    assert sum(status is not StatusValue.VALID for status in statuses) == 2


def test_lists_a_registry_never_opened_are_published_all_valid(
    status_world: StatusWorld,
) -> None:
    # A registry from before lists were numbered from 0 opened list 1 first: sync, which
    # reads 0, 1, 2, ... up to the first missing list, must still find list 1.
    with open_registry(status_world.issuer) as registry:
        registry.status_lists()  # creates the schema
    engine = create_engine(status_world.issuer.registry_url())
    with engine.begin() as conn:
        conn.execute(
            status_lists.insert().values(
                list_id=1, capacity=STATUS_CAPACITY, allocated=0, permutation_key=bytes(32),
                created_at=0,
            )
        )  # fmt: skip
    engine.dispose()
    (revoked,) = _issue(status_world, 1)
    change_status(status_world.issuer, revoked, StatusValue.INVALID, reason="lost", actor="t")

    report = publish_status_lists(status_world.issuer, status_world.source)

    assert [(p.list_id, p.placeholder, p.revoked) for p in report.lists] == [
        (0, True, 0),
        (1, False, 1),
    ]
    trust = load_trust_list(status_world.source, remember=False)
    placeholder = verify_status_list_token(
        (status_world.source / "mosa" / "0.jwt").read_bytes(), trust.issuers["mosa"], 0, trust
    )
    assert len(placeholder.status_list) == STATUS_CAPACITY
    assert not any(placeholder.status_list.to_bytes())
    trust_dir = status_world.root / "trust"
    install_anchor(trust_dir, status_world.anchor)
    assert sync(DirectorySource(status_world.source), trust_dir).status_lists_updated == [
        "mosa/0",
        "mosa/1",
    ]


def test_cli_publish_takes_validity_and_ttl_and_prints_a_summary(
    status_world: StatusWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    (revoked,) = _issue(status_world, 1)
    change_status(status_world.issuer, revoked, StatusValue.INVALID, reason="lost", actor="t")
    out = status_world.root / "published"

    code = issuer_main(
        ["--dir", str(status_world.issuer.path), "publish", "--out", str(out),
         "--validity-days", "3", "--ttl-hours", "6"]
    )  # fmt: skip

    printed = capsys.readouterr().out
    assert code == 0
    assert "list 0: 4096 entries, 1 revoked, 0 suspended" in printed
    trust = load_trust_list(status_world.source, remember=False)
    parsed = verify_status_list_token(
        (out / "mosa" / "0.jwt").read_bytes(), trust.issuers["mosa"], 0, trust
    )
    assert parsed.expires_at - parsed.issued_at == timedelta(days=3)
    assert parsed.ttl == timedelta(hours=6)


def test_an_issuer_json_without_status_uri_loads_but_cannot_publish(
    status_world: StatusWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    path = status_world.issuer.path / ISSUER_FILE
    old = json.loads(path.read_text())
    del old["status_uri"], old["benefit_names"]
    path.write_text(json.dumps(old))
    _issue(status_world, 1)

    assert IssuerDir.open(status_world.issuer.path).config.status_uri is None
    code = issuer_main(
        ["--dir", str(status_world.issuer.path), "publish", "--out", str(status_world.root / "o")]
    )

    assert code == 78
    assert "status_uri" in capsys.readouterr().err
    assert not (status_world.root / "o").exists()


@pytest.mark.parametrize(
    "uri",
    [
        "https://status.example.org/mosa/status.jwt",
        "https://status.example.org/mosa/status.jwt?list={list}",
        "https://status.example.org/mosa/{list}/",
        "https://status.example.org/../{list}.jwt",
        "ftp://status.example.org/mosa/{list}.jwt",
        "/mosa/{list}.jwt",
    ],
)
def test_init_refuses_a_status_uri_that_cannot_be_published(
    tmp_path: Path, uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = issuer_main(
        ["--dir", str(tmp_path / "i"), "init", "--id", "mosa", "--name", "M",
         "--benefit", "heating-2027", "--status-uri", uri]
    )  # fmt: skip

    assert code == 78
    assert "status_uri" in capsys.readouterr().err
    assert not (tmp_path / "i" / ISSUER_FILE).exists()


def test_init_records_status_uri_and_benefit_names(tmp_path: Path) -> None:
    code = issuer_main(
        ["--dir", str(tmp_path / "i"), "init", "--id", "mosa", "--name", "M",
         "--benefit", "heating-2027=Heating support 2027", "--benefit", "child-allowance",
         "--status-uri", STATUS_URI]
    )  # fmt: skip

    assert code == 0
    config = IssuerDir.open(tmp_path / "i").config
    assert config.status_uri == STATUS_URI
    assert config.benefit_name("heating-2027") == "Heating support 2027"
    assert config.benefit_name("child-allowance") == "child-allowance"


def test_one_publication_at_a_time(status_world: StatusWorld) -> None:
    _issue(status_world, 1)
    out = status_world.root / "published"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(errors.ConfigurationError, match="another publication"):
            publish_status_lists(status_world.issuer, out)
    finally:
        os.close(fd)
    publish_status_lists(status_world.issuer, out)


def test_keys_example_issuers_publish_where_the_trust_list_points() -> None:
    trust_list = load_trust_list(KEYS_EXAMPLE / "verifier", remember=False)

    for issuer_id, listed in trust_list.issuers.items():
        config = IssuerDir.open(KEYS_EXAMPLE / "issuers" / issuer_id).config
        assert config.status_uri == listed.status_uri
        assert dict(config.benefit_names) == dict(listed.benefits)


# Atomicity under SIGKILL

#: Publishes again and again, each time as of one second later, until killed.
WORKER = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from issuer.issuer_dir import IssuerDir
from issuer.publish import publish_status_lists
issuer, out, start = IssuerDir.open(Path(sys.argv[1])), Path(sys.argv[2]), int(sys.argv[3])
now = datetime.now(UTC)
for step in range(start, start + 100000):
    publish_status_lists(issuer, out, now=now + timedelta(seconds=step))
"""
LIST_CAPACITY = 1024
CREDENTIALS = 3000  # three lists: 0, 1 and 2


def test_readers_never_see_half_a_file_when_publishing_is_killed(tmp_path: Path) -> None:
    world = _world_with_small_lists(tmp_path)
    out = tmp_path / "published"
    publish_status_lists(world.issuer, out)
    trust = load_trust_list(world.source, remember=False)
    mosa = trust.issuers["mosa"]
    names = {f"{list_id}.jwt": list_id for list_id in range(3)}
    seen: dict[str, int] = {}
    problems: list[str] = []
    reads = 0
    stop = threading.Event()

    def read_continuously() -> None:
        nonlocal reads
        while not stop.is_set():
            for entry in os.scandir(out / "mosa"):
                if entry.name not in names:
                    temporary = entry.name.startswith(".") and entry.name.endswith(".tmp")
                    if not temporary and entry.name != "keys.jwks":
                        problems.append(f"unexpected file {entry.name}")
                    continue
                try:
                    data = Path(entry.path).read_bytes()
                except FileNotFoundError:
                    continue
                reads += 1
                try:
                    parsed = verify_status_list_token(data, mosa, names[entry.name], trust)
                except errors.PlainclaimError as exc:
                    problems.append(f"{entry.name}: {len(data)} bytes, {exc.reason}")
                    continue
                issued = int(parsed.issued_at.timestamp())
                if issued < seen.get(entry.name, 0):
                    problems.append(f"{entry.name} went back to an older list")
                seen[entry.name] = issued

    reader = threading.Thread(target=read_continuously)
    reader.start()
    rng = random.Random(20270301)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        for round_number in range(5):
            worker = subprocess.Popen(
                [sys.executable, "-c", WORKER, str(world.issuer.path), str(out),
                 str(round_number * 1000)],
                env=env, stderr=subprocess.PIPE,
            )  # fmt: skip
            time.sleep(rng.uniform(0.5, 1.1))
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            if worker.stderr:
                worker.stderr.close()
    finally:
        stop.set()
        reader.join()

    assert not problems, problems[:5]
    assert reads > 100
    assert set(seen) == set(names)
    publish_status_lists(world.issuer, out, now=datetime.now(UTC) + timedelta(hours=2))
    assert sorted(os.listdir(out / "mosa")) == [*sorted(names), "keys.jwks"]


def _world_with_small_lists(tmp_path: Path) -> StatusWorld:
    from issuer.authority import Authority, parse_jwks

    issuer = IssuerDir.create(
        tmp_path / "mosa",
        issuer_id="mosa",
        name="Ministry of Social Affairs",
        benefits=["heating-2027"],
        status_uri=STATUS_URI,
        status_list_capacity=LIST_CAPACITY,
    )
    authority = Authority.init(tmp_path / "authority", "demo")
    authority.add_issuer("mosa", "Ministry of Social Affairs", STATUS_URI)
    authority.add_keys("mosa", parse_jwks(issuer.public_jwks()))
    authority.allow_benefit("mosa", "heating-2027", "Heating support 2027")
    source = tmp_path / "source"
    authority.publish(source)
    now = int(time.time())
    sign = credential_signer(issuer)
    with open_registry(issuer) as registry:
        records = registry.issue_batch(
            [
                IssueRequest(f"r{i}", "heating-2027", now, now + 86400 * 30)
                for i in range(CREDENTIALS)
            ],
            sign,
        )
        # Revocations scattered over every list, so that each file is more than a header.
        for record in random.Random(7).sample(records, 300):
            registry.set_status(record.credential_id, StatusValue.INVALID, reason="r", actor="t")
    return StatusWorld(issuer, authority, source, tmp_path)
