"""Verification from QR text: ops/s against bare ES256 verification of the same bytes.

Baseline, in the same process: ``cryptography``'s ``EllipticCurvePublicKey.verify`` on the
credential's signing input with its signature already in DER, i.e. the one public-key
operation no verifier can skip. Also shown: plain ``jwt.decode`` (pyjwt), for reference.
Blocks of each are interleaved and the best block of each is compared, so a noisy neighbour
on a shared machine slows both sides alike.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.utils import raw_to_der_signature

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.demo_world import make_world
from verifier import Status, load_trust_store, verify

BLOCK = 400
ROUNDS = 15


def best_rate(function: Callable[[], object]) -> float:
    """Operations per second of the best block."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(BLOCK):
            function()
        best = min(best, time.perf_counter() - start)
    return BLOCK / best


def main() -> None:
    world = make_world()
    with tempfile.TemporaryDirectory() as tmp:
        trust_dir = Path(tmp)
        world.write_trust_dir(trust_dir)
        store = load_trust_store(trust_dir)
        qr_text = world.qr_text()
        token = world.credential()
        result = verify(qr_text, store.trust_list, status=store.status)
        assert result.status is Status.VALID, result

        header, payload, signature = qr_text_jws(qr_text).split(".")
        signing_input = f"{header}.{payload}".encode()
        raw = jwt.utils.base64url_decode(signature)
        public_key = world.issuer_key.public_key()
        der = raw_to_der_signature(raw, public_key.curve)
        ecdsa = ec.ECDSA(hashes.SHA256())

        def bare() -> None:
            public_key.verify(der, signing_input, ecdsa)

        def ours() -> None:
            verify(qr_text, store.trust_list, status=store.status)

        def pyjwt_decode() -> None:
            jwt.decode(token, public_key, algorithms=["ES256"], options={"verify_aud": False})

        rates: dict[str, list[float]] = {"bare": [], "ours": [], "jwt.decode": []}
        for _ in range(3):  # interleave whole passes too
            rates["bare"].append(best_rate(bare))
            rates["ours"].append(best_rate(ours))
            rates["jwt.decode"].append(best_rate(pyjwt_decode))
        best = {name: max(values) for name, values in rates.items()}
        print(f"credential: {len(token)} JWS chars, {len(qr_text)} QR text chars")
        print(f"{'path':<32}{'ops/s':>10}{'us/op':>10}{'ratio':>8}")
        rows = [
            ("bare cryptography ES256 verify", "bare"),
            ("plainclaim verify(QR text)", "ours"),
            ("pyjwt jwt.decode (reference)", "jwt.decode"),
        ]
        for label, name in rows:
            rate = best[name]
            print(f"{label:<32}{rate:>10.0f}{1e6 / rate:>10.1f}{rate / best['bare']:>8.2f}")
        print(f"RATIO verify/bare = {best['ours'] / best['bare']:.2f} (target >= 0.80)")


def qr_text_jws(qr_text: str) -> str:
    from verifier.qrtext import decode_qr_text

    return decode_qr_text(qr_text)


if __name__ == "__main__":
    main()
