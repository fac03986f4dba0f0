"""plainclaim-verify as a clerk and a script use it: inputs, verdicts, exit codes, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.demo_world import World, make_world
from issuer.render import write_credential
from verifier.cli import main
from verifier.status_store import status_list_path
from verifier.trust_dir import TRUST_LIST_FILE

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture
def trust_dir(tmp_path: Path, world: World) -> Path:
    world.write_trust_dir(tmp_path / "trust", status_size=4096)
    return tmp_path / "trust"


def _run(*arguments: str | Path) -> int:
    return main([str(argument) for argument in arguments])


def test_image_text_file_and_qr_text_all_verify(
    tmp_path: Path, world: World, trust_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qr_text = world.qr_text(index=5)
    write_credential(qr_text, tmp_path / "card.png")
    write_credential(qr_text, tmp_path / "card.txt")
    for source in (tmp_path / "card.png", tmp_path / "card.txt", qr_text):
        assert _run("--trust-dir", trust_dir, source) == 0
        out = capsys.readouterr().out
        assert out.startswith("VALID\n")
        assert "Heating support 2027" in out and "Ministry of Social Affairs" in out


def test_json_output(world: World, trust_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("--trust-dir", trust_dir, "--json", world.qr_text(index=5)) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "VALID" and result["reason"] == "valid"
    assert result["credential"]["benefit"] == {
        "code": "heating-2027",
        "name": "Heating support 2027",
    }
    assert result["credential"]["status_ref"] == {"list_id": 0, "index": 5}

    assert _run("--trust-dir", trust_dir, "--json", "PC1:123") == 1
    refused = json.loads(capsys.readouterr().out)
    assert refused == {
        "status": "INVALID",
        "reason": "odd_digit_count",
        "message": refused["message"],
    }


def test_at_moves_the_clock(world: World, trust_dir: Path) -> None:
    qr_text = world.qr_text(index=5)
    assert _run("--trust-dir", trust_dir, "--at", "2001-01-01T00:00Z", qr_text) == 1  # not yet
    assert _run("--trust-dir", trust_dir, "--at", "yesterday", qr_text) == 64
    assert _run("--trust-dir", trust_dir, "--at", "2027-01-01T00:00", qr_text) == 64  # no zone


def test_usage_and_setup_errors_never_read_as_a_verdict(
    tmp_path: Path, world: World, trust_dir: Path
) -> None:
    qr_text = world.qr_text(index=5)
    assert _run("--trust-dir", trust_dir, "--no-such-option", qr_text) == 64
    assert _run("--trust-dir", trust_dir, tmp_path / "missing.png") == 66
    assert _run("--trust-dir", tmp_path / "nowhere", qr_text) == 78
    (trust_dir / TRUST_LIST_FILE).write_text("not a trust list")
    assert _run("--trust-dir", trust_dir, qr_text) == 2  # INDETERMINATE: sync again


def test_the_trust_directory_comes_from_the_environment(
    world: World, trust_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAINCLAIM_TRUST_DIR", str(trust_dir))
    assert _run(world.qr_text(index=5)) == 0


def test_a_wedge_scan_on_stdin_is_answered_without_waiting_for_end_of_file(
    world: World, trust_dir: Path
) -> None:
    # The scanner types the QR text and Enter; the clerk never types Ctrl-D.
    process = subprocess.Popen(
        [sys.executable, "-m", "verifier.cli", "--trust-dir", str(trust_dir), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(world.qr_text(index=5) + "\r\n")
        process.stdin.flush()
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.returncode == 0
        assert process.stdout.readline() == "VALID\n"
    finally:
        process.kill()
        process.wait()


def test_a_counter_session_answers_scan_after_scan(
    world: World, trust_dir: Path, tmp_path: Path
) -> None:
    scans = f"{world.qr_text(index=5)}\r\n\r\nPC1:123\r\n{world.qr_text(index=6)}\n"
    completed = subprocess.run(
        [sys.executable, "-m", "verifier.cli", "--trust-dir", str(trust_dir), "--json",
         "--each-line", "-"],
        input=scans,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )  # fmt: skip
    verdicts = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [(v["status"], v["reason"]) for v in verdicts] == [
        ("VALID", "valid"),
        ("INVALID", "odd_digit_count"),
        ("VALID", "valid"),
    ]


def test_a_counter_session_picks_up_a_sync(world: World, trust_dir: Path) -> None:
    from verifier.counter import run_counter
    from verifier.trust_dir import record_sequence

    answers: list[str] = []

    def scans() -> Iterator[str]:
        yield world.qr_text(index=7)
        # A sync while the counter is open: entry 7 is now revoked.
        status_list_path(trust_dir, "mosa", 0).write_text(
            world.status_list_jws(size=4096, revoked=(7,))
        )
        record_sequence(trust_dir, 1)
        yield world.qr_text(index=7)

    assert run_counter(trust_dir, scans(), lambda result: answers.append(result.reason)) == 0
    assert answers == ["valid", "revoked"]


def test_each_line_needs_standard_input(world: World, trust_dir: Path) -> None:
    assert _run("--trust-dir", trust_dir, "--each-line", world.qr_text(index=5)) == 64
