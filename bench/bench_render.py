"""Per-credential PNG rendering: ``issuer.render.render_png`` against plain ``qrcode.make``.

Both sides render the same realistic credentials (ES256 JWS under a fresh key, ~590 digits)
to PNG bytes at the same pixel size (10 px a module, 4 modules of border: qrcode's defaults),
interleaved in the same run. Medians per credential are compared; the target is 5x or more.
"""

from __future__ import annotations

import io
import json
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jwt
import qrcode
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from issuer.render import qr_matrix, render_png, render_svg
from verifier.qrtext import encode_qr_text

CREDENTIALS = 40
ROUNDS = 5
MODULE_PX = 10  # qrcode's default box_size
TARGET = 5.0


def credential_texts(count: int) -> list[str]:
    key = ec.generate_private_key(ec.SECP256R1())
    encoder = jwt.api_jws.PyJWS()
    texts = []
    for _ in range(count):
        payload = {
            "iss": "mosa",
            "ben": "heating-2027",
            "nbf": 1798761600,
            "exp": 1830297600,
            "jti": jwt.utils.base64url_encode(secrets.token_bytes(12)).decode(),
            "st": [0, secrets.randbelow(1_000_000)],
        }
        jws = encoder.encode(
            json.dumps(payload, separators=(",", ":")).encode(),
            key,
            algorithm="ES256",
            headers={"kid": "mosa-1", "typ": "pc1"},
        )
        texts.append(encode_qr_text(jws))
    return texts


def qrcode_png(text: str) -> bytes:
    out = io.BytesIO()
    qrcode.make(text).save(out)
    return out.getvalue()


def timings(function: Callable[[str], object], texts: list[str]) -> list[float]:
    """Seconds per call, one sample per text."""
    samples = []
    for text in texts:
        start = time.perf_counter()
        function(text)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    texts = credential_texts(CREDENTIALS)
    contenders: dict[str, Callable[[str], object]] = {
        "qrcode.make + PNG": qrcode_png,
        "render_png (10 px)": lambda text: render_png(text, module_px=MODULE_PX),
        "render_png (8 px, default)": render_png,
        "render_svg": render_svg,
        "qr_matrix only": qr_matrix,
    }
    for function in contenders.values():  # warm caches (per-version layout tables)
        function(texts[0])
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(ROUNDS):
        for name, function in contenders.items():
            samples[name] += timings(function, texts)

    medians = {name: statistics.median(values) for name, values in samples.items()}
    versions = sorted({qr_matrix(text).version for text in texts})
    png_sizes = [len(render_png(text, module_px=MODULE_PX)) for text in texts]
    qrcode_sizes = [len(qrcode_png(text)) for text in texts]
    print(f"{CREDENTIALS} credentials x {ROUNDS} rounds, {len(texts[0])}-character QR texts")
    print(f"QR version at M: {versions}")
    print(
        f"PNG bytes at {MODULE_PX} px (median): render_png {statistics.median(png_sizes):.0f},"
        f" qrcode {statistics.median(qrcode_sizes):.0f}\n"
    )
    for name, median in medians.items():
        print(f"  {name:<28}{median * 1000:8.3f} ms   {1 / median:8.0f} /s")
    ratio = medians["qrcode.make + PNG"] / medians["render_png (10 px)"]
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(f"\nspeed-up, same pixel size: {ratio:.1f}x ({verdict} the {TARGET:.0f}x target)")


if __name__ == "__main__":
    main()
