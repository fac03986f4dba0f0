"""plainclaim-issuer end to end: a world built with the CLI alone, then verified offline.

These tests run the real CLI in-process on the real clock (the CLI has no ``--now``), so dates
are relative to today.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from issuer.cli import main
from verifier import Status, VerificationResult, load_trust_list, verify
from verifier.jws import CREDENTIAL_TYP, parse_compact
from verifier.qrtext import decode_qr_text

MOSA = "Ministry of Social Affairs"


@dataclass(frozen=True)
class Run:
    """What one CLI invocation did."""

    code: int
    out: str
    err: str


@dataclass(frozen=True)
class World:
    """Directories of a world made with the CLI: issuer, authority, published trust list."""

    issuer: Path
    authority: Path
    trust: Path
    root: Path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    def run(*argv: str | Path) -> Run:
        code = main([str(arg) for arg in argv])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def world(tmp_path: Path, cli) -> World:
    issuer, authority, trust = tmp_path / "mosa", tmp_path / "authority", tmp_path / "trust"
    jwks = tmp_path / "mosa.jwks"
    steps = [
        (issuer, "init", "--id", "mosa", "--name", MOSA, "--benefit", "heating-2027",
         "--benefit", "child-allowance"),
        (issuer, "export-keys", "--out", jwks),
        (authority, "authority", "init", "--id", "demo"),
        (authority, "authority", "add-issuer", "--id", "mosa", "--name", MOSA),
        (authority, "authority", "add-key", "--issuer", "mosa", "--jwks", jwks),
        (authority, "authority", "allow-benefit", "--issuer", "mosa", "--code", "heating-2027",
         "--name", "Heating support 2027"),
        (authority, "authority", "allow-benefit", "--issuer", "mosa", "--code",
         "child-allowance", "--name", "Child allowance"),
        (authority, "authority", "publish", "--out", trust),
    ]  # fmt: skip
    for directory, *argv in steps:
        run = cli("--dir", directory, *argv)
        assert run.code == 0, run.err
    return World(issuer, authority, trust, tmp_path)


def in_days(days: int) -> str:
    """A date relative to today in UTC, the issuer's time zone here."""
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def issue(cli, world: World, out: Path, *options: str, benefit: str = "heating-2027") -> Run:
    return cli(
        "--dir", world.issuer, "issue", "--benefit", benefit, "--valid-until", in_days(30),
        "--out", out, *options,
    )  # fmt: skip


def verify_file(path: Path, world: World) -> VerificationResult:
    return verify(path.read_text(), load_trust_list(world.trust))


def kid_of(path: Path) -> str:
    return parse_compact(decode_qr_text(path.read_text().strip()), CREDENTIAL_TYP).header.kid


def test_issue_png_svg_txt_and_verify(cli, world):
    outputs = {suffix: world.root / f"heating{suffix}" for suffix in (".png", ".svg", ".txt")}
    runs = {suffix: issue(cli, world, path) for suffix, path in outputs.items()}

    for run in runs.values():
        assert run.code == 0, run.err
        assert "QR version" in run.out
    result = verify_file(outputs[".txt"], world)
    assert result.status is Status.VALID, result.reason
    assert result.credential is not None
    assert result.credential.benefit.name == "Heating support 2027"
    assert result.credential.issuer.name == MOSA
    assert result.credential.credential_id in runs[".txt"].out
    png_text = zxingcpp.read_barcodes(Image.open(outputs[".png"]))[0].text
    assert verify(png_text, load_trust_list(world.trust)).status is Status.VALID
    assert outputs[".svg"].read_text().startswith("<svg")


def test_png_holds_the_same_text_as_the_txt(cli, world):
    txt, png = world.root / "c.txt", world.root / "c.png"
    issue(cli, world, txt, "--request-id", "letter-1")
    issue(cli, world, png, "--request-id", "letter-1")

    assert zxingcpp.read_barcodes(Image.open(png))[0].text == txt.read_text().strip()


def test_json_report(cli, world):
    out = world.root / "c.txt"
    run = issue(cli, world, out, "--json", "--ecc", "Q", "--case-ref", "F-1", "--request-id", "r")
    again = issue(cli, world, out, "--json", "--ecc", "Q", "--case-ref", "F-1", "--request-id", "r")

    report, replay = json.loads(run.out), json.loads(again.out)
    assert set(report) == {
        "credential_id", "qr_version", "ecc", "out", "not_before", "expires",
        "status_list", "status_index", "replayed",
    }  # fmt: skip
    assert (report["ecc"], report["out"], report["replayed"]) == ("Q", str(out), False)
    assert report["expires"] > report["not_before"]
    assert replay == report | {"replayed": True}


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--benefit", "transport-discount", "--valid-until", "+30"], 65, "not configured"),
        (["--benefit", "heating-2027", "--valid-until", "+401"], 65, "more than 400 days"),
        (["--benefit", "heating-2027", "--valid-until", "-1"], 65, "before today"),
        (["--benefit", "heating-2027", "--valid-until", "2027-02-30"], 64, "YYYY-MM-DD"),
        (["--benefit", "heating-2027", "--valid-until", "30.04.2027"], 64, "YYYY-MM-DD"),
        (["--benefit", "heating-2027", "--valid-until", "+30", "--ecc", "L"], 64, "--ecc"),
        (
            ["--benefit", "heating-2027", "--valid-until", "+30", "--case-ref", "Jane Doe"],
            65,
            "case_ref",
        ),
    ],
    ids=["benefit", "too-long", "past", "no-such-day", "format", "ecc", "case-ref"],
)
def test_issue_refusals(cli, world, argv, code, message):
    argv = [in_days(int(arg)) if arg[0] in "+-" and arg[1:].isdigit() else arg for arg in argv]

    run = cli("--dir", world.issuer, "issue", "--out", world.root / "c.txt", *argv)

    assert (run.code, run.out) == (code, "")
    assert run.err.startswith("plainclaim-issuer: error:")
    assert message in run.err
    assert not (world.root / "c.txt").exists()


