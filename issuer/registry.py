"""The issuer registry: every credential ever issued, committed before anyone sees it.

One code base on SQLAlchemy Core serves two backends: a SQLite file for a single office, and
PostgreSQL for an agency with several issuing machines::

    registry = Registry.open("sqlite:////srv/plainclaim/registry.sqlite3", issuer_id="mosa")
    record = registry.issue(IssueRequest("req-1", "heating-2027", nbf, exp), sign)
    registry.set_status(record.credential_id, StatusValue.INVALID, reason="...", actor="ana")

What it promises:

* **never loses a credential**: :meth:`Registry.issue` returns only after the record is
  committed (SQLite: WAL with ``synchronous=FULL``; PostgreSQL: ``synchronous_commit`` as the
  server has it, on by default). A token that was handed out is in the registry.
* **never issues twice**: a request id maps to one credential for good. Asking again returns
  the stored one (``replayed=True``); asking again with other parameters is a
  :class:`~issuer.errors.RequestConflict`. Credential ids (96 random bits) and status entries
  ``(list, index)`` are unique, by construction and by database constraint.
* **indices tell nothing**: status indices are scattered over their list by a keyed permutation
  (:mod:`issuer.registry_allocation`), so an index does not reveal the order of issuance.
* **concurrent issuers take turns**: on SQLite every write transaction is ``BEGIN IMMEDIATE``;
  on PostgreSQL issuance locks the one ``registry`` row. Signing happens inside that
  transaction, so a batch holds the lock for the time it takes to sign it. A retry of requests
  already stored is answered from a read transaction, without the lock.
* **revocation is final**: a revoked credential cannot be suspended or reinstated; every status
  change is kept with its reason and actor.

The registry stores no personal data (see :mod:`issuer.registry_records`).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final

from sqlalchemy import Engine, Row, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from issuer import errors
from issuer.registry_allocation import MAX_CAPACITY, IndexPermutation, StatusAllocator
from issuer.registry_db import (
    migrate,
    open_engine,
    read_transaction,
    translate_db_errors,
    write_transaction,
)
from issuer.registry_integrity import registry_problems
from issuer.registry_records import (
    IssuedRecord,
    IssueRequest,
    Signer,
    StatusChange,
    StatusListInfo,
    check_status_change,
)
from issuer.registry_schema import credentials, registry, status_changes, status_lists
from verifier.claims import ISSUER_ID, MAX_STATUS_INDEX, CredentialClaims, StatusRef
from verifier.errors import ConfigurationError, PlainclaimError
from verifier.jws import CREDENTIAL_TYP, SIGNATURE_BYTES, parse_compact
from verifier.status_list import MAX_ENTRIES, StatusValue

__all__ = [
    "IssueRequest",
    "IssuedRecord",
    "Registry",
    "Signer",
    "StatusChange",
    "StatusListInfo",
]

DEFAULT_LIST_CAPACITY: Final = 1 << 20
#: No larger than a verifier loads, nor than an index the claims allow.
MAX_LIST_CAPACITY: Final = min(MAX_ENTRIES, MAX_STATUS_INDEX + 1, MAX_CAPACITY)
CREDENTIAL_ID_BYTES: Final = 12
#: Request ids per lookup statement: far below every backend's parameter limit.
_LOOKUP_CHUNK: Final = 500
#: An IntegrityError on issuance can only be a credential id collision (once in 2**96), since
#: request ids are looked up under the issuance lock: try again with fresh ids.
_ISSUE_ATTEMPTS: Final = 3
#: A raw 64-byte ES256 signature in canonical unpadded base64url.
_STREAM_CHUNK: Final = 10_000
_SIGNATURE_SEGMENT: Final = re.compile(r"[A-Za-z0-9_-]{85}[AQgw]")


class Registry:
    """The issuer's durable record of credentials and their status. Open with :meth:`open`.

    Each call runs in its own transaction on a connection from the engine's pool, so one
    registry can be shared between threads; several processes may open the same database.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        issuer_id: str,
        list_capacity: int,
        clock: Callable[[], float],
    ) -> None:
        """Use :meth:`open`, which migrates the database and checks whose registry it is."""
        self._engine = engine
        self._issuer_id = issuer_id
        self._list_capacity = list_capacity
        self._clock = clock
        self._permutations: dict[tuple[int, int, bytes], IndexPermutation] = {}

    @classmethod
    def open(
        cls,
        url: str,
        *,
        issuer_id: str,
        list_capacity: int = DEFAULT_LIST_CAPACITY,
        clock: Callable[[], float] = time.time,
    ) -> Registry:
        """Open (creating or upgrading) the registry at ``url`` for ``issuer_id``.

        ``url`` is ``sqlite:////absolute/path.sqlite3`` (a relative path is resolved against
        the current directory now) or ``postgresql+psycopg://user:password@host/db``.
        ``list_capacity`` is the size of status lists opened from now on; lists already
        opened keep theirs. ``clock`` gives the issuance and status change times.

        :raises ConfigurationError: for a URL or capacity the registry cannot use.
        :raises RegistryMismatch: the database belongs to another issuer, or was migrated by
            a newer plainclaim.
        :raises RegistryUnavailable: the database cannot be reached.
        """
        if not isinstance(issuer_id, str) or not ISSUER_ID.fullmatch(issuer_id):
            raise ConfigurationError("issuer_id is not a valid issuer id")
        if type(list_capacity) is not int or not 1 <= list_capacity <= MAX_LIST_CAPACITY:
            raise ConfigurationError(f"list_capacity must be between 1 and {MAX_LIST_CAPACITY}")
        engine = open_engine(url)
        try:
            with translate_db_errors(), write_transaction(engine) as conn:
                migrate(conn)
                _claim(conn, issuer_id, int(clock()))
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, issuer_id=issuer_id, list_capacity=list_capacity, clock=clock)

    @property
    def issuer_id(self) -> str:
        """The issuer every credential in this registry is issued by."""
        return self._issuer_id

    def close(self) -> None:
        """Close the registry's database connections."""
        self._engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def issue(self, request: IssueRequest, sign: Signer) -> IssuedRecord:
        """Issue one credential, or return the one already issued for ``request.request_id``.

        The record is committed before this returns. ``sign`` is called with the complete
        claims, inside the transaction; if it raises, nothing is stored.

        :raises RequestConflict: the request id was issued with other parameters.
        :raises SignerMismatch: ``sign`` returned something other than a JWS of the claims.
        """
        return self.issue_batch([request], sign)[0]

    def issue_batch(self, requests: Sequence[IssueRequest], sign: Signer) -> list[IssuedRecord]:
        """Issue many credentials in one transaction; the records, in the order asked.

        Idempotent per request, as :meth:`issue`; a request id repeated within the batch gets
        the same credential. The batch is all or nothing: if any request is refused (a
        conflict) or the signer fails, none of it is stored.
        """
        batch = list(requests)
        if not all(isinstance(request, IssueRequest) for request in batch):
            raise errors.RequestInvalid("requests must be IssueRequest instances")
        if not batch:
            return []
        # A retry of work already done needs neither the issuance lock nor a write.
        wanted = {request.request_id for request in batch}
        with translate_db_errors(), read_transaction(self._engine) as conn:
            stored = _records_by_request(conn, wanted)
        if len(stored) == len(wanted):
            return [_replay(request, stored[request.request_id]) for request in batch]
        for _attempt in range(_ISSUE_ATTEMPTS):
            try:
                with translate_db_errors(), write_transaction(self._engine) as conn:
                    return self._issue_locked(conn, batch, sign)
            except _Retry:
                continue
        raise errors.RegistryCorrupt("issuance kept violating a uniqueness constraint")

    def _issue_locked(
        self, conn: Connection, batch: list[IssueRequest], sign: Signer
    ) -> list[IssuedRecord]:
        # The issuance lock: from here on this transaction is the only one allocating, and
        # request ids it does not find are not being issued by anyone else either. (SQLite
        # ignores FOR UPDATE; BEGIN IMMEDIATE already made this the only writer.)
        conn.execute(select(registry.c.singleton).with_for_update()).one()
        known = _records_by_request(conn, {request.request_id for request in batch})
        issued_at = int(self._clock())
        allocator = StatusAllocator(
            conn, new_list_capacity=self._list_capacity, now=issued_at, permutation=self._cached
        )
        check_token = _TokenCheck()
        new_rows: list[dict[str, object]] = []
        results: list[IssuedRecord] = []
        for request in batch:
            stored = known.get(request.request_id)
            if stored is not None:
                results.append(_replay(request, stored))
                continue
            claims = CredentialClaims(
                issuer_id=self._issuer_id,
                benefit=request.benefit,
                not_before=request.not_before,
                expires=request.expires,
                credential_id=_new_credential_id(),
                status=allocator.allocate(),
            )
            record = IssuedRecord(
                credential_id=claims.credential_id,
                request_id=request.request_id,
                benefit=request.benefit,
                not_before=request.not_before,
                expires=request.expires,
                status_ref=claims.status,
                token=check_token(sign(claims), claims),
                case_ref=request.case_ref,
                issued_by=request.issued_by,
                issued_at=issued_at,
                status=StatusValue.VALID,
            )
            known[request.request_id] = record
            new_rows.append(_row_of(record))
            results.append(record)
        allocator.save()
        if new_rows:
            try:
                conn.execute(credentials.insert(), new_rows)
            except IntegrityError:
                raise _Retry from None
        return results

    def _cached(self, list_id: int, capacity: int, key: bytes) -> IndexPermutation:
        # Building a permutation hashes every half-value once: do it once per list.
        cache_key = (list_id, capacity, key)
        permutation = self._permutations.get(cache_key)
        if permutation is None:
            permutation = self._permutations[cache_key] = IndexPermutation(key, capacity)
        return permutation

    def get(self, credential_id: str) -> IssuedRecord | None:
        """The credential with this id, or None."""
        with translate_db_errors(), read_transaction(self._engine) as conn:
            row = conn.execute(
                select(credentials).where(credentials.c.credential_id == credential_id)
            ).first()
        return None if row is None else _record_of(row)

    def find_by_request(self, request_id: str) -> IssuedRecord | None:
        """The credential issued for this request id, or None."""
        with translate_db_errors(), read_transaction(self._engine) as conn:
            row = conn.execute(
                select(credentials).where(credentials.c.request_id == request_id)
            ).first()
        return None if row is None else _record_of(row)

    def set_status(
        self, credential_id: str, status: StatusValue, *, reason: str, actor: str
    ) -> IssuedRecord:
        """Revoke (INVALID), suspend (SUSPENDED) or reinstate (VALID) a credential.

        Setting the status it already has changes nothing and records nothing. ``reason`` is
        kept in the history: write what happened ("reported lost", "decision 2027/114"),
        never who the holder is.

        :raises UnknownCredential: no credential has that id.
        :raises CredentialAlreadyRevoked: the credential is revoked; that is final.
        :raises RequestInvalid: for another status, or a reason or actor the registry refuses.
        """
        new_status = check_status_change(status, reason, actor)
        with translate_db_errors(), write_transaction(self._engine) as conn:
            row = conn.execute(
                select(credentials)
                .where(credentials.c.credential_id == credential_id)
                .with_for_update()
            ).first()
            if row is None:
                raise errors.UnknownCredential(
                    "no credential with that id", credential_id=credential_id
                )
            current = StatusValue(row.status)
            if current is new_status:
                return _record_of(row)
            if current is StatusValue.INVALID:
                raise errors.CredentialAlreadyRevoked(
                    "a revoked credential stays revoked", credential_id=credential_id
                )
            conn.execute(
                credentials.update()
                .where(credentials.c.credential_id == credential_id)
                .values(status=int(new_status))
            )
            conn.execute(
                status_changes.insert().values(
                    credential_id=credential_id,
                    old_status=int(current),
                    new_status=int(new_status),
                    reason=reason,
                    actor=actor,
                    changed_at=int(self._clock()),
                )
            )
        return dataclasses.replace(_record_of(row), status=new_status)

    def status_history(self, credential_id: str) -> list[StatusChange]:
        """Every status change of the credential, oldest first (empty if never changed).

        :raises UnknownCredential: no credential has that id.
        """
        with translate_db_errors(), read_transaction(self._engine) as conn:
            if (
                conn.execute(
                    select(credentials.c.credential_id).where(
                        credentials.c.credential_id == credential_id
                    )
                ).first()
                is None
            ):
                raise errors.UnknownCredential(
                    "no credential with that id", credential_id=credential_id
                )
            rows = conn.execute(
                select(status_changes)
                .where(status_changes.c.credential_id == credential_id)
                .order_by(status_changes.c.change_id)
            ).all()
        return [
            StatusChange(
                credential_id=row.credential_id,
                old_status=StatusValue(row.old_status),
                new_status=StatusValue(row.new_status),
                reason=row.reason,
                actor=row.actor,
                changed_at=row.changed_at,
            )
            for row in rows
        ]

    def status_lists(self) -> list[StatusListInfo]:
        """Every status list opened so far, by id."""
        with translate_db_errors(), read_transaction(self._engine) as conn:
            rows = conn.execute(
                select(
                    status_lists.c.list_id, status_lists.c.capacity, status_lists.c.allocated
                ).order_by(status_lists.c.list_id)
            ).all()
        return [StatusListInfo(row.list_id, row.capacity, row.allocated) for row in rows]

    def non_valid_entries(self, list_id: int) -> Iterator[tuple[int, StatusValue]]:
        """The revoked and suspended entries of a list, by index: what a published list sets.

        :raises UnknownStatusList: no list has that id.
        """
        with translate_db_errors(), read_transaction(self._engine) as conn:
            if (
                conn.execute(
                    select(status_lists.c.list_id).where(status_lists.c.list_id == list_id)
                ).first()
                is None
            ):
                raise errors.UnknownStatusList(f"no status list {list_id!r}")
        return self._stream_non_valid(list_id)

    def _stream_non_valid(self, list_id: int) -> Iterator[tuple[int, StatusValue]]:
        # Streamed in chunks (a server-side cursor on PostgreSQL): publishing a list costs the
        # memory of its bit array, not of its revoked rows.
        with translate_db_errors(), read_transaction(self._engine) as conn:
            rows = conn.execution_options(yield_per=_STREAM_CHUNK).execute(
                select(credentials.c.status_index, credentials.c.status)
                .where(credentials.c.list_id == list_id, credentials.c.status != 0)
                .order_by(credentials.c.status_index)
            )
            for index, status in rows:
                yield index, StatusValue(status)

    def check_integrity(self) -> None:
        """Check the database and the registry's invariants; raise if anything is wrong.

        SQLite's ``integrity_check`` and ``foreign_key_check``; then, on either backend: one
        registry row, of this issuer; unique credential ids, request ids and status entries;
        every index inside its list and every list's counter equal to its credentials;
        statuses known, agreeing with their history, and never changed after a revocation.

        :raises RegistryCorrupt: saying what is wrong.
        """
        with translate_db_errors(), read_transaction(self._engine, snapshot=True) as conn:
            problems = registry_problems(conn, self._issuer_id)
        if problems:
            raise errors.RegistryCorrupt("; ".join(problems))


