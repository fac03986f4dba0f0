"""The verifier stands alone: it never imports the issuer, nor the issuer's dependencies."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from bench.demo_world import make_world

ROOT = Path(__file__).resolve().parent.parent
ISSUER_ONLY = ("issuer", "qrcode", "sqlalchemy", "alembic", "psycopg", "zopfli", "flask")


def test_no_verifier_module_imports_issuer_code() -> None:
    for path in sorted((ROOT / "verifier").glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in ISSUER_ONLY, f"{path.name} imports {name}"


def test_verifying_an_image_loads_no_issuer_dependency(tmp_path: Path) -> None:
    world = make_world()
    world.write_trust_dir(tmp_path / "trust")
    from issuer.render import write_credential  # the test's own setup, in this process

    write_credential(world.qr_text(), tmp_path / "credential.png")
    arguments = ["--trust-dir", str(tmp_path / "trust"), str(tmp_path / "credential.png")]
    script = (
        "import sys\n"
        "from verifier.cli import main\n"
        f"code = main({arguments!r})\n"
        f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({ISSUER_ONLY!r}))\n"
        "print(code, loaded)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip().splitlines()[-1] == "0 []"
