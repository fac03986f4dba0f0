"""plainclaim-verify sync: from a directory (a USB stick) and from a web server on loopback."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.demo_world import ISSUER, World, make_world
from verifier import Status, load_trust_store, verify
from verifier.cli import main
from verifier.errors import PlainclaimError
from verifier.status_store import status_list_path
from verifier.sync import status_relative_path
from verifier.trust_dir import STATE_FILE, TRUST_LIST_FILE


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


def _publish(root: Path, world: World, *, sequence: int = 1, **status: object) -> Path:
    """Lay out a sync source as the authority and the issuer publish it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / TRUST_LIST_FILE).write_text(world.signed_trust_list(sequence))
    (root / "mosa").mkdir(exist_ok=True)
    (root / "mosa" / "0.jwt").write_text(world.status_list_jws(size=4096, **status))  # type: ignore[arg-type]
    return root


def _sync(source: Path | str, trust_dir: Path, anchor: Path | str | None = None) -> int:
    """``plainclaim-verify sync SOURCE --trust-dir DIR [--anchor FILE]``, its exit status."""
    arguments = ["sync", str(source), "--trust-dir", str(trust_dir)]
    return main([*arguments, "--anchor", str(anchor)] if anchor is not None else arguments)


def _anchor_file(tmp_path: Path, world: World) -> Path:
    path = tmp_path / "anchor.jwk"
    path.write_text(world.anchor_jwk())
    return path


def test_sync_from_directory_then_verify_offline(
    tmp_path: Path, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _publish(tmp_path / "usb", world, revoked=(7,))
    trust_dir = tmp_path / "trust"
    code = _sync(source, trust_dir, _anchor_file(tmp_path, world))
    assert code == 0, capsys.readouterr()
    assert "Status lists updated: 1" in capsys.readouterr().out
    assert status_list_path(trust_dir, ISSUER, 0).is_file()
    assert (trust_dir / STATE_FILE).is_file()

    store = load_trust_store(trust_dir)
    assert (
        verify(world.qr_text(index=8), store.trust_list, status=store.status).status is Status.VALID
    )
    assert verify(world.qr_text(index=7), store.trust_list, status=store.status).reason == "revoked"
    assert main(["--trust-dir", str(trust_dir), world.qr_text(index=7)]) == 1


@pytest.fixture
def web_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_sync_from_web_server(tmp_path: Path, world: World, web_root: tuple[Path, str]) -> None:
    root, url = web_root
    _publish(root, world, suspended=(3,))
    trust_dir = tmp_path / "trust"
    assert _sync(url, trust_dir, _anchor_file(tmp_path, world)) == 0
    store = load_trust_store(trust_dir)
    assert (
        verify(world.qr_text(index=3), store.trust_list, status=store.status).reason == "suspended"
    )


def test_sync_refuses_an_older_trust_list(tmp_path: Path, world: World) -> None:
    anchor = _anchor_file(tmp_path, world)
    trust_dir = tmp_path / "trust"
    assert _sync(_publish(tmp_path / "new", world, sequence=5), trust_dir, anchor) == 0
    before = (trust_dir / TRUST_LIST_FILE).read_bytes()
    assert _sync(_publish(tmp_path / "old", world, sequence=4), trust_dir) == 65
    assert (trust_dir / TRUST_LIST_FILE).read_bytes() == before


def test_sync_keeps_a_newer_cached_status_list(
    tmp_path: Path, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    anchor = _anchor_file(tmp_path, world)
    trust_dir = tmp_path / "trust"
    assert _sync(_publish(tmp_path / "fresh", world, revoked=(7,)), trust_dir, anchor) == 0
    # A stale mirror: an older list in which entry 7 was not revoked yet.
    assert _sync(_publish(tmp_path / "stale", world, issued_days_ago=1), trust_dir) == 0
    assert "Kept the newer cached status list mosa/0" in capsys.readouterr().out
    store = load_trust_store(trust_dir)
    assert verify(world.qr_text(index=7), store.trust_list, status=store.status).reason == "revoked"


def test_sync_refuses_a_forged_trust_list(tmp_path: Path, world: World) -> None:
    source = _publish(tmp_path / "usb", world)
    (source / TRUST_LIST_FILE).write_text(make_world().signed_trust_list(9))  # another anchor
    trust_dir = tmp_path / "trust"
    code = _sync(source, trust_dir, _anchor_file(tmp_path, world))
    assert code == 65
    assert not (trust_dir / TRUST_LIST_FILE).exists()


def test_sync_refuses_a_forged_status_list(tmp_path: Path, world: World) -> None:
    source = _publish(tmp_path / "usb", world)
    (source / "mosa" / "0.jwt").write_text(make_world().status_list_jws(size=4096))
    trust_dir = tmp_path / "trust"
    assert _sync(source, trust_dir, _anchor_file(tmp_path, world)) == 65
    assert not status_list_path(trust_dir, ISSUER, 0).exists()


def test_sync_without_a_pinned_anchor_is_a_setup_error(tmp_path: Path, world: World) -> None:
    source = _publish(tmp_path / "usb", world)
    assert _sync(source, tmp_path / "trust") == 78


def test_sync_refuses_to_replace_a_pinned_anchor(tmp_path: Path, world: World) -> None:
    trust_dir = tmp_path / "trust"
    assert _sync(_publish(tmp_path / "usb", world), trust_dir, _anchor_file(tmp_path, world)) == 0
    other = tmp_path / "other.jwk"
    other.write_text(make_world().anchor_jwk())
    assert _sync(tmp_path / "usb", trust_dir, other) == 78


def test_sync_from_an_unreachable_source(tmp_path: Path, world: World) -> None:
    trust_dir = tmp_path / "trust"
    trust_dir.mkdir()
    (trust_dir / "anchor.jwk").write_text(world.anchor_jwk())
    assert _sync("http://127.0.0.1:9/", trust_dir) == 69
    assert _sync(tmp_path / "nowhere", trust_dir) == 69
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _sync(empty, trust_dir) == 69


def test_status_paths_below_a_source_are_always_relative() -> None:
    assert status_relative_path("https://status.example.org/mosa/0.jwt") == "mosa/0.jwt"
    assert status_relative_path("https://x//etc/passwd") == "etc/passwd"
    assert status_relative_path("https://x/a//b/%2F/0.jwt") == "a/b/0.jwt"
    for bad in ("https://x/", "https://x/../0.jwt", "https://x/a/%2E%2E/0.jwt"):
        with pytest.raises(PlainclaimError):
            status_relative_path(bad)


def test_a_bad_anchor_file_is_never_pinned(tmp_path: Path, world: World) -> None:
    source = _publish(tmp_path / "usb", world)
    trust_dir = tmp_path / "trust"
    bad = tmp_path / "bad.jwk"
    bad.write_text('{"kty": "EC"}')
    assert _sync(source, trust_dir, bad) == 78
    assert not (trust_dir / "anchor.jwk").exists()
    missing = str(tmp_path / "missing.jwk")
    assert _sync(source, trust_dir, missing) == 78
    good = _anchor_file(tmp_path, world)
    assert _sync(source, trust_dir, good) == 0


def test_sync_refuses_a_status_list_dated_in_the_future(tmp_path: Path, world: World) -> None:
    source = _publish(tmp_path / "usb", world, issued_days_ago=-1)  # tomorrow
    trust_dir = tmp_path / "trust"
    code = _sync(source, trust_dir, _anchor_file(tmp_path, world))
    assert code == 65
    assert not status_list_path(trust_dir, ISSUER, 0).exists()