class _Retry(Exception):
    """A uniqueness constraint fired on issuance: roll back and run it again."""


class _TokenCheck:
    """Refuses a token that is not a credential JWS of exactly the claims it was signed for.

    Such a token would be handed out saying something other than its record, and could not be
    revoked as recorded. The strict parser checks the first token of each header; after that a
    payload segment equal to the canonical encoding of the claims needs no parsing: this is
    the signer's own fast path, and keeps the check far cheaper than the signature.
    """

    def __init__(self) -> None:
        self._headers: set[str] = set()

    def __call__(self, token: object, claims: CredentialClaims) -> str:
        if not isinstance(token, str):
            raise errors.SignerMismatch("the signer did not return a compact JWS string")
        segments = token.split(".")
        if (
            len(segments) == 3
            and segments[0] in self._headers
            and segments[1] == _payload_segment(claims)
            and _SIGNATURE_SEGMENT.fullmatch(segments[2])
        ):
            return token
        try:
            parsed = parse_compact(token, CREDENTIAL_TYP)
        except PlainclaimError as exc:
            raise errors.SignerMismatch(
                f"the signer returned no credential JWS: {exc.reason}"
            ) from None
        if parsed.unverified_payload != claims.to_payload():
            raise errors.SignerMismatch("the signer signed claims other than those it was given")
        if len(parsed.signature) != SIGNATURE_BYTES:
            raise errors.SignerMismatch("the signature is not a raw 64-byte ES256 signature")
        self._headers.add(segments[0])
        return token