def test_unknown_suffix_is_refused_before_anything_is_issued(cli, world):
    run = issue(cli, world, world.root / "c.pdf")

    assert run.code == 64
    assert ".png, .svg or .txt" in run.err
    assert not (world.issuer / "registry.sqlite3").exists()


def test_world_readable_key_is_refused(cli, world):
    os.chmod(world.issuer / "keys" / "mosa-1.pem", 0o644)

    run = issue(cli, world, world.root / "c.txt")

    assert run.code == 78
    assert "chmod 600" in run.err


def test_init_refuses_an_existing_issuer(cli, world):
    run = cli("--dir", world.issuer, "init", "--id", "x", "--name", "X", "--benefit", "b")

    assert run.code == 78
    assert "exists already" in run.err


def test_key_rotation(cli, world):
    jwks = world.root / "all.jwks"
    old = world.root / "old.txt"
    assert issue(cli, world, old).code == 0

    assert cli("--dir", world.issuer, "new-key").code == 0
    assert cli("--dir", world.issuer, "export-keys", "--out", jwks).code == 0
    add = cli("--dir", world.authority, "authority", "add-key", "--issuer", "mosa", "--jwks", jwks)
    assert "added for mosa: mosa-2" in add.out
    assert "unchanged: mosa-1" in add.out
    assert cli("--dir", world.authority, "authority", "publish", "--out", world.trust).code == 0
    still_old = world.root / "still-old.txt"
    issue(cli, world, still_old)
    assert cli("--dir", world.issuer, "activate-key", "mosa-2").code == 0
    new = world.root / "new.txt"
    issue(cli, world, new)

    assert [kid_of(p) for p in (old, still_old, new)] == ["mosa-1", "mosa-1", "mosa-2"]
    for path in (old, still_old, new):
        assert verify_file(path, world).status is Status.VALID


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (["remove-issuer", "--id", "mosa"], "unknown_issuer"),
        (["disallow-benefit", "--issuer", "mosa", "--code", "heating-2027"], "benefit_not_allowed"),
        (["remove-key", "--kid", "mosa-1"], "unknown_kid"),
    ],
)
def test_authority_changes_reach_verifiers_on_publish(cli, world, change, reason):
    credential = world.root / "c.txt"
    issue(cli, world, credential)
    assert cli("--dir", world.authority, "authority", *change).code == 0
    assert verify_file(credential, world).status is Status.VALID  # not published yet

    publish = cli("--dir", world.authority, "authority", "publish", "--out", world.trust)

    assert "trust list 2 of demo" in publish.out
    assert verify_file(credential, world).reason == reason


def test_add_key_refuses_private_key_material(cli, world):
    jwks = json.loads((world.root / "mosa.jwks").read_text())
    jwks["keys"][0]["d"] = "c2VjcmV0"
    leaked = world.root / "leaked.jwks"
    leaked.write_text(json.dumps(jwks))

    run = cli(
        "--dir", world.authority, "authority", "add-key", "--issuer", "mosa", "--jwks", leaked
    )

    assert run.code == 64
    assert "PRIVATE key material" in run.err


def test_export_keys_prints_public_keys_only(cli, world):
    run = cli("--dir", world.issuer, "export-keys")

    keys = json.loads(run.out)["keys"]
    assert [key["kid"] for key in keys] == ["mosa-1"]
    assert "d" not in keys[0]


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--help"], 0),
        (["--dir", "x", "authority", "--help"], 0),
        ([], 64),
        (["--dir", "x"], 64),
        (["issue"], 64),
        (["--dir", "x", "frobnicate"], 64),
    ],
)
def test_argument_errors_exit_64(cli, argv, code):
    assert cli(*argv).code == code


def test_commands_on_a_missing_directory_explain_what_to_do(cli, tmp_path):
    run = cli("--dir", tmp_path / "nowhere", "new-key")

    assert run.code == 78
    assert "init" in run.err


def test_a_credential_issued_but_not_written_can_be_written_again(cli, world):
    blocked = world.root / "blocked.txt"
    blocked.mkdir()

    failed = issue(cli, world, blocked)
    request_id = failed.err.rsplit("--request-id ", 1)[-1].strip()
    retry = issue(cli, world, world.root / "c.txt", "--request-id", request_id, "--json")

    assert failed.code == 64
    assert "was issued but not written" in failed.err
    assert json.loads(retry.out)["replayed"] is True
