"""The issuer directory (``plainclaim-issuer --dir DIR``): one issuing office's settings and keys.

Layout::

    DIR/issuer.json          the settings below, replaced atomically on every change
    DIR/keys/<kid>.pem       signing keys, mode 0600, in a directory of mode 0700
    DIR/registry.sqlite3     the registry of issued credentials, created on first issue

``issuer.json``::

    {"format": 1, "issuer_id": "mosa", "name": "Ministry of Social Affairs",
     "active_kid": "mosa-1", "benefits": ["heating-2027"], "max_validity_days": 400,
     "timezone": "Europe/Tallinn", "registry": "registry.sqlite3",
     "status_list_capacity": 1048576,
     "status_uri": "https://status.example.org/mosa/{list}.jwt",
     "benefit_names": {"heating-2027": "Heating support 2027"}}

``status_uri`` and ``benefit_names`` are optional (files written before they existed still
load). ``status_uri`` must be the template the trust list announces for this issuer: status
lists are published under it, and verifiers refuse a list whose ``sub`` is not that URI.
``benefit_names`` are the display names printed on letters; a benefit without one shows its
code.

``timezone`` decides what a date means: ``--valid-until 2027-04-30`` ends at midnight after
that day on the office's wall clock. ``registry`` is a path relative to DIR or a full
SQLAlchemy URL; the environment variable ``PLAINCLAIM_REGISTRY_URL`` overrides both, so a
database password never has to sit in this file.

Key rotation takes two steps so that verifiers never meet a kid they do not know: ``new-key``
adds a key that is not used yet, the trust authority publishes it, then ``activate-key`` makes
it sign. Old keys stay, because their credentials verify only while the trust list still
carries them.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives.asymmetric import ec

from issuer.keys import generate_private_key, load_private_key, public_jwk, write_private_key
from verifier import errors
from verifier.claims import BENEFIT_CODE, ISSUER_ID, MAX_STATUS_INDEX
from verifier.jws import check_kid
from verifier.status_list import MAX_ENTRIES
from verifier.trust import MAX_NAME_CHARS, STATUS_URI_PLACEHOLDER
from verifier.trust_dir import write_atomic

FORMAT: Final = 1
ISSUER_FILE: Final = "issuer.json"
KEYS_DIR: Final = "keys"
KEY_SUFFIX: Final = ".pem"
REGISTRY_URL_ENV: Final = "PLAINCLAIM_REGISTRY_URL"

DEFAULT_MAX_VALIDITY_DAYS: Final = 400
DEFAULT_TIMEZONE: Final = "UTC"
DEFAULT_REGISTRY: Final = "registry.sqlite3"
DEFAULT_STATUS_LIST_CAPACITY: Final = 1 << 20
MAX_STATUS_LIST_CAPACITY: Final = min(MAX_ENTRIES, MAX_STATUS_INDEX + 1)
#: Ten years: a longer-lived claim about a person's situation is not a credential but a risk.
MAX_VALIDITY_DAYS_LIMIT: Final = 3660
#: As long as the trust list allows.
MAX_STATUS_URI_CHARS: Final = 2048

_PRIVATE_DIR_MODE: Final = 0o700
_MAX_CONFIG_BYTES: Final = 64 * 1024
_FIELDS: Final = frozenset(
    {
        "format",
        "issuer_id",
        "name",
        "active_kid",
        "benefits",
        "max_validity_days",
        "timezone",
        "registry",
        "status_list_capacity",
    }
)
_OPTIONAL_FIELDS: Final = frozenset({"status_uri", "benefit_names"})


@dataclass(frozen=True, slots=True)
class IssuerConfig:
    """The settings of ``issuer.json``; constructing one validates them."""

    issuer_id: str
    name: str
    active_kid: str
    benefits: tuple[str, ...]
    max_validity_days: int = DEFAULT_MAX_VALIDITY_DAYS
    timezone: str = DEFAULT_TIMEZONE
    registry: str = DEFAULT_REGISTRY
    status_list_capacity: int = DEFAULT_STATUS_LIST_CAPACITY
    #: Where status list N is published, ``{list}`` standing for N; None: not set up yet.
    status_uri: str | None = None
    #: benefit code -> display name, for letters; sorted by code, so that configs compare.
    benefit_names: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.issuer_id, str) or not ISSUER_ID.fullmatch(self.issuer_id):
            raise errors.ConfigurationError(
                f"issuer id {self.issuer_id!r}: use 1-32 of a-z 0-9 -, starting with a letter "
                "or digit"
            )
        if not isinstance(self.name, str) or not 0 < len(self.name.strip()) <= MAX_NAME_CHARS:
            raise errors.ConfigurationError(f"name must be 1 to {MAX_NAME_CHARS} characters")
        _check_issuer_kid(self.active_kid)
        if not isinstance(self.benefits, tuple) or not self.benefits:
            raise errors.ConfigurationError("an issuer needs at least one benefit")
        for code in self.benefits:
            if not isinstance(code, str) or not BENEFIT_CODE.fullmatch(code):
                raise errors.ConfigurationError(
                    f"benefit code {code!r}: use 1-48 of a-z 0-9 -, starting with a letter or digit"
                )
        if len(set(self.benefits)) != len(self.benefits):
            raise errors.ConfigurationError("a benefit is listed twice")
        _check_int("max_validity_days", self.max_validity_days, 1, MAX_VALIDITY_DAYS_LIMIT)
        if not isinstance(self.timezone, str):
            raise errors.ConfigurationError("timezone must be an IANA name such as Europe/Tallinn")
        load_zone(self.timezone)
        if not isinstance(self.registry, str) or not self.registry.strip():
            raise errors.ConfigurationError("registry must be a path or a database URL")
        _check_int("status_list_capacity", self.status_list_capacity, 1, MAX_STATUS_LIST_CAPACITY)
        if self.status_uri is not None:
            check_status_uri(self.status_uri)
        _check_benefit_names(self.benefit_names, self.benefits)

    def benefit_name(self, code: str) -> str:
        """The display name of benefit ``code``: from ``benefit_names``, else the code."""
        return dict(self.benefit_names).get(code, code)

    def required_status_uri(self) -> str:
        """The ``status_uri`` template, which publishing status lists cannot do without.

        :raises ConfigurationError: when ``issuer.json`` has none (it was made before).
        """
        if self.status_uri is None:
            raise errors.ConfigurationError(
                f"issuer {self.issuer_id} has no status_uri in {ISSUER_FILE}: add the template "
                f"the trust list announces for it, e.g. "
                f'"status_uri": "https://status.example.org/{self.issuer_id}/{{list}}.jwt"'
            )
        return self.status_uri

    def status_list_uri(self, list_id: int) -> str:
        """The URI status list ``list_id`` is published at.

        :raises ConfigurationError: when ``issuer.json`` has no ``status_uri``.
        """
        return self.required_status_uri().replace(STATUS_URI_PLACEHOLDER, str(list_id))

    @classmethod
    def from_json(cls, data: object) -> IssuerConfig:
        """Load the parsed ``issuer.json``, refusing unknown, missing or mistyped fields."""
        if not isinstance(data, dict):
            raise errors.ConfigurationError(f"{ISSUER_FILE} must hold a JSON object")
        unknown = data.keys() - _FIELDS - _OPTIONAL_FIELDS
        if unknown:
            raise errors.ConfigurationError(f"unknown fields in {ISSUER_FILE}: {sorted(unknown)}")
        missing = sorted(_FIELDS - data.keys())
        if missing:
            raise errors.ConfigurationError(f"missing fields in {ISSUER_FILE}: {missing}")
        if data["format"] != FORMAT or type(data["format"]) is not int:
            raise errors.ConfigurationError(
                f"{ISSUER_FILE} is format {data['format']!r}; this version reads format {FORMAT}"
            )
        benefits = data["benefits"]
        if not isinstance(benefits, list):
            raise errors.ConfigurationError("benefits must be a list of benefit codes")
        names = data.get("benefit_names", {})
        if not isinstance(names, dict):
            raise errors.ConfigurationError("benefit_names must map benefit codes to names")
        return cls(
            issuer_id=data["issuer_id"],
            name=data["name"],
            active_kid=data["active_kid"],
            benefits=tuple(benefits),
            max_validity_days=data["max_validity_days"],
            timezone=data["timezone"],
            registry=data["registry"],
            status_list_capacity=data["status_list_capacity"],
            status_uri=data.get("status_uri"),
            benefit_names=tuple(sorted(names.items())),
        )

    def to_json(self) -> dict[str, object]:
        """The JSON object written to ``issuer.json`` (optional fields only when set)."""
        fields = asdict(self)
        fields["benefits"] = list(self.benefits)
        fields["benefit_names"] = dict(self.benefit_names)
        for name in _OPTIONAL_FIELDS:
            if not fields[name]:
                del fields[name]
        return {"format": FORMAT, **fields}


class IssuerDir:
    """An issuer directory on disk: its settings, its keys, and where its registry lives."""

    def __init__(self, path: Path, config: IssuerConfig) -> None:
        self.path = path
        self.config = config

    @classmethod
    def create(
        cls,
        path: Path,
        *,
        issuer_id: str,
        name: str,
        benefits: Iterable[str],
        max_validity_days: int = DEFAULT_MAX_VALIDITY_DAYS,
        timezone: str = DEFAULT_TIMEZONE,
        registry: str = DEFAULT_REGISTRY,
        status_list_capacity: int = DEFAULT_STATUS_LIST_CAPACITY,
        status_uri: str | None = None,
        benefit_names: Mapping[str, str] | None = None,
    ) -> IssuerDir:
        """Create an issuer directory with a first key, already active.

        The first key may sign at once: no credential can verify anywhere before the trust
        authority publishes it anyway. Refuses a directory that already has ``issuer.json``.
        """
        if (path / ISSUER_FILE).exists():
            raise errors.ConfigurationError(
                f"{path / ISSUER_FILE} exists already; not replacing it"
            )
        kid = _next_kid(issuer_id, _kids_in(path / KEYS_DIR))
        config = IssuerConfig(
            issuer_id=issuer_id,
            name=name,
            active_kid=kid,
            benefits=tuple(benefits),
            max_validity_days=max_validity_days,
            timezone=timezone,
            registry=registry,
            status_list_capacity=status_list_capacity,
            status_uri=status_uri,
            benefit_names=tuple(sorted((benefit_names or {}).items())),
        )
        try:
            path.mkdir(mode=_PRIVATE_DIR_MODE, parents=True, exist_ok=True)
            (path / KEYS_DIR).mkdir(mode=_PRIVATE_DIR_MODE, exist_ok=True)
        except OSError as exc:
            raise errors.ConfigurationError(f"cannot create {path}: {exc.strerror}") from None
        issuer = cls(path, config)
        write_private_key(generate_private_key(), issuer.key_path(kid))
        # issuer.json comes last: its presence means the directory is complete.
        issuer._save(config)
        return issuer

    @classmethod
    def open(cls, path: Path) -> IssuerDir:
        """Open an existing issuer directory."""
        config_path = path / ISSUER_FILE
        try:
            with config_path.open("rb") as handle:
                raw = handle.read(_MAX_CONFIG_BYTES + 1)
        except FileNotFoundError:
            raise errors.ConfigurationError(
                f"{config_path} not found; create the issuer with: "
                f"plainclaim-issuer --dir {path} init --id ID --name NAME --benefit CODE"
            ) from None
        except OSError as exc:
            raise errors.ConfigurationError(f"cannot read {config_path}: {exc.strerror}") from None
        if len(raw) > _MAX_CONFIG_BYTES:
            raise errors.ConfigurationError(f"{config_path} is too large")
        return cls(path, IssuerConfig.from_json(_load_json(raw, config_path)))

    @property
    def keys_dir(self) -> Path:
        """Where the private keys live."""
        return self.path / KEYS_DIR

    def key_path(self, kid: str) -> Path:
        """The file of key ``kid`` (checked first, so a kid can never name another path)."""
        _check_issuer_kid(kid)
        return self.keys_dir / f"{kid}{KEY_SUFFIX}"

    def key_ids(self) -> list[str]:
        """The kids of all keys on disk, oldest first."""
        return _kids_in(self.keys_dir)

    def new_key(self) -> str:
        """Create a new key, NOT active yet, and return its kid."""
        kid = _next_kid(self.config.issuer_id, self.key_ids())
        write_private_key(generate_private_key(), self.key_path(kid))
        return kid

    def activate_key(self, kid: str) -> None:
        """Make ``kid`` the key that signs new credentials; it must exist and be loadable."""
        if kid not in self.key_ids():
            raise errors.ConfigurationError(f"no key {kid!r} in {self.keys_dir}")
        load_private_key(self.key_path(kid))
        self._save(replace(self.config, active_kid=kid))

    def signing_key(self) -> tuple[str, ec.EllipticCurvePrivateKey]:
        """The active kid and its private key."""
        kid = self.config.active_kid
        return kid, load_private_key(self.key_path(kid))

    def public_jwks(self, kids: Iterable[str] | None = None) -> dict[str, list[dict[str, str]]]:
        """The public keys as a JWKS (``{"keys": [...]}``) for the trust authority."""
        available = self.key_ids()
        chosen = available if kids is None else list(kids)
        for kid in chosen:
            if kid not in available:
                raise errors.ConfigurationError(f"no key {kid!r} in {self.keys_dir}")
        return {"keys": [public_jwk(load_private_key(self.key_path(kid)), kid) for kid in chosen]}

    def registry_url(self, environ: Mapping[str, str] | None = None) -> str:
        """The registry's database URL: the environment, else ``issuer.json``.

        A plain path is taken relative to the issuer directory and made a SQLite URL.
        """
        env = os.environ if environ is None else environ
        location = env.get(REGISTRY_URL_ENV) or self.config.registry
        if "://" in location:
            return location
        path = Path(location)
        if not path.is_absolute():
            path = self.path / path
        return f"sqlite:///{path.resolve()}"

    def _save(self, config: IssuerConfig) -> None:
        data = json.dumps(config.to_json(), indent=2, ensure_ascii=False) + "\n"
        try:
            write_atomic(self.path / ISSUER_FILE, data.encode("utf-8"))
        except OSError as exc:
            raise errors.ConfigurationError(
                f"cannot write {self.path / ISSUER_FILE}: {exc.strerror}"
            ) from None
        self.config = config


def check_status_uri(uri: object) -> str:
    """Refuse a status URI template that cannot be published as one file per list.

    ``{list}`` must sit in the path, where it makes one file per list; in the query or the
    fragment every list would land in the same file.
    """
    if not isinstance(uri, str) or not 0 < len(uri) <= MAX_STATUS_URI_CHARS:
        raise errors.ConfigurationError(
            f"status_uri must be a URL of at most {MAX_STATUS_URI_CHARS} characters"
        )
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.ConfigurationError(f"status_uri {uri!r} must be an http(s) URL")
    if parts.query or parts.fragment or STATUS_URI_PLACEHOLDER not in parts.path:
        raise errors.ConfigurationError(
            f"status_uri {uri!r} must hold {STATUS_URI_PLACEHOLDER} in its path, "
            "and have no query or fragment"
        )
    segments = urllib.parse.unquote(parts.path).split("/")
    if any(segment in (".", "..") for segment in segments) or not segments[-1]:
        raise errors.ConfigurationError(f"status_uri {uri!r} must name a file, without . or ..")
    return uri


def load_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or a :class:`~verifier.errors.ConfigurationError`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise errors.ConfigurationError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Tallinn or UTC"
        ) from None


def _load_json(raw: bytes, path: Path) -> object:
    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        result = dict(pairs)
        if len(result) != len(pairs):
            raise errors.ConfigurationError(f"{path} repeats a key")
        return result

    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except ValueError as exc:
        raise errors.ConfigurationError(f"{path} is not valid JSON: {exc}") from None


def _check_issuer_kid(kid: object) -> None:
    if not isinstance(kid, str):
        raise errors.ConfigurationError("a key id must be a string")
    try:
        check_kid(kid)
    except errors.InvalidKid:
        raise errors.ConfigurationError(f"key id {kid!r}: use 1-64 of A-Z a-z 0-9 _ -") from None


def _kids_in(keys_dir: Path) -> list[str]:
    try:
        names = [entry.name for entry in os.scandir(keys_dir) if entry.is_file()]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise errors.ConfigurationError(f"cannot list {keys_dir}: {exc.strerror}") from None
    kids = [name.removesuffix(KEY_SUFFIX) for name in names if name.endswith(KEY_SUFFIX)]
    return sorted((kid for kid in kids if _is_kid(kid)), key=_kid_order)


def _is_kid(name: str) -> bool:
    try:
        check_kid(name)
    except errors.InvalidKid:
        return False
    return True


def _kid_order(kid: str) -> tuple[str, int]:
    # "mosa-10" after "mosa-9": number-aware, so "oldest first" holds past nine keys.
    head, _, number = kid.rpartition("-")
    return (head, int(number)) if number.isdigit() else (kid, -1)


def _next_kid(issuer_id: str, kids: Iterable[str]) -> str:
    """``<issuer id>-<n>`` with n one above the highest in use: short, since kids ride in the QR."""
    pattern = re.compile(re.escape(issuer_id) + r"-(\d+)")
    used = [int(match.group(1)) for kid in kids if (match := pattern.fullmatch(kid))]
    return f"{issuer_id}-{max(used, default=0) + 1}"


def _check_benefit_names(names: object, benefits: tuple[str, ...]) -> None:
    if not isinstance(names, tuple):
        raise errors.ConfigurationError("benefit_names must map benefit codes to names")
    for entry in names:
        code, name = entry if isinstance(entry, tuple) and len(entry) == 2 else (None, None)
        if code not in benefits:
            raise errors.ConfigurationError(
                f"benefit_names names {code!r}, which is not one of the benefits"
            )
        if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_NAME_CHARS:
            raise errors.ConfigurationError(
                f"the name of benefit {code} must be 1 to {MAX_NAME_CHARS} characters"
            )


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if type(value) is not int or not low <= value <= high:
        raise errors.ConfigurationError(f"{name} must be a whole number from {low} to {high}")
