"""Revocation status, offline: the signed status lists a verifier synced earlier.

A trust directory keeps one file per status list, ``status/<issuer id>/<list id>.jwt``, each a
``statuslist+jwt`` signed by one of that issuer's keys in the trust list, whose ``sub`` is the
URI the trust list's ``status_uri`` template gives for that list. Lists are read lazily: a
check touches only the one list its credential points to.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Final, NamedTuple

from verifier import errors
from verifier.claims import StatusRef
from verifier.jws import STATUS_LIST_TYP, parse_compact, verify_signature
from verifier.status_list import StatusList, StatusListToken, parse_status_list_claims
from verifier.trust import TrustedIssuer, TrustList

STATUS_DIR: Final = "status"
#: 10 million entries at 2 bits, compressed at worst, in base64url, with room to spare.
MAX_STATUS_LIST_FILE_BYTES: Final = 16 * 1024 * 1024


class StatusCheck(NamedTuple):
    """The status a list gives for one credential, and when the issuer vouched for it."""

    #: The raw entry (compare with :class:`StatusValue` members; 3 is undefined in format 1).
    value: int
    #: The list's ``iat`` and ``exp``, in seconds since the epoch.
    as_of: int
    list_expires: int
    #: ``as_of`` as an aware UTC datetime (the list's ``issued_at``).
    vouched_at: datetime


_new_tuple = tuple.__new__


class _LoadedList(NamedTuple):
    """What a check needs of a verified list, in the form it needs it."""

    status_list: StatusList
    issued_at: int
    expires_at: int
    vouched_at: datetime


def status_list_path(trust_dir: Path, issuer_id: str, list_id: int) -> Path:
    """Where a synced status list lives in a trust directory."""
    return trust_dir / STATUS_DIR / issuer_id / f"{list_id}.jwt"


def verify_status_list_token(
    token: bytes | str, issuer: TrustedIssuer, list_id: int, trust: TrustList
) -> StatusListToken:
    """Verify a status list JWS: typ, a key of ``issuer`` (by kid), signature, payload, ``sub``.

    The key must belong to the issuer the list is for; its validity window is checked against
    the list's ``iat`` (a list is signed once, then read for as long as it is fresh).
    """
    if len(token) > MAX_STATUS_LIST_FILE_BYTES:
        raise errors.StatusListInvalid("status list file too large")
    expected_uri = issuer.status_list_uri(list_id)
    if expected_uri is None:
        raise errors.StatusListInvalid(f"{issuer.issuer_id} publishes no status lists")
    try:
        jws = parse_compact(token.strip(), STATUS_LIST_TYP)
        key = trust.keys_by_kid.get(jws.header.kid)
        if key is None or key.issuer_id != issuer.issuer_id:
            raise errors.StatusListInvalid("not signed by a key of this issuer")
        verify_signature(jws, key.public_key, key.alg)
    except errors.StatusListInvalid:
        raise
    except errors.PlainclaimError as exc:
        raise errors.StatusListInvalid(f"{exc.reason}: {exc.detail}") from None
    parsed = parse_status_list_claims(jws.unverified_payload, expected_uri=expected_uri)
    if not key.is_valid_at(parsed.issued_at.timestamp()):
        raise errors.StatusListInvalid("signed with a key outside its validity window")
    return parsed


class StatusStore:
    """The status lists of one trust directory, verified and parsed on first use."""

    def __init__(self, trust_dir: Path, trust: TrustList) -> None:
        """Bind to ``trust_dir``; nothing is read until a credential needs a list."""
        self._trust_dir = trust_dir
        self._trust = trust
        self._lists: dict[tuple[str, int], StatusListToken] = {}
        # Times as epoch seconds per list, so that a check converts no datetimes.
        self._loaded: dict[tuple[str, int], _LoadedList] = {}

    def status_list(self, issuer_id: str, list_id: int) -> StatusListToken:
        """The verified status list ``list_id`` of ``issuer_id``.

        :raises StatusListMissing: when it was never synced.
        :raises StatusListInvalid: when the file is damaged or not properly signed.
        """
        cached = self._lists.get((issuer_id, list_id))
        if cached is not None:
            return cached
        issuer = self._trust.issuers[issuer_id]
        path = status_list_path(self._trust_dir, issuer_id, list_id)
        try:
            with path.open("rb") as handle:
                token = handle.read(MAX_STATUS_LIST_FILE_BYTES + 1)
        except FileNotFoundError:
            raise errors.StatusListMissing(f"no status list {issuer_id}/{list_id}") from None
        except OSError as exc:
            raise errors.StatusListMissing(f"cannot read {path}: {exc}") from None
        parsed = verify_status_list_token(token, issuer, list_id, self._trust)
        self._lists[(issuer_id, list_id)] = parsed
        self._loaded[(issuer_id, list_id)] = _LoadedList(
            parsed.status_list,
            int(parsed.issued_at.timestamp()),
            int(parsed.expires_at.timestamp()),
            parsed.issued_at,
        )
        return parsed

    def check(self, issuer_id: str, ref: StatusRef) -> StatusCheck:
        """The status entry a credential points to."""
        loaded = self._loaded.get((issuer_id, ref.list_id))
        if loaded is None:
            self.status_list(issuer_id, ref.list_id)
            loaded = self._loaded[(issuer_id, ref.list_id)]
        status_list, issued_at, expires_at, vouched_at = loaded
        value = status_list.raw_status(ref.index)
        # tuple.__new__ is what the NamedTuple's own __new__ calls, minus a Python-level call.
        return _new_tuple(StatusCheck, (value, issued_at, expires_at, vouched_at))
