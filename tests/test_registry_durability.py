"""Kill -9 the issuing process at random moments: no acknowledged credential may be lost.

A worker (``tests/registry_worker.py``) issues a range of request ids and prints an ACK line
after each ``issue`` returns. The test kills it with SIGKILL at random moments, several rounds
in a row, each round retrying the whole range, then lets one run finish and checks that every
ACK is in the registry as acknowledged, that no request has two credentials, that every status
entry is unique, and that the integrity check passes. On PostgreSQL two workers run at once,
in opposite directions over the same range, so they race for the same request ids.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, select

from issuer.registry import Registry
from issuer.registry_schema import credentials, status_lists
from tests.pg import fresh_schema
from verifier.jws import CREDENTIAL_TYP, parse_compact

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).with_name("registry_worker.py")
ISSUER = "durable"
#: Small lists, so that new lists are opened while workers are being killed.
CAPACITY = 1024
REQUESTS = 3000
ROUNDS = 8
#: Single issues exercise a commit per credential; batches, long transactions.
BATCH_SIZES = (1, 7, 60)
#: How far past the already stored requests a kill may land, by batch size: a single-issue
#: round commits one credential per fsync, so it is killed sooner to keep the test short.
KILL_REACH = {1: 150, 7: 600, 60: REQUESTS}

Ack = tuple[str, str]  # credential id, "list:index"


class Worker:
    """A worker process and the ACK lines it managed to print before it ended."""

    def __init__(
        self, url: str, *, descending: bool = False, batch: int = 1, count: int = REQUESTS
    ) -> None:
        command = [sys.executable, str(WORKER), url, "0", str(count), "--batch", str(batch)]
        command += ["--capacity", str(CAPACITY)]
        if descending:
            command.append("--descending")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.batch = batch
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if not line.endswith("\n"):
                break  # cut short by the kill: not an acknowledgement
            self.lines.append(line)
            if line == "READY\n":
                self.ready.set()
        self.ready.set()

    def wait_for_acks(self, count: int, timeout: float = 60) -> None:
        """Wait until ``count`` requests are acknowledged (or the worker has ended)."""
        deadline = time.monotonic() + timeout
        # +1: the READY line.
        while len(self.lines) < count + 1 and self.process.poll() is None:
            assert time.monotonic() < deadline, "the worker makes no progress"
            time.sleep(0.001)

    def kill_at_random(self, rng: random.Random, stored: int) -> bool:
        """SIGKILL at a random moment, mostly while issuing rather than replaying."""
        assert self.ready.wait(30)
        target = stored + rng.randrange(-50, KILL_REACH[self.batch])
        self.wait_for_acks(max(0, min(target, REQUESTS - 1)))
        time.sleep(rng.uniform(0, 0.02))
        return self.kill()

    def kill(self) -> bool:
        """SIGKILL the worker; whether it was still running."""
        running = self.process.poll() is None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._reader.join()
        return running

    def finish(self, timeout: float = 120) -> None:
        """Wait for the worker to complete its range; it must succeed."""
        try:
            self.process.wait(timeout)
        finally:
            self.process.kill()
        self._reader.join()
        assert self.process.stderr is not None
        assert self.process.returncode == 0, self.process.stderr.read()
        assert self.lines[-1] == "DONE\n"

    def acks(self) -> Iterator[tuple[str, Ack]]:
        for line in self.lines:
            if line.startswith("ACK "):
                _, request_id, credential_id, entry = line.split()
                yield request_id, (credential_id, entry)


class Ledger:
    """Every acknowledgement seen, across rounds and workers; they must never disagree."""

    def __init__(self) -> None:
        self.acked: dict[str, Ack] = {}
        self.count = 0

    def add(self, worker: Worker) -> None:
        for request_id, ack in worker.acks():
            self.count += 1
            earlier = self.acked.setdefault(request_id, ack)
            assert earlier == ack, f"{request_id} acknowledged as {earlier} and as {ack}"


def test_sigkill_loses_no_acknowledged_sqlite_credential(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    rng = _rng()
    ledger = Ledger()
    kills = 0
    for round_number in range(ROUNDS):
        worker = Worker(url, batch=BATCH_SIZES[round_number % len(BATCH_SIZES)])
        if round_number == 0:
            # While the registry is being created and migrated, too.
            time.sleep(rng.uniform(0.3, 1.2))
            kills += worker.kill()
        else:
            kills += worker.kill_at_random(rng, len(ledger.acked))
        ledger.add(worker)
    final = Worker(url, batch=60)
    final.finish()
    ledger.add(final)

    _check_registry(url, ledger)
    assert kills >= ROUNDS - 2, "the workers finished before they could be killed"
    _report("sqlite", kills, ledger)


def test_sigkill_loses_no_acknowledged_postgres_credential() -> None:
    with fresh_schema("durable") as url:
        rng = _rng()
        ledger = Ledger()
        kills = 0
        for round_number in range(ROUNDS):
            batch = BATCH_SIZES[round_number % len(BATCH_SIZES)]
            workers = [Worker(url, batch=batch), Worker(url, batch=batch, descending=True)]
            stored = len(ledger.acked)
            for worker in rng.sample(workers, len(workers)):
                kills += worker.kill_at_random(rng, stored)
                ledger.add(worker)
        finals = [Worker(url, batch=60), Worker(url, batch=60, descending=True)]
        for worker in finals:
            worker.finish()
            ledger.add(worker)

        _check_registry(url, ledger)
        # A worker whose range the other one already stored may finish before its kill.
        assert kills >= ROUNDS, "the workers finished before they could be killed"
        _report("postgresql", kills, ledger)


def _check_registry(url: str, ledger: Ledger) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(credentials)).all()
            allocated = conn.execute(select(status_lists.c.allocated)).scalars().all()
    finally:
        engine.dispose()
    by_request = {row.request_id: row for row in rows}
    expected = {f"req-{number:06d}" for number in range(REQUESTS)}
    assert len(rows) == len(by_request) == REQUESTS, "a request has two credentials"
    assert set(by_request) == expected
    assert set(ledger.acked) == expected
    for request_id, (credential_id, entry) in ledger.acked.items():
        row = by_request[request_id]
        assert (row.credential_id, f"{row.list_id}:{row.status_index}") == (credential_id, entry)
    assert len({row.credential_id for row in rows}) == REQUESTS
    assert len({(row.list_id, row.status_index) for row in rows}) == REQUESTS
    assert sum(allocated) == REQUESTS, "a status entry was handed out and not used"
    for row in rows:
        payload = parse_compact(row.token, CREDENTIAL_TYP).unverified_payload
        assert (payload["jti"], payload["st"]) == (
            row.credential_id,
            [row.list_id, row.status_index],
        )
    with Registry.open(url, issuer_id=ISSUER, list_capacity=CAPACITY) as registry:
        registry.check_integrity()


def _rng() -> random.Random:
    seed = int(os.environ.get("PLAINCLAIM_DURABILITY_SEED", time.time_ns() % 1_000_000))
    print(f"durability seed {seed} (set PLAINCLAIM_DURABILITY_SEED to replay)")
    return random.Random(seed)


def _report(backend: str, kills: int, ledger: Ledger) -> None:
    print(f"{backend}: {kills} kills, {ledger.count} acknowledgements, {REQUESTS} credentials")
