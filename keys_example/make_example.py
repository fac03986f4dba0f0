"""Regenerate the EXAMPLE world in ``keys_example/``: one trust authority, two issuers.

EXAMPLE MATERIAL, NEVER FOR PRODUCTION: the private keys written here are committed to a
public repository. Run from the repository root::

    python -m keys_example.make_example --force

It builds everything with the project's own tools (:mod:`issuer.issuer_dir`,
:mod:`issuer.authority`), exactly as an office would with ``plainclaim-issuer``, except that
the keys and the trust list are valid for about ten years so the demo keeps working.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from issuer.authority import Authority, parse_jwks
from issuer.issuer_dir import IssuerDir
from verifier import errors

HERE: Final = Path(__file__).resolve().parent
GENERATED: Final = ("authority", "verifier", "issuers")
AUTHORITY_ID: Final = "demo"
#: About ten years, for the demo only; a real trust list lives for weeks (default 30 days).
DEMO_VALIDITY_DAYS: Final = 3653
STATUS_URI: Final = "https://status.example.org/{issuer}/{{list}}.jwt"


@dataclass(frozen=True)
class ExampleIssuer:
    """An issuer of the example world."""

    issuer_id: str
    name: str
    benefits: dict[str, str]


ISSUERS: Final = (
    ExampleIssuer(
        "mosa",
        "Ministry of Social Affairs",
        {"heating-2027": "Heating support 2027", "child-allowance": "Child allowance"},
    ),
    ExampleIssuer("city", "City of Example", {"transport-discount": "Transport discount"}),
)


def make_example(root: Path, now: datetime) -> None:
    """Build the example world under ``root`` (which must not hold one yet)."""
    authority = Authority.init(root / "authority", AUTHORITY_ID, validity_days=DEMO_VALIDITY_DAYS)
    today = now.astimezone(UTC).date()
    for example in ISSUERS:
        # One template for both: verifiers refuse a status list whose sub is not the URI the
        # trust list gives, and the issuer signs sub from its own issuer.json.
        status_uri = STATUS_URI.format(issuer=example.issuer_id)
        issuer = IssuerDir.create(
            root / "issuers" / example.issuer_id,
            issuer_id=example.issuer_id,
            name=example.name,
            benefits=list(example.benefits),
            status_uri=status_uri,
            benefit_names=example.benefits,
        )
        authority.add_issuer(example.issuer_id, example.name, status_uri)
        authority.add_keys(
            example.issuer_id,
            parse_jwks(issuer.public_jwks()),
            not_before=today,
            not_after=today + timedelta(days=DEMO_VALIDITY_DAYS),
        )
        for code, name in example.benefits.items():
            authority.allow_benefit(example.issuer_id, code, name)
    authority.publish(root / "verifier", now=now)


def main(argv: list[str] | None = None) -> int:
    """Regenerate ``keys_example/``; ``--force`` replaces what is there."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="replace the existing example")
    args = parser.parse_args(argv)
    existing = [HERE / name for name in GENERATED if (HERE / name).exists()]
    if existing and not args.force:
        print(f"{HERE} holds an example already; use --force to replace it", file=sys.stderr)
        return 1
    for path in existing:
        shutil.rmtree(path)
    try:
        make_example(HERE, datetime.now(UTC))
    except errors.PlainclaimError as exc:
        print(f"error: {exc.detail or exc.reason}", file=sys.stderr)
        return 1
    print(f"example world written to {HERE} (EXAMPLE MATERIAL: never use in production)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
