"""Shared fixtures: a small demo world built from scratch in ``tmp_path``.

One issuer (``mosa``, two benefits) with a fresh key and a real SQLite registry, one trust
authority that lists it, and a verifier trust directory published by that authority. Time is
the fixed ``now`` fixture; pass ``now=`` everywhere rather than reading the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from issuer.authority import Authority, parse_jwks
from issuer.issuer_dir import REGISTRY_URL_ENV, IssuerDir

if TYPE_CHECKING:
    from issuer.issuance import IssuedCredential

NOW = datetime(2027, 3, 1, 10, 30, tzinfo=UTC)
VALID_UNTIL = date(2027, 6, 30)
ISSUER_ID = "mosa"
ISSUER_NAME = "Ministry of Social Affairs"
BENEFITS = {"heating-2027": "Heating support 2027", "child-allowance": "Child allowance"}

STATUS_URI = "https://status.example.org/mosa/{list}.jwt"
#: Small status lists: publishing them takes milliseconds, not the second a million takes.
STATUS_CAPACITY = 4096

IssueFn = Callable[..., "IssuedCredential"]


@pytest.fixture(autouse=True)
def _registry_url_not_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's PLAINCLAIM_REGISTRY_URL must not send tests to a real database."""
    monkeypatch.delenv(REGISTRY_URL_ENV, raising=False)


@pytest.fixture
def now() -> datetime:
    """The fixed moment the demo world lives in."""
    return NOW


@pytest.fixture
def issuer_dir(tmp_path: Path) -> IssuerDir:
    """The ``mosa`` issuer, with its first key active and no credentials yet."""
    return IssuerDir.create(
        tmp_path / "issuer",
        issuer_id=ISSUER_ID,
        name=ISSUER_NAME,
        benefits=tuple(BENEFITS),
        benefit_names=BENEFITS,
    )


@pytest.fixture
def authority(tmp_path: Path, issuer_dir: IssuerDir) -> Authority:
    """A trust authority listing ``mosa`` with its keys and both benefits, nothing published.

    The issuer has no status URI: status lists are not part of this world, so a verifier
    gives VALID without one.
    """
    authority = Authority.init(tmp_path / "authority", "demo")
    authority.add_issuer(ISSUER_ID, ISSUER_NAME)
    authority.add_keys(ISSUER_ID, parse_jwks(issuer_dir.public_jwks()), now=NOW)
    for code, name in BENEFITS.items():
        authority.allow_benefit(ISSUER_ID, code, name)
    return authority


@pytest.fixture
def trust_dir(tmp_path: Path, authority: Authority) -> Path:
    """A verifier trust directory holding the authority's first trust list (valid 30 days)."""
    out = tmp_path / "trust"
    authority.publish(out, now=NOW)
    return out


@pytest.fixture
def issue(issuer_dir: IssuerDir) -> IssueFn:
    """Issue a credential from ``mosa`` at ``now``: ``issue(benefit, valid_until, **options)``.

    Defaults: heating-2027, valid until 2027-06-30; options are those of ``issue_credential``.
    """
    # Imported here: the registry's database stack is not needed by the verifier's tests.
    from issuer.issuance import issue_credential

    def issue(
        benefit: str = "heating-2027", valid_until: date = VALID_UNTIL, **options: object
    ) -> IssuedCredential:
        options.setdefault("now", NOW)
        return issue_credential(issuer_dir, benefit, valid_until, **options)  # type: ignore[arg-type]

    return issue


@dataclass(frozen=True)
class StatusWorld:
    """A world that publishes status lists, on the real clock (the CLIs have no ``--now``).

    ``source`` is what a verifier syncs from: the authority's ``trustlist.jwt`` (and the
    ``anchor.jwk`` to pin), and, once the issuer publishes there, its status lists.
    """

    issuer: IssuerDir
    authority: Authority
    source: Path
    root: Path

    @property
    def anchor(self) -> Path:
        return self.source / "anchor.jwk"


@pytest.fixture
def status_world(tmp_path: Path) -> StatusWorld:
    """``mosa`` with a status URI (the same in issuer.json and on the trust list)."""
    issuer = IssuerDir.create(
        tmp_path / "mosa",
        issuer_id=ISSUER_ID,
        name=ISSUER_NAME,
        benefits=tuple(BENEFITS),
        status_uri=STATUS_URI,
        benefit_names=BENEFITS,
        status_list_capacity=STATUS_CAPACITY,
    )
    authority = Authority.init(tmp_path / "status-authority", "demo")
    authority.add_issuer(ISSUER_ID, ISSUER_NAME, STATUS_URI)
    authority.add_keys(ISSUER_ID, parse_jwks(issuer.public_jwks()))
    for code, name in BENEFITS.items():
        authority.allow_benefit(ISSUER_ID, code, name)
    source = tmp_path / "source"
    authority.publish(source)
    return StatusWorld(issuer, authority, source, tmp_path)
