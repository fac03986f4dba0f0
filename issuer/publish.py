"""Publishing status lists: the signed files verifiers sync to learn of revocations offline.

For every status list in the registry, :func:`publish_status_lists` signs a ``statuslist+jwt``
with the issuer's active key, ``sub`` being ``status_uri`` with the list id, and writes it to
``OUT/<path of that URI>``, next to the issuer's public keys as a JWKS::

    OUT/mosa/0.jwt       for https://status.example.org/mosa/0.jwt
    OUT/mosa/1.jwt
    OUT/mosa/keys.jwks   {"keys": [...]}: every key of the issuer, public parts only

Copied next to the trust authority's ``trustlist.jwt``, ``OUT`` is a source for
``plainclaim-verify sync`` as it is (a web server's root, a USB stick).

* Every list has its full capacity as ``size``, so its size never changes as it fills up and
  says nothing about how many credentials were issued.
* A verifier's sync reads lists 0, 1, 2, ... and stops at the first one missing. The registry
  numbers its lists from 0, but registries made before it did start at 1: any id below the
  highest that the registry has not opened is published as an all-VALID placeholder list, which
  no credential points into, so that sync finds the lists after it.
* Each list is built from the registry's revoked and suspended entries alone: memory is the
  list's bit array (256 KiB for a million entries), whatever the number of credentials.
* Every file is written atomically (temporary file, fsync, rename, fsync of the directory):
  a reader, a web server or a sync, sees the old file or the new one, never half of one, even
  if publishing is killed. Only one publication at a time writes into ``OUT`` (a lock on the
  directory); it removes what a killed one left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Final

from issuer.issuance import open_registry
from issuer.issuer_dir import IssuerDir
from issuer.registry import Registry
from verifier import errors
from verifier.clock import aware_now
from verifier.jws import STATUS_LIST_TYP, sign_compact
from verifier.status_list import StatusListBuilder, StatusValue, status_list_claims
from verifier.sync import status_relative_path
from verifier.trust import STATUS_URI_PLACEHOLDER
from verifier.trust_dir import write_atomic

DEFAULT_VALIDITY: Final = timedelta(days=10)
DEFAULT_TTL: Final = timedelta(hours=24)
KEYS_FILE: Final = "keys.jwks"
#: Bits per entry: VALID, INVALID (revoked) and SUSPENDED need two.
STATUS_BITS: Final = 2
#: write_atomic's temporary files: ".<name>.<random>.tmp".
_TEMP_PREFIX: Final = "."
_TEMP_SUFFIX: Final = ".tmp"


@dataclass(frozen=True, slots=True)
class PublishedList:
    """One status list as written."""

    list_id: int
    uri: str
    path: Path
    size: int
    revoked: int
    suspended: int
    #: True for an all-VALID list the registry never opened, published so that sync finds
    #: the lists after it.
    placeholder: bool


@dataclass(frozen=True, slots=True)
class PublishReport:
    """What a publication wrote, and the window every list in it is valid for."""

    lists: tuple[PublishedList, ...]
    keys_path: Path
    kid: str
    issued_at: datetime
    expires_at: datetime


def publish_status_lists(
    issuer: IssuerDir,
    out: Path,
    *,
    validity: timedelta = DEFAULT_VALIDITY,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
    fast: bool = False,
) -> PublishReport:
    """Sign and write every status list of ``issuer``, and its public keys, below ``out``.

    ``validity`` is how long verifiers may use a list at all (its ``exp``), ``ttl`` how soon
    they should fetch a fresh one. ``fast`` compresses with zlib instead of zopfli.

    :raises ConfigurationError: ``issuer.json`` has no ``status_uri``, the active key cannot
        be loaded, ``out`` cannot be written, or another publication is writing into it.
    :raises UsageError: a validity or ttl that verifiers would refuse.
    """
    config = issuer.config
    template = config.required_status_uri()
    moment = aware_now(now)
    if validity <= timedelta(0) or ttl <= timedelta(0):
        raise errors.UsageError("validity and ttl must be positive")
    kid, private_key = issuer.signing_key()
    keys_path = out / keys_file_path(template)
    with _exclusive(out):
        published: list[PublishedList] = []
        with open_registry(issuer) as registry:
            infos = {info.list_id: info for info in registry.status_lists()}
            for list_id in range(max(infos, default=-1) + 1):
                info = infos.get(list_id)
                size = config.status_list_capacity if info is None else info.capacity
                builder, counts = _build(registry, list_id if info else None, size)
                uri = config.status_list_uri(list_id)
                claims = status_list_claims(
                    builder,
                    subject_uri=uri,
                    issued_at=moment,
                    expires_at=moment + validity,
                    ttl=ttl,
                    fast=fast,
                )
                token = sign_compact(claims, private_key, kid, STATUS_LIST_TYP)
                path = out / status_file_path(uri)
                _write(path, token.encode("ascii"))
                published.append(
                    PublishedList(
                        list_id=list_id,
                        uri=uri,
                        path=path,
                        size=size,
                        revoked=counts[StatusValue.INVALID],
                        suspended=counts[StatusValue.SUSPENDED],
                        placeholder=info is None,
                    )
                )
        jwks = json.dumps(issuer.public_jwks(), indent=2) + "\n"
        _write(keys_path, jwks.encode("ascii"))
    return PublishReport(
        lists=tuple(published),
        keys_path=keys_path,
        kid=kid,
        issued_at=datetime.fromtimestamp(int(moment.timestamp()), UTC),
        expires_at=datetime.fromtimestamp(int((moment + validity).timestamp()), UTC),
    )


def _build(
    registry: Registry, list_id: int | None, size: int
) -> tuple[StatusListBuilder, dict[StatusValue, int]]:
    """List ``list_id`` as the registry has it (None: all VALID), and its non-VALID counts."""
    builder = StatusListBuilder(size, STATUS_BITS)
    counts = dict.fromkeys((StatusValue.INVALID, StatusValue.SUSPENDED), 0)
    if list_id is not None:
        for index, value in registry.non_valid_entries(list_id):
            builder.set(index, value)
            counts[value] = counts.get(value, 0) + 1
    return builder, counts


def status_file_path(uri: str) -> PurePosixPath:
    """Where the file for ``uri`` goes below a sync source: the URI's path, as sync reads it.

    :raises ConfigurationError: for a URI whose path cannot be a relative file path.
    """
    try:
        return PurePosixPath(status_relative_path(uri))
    except errors.StatusListInvalid:
        raise errors.ConfigurationError(f"status URI {uri!r} has no usable path") from None


def keys_file_path(status_uri: str) -> PurePosixPath:
    """Where the JWKS goes: the directory of the first path segment that holds ``{list}``."""
    parts = urllib.parse.unquote(urllib.parse.urlsplit(status_uri).path).split("/")
    directory = []
    for part in parts:
        if STATUS_URI_PLACEHOLDER in part:
            break
        if part:
            directory.append(part)
    return PurePosixPath(*directory, KEYS_FILE)


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(path)
        write_atomic(path, data)
    except OSError as exc:
        raise errors.ConfigurationError(f"cannot write {path}: {exc.strerror or exc}") from None


def _remove_leftovers(path: Path) -> None:
    """Delete temporary files of ``path`` that a killed publication left (we hold the lock)."""
    prefix = f"{_TEMP_PREFIX}{path.name}."
    for entry in os.scandir(path.parent):
        if entry.name.startswith(prefix) and entry.name.endswith(_TEMP_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)


@contextlib.contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the directory ``out`` itself: no lock file to publish."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise errors.ConfigurationError(f"cannot use {out}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise errors.ConfigurationError(
                f"another publication is writing into {out}; try again when it has finished"
            ) from None
        yield
    finally:
        os.close(fd)