def _payload_segment(claims: CredentialClaims) -> str:
    payload = json.dumps(claims.to_payload(), separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(payload.encode("ascii")).rstrip(b"=").decode("ascii")


def _claim(conn: Connection, issuer_id: str, now: int) -> None:
    """Record whose registry this is, or check that it is ``issuer_id``'s."""
    owner = conn.execute(select(registry.c.issuer_id)).scalar_one_or_none()
    if owner is None:
        conn.execute(registry.insert().values(singleton=1, issuer_id=issuer_id, created_at=now))
    elif owner != issuer_id:
        raise errors.RegistryMismatch(f"this registry belongs to issuer {owner!r}")


def _records_by_request(conn: Connection, request_ids: Iterable[str]) -> dict[str, IssuedRecord]:
    wanted = sorted(request_ids)
    found: dict[str, IssuedRecord] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        for row in conn.execute(select(credentials).where(credentials.c.request_id.in_(chunk))):
            found[row.request_id] = _record_of(row)
    return found


def _replay(request: IssueRequest, stored: IssuedRecord) -> IssuedRecord:
    """The stored credential for a repeated request, if the request asks for the same one."""
    if not request.same_credential_as(stored):
        raise errors.RequestConflict(
            f"request id {request.request_id!r} was issued with other parameters",
            request_id=request.request_id,
            credential_id=stored.credential_id,
        )
    return dataclasses.replace(stored, replayed=True)


def _new_credential_id() -> str:
    # 12 bytes are exactly 16 base64url characters: no padding to strip.
    return base64.urlsafe_b64encode(secrets.token_bytes(CREDENTIAL_ID_BYTES)).decode("ascii")


def _row_of(record: IssuedRecord) -> dict[str, object]:
    return {
        "credential_id": record.credential_id,
        "request_id": record.request_id,
        "benefit": record.benefit,
        "not_before": record.not_before,
        "expires": record.expires,
        "list_id": record.status_ref.list_id,
        "status_index": record.status_ref.index,
        "token": record.token,
        "case_ref": record.case_ref,
        "issued_by": record.issued_by,
        "issued_at": record.issued_at,
        "status": int(record.status),
    }


def _record_of(row: Row[Any]) -> IssuedRecord:
    return IssuedRecord(
        credential_id=row.credential_id,
        request_id=row.request_id,
        benefit=row.benefit,
        not_before=row.not_before,
        expires=row.expires,
        status_ref=StatusRef(row.list_id, row.status_index),
        token=row.token,
        case_ref=row.case_ref,
        issued_by=row.issued_by,
        issued_at=row.issued_at,
        status=StatusValue(row.status),
    )
