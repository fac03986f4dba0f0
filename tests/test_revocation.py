"""Revoke, suspend, reinstate: from the issuer's CLI to a verifier that synced offline.

Each test runs the real CLIs in-process on the real clock: issue, change the status, publish,
``plainclaim-verify sync`` from the published directory, verify.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from issuer.cli import main as issuer_main
from tests.conftest import StatusWorld
from verifier.cli import main as verify_main

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run a CLI's ``main`` with string arguments: (exit code, stdout, stderr)."""

    def run(main: Callable[[list[str]], int], *argv: object) -> tuple[int, str, str]:
        code = main([str(arg) for arg in argv])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return code, captured.out, captured.err

    return run


class Office:
    """The issuing office and one benefit office, driven through their CLIs."""

    def __init__(self, world: StatusWorld, cli: Cli) -> None:
        self.world = world
        self.cli = cli
        self.trust = world.root / "trust"
        self.synced = False

    def issuer(self, *argv: object) -> tuple[int, str, str]:
        return self.cli(issuer_main, "--dir", self.world.issuer.path, *argv)

    def issue(self) -> tuple[str, Path]:
        out = self.world.root / f"credential-{len(list(self.world.root.glob('*.txt')))}.txt"
        until = (date.today() + timedelta(days=90)).isoformat()
        code, stdout, err = self.issuer(
            "issue", "--benefit", "heating-2027", "--valid-until", until, "--out", out, "--json"
        )
        assert code == 0, err
        return json.loads(stdout)["credential_id"], out

    def publish_and_sync(self) -> None:
        code, _, err = self.issuer("publish", "--out", self.world.source)
        assert code == 0, err
        argv: list[object] = ["sync", self.world.source, "--trust-dir", self.trust]
        if not self.synced:
            argv += ["--anchor", self.world.anchor]
        code, out, err = self.cli(verify_main, *argv)
        assert code == 0, err
        assert "Status lists updated: 1" in out
        self.synced = True

    def verify(self, credential: Path) -> tuple[int, dict[str, object]]:
        code, out, _ = self.cli(verify_main, "--trust-dir", self.trust, "--json", credential)
        return code, json.loads(out)


@pytest.fixture
def office(status_world: StatusWorld, cli: Cli) -> Office:
    return Office(status_world, cli)


def test_revoked_credential_is_invalid_after_publish_and_sync(office: Office) -> None:
    credential_id, credential = office.issue()
    _, kept = office.issue()
    office.publish_and_sync()
    assert office.verify(credential)[0] == 0

    code, out, err = office.issuer("revoke", credential_id, "--reason", "reported lost")
    assert code == 0, err
    assert "revoked" in out
    office.publish_and_sync()

    code, result = office.verify(credential)
    assert (code, result["status"], result["reason"]) == (1, "INVALID", "revoked")
    assert office.verify(kept)[0] == 0


def test_suspended_then_reinstated(office: Office) -> None:
    credential_id, credential = office.issue()

    assert office.issuer("suspend", credential_id, "--reason", "decision 2027/114")[0] == 0
    office.publish_and_sync()
    code, result = office.verify(credential)
    assert (code, result["reason"]) == (1, "suspended")

    assert office.issuer("reinstate", credential_id, "--reason", "appeal upheld")[0] == 0
    office.publish_and_sync()
    code, result = office.verify(credential)
    assert (code, result["status"]) == (0, "VALID")


def test_revocation_is_final(office: Office) -> None:
    credential_id, credential = office.issue()
    assert office.issuer("revoke", credential_id, "--reason", "fraud")[0] == 0

    for command in ("reinstate", "suspend"):
        code, _, err = office.issuer(command, credential_id, "--reason", "mistake")
        assert code == 65
        assert "revoked" in err
    office.publish_and_sync()
    assert office.verify(credential)[1]["reason"] == "revoked"


def test_status_shows_the_record_and_its_history(office: Office) -> None:
    credential_id, _ = office.issue()
    office.issuer("suspend", credential_id, "--reason", "letter returned", "--actor", "ana")
    office.issuer("reinstate", credential_id, "--reason", "address confirmed", "--actor", "ben")
    office.issuer("revoke", credential_id, "--reason", "moved away")

    code, out, _ = office.issuer("status", credential_id, "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["credential_id"] == credential_id
    assert shown["status"] == "revoked"
    assert shown["benefit"] == "heating-2027"
    assert "token" not in shown
    assert [(c["from"], c["to"], c["reason"], c["actor"]) for c in shown["history"]] == [
        ("valid", "suspended", "letter returned", "ana"),
        ("suspended", "valid", "address confirmed", "ben"),
        ("valid", "revoked", "moved away", getpass.getuser()),
    ]
    code, out, _ = office.issuer("status", credential_id)
    assert code == 0
    assert "valid -> suspended  by ana: letter returned" in out


def test_setting_the_same_status_again_changes_nothing(office: Office) -> None:
    credential_id, _ = office.issue()
    assert office.issuer("revoke", credential_id, "--reason", "lost")[0] == 0

    code, out, _ = office.issuer("revoke", credential_id, "--reason", "lost again")
    assert code == 0
    assert "already" in out
    history = json.loads(office.issuer("status", credential_id, "--json")[1])["history"]
    assert len(history) == 1


@pytest.mark.parametrize("command", ["revoke", "suspend", "reinstate", "status"])
def test_unknown_credential_is_refused(office: Office, command: str) -> None:
    office.issue()
    argv = [command, "AAAAAAAAAAAAAAAA"] + ([] if command == "status" else ["--reason", "x"])

    code, _, err = office.issuer(*argv)

    assert code == 65
    assert "no credential" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--reason", ""],
        ["--reason", "Jüri Tamm asked"],
        ["--reason", "ok", "--actor", "Ana Smith"],
    ],
    ids=["empty-reason", "non-ascii-reason", "actor-with-space"],
)
def test_bad_reason_or_actor_is_refused(office: Office, argv: list[str]) -> None:
    credential_id, _ = office.issue()

    code, _, err = office.issuer("revoke", credential_id, *argv)

    assert code == 65, err
    assert json.loads(office.issuer("status", credential_id, "--json")[1])["status"] == "valid"


@pytest.mark.parametrize(
    "argv",
    [
        ["revoke", "{id}", "--reason", "lost"],
        ["revoke", "--reason", "lost", "{id}"],
        ["revoke", "--actor", "ana", "{id}", "--reason", "lost"],
    ],
)
def test_a_credential_id_starting_with_a_dash_is_not_an_option(
    office: Office, argv: list[str]
) -> None:
    # Credential ids are base64url: one in 64 starts with "-".
    unknown = "-AbCdEfGhIjKlMnO"

    code, _, err = office.issuer(*(unknown if arg == "{id}" else arg for arg in argv))

    assert code == 65
    assert "no credential '-AbCdEfGhIjKlMnO'" in err
