"""Sync: fetch the trust list and its status lists, verify them, and store them for offline use.

A source is a directory (a USB stick, for an office with no network) or an HTTP(S) base URL
(a web server or CDN), laid out the same way::

    SOURCE/trustlist.jwt            the signed trust list
    SOURCE/<path of each status URI>   e.g. mosa/0.jwt for https://status.example.org/mosa/0.jwt

Status lists are located by the *path* of the URI the trust list gives, so any mirror works;
their ``sub`` must still equal the canonical URI, so a mirror cannot swap lists. Nothing is
stored unless it verifies, nothing older than what is cached replaces it, and every file is
replaced atomically.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol

from verifier import errors
from verifier.status_store import (
    MAX_STATUS_LIST_FILE_BYTES,
    status_list_path,
    verify_status_list_token,
)
from verifier.trust import MAX_TRUST_LIST_BYTES, TrustedIssuer, TrustList
from verifier.trust_dir import (
    ANCHOR_FILE,
    TRUST_LIST_FILE,
    check_anchor_jwk,
    highest_sequence_seen,
    load_anchor,
    record_sequence,
    write_atomic,
)

#: Lists are probed from 0 upwards until one is missing; this bounds a hostile source.
MAX_LISTS_PER_ISSUER: Final = 10_000
HTTP_TIMEOUT_SECONDS: Final = 30
#: The verifier's default clock-skew leeway.
FUTURE_LEEWAY_SECONDS: Final = 300


class Source(Protocol):
    """Where synced files come from."""

    def read(self, relative_path: str, max_bytes: int) -> bytes | None:
        """The file's bytes, or None if it does not exist."""
        ...


@dataclass(frozen=True, slots=True)
class DirectorySource:
    """A local directory, e.g. a USB stick."""

    root: Path

    def read(self, relative_path: str, max_bytes: int) -> bytes | None:
        """Read ``relative_path`` below the root (at most ``max_bytes``)."""
        path = self.root / relative_path
        try:
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise errors.SyncFailed(f"cannot read {path}: {exc}") from None
        if len(data) > max_bytes:
            raise errors.SyncFailed(f"{path} is larger than {max_bytes} bytes")
        return data


