"""A verifier's trust directory: what it synced earlier, read from disk.

Layout (``plainclaim-verify --trust-dir DIR``)::

    DIR/anchor.jwk       the pinned trust-anchor public key (installed once, by hand)
    DIR/trustlist.jwt    the signed trust list
    DIR/state.json       the highest trust list sequence accepted so far (rollback guard)
    DIR/status/ISSUER/N.jwt   status list N of ISSUER (see :mod:`verifier.status_store`)
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from verifier import errors
from verifier.status_store import StatusStore
from verifier.trust import AnchorKey, TrustList

ANCHOR_FILE: Final = "anchor.jwk"
TRUST_LIST_FILE: Final = "trustlist.jwt"
STATE_FILE: Final = "state.json"
_MAX_SMALL_FILE: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class TrustStore:
    """Everything a verifier synced: the verified trust list and the status lists."""

    trust_list: TrustList
    status: StatusStore


def load_trust_store(trust_dir: Path) -> TrustStore:
    """Load a trust directory for verification (see :func:`load_trust_list`)."""
    trust_list = load_trust_list(trust_dir)
    return TrustStore(trust_list, StatusStore(trust_dir, trust_list))


def load_anchor(trust_dir: Path) -> AnchorKey:
    """Read the pinned anchor key; a missing or bad one is a configuration error."""
    path = trust_dir / ANCHOR_FILE
    try:
        data = read_capped(path)
    except FileNotFoundError:
        raise errors.ConfigurationError(f"no pinned anchor key at {path}") from None
    except (OSError, ValueError) as exc:
        raise errors.ConfigurationError(f"unreadable anchor key {path}: {exc}") from None
    return check_anchor_jwk(data, source=str(path))


def check_anchor_jwk(data: bytes, *, source: str = "anchor file") -> AnchorKey:
    """Parse an anchor JWK; anything but a valid ES256 P-256 public key is a setup error."""
    try:
        jwk = json.loads(data)
        if not isinstance(jwk, dict):
            raise ValueError("not a JSON object")
        return AnchorKey.from_jwk(jwk)
    except (ValueError, RecursionError, errors.PlainclaimError) as exc:
        raise errors.ConfigurationError(f"unreadable anchor key {source}: {exc}") from None


def highest_sequence_seen(trust_dir: Path) -> int:
    """The rollback guard: the highest trust list sequence accepted in this directory."""
    try:
        state = json.loads(read_capped(trust_dir / STATE_FILE))
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, RecursionError):
        # A damaged state file must not lower the guard silently, nor block every scan.
        raise errors.ConfigurationError(f"unreadable {trust_dir / STATE_FILE}") from None
    sequence = state.get("trust_list_sequence") if isinstance(state, dict) else None
    if type(sequence) is not int or sequence < 0:
        raise errors.ConfigurationError(f"bad trust_list_sequence in {trust_dir / STATE_FILE}")
    return sequence


def load_trust_list(trust_dir: Path, *, remember: bool = True) -> TrustList:
    """Load and verify the trust list of a trust directory.

    Refuses a list older than the highest sequence recorded in ``state.json``; with
    ``remember``, records a newer sequence (best effort: a read-only directory still verifies).
    """
    anchor = load_anchor(trust_dir)
    seen = highest_sequence_seen(trust_dir)
    path = trust_dir / TRUST_LIST_FILE
    try:
        token = path.read_bytes()
    except FileNotFoundError:
        raise errors.TrustListMissing(f"no trust list at {path}") from None
    except OSError as exc:
        raise errors.TrustListMissing(f"cannot read {path}: {exc}") from None
    trust_list = TrustList.from_jws(token, anchor, min_sequence=seen)
    if remember and trust_list.sequence > seen:
        with contextlib.suppress(OSError):
            record_sequence(trust_dir, trust_list.sequence)
    return trust_list


def record_sequence(trust_dir: Path, sequence: int) -> None:
    """Atomically record ``sequence`` as the highest accepted."""
    write_atomic(trust_dir / STATE_FILE, json.dumps({"trust_list_sequence": sequence}).encode())


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never half of it.

    Temp file in the same directory, fsync, rename over the target, fsync the directory.
    """
    # Imported here: a verifier that only reads its trust directory never loads tempfile
    # (and random, shutil, bz2, lzma), 3 ms of its cold start.
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_capped(path: Path, max_bytes: int = _MAX_SMALL_FILE) -> bytes:
    """A small file's bytes; ``ValueError`` past ``max_bytes``, never reading more than that."""
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError("file too large")
    return data
