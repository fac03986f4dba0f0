"""Bulk issuance throughput and memory: ``plainclaim-issuer issue-bulk`` from a CSV file.

Runs the real CLI in a subprocess for each output (a directory of PNGs, one PDF of letters)
on a fresh issuer and a fresh SQLite registry, and reports rows per second (wall clock, CSV
checking, signing, durable registry commits and rendering included) and the process's peak
RSS, taken from the kernel's accounting of the child (``wait4``)::

    .venv/bin/python bench/bench_bulk.py                 # 5,000 rows
    .venv/bin/python bench/bench_bulk.py --rows 50000

Peak RSS should not depend on the number of rows: run with two sizes to see it stay flat.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from issuer.issuer_dir import IssuerDir

ROOT = Path(__file__).resolve().parent.parent
BENEFITS = {"heating-2027": "Heating support 2027", "child-allowance": "Child allowance"}


def write_csv(path: Path, rows: int) -> None:
    """``rows`` rows of the bulk CSV format, half with a valid_from."""
    until = (date.today() + timedelta(days=300)).isoformat()
    start = (date.today() + timedelta(days=30)).isoformat()
    with path.open("w", encoding="utf-8") as handle:
        handle.write("case_ref,benefit,valid_until,valid_from\n")
        for row in range(rows):
            benefit = "heating-2027" if row % 3 else "child-allowance"
            handle.write(f"CASE-{row:07d},{benefit},{until},{start if row % 2 else ''}\n")


def run_bulk(directory: Path, rows: int, output: list[str], batch: int) -> tuple[float, int]:
    """Seconds and peak RSS (bytes) of one issue-bulk run into a fresh issuer."""
    issuer = IssuerDir.create(
        directory / "issuer",
        issuer_id="bench",
        name="Bench Office",
        benefits=tuple(BENEFITS),
        benefit_names=BENEFITS,
    )
    csv_path = directory / "rows.csv"
    write_csv(csv_path, rows)
    command = [sys.executable, "-m", "issuer.cli", "--dir", str(issuer.path), "issue-bulk"]
    command += ["--csv", str(csv_path), "--batch-size", str(batch), "--actor", "bench", *output]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"issue-bulk failed with exit code {process.returncode}")
    return seconds, usage.ru_maxrss * 1024  # kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000, help="CSV rows per run")
    parser.add_argument("--batch", type=int, default=200, help="credentials per transaction")
    args = parser.parse_args()
    results = []
    for name, output in (("PNG dir", ["--out-dir", "png"]), ("PDF", ["--pdf", "letters.pdf"])):
        with tempfile.TemporaryDirectory(prefix="plainclaim-bench-") as temp:
            directory = Path(temp)
            target = [output[0], str(directory / output[1])]
            seconds, rss = run_bulk(directory, args.rows, target, args.batch)
            size = sum(p.stat().st_size for p in directory.rglob("*.p*") if p.is_file())
            results.append((name, seconds, rss, size))
    print(f"{'output':<10}{'rows':>8}{'seconds':>9}{'rows/s':>8}{'peak RSS':>10}{'output':>10}")
    for name, seconds, rss, size in results:
        print(
            f"{name:<10}{args.rows:>8}{seconds:>9.1f}{args.rows / seconds:>8.0f}"
            f"{rss / 2**20:>8.0f}MB{size / 2**20:>8.1f}MB"
        )
    print(f"(fresh SQLite registry, {args.batch} per transaction, ECC M, one process)")


if __name__ == "__main__":
    main()
