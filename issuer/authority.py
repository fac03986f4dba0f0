"""The trust authority's tools: which issuers, keys and benefits every verifier will trust.

State lives in a directory of its own (``plainclaim-issuer --dir AUTHDIR authority ...``)::

    AUTHDIR/authority.json   the draft of the next trust list, and the last sequence used
    AUTHDIR/anchor.pem       the anchor's private key, mode 0600: whoever holds it decides
                             whom every verifier trusts (production: an HSM, offline)

``authority.json``::

    {"format": 1, "authority_id": "demo", "anchor_kid": "demo-anchor-1", "sequence": 3,
     "validity_days": 30, "issuers": [<issuer entries, exactly as the trust list has them>]}

The issuer entries are stored in the trust list's own shape and read back with the trust
list's own parser, so the authority can never hold an entry that a verifier would refuse.

:meth:`Authority.publish` writes ``trustlist.jwt`` and ``anchor.jwk`` into a directory that a
verifier uses as is (``plainclaim-verify --trust-dir``). Each list gets the next sequence
number, and that number is saved before the list is signed: a crash in between wastes a
number, but two different lists never share one (a verifier that has seen list N refuses any
list numbered below N, and could not tell two list Ns apart).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Final

from issuer.keys import generate_private_key, load_private_key, write_private_key
from verifier import errors
from verifier.claims import BENEFIT_CODE, ISSUER_ID, MAX_TIMESTAMP
from verifier.clock import aware_now
from verifier.jws import TRUST_LIST_TYP, check_kid, sign_compact
from verifier.keys import ALGORITHM, jwk_thumbprint, public_key_from_jwk
from verifier.trust import (
    MAX_NAME_CHARS,
    STATUS_URI_PLACEHOLDER,
    AnchorKey,
    TrustedIssuer,
    TrustedKey,
    TrustList,
)
from verifier.trust_dir import ANCHOR_FILE, TRUST_LIST_FILE, read_capped, write_atomic

FORMAT: Final = 1
AUTHORITY_FILE: Final = "authority.json"
ANCHOR_KEY_FILE: Final = "anchor.pem"
DEFAULT_VALIDITY_DAYS: Final = 30
#: Default window of an issuer key: about a year of signing, then its credentials' lifetime.
DEFAULT_KEY_VALIDITY_DAYS: Final = 3 * 365
MAX_VALIDITY_DAYS: Final = 3660

_PRIVATE_DIR_MODE: Final = 0o700
_MAX_FILE_BYTES: Final = 4 * 1024 * 1024
_FIELDS: Final = frozenset(
    {"format", "authority_id", "anchor_kid", "sequence", "validity_days", "issuers"}
)
_PUBLIC_JWK_MEMBERS: Final = frozenset({"kty", "crv", "x", "y", "kid", "use", "alg"})
#: Private members of EC, RSA and symmetric JWKs (RFC 7518 section 6).
_PRIVATE_JWK_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """A public key read from an issuer's JWKS, not yet placed on the trust list."""

    kid: str
    jwk: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class AuthorityState:
    """What ``authority.json`` holds."""

    authority_id: str
    anchor_kid: str
    sequence: int
    validity_days: int
    issuers: Mapping[str, TrustedIssuer]


