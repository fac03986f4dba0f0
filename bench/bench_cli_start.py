"""CLI cold start: a whole ``plainclaim-verify`` process verifying a PNG, against a bare
``python -c "import jwt, PIL.Image, zxingcpp"`` (the libraries any such verifier must load).

Runs are interleaved (baseline, ours, baseline, ...) and medians compared, so a noisy
neighbour slows both alike. Target: 1.15x or less.

For information, also against the imports the verify path itself needs: it never loads pyjwt
(signing is the issuer's business), so that baseline is stricter than the target's.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.demo_world import make_world
from issuer.render import write_credential

RUNS = 25
#: What verifying a PNG cannot do without: cryptography's EC keys, Pillow's PNG reader, zxing.
NEEDED_IMPORTS = (
    "import cryptography.hazmat.primitives.asymmetric.ec, PIL.Image, PIL.PngImagePlugin, zxingcpp"
)


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode not in (0,):
        raise SystemExit(f"{command} failed: {completed.stdout!r} {completed.stderr!r}")
    return elapsed


def main() -> None:
    python = sys.executable
    cli = str(Path(python).with_name("plainclaim-verify"))
    world = make_world()
    with tempfile.TemporaryDirectory() as tmp:
        trust_dir = Path(tmp) / "trust"
        world.write_trust_dir(trust_dir)
        png = Path(tmp) / "credential.png"
        write_credential(world.qr_text(), png)
        baseline_cmd = [python, "-c", "import jwt, PIL.Image, zxingcpp"]
        needed_cmd = [python, "-c", NEEDED_IMPORTS]
        ours_cmd = [cli, "--trust-dir", str(trust_dir), str(png)]
        timed(ours_cmd)  # warm the page cache for all
        timed(baseline_cmd)
        timed(needed_cmd)
        baseline: list[float] = []
        needed: list[float] = []
        ours: list[float] = []
        for _ in range(RUNS):
            baseline.append(timed(baseline_cmd))
            ours.append(timed(ours_cmd))
            needed.append(timed(needed_cmd))
    b, o = statistics.median(baseline), statistics.median(ours)
    rows = [
        ("python -c import jwt, PIL.Image, zxingcpp", baseline),
        ("plainclaim-verify --trust-dir T credential.png", ours),
        ("python -c import ec, PIL PNG plugin, zxingcpp", needed),
    ]
    print(f"{'process':<52}{'median ms':>10}{'min ms':>9}")
    for label, runs in rows:
        print(f"{label:<52}{statistics.median(runs) * 1e3:>10.1f}{min(runs) * 1e3:>9.1f}")
    print(f"RATIO cold start = {o / b:.2f} (target <= 1.15)")
    print(f"(information: {o / statistics.median(needed):.2f}x the imports the verify path needs)")


if __name__ == "__main__":
    main()