@dataclass(frozen=True, slots=True)
class HttpSource:
    """A web server or CDN, by base URL."""

    base_url: str

    def read(self, relative_path: str, max_bytes: int) -> bytes | None:
        """GET ``base_url/relative_path``; 404 and 410 mean "does not exist"."""
        url = urllib.parse.urljoin(self.base_url.rstrip("/") + "/", relative_path)
        request = urllib.request.Request(url, headers={"User-Agent": "plainclaim-verify"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
                data: bytes = response.read(max_bytes + 1)
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 410):
                return None
            raise errors.SyncFailed(f"{url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise errors.SyncFailed(f"{url}: {exc}") from None
        if len(data) > max_bytes:
            raise errors.SyncFailed(f"{url} is larger than {max_bytes} bytes")
        return data


def open_source(source: str) -> Source:
    """A :class:`Source` for a directory path or an ``http(s)://`` URL."""
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        return HttpSource(source)
    if scheme == "file":
        return DirectorySource(Path(urllib.parse.urlsplit(source).path))
    path = Path(source)
    if not path.is_dir():
        raise errors.SyncFailed(f"{source} is neither a directory nor an http(s) URL")
    return DirectorySource(path)


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a sync did."""

    trust_list_sequence: int
    issuers: int
    status_lists_updated: list[str] = field(default_factory=list)
    #: Lists where the source had an older version than the cache: the cache was kept.
    status_lists_kept: list[str] = field(default_factory=list)
    #: Issuers that publish status lists but had none at the source.
    issuers_without_lists: list[str] = field(default_factory=list)


def install_anchor(trust_dir: Path, anchor_file: Path) -> None:
    """Pin a trust anchor in a new trust directory. Replacing a pinned anchor is refused.

    The file is checked before anything is written, so a bad one never blocks a good one.
    """
    try:
        data = anchor_file.read_bytes()
    except OSError as exc:
        raise errors.ConfigurationError(
            f"cannot read the anchor file {anchor_file}: {exc}"
        ) from None
    check_anchor_jwk(data)
    target = trust_dir / ANCHOR_FILE
    try:
        trust_dir.mkdir(parents=True, exist_ok=True)
        if target.exists():
            if target.read_bytes() != data:
                raise errors.ConfigurationError(
                    f"{target} already pins a different anchor; replace it by hand, deliberately"
                )
            return
        write_atomic(target, data)
    except OSError as exc:
        raise errors.ConfigurationError(f"cannot write {target}: {exc}") from None


def sync(source: Source, trust_dir: Path, *, now: datetime | None = None) -> SyncReport:
    """Fetch, verify and store the trust list and every status list it names.

    ``now`` (default: the current time) refuses status lists dated in the future: stored,
    such a list would be preferred over every correct one that follows it.
    """
    moment = (now or datetime.now(UTC)).timestamp()
    anchor = load_anchor(trust_dir)
    token = source.read(TRUST_LIST_FILE, MAX_TRUST_LIST_BYTES)
    if token is None:
        raise errors.SyncFailed(f"the source has no {TRUST_LIST_FILE}")
    trust_list = TrustList.from_jws(token, anchor, min_sequence=highest_sequence_seen(trust_dir))
    report = SyncReport(trust_list.sequence, len(trust_list.issuers))
    pending: list[tuple[Path, bytes]] = []
    for issuer in trust_list.issuers.values():
        if issuer.status_uri is not None:
            pending.extend(
                _fetch_status_lists(source, trust_dir, trust_list, issuer, report, moment=moment)
            )
    # Status lists first: a reader that sees the new trust list also finds its lists.
    for path, data in pending:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    write_atomic(trust_dir / TRUST_LIST_FILE, token)
    record_sequence(trust_dir, trust_list.sequence)
    return report


def _fetch_status_lists(
    source: Source,
    trust_dir: Path,
    trust: TrustList,
    issuer: TrustedIssuer,
    report: SyncReport,
    *,
    moment: float,
) -> list[tuple[Path, bytes]]:
    fetched: list[tuple[Path, bytes]] = []
    for list_id in range(MAX_LISTS_PER_ISSUER):
        uri = issuer.status_list_uri(list_id)
        if uri is None:
            break
        data = source.read(status_relative_path(uri), MAX_STATUS_LIST_FILE_BYTES)
        if data is None:
            break
        fresh = verify_status_list_token(data, issuer, list_id, trust)
        name = f"{issuer.issuer_id}/{list_id}"
        if fresh.issued_at.timestamp() > moment + FUTURE_LEEWAY_SECONDS:
            raise errors.StatusListInvalid(f"status list {name} is dated in the future")
        target = status_list_path(trust_dir, issuer.issuer_id, list_id)
        cached_issued_at = _cached_issued_at(target, issuer, list_id, trust)
        if cached_issued_at is not None and cached_issued_at > fresh.issued_at.timestamp():
            report.status_lists_kept.append(name)
            continue
        fetched.append((target, data))
        report.status_lists_updated.append(name)
    if not fetched and not any(
        n.startswith(f"{issuer.issuer_id}/") for n in report.status_lists_kept
    ):
        report.issuers_without_lists.append(issuer.issuer_id)
    return fetched


def _cached_issued_at(
    path: Path, issuer: TrustedIssuer, list_id: int, trust: TrustList
) -> float | None:
    try:
        cached = verify_status_list_token(path.read_bytes(), issuer, list_id, trust)
    except (OSError, errors.PlainclaimError):
        return None  # nothing usable cached: anything verified is better
    return cached.issued_at.timestamp()


def status_relative_path(uri: str) -> str:
    """Where a status list lives below a sync source: its URI's path, e.g. ``mosa/0.jwt``.

    Issuers publish to the same path, so a published directory is a sync source as it is.
    """
    # Empty parts (from "//" anywhere, or a leading "/") are dropped, so the result is always
    # relative: a template like "https://x//etc/{list}" must not reach outside the source.
    parts = [
        part for part in urllib.parse.unquote(urllib.parse.urlsplit(uri).path).split("/") if part
    ]
    if not parts or any(part in (".", "..") or "\\" in part for part in parts):
        raise errors.StatusListInvalid(f"status URI {uri!r} has no usable path")
    return "/".join(parts)