class Authority:
    """A trust authority's directory: its anchor key and the draft of its next trust list."""

    def __init__(self, path: Path, state: AuthorityState) -> None:
        self.path = path
        self.state = state

    @classmethod
    def init(
        cls, path: Path, authority_id: str, *, validity_days: int = DEFAULT_VALIDITY_DAYS
    ) -> Authority:
        """Create the directory, the anchor key and an empty draft; refuse an existing one."""
        _check_id("authority id", authority_id)
        _check_validity_days(validity_days)
        for name in (AUTHORITY_FILE, ANCHOR_KEY_FILE):
            if (path / name).exists():
                raise errors.ConfigurationError(f"{path / name} exists already; not replacing it")
        try:
            path.mkdir(mode=_PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        except OSError as exc:
            raise errors.ConfigurationError(f"cannot create {path}: {exc.strerror}") from None
        write_private_key(generate_private_key(), path / ANCHOR_KEY_FILE)
        state = AuthorityState(
            authority_id=authority_id,
            anchor_kid=f"{authority_id}-anchor-1",
            sequence=0,
            validity_days=validity_days,
            issuers={},
        )
        authority = cls(path, state)
        authority._save(state)
        return authority

    @classmethod
    def open(cls, path: Path) -> Authority:
        """Open an authority directory made by :meth:`init`."""
        file = path / AUTHORITY_FILE
        try:
            data = json.loads(read_capped(file, _MAX_FILE_BYTES))
        except FileNotFoundError:
            raise errors.ConfigurationError(
                f"{file} not found; create it with: plainclaim-issuer --dir {path} "
                "authority init --id ID"
            ) from None
        except (OSError, ValueError) as exc:
            raise errors.ConfigurationError(f"cannot read {file}: {exc}") from None
        return cls(path, _state_from_json(data, file))

    def anchor(self) -> AnchorKey:
        """The public anchor key that verifiers pin."""
        private_key = load_private_key(self.path / ANCHOR_KEY_FILE)
        return AnchorKey(self.state.anchor_kid, private_key.public_key())

    def add_issuer(self, issuer_id: str, name: str, status_uri: str | None = None) -> None:
        """Add an issuer with no keys and no benefits yet."""
        _check_id("issuer id", issuer_id)
        _check_name(name)
        if status_uri is not None and STATUS_URI_PLACEHOLDER not in status_uri:
            raise errors.UsageError(f"status URI must contain {STATUS_URI_PLACEHOLDER}")
        if issuer_id in self.state.issuers:
            raise errors.UsageError(f"issuer {issuer_id} is on the list already")
        self._save_issuer(TrustedIssuer(issuer_id, name, {}, {}, status_uri))

    def remove_issuer(self, issuer_id: str) -> None:
        """Remove an issuer and its keys: its credentials stop verifying once published."""
        self._issuer(issuer_id)
        issuers = {i: issuer for i, issuer in self.state.issuers.items() if i != issuer_id}
        self._save(replace(self.state, issuers=issuers))

    def add_keys(
        self,
        issuer_id: str,
        keys: Iterable[IssuerKey],
        *,
        not_before: date | None = None,
        not_after: date | None = None,
        now: datetime | None = None,
    ) -> list[str]:
        """Put an issuer's public keys on the list; return the kids that were new.

        The window runs from the start of ``not_before`` to the end of ``not_after`` (UTC),
        by default from today for :data:`DEFAULT_KEY_VALIDITY_DAYS`. A key already listed
        for this issuer with the same material is left as it is, so an issuer can always send
        its whole JWKS. A kid or a key that is on the list elsewhere is refused.
        """
        issuer = self._issuer(issuer_id)
        first_day = not_before or aware_now(now).astimezone(UTC).date()
        last_day = not_after or first_day + timedelta(days=DEFAULT_KEY_VALIDITY_DAYS)
        if last_day < first_day:
            raise errors.UsageError(f"not-after {last_day} is before not-before {first_day}")
        window_start = _utc_timestamp(first_day)
        window_end = _utc_timestamp(last_day + timedelta(days=1)) - 1
        listed = {
            kid: key for other in self.state.issuers.values() for kid, key in other.keys.items()
        }
        thumbprints = {jwk_thumbprint(key.public_key): kid for kid, key in listed.items()}
        added: dict[str, TrustedKey] = {}
        for key in keys:
            public_key = public_key_from_jwk(key.jwk)
            thumbprint = jwk_thumbprint(public_key)
            known = listed.get(key.kid)
            if known is not None:
                if known.issuer_id != issuer_id or thumbprints.get(thumbprint) != key.kid:
                    raise errors.UsageError(
                        f"kid {key.kid} is listed already for {known.issuer_id} with another key"
                    )
                continue
            if thumbprint in thumbprints:
                raise errors.UsageError(
                    f"key {key.kid} is listed already as {thumbprints[thumbprint]}"
                )
            if key.kid in added:
                raise errors.UsageError(f"kid {key.kid} appears twice in the JWKS")
            added[key.kid] = TrustedKey(
                key.kid, issuer_id, ALGORITHM, public_key, window_start, window_end
            )
            thumbprints[thumbprint] = key.kid
        self._save_issuer(replace(issuer, keys={**issuer.keys, **added}))
        return list(added)

    def remove_key(self, kid: str) -> str:
        """Take key ``kid`` off the list; return its issuer. Its credentials stop verifying."""
        for issuer in self.state.issuers.values():
            if kid in issuer.keys:
                keys = {k: key for k, key in issuer.keys.items() if k != kid}
                self._save_issuer(replace(issuer, keys=keys))
                return issuer.issuer_id
        raise errors.UsageError(f"no key {kid!r} on the list")

    def allow_benefit(self, issuer_id: str, code: str, name: str) -> None:
        """Let an issuer vouch for a benefit (or rename one it may vouch for already)."""
        issuer = self._issuer(issuer_id)
        if not BENEFIT_CODE.fullmatch(code):
            raise errors.UsageError(
                f"benefit code {code!r}: use 1-48 of a-z 0-9 -, starting with a letter or digit"
            )
        _check_name(name)
        self._save_issuer(replace(issuer, benefits={**issuer.benefits, code: name}))

    def disallow_benefit(self, issuer_id: str, code: str) -> None:
        """Stop an issuer vouching for a benefit: its credentials for it stop verifying."""
        issuer = self._issuer(issuer_id)
        if code not in issuer.benefits:
            raise errors.UsageError(f"issuer {issuer_id} is not allowed benefit {code!r}")
        benefits = {c: name for c, name in issuer.benefits.items() if c != code}
        self._save_issuer(replace(issuer, benefits=benefits))

    def set_validity(self, days: int) -> None:
        """How long each published trust list stays valid, in days."""
        _check_validity_days(days)
        self._save(replace(self.state, validity_days=days))

    def publish(
        self, out_dir: Path, *, validity_days: int | None = None, now: datetime | None = None
    ) -> TrustList:
        """Sign the draft as the next trust list into ``out_dir``, a verifier trust directory.

        ``validity_days`` overrides the stored validity for this list only. Refuses an
        ``out_dir`` that pins another anchor key.
        """
        days = self.state.validity_days if validity_days is None else validity_days
        _check_validity_days(days)
        issued_at = int(aware_now(now).timestamp())
        sequence = self.state.sequence + 1
        trust_list = _build(self.state, sequence, issued_at, issued_at + days * 86400)
        private_key = load_private_key(self.path / ANCHOR_KEY_FILE)
        anchor = AnchorKey(self.state.anchor_kid, private_key.public_key())
        anchor_json = (json.dumps(anchor.to_jwk(), indent=2) + "\n").encode("ascii")
        _check_pinned_anchor(out_dir / ANCHOR_FILE, anchor)
        self._save(replace(self.state, sequence=sequence))
        token = sign_compact(
            trust_list.to_payload(), private_key, self.state.anchor_kid, TRUST_LIST_TYP
        )
        # What a verifier will do with it, done once here: a list we cannot read is not published.
        TrustList.from_jws(token, anchor)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            write_atomic(out_dir / ANCHOR_FILE, anchor_json)
            write_atomic(out_dir / TRUST_LIST_FILE, token.encode("ascii") + b"\n")
        except OSError as exc:
            raise errors.ConfigurationError(f"cannot write to {out_dir}: {exc}") from None
        return trust_list

    def _issuer(self, issuer_id: str) -> TrustedIssuer:
        issuer = self.state.issuers.get(issuer_id)
        if issuer is None:
            raise errors.UsageError(f"no issuer {issuer_id!r} on the list")
        return issuer

    def _save_issuer(self, issuer: TrustedIssuer) -> None:
        self._save(replace(self.state, issuers={**self.state.issuers, issuer.issuer_id: issuer}))

    def _save(self, state: AuthorityState) -> None:
        # Building the list checks the state exactly as a verifier would check it.
        draft = _build(state, state.sequence, 0, MAX_TIMESTAMP)
        data = {
            "format": FORMAT,
            "authority_id": state.authority_id,
            "anchor_kid": state.anchor_kid,
            "sequence": state.sequence,
            "validity_days": state.validity_days,
            "issuers": draft.to_payload()["issuers"],
        }
        try:
            write_atomic(
                self.path / AUTHORITY_FILE, (json.dumps(data, indent=2) + "\n").encode("utf-8")
            )
        except OSError as exc:
            raise errors.ConfigurationError(
                f"cannot write {self.path / AUTHORITY_FILE}: {exc}"
            ) from None
        self.state = state


def read_jwks(path: Path) -> list[IssuerKey]:
    """Read the public keys of a JWKS file (or a file with a single JWK) from an issuer."""
    try:
        data = json.loads(read_capped(path, _MAX_FILE_BYTES))
    except FileNotFoundError:
        raise errors.UsageError(f"no such file {path}") from None
    except (OSError, ValueError) as exc:
        raise errors.UsageError(f"cannot read {path} as JSON: {exc}") from None
    return parse_jwks(data, str(path))


def parse_jwks(data: object, source: str = "JWKS") -> list[IssuerKey]:
    """The public keys of a parsed JWKS or single JWK; ``source`` names it in errors.

    Refuses private key members: a file that has them has leaked its key to whoever handled it.
    """
    entries = data.get("keys", [data]) if isinstance(data, dict) and "kty" not in data else [data]
    if not isinstance(entries, list) or not entries:
        raise errors.UsageError(f'{source} holds no keys: expected a JWK or {{"keys": [...]}}')
    return [_issuer_key(entry, source) for entry in entries]


def _issuer_key(entry: object, source: str) -> IssuerKey:
    if not isinstance(entry, dict):
        raise errors.UsageError(f"{source}: each key must be a JSON object")
    private = entry.keys() & _PRIVATE_JWK_MEMBERS
    if private:
        raise errors.UsageError(
            f"{source} holds PRIVATE key material ({', '.join(sorted(private))}): refused. "
            "Treat that key as leaked; ask the issuer for its public keys (export-keys)."
        )
    unknown = entry.keys() - _PUBLIC_JWK_MEMBERS
    if unknown:
        raise errors.UsageError(f"{source}: JWK members not used here: {sorted(unknown)}")
    kid = entry.get("kid")
    if not isinstance(kid, str):
        raise errors.UsageError(f"{source}: every key needs a kid")
    try:
        check_kid(kid)
    except errors.InvalidKid:
        raise errors.UsageError(f"{source}: kid {kid!r} is not 1-64 of A-Z a-z 0-9 _ -") from None
    if entry.get("alg", ALGORITHM) != ALGORITHM or entry.get("use", "sig") != "sig":
        raise errors.UsageError(f"{source}: key {kid} must be an {ALGORITHM} signing key")
    members = {name: entry.get(name) for name in ("kty", "crv", "x", "y")}
    try:
        public_key_from_jwk(members)
    except errors.TrustListMalformed as exc:
        raise errors.UsageError(f"{source}: key {kid}: {exc.detail}") from None
    return IssuerKey(kid, {name: str(value) for name, value in members.items()})


def _state_from_json(data: object, file: Path) -> AuthorityState:
    if not isinstance(data, dict):
        raise errors.ConfigurationError(f"{file} must hold a JSON object")
    if data.keys() != _FIELDS:
        raise errors.ConfigurationError(f"{file} must have exactly the fields {sorted(_FIELDS)}")
    if data["format"] != FORMAT or type(data["format"]) is not int:
        raise errors.ConfigurationError(f"{file} is format {data['format']!r}, expected {FORMAT}")
    authority_id, anchor_kid = data["authority_id"], data["anchor_kid"]
    sequence, validity_days = data["sequence"], data["validity_days"]
    if not isinstance(authority_id, str) or not ISSUER_ID.fullmatch(authority_id):
        raise errors.ConfigurationError(f"{file}: bad authority_id")
    if not isinstance(anchor_kid, str):
        raise errors.ConfigurationError(f"{file}: bad anchor_kid")
    if type(sequence) is not int or sequence < 0:
        raise errors.ConfigurationError(f"{file}: bad sequence")
    if type(validity_days) is not int:
        raise errors.ConfigurationError(f"{file}: bad validity_days")
    _check_validity_days(validity_days)
    try:
        check_kid(anchor_kid)
        draft = TrustList.from_payload(
            {
                "iss": authority_id,
                "seq": sequence,
                "iat": 0,
                "exp": MAX_TIMESTAMP,
                "issuers": data["issuers"],
            }
        )
    except errors.PlainclaimError as exc:
        raise errors.ConfigurationError(f"{file}: {exc.detail}") from None
    return AuthorityState(authority_id, anchor_kid, sequence, validity_days, dict(draft.issuers))


def _build(state: AuthorityState, sequence: int, issued_at: int, expires_at: int) -> TrustList:
    try:
        return TrustList.build(
            authority=state.authority_id,
            sequence=sequence,
            issued_at=issued_at,
            expires_at=expires_at,
            issuers=list(state.issuers.values()),
        )
    except errors.TrustListMalformed as exc:
        raise errors.UsageError(f"the trust list would be refused: {exc.detail}") from None


def _check_pinned_anchor(path: Path, anchor: AnchorKey) -> None:
    """Refuse to replace the anchor a verifier directory pins with another."""
    try:
        pinned = json.loads(read_capped(path, _MAX_FILE_BYTES))
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        raise errors.ConfigurationError(f"cannot read {path}: {exc}") from None
    if pinned != anchor.to_jwk():
        raise errors.ConfigurationError(
            f"{path} pins another anchor key; publish into a directory of this authority"
        )


def _check_id(what: str, value: str) -> None:
    if not ISSUER_ID.fullmatch(value):
        raise errors.UsageError(
            f"{what} {value!r}: use 1-32 of a-z 0-9 -, starting with a letter or digit"
        )


def _check_name(name: str) -> None:
    if not 0 < len(name.strip()) <= MAX_NAME_CHARS:
        raise errors.UsageError(f"a display name must be 1 to {MAX_NAME_CHARS} characters")


def _check_validity_days(days: int) -> None:
    if not 1 <= days <= MAX_VALIDITY_DAYS:
        raise errors.UsageError(f"validity must be 1 to {MAX_VALIDITY_DAYS} days")


def _utc_timestamp(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp())
