"""Issuance throughput: signing plus a durable registry record, against signing alone.

For each backend, issue ``--count`` credentials through ``Registry.issue_batch`` (``--batch``
per transaction, each committed durably) and compare with plain
``jwt.encode(payload, key, algorithm="ES256")`` on the same payloads in the same run, so the
ratio says what the registry costs on this machine whatever its speed::

    .venv/bin/python bench/bench_issuance.py                  # SQLite in a temporary directory
    PLAINCLAIM_TEST_PG_URL=postgresql+psycopg://... .venv/bin/python bench/bench_issuance.py

Each figure is the best of ``--repeat`` runs (the least disturbed by other load). The goal for
SQLite is a ratio of 0.5 or more.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from issuer.registry import IssueRequest, Registry
from verifier.claims import CredentialClaims, StatusRef
from verifier.jws import CREDENTIAL_TYP, sign_compact

ISSUER = "bench"
NOT_BEFORE = 1_800_000_000
EXPIRES = 1_831_536_000


def baseline_seconds(key: ec.EllipticCurvePrivateKey, count: int) -> float:
    """Plain pyjwt ES256 signing of ``count`` credential payloads."""
    payloads = [
        CredentialClaims(
            ISSUER, "heating-2027", NOT_BEFORE, EXPIRES, secrets.token_urlsafe(12), StatusRef(1, i)
        ).to_payload()
        for i in range(count)
    ]
    start = time.perf_counter()
    for payload in payloads:
        jwt.encode(payload, key, algorithm="ES256")
    return time.perf_counter() - start


def registry_seconds(
    url: str, key: ec.EllipticCurvePrivateKey, count: int, batch: int, run: int
) -> float:
    """Issue ``count`` credentials through the registry, ``batch`` per transaction."""

    def sign(claims: CredentialClaims) -> str:
        return sign_compact(claims.to_payload(), key, "bench-key", CREDENTIAL_TYP)

    requests = [
        IssueRequest(f"run{run}-{i}", "heating-2027", NOT_BEFORE, EXPIRES, case_ref=f"case-{i}")
        for i in range(count)
    ]
    with Registry.open(url, issuer_id=ISSUER) as registry:
        start = time.perf_counter()
        for offset in range(0, count, batch):
            registry.issue_batch(requests[offset : offset + batch], sign)
        return time.perf_counter() - start


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="plainclaim-bench-") as directory:
        yield f"sqlite:///{Path(directory) / 'registry.sqlite3'}"


@contextmanager
def postgres_url(base: str) -> Iterator[str]:
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def measure(
    name: str,
    database: Callable[[], AbstractContextManager[str]],
    args: argparse.Namespace,
    key: ec.EllipticCurvePrivateKey,
) -> tuple[str, float, float]:
    best_registry = best_baseline = float("inf")
    with database() as url:
        registry_seconds(url, key, args.batch, args.batch, run=-1)  # warm up: migrate, import
        for run in range(args.repeat):
            best_baseline = min(best_baseline, baseline_seconds(key, args.count))
            best_registry = min(
                best_registry, registry_seconds(url, key, args.count, args.batch, run)
            )
    return name, args.count / best_baseline, args.count / best_registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="credentials per run")
    parser.add_argument("--batch", type=int, default=500, help="credentials per transaction")
    parser.add_argument("--repeat", type=int, default=3, help="runs per backend; best is kept")
    args = parser.parse_args()
    key = ec.generate_private_key(ec.SECP256R1())
    rows = [measure("sqlite", sqlite_url, args, key)]
    pg = os.environ.get("PLAINCLAIM_TEST_PG_URL")
    if pg:
        rows.append(measure("postgresql", lambda: postgres_url(pg), args, key))
    else:
        print("postgresql: skipped (set PLAINCLAIM_TEST_PG_URL, see scripts/start-postgres.sh)")
    print(f"{'backend':<12}{'jwt.encode/s':>14}{'registry/s':>12}{'ratio':>8}")
    for name, baseline, registry in rows:
        print(f"{name:<12}{baseline:>14,.0f}{registry:>12,.0f}{registry / baseline:>8.2f}")
    print(f"({args.count} credentials, {args.batch} per transaction, best of {args.repeat})")


if __name__ == "__main__":
    main()
