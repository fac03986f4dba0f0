"""A throwaway signed world for benchmarks: an anchor, one issuer, a trust list, status lists.

Built in memory from fresh keys with the verifier's own format modules, so the benchmarks
measure exactly what a verifier runs.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from verifier.claims import CredentialClaims, StatusRef
from verifier.jws import CREDENTIAL_TYP, STATUS_LIST_TYP, TRUST_LIST_TYP, sign_compact
from verifier.keys import b64url_encode
from verifier.qrtext import encode_qr_text
from verifier.status_list import StatusListBuilder, StatusValue, status_list_claims
from verifier.status_store import status_list_path
from verifier.trust import AnchorKey, TrustedIssuer, TrustedKey, TrustList
from verifier.trust_dir import ANCHOR_FILE, TRUST_LIST_FILE

ISSUER = "mosa"
KID = "mosa-1"
BENEFIT = "heating-2027"
STATUS_URI = "https://status.example.org/mosa/{list}.jwt"


@dataclass
class World:
    """Keys, a signed trust list and a way to mint credentials."""

    anchor_key: ec.EllipticCurvePrivateKey
    issuer_key: ec.EllipticCurvePrivateKey
    trust_list: TrustList
    trust_list_jws: str
    now: int

    def credential(self, index: int = 123_456, *, days: int = 365) -> str:
        """The compact JWS of a fresh, valid credential."""
        claims = CredentialClaims(
            issuer_id=ISSUER,
            benefit=BENEFIT,
            not_before=self.now - 60,
            expires=self.now + days * 86400,
            credential_id=b64url_encode(secrets.token_bytes(12)),
            status=StatusRef(0, index),
        )
        return sign_compact(claims.to_payload(), self.issuer_key, KID, CREDENTIAL_TYP)

    def signed_trust_list(self, sequence: int) -> str:
        """The same trust list re-signed with another sequence number."""
        payload = {**self.trust_list.to_payload(), "seq": sequence}
        return sign_compact(payload, self.anchor_key, "anchor-1", TRUST_LIST_TYP)

    def anchor_jwk(self) -> str:
        """The anchor's public JWK, as a verifier pins it."""
        return json.dumps(AnchorKey("anchor-1", self.anchor_key.public_key()).to_jwk())

    def qr_text(self, index: int = 123_456, *, days: int = 365) -> str:
        """The QR text of a fresh, valid credential."""
        return encode_qr_text(self.credential(index, days=days))

    def status_list_jws(
        self,
        size: int = 1 << 20,
        revoked: tuple[int, ...] = (),
        suspended: tuple[int, ...] = (),
        issued_days_ago: float = 0,
    ) -> str:
        """A signed status list 0 of the issuer."""
        builder = StatusListBuilder(size, bits=2)
        for index in revoked:
            builder.set(index, StatusValue.INVALID)
        for index in suspended:
            builder.set(index, StatusValue.SUSPENDED)
        issued = datetime.fromtimestamp(self.now - 60 - issued_days_ago * 86400, UTC)
        payload = status_list_claims(
            builder,
            subject_uri=STATUS_URI.replace("{list}", "0"),
            issued_at=issued,
            expires_at=issued + timedelta(days=30),
            ttl=timedelta(hours=12),
            fast=True,
        )
        return sign_compact(payload, self.issuer_key, KID, STATUS_LIST_TYP)

    def write_trust_dir(self, trust_dir: Path, *, status_size: int = 1 << 20) -> None:
        """A complete trust directory: anchor, trust list, status list 0."""
        trust_dir.mkdir(parents=True, exist_ok=True)
        (trust_dir / ANCHOR_FILE).write_text(self.anchor_jwk())
        (trust_dir / TRUST_LIST_FILE).write_text(self.trust_list_jws)
        path = status_list_path(trust_dir, ISSUER, 0)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.status_list_jws(status_size))


def make_world() -> World:
    """A fresh world valid from now for a year."""
    now = int(time.time())
    anchor_key = ec.generate_private_key(ec.SECP256R1())
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    key = TrustedKey(
        KID, ISSUER, "ES256", issuer_key.public_key(), now - 90 * 86400, now + 800 * 86400
    )
    trust_list = TrustList.build(
        authority="bench-authority",
        sequence=1,
        issued_at=now,
        expires_at=now + 30 * 86400,
        issuers=[
            TrustedIssuer(
                ISSUER,
                "Ministry of Social Affairs",
                {KID: key},
                {BENEFIT: "Heating support 2027"},
                STATUS_URI,
            )
        ],
    )
    token = sign_compact(trust_list.to_payload(), anchor_key, "anchor-1", TRUST_LIST_TYP)
    return World(anchor_key, issuer_key, trust_list, token, now)
