"""Where a new credential's entry goes in its status list: a keyed random permutation.

A status index must not reveal the order of issuance (index 7 must not mean "the seventh
person this office helped"), and an index must never be handed out twice. Drawing random
indices and retrying on collisions does both, but gets slow as a list fills and needs a
lookup per try. Instead each list has a counter ``n = 0, 1, 2, ...`` and a random secret
key, and entry ``n`` goes to ``permute(n)``, where ``permute`` is a pseudo-random permutation
of ``[0, capacity)`` chosen by the key:

* a balanced Feistel network over ``2 * half_bits`` bits, whose round function is keyed
  BLAKE2b. Any round function gives a bijection; with a pseudo-random one, four or more
  rounds give a pseudo-random permutation (Luby-Rackoff). Six rounds leave a wide margin.
  A half has at most 16 bits, so each round function is tabulated once per list;
* cycle-walking for capacities that are not a power of four: apply the network again until
  the value falls inside ``[0, capacity)``. Because the network is a bijection of the larger
  domain, the walk always ends, on a value no other counter reaches. The domain is less than
  four times the capacity, so fewer than four walks are expected.

Distinct counters thus give distinct indices, in O(1), with no retries and no lookups.
:class:`StatusAllocator` keeps the counters in the ``status_lists`` table and opens a new list
when the newest one is full.
"""

from __future__ import annotations

import hashlib
import secrets
from array import array
from collections.abc import Callable, Iterator
from typing import Final

from sqlalchemy import Connection, select

from issuer.registry_schema import status_lists
from verifier.claims import StatusRef

#: Bytes of the per-list secret; BLAKE2b accepts keys of up to 64 bytes.
KEY_BYTES: Final = 32
ROUNDS: Final = 6
#: Two halves of 16 bits: every index a status list can have (verifiers stop at 10**8).
MAX_CAPACITY: Final = 1 << 32


def new_key() -> bytes:
    """A fresh per-list secret for :class:`IndexPermutation`."""
    return secrets.token_bytes(KEY_BYTES)


class IndexPermutation:
    """A keyed pseudo-random permutation of ``range(capacity)``."""

    __slots__ = ("_capacity", "_half_bits", "_mask", "_round_tables")

    def __init__(self, key: bytes, capacity: int) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a permutation key has {KEY_BYTES} bytes")
        if not 1 <= capacity <= MAX_CAPACITY:
            raise ValueError(f"capacity must be between 1 and {MAX_CAPACITY}")
        self._capacity = capacity
        # At least one bit per half, so that capacities 1 and 2 still make a network.
        self._half_bits = max(1, ((capacity - 1).bit_length() + 1) // 2)
        self._mask = (1 << self._half_bits) - 1
        # A half has at most 2**16 values, so each round function fits a table, computed once
        # per list (6 x 1024 hashes for a list of 2**20): issuing then costs six lookups.
        self._round_tables = tuple(
            array("H", _round_function(key, round_number, self._half_bits))
            for round_number in range(ROUNDS)
        )

    @property
    def capacity(self) -> int:
        """The size of the permuted range."""
        return self._capacity

    def __call__(self, counter: int) -> int:
        """The index of the ``counter``-th entry allocated in the list."""
        if not 0 <= counter < self._capacity:
            raise ValueError(f"counter {counter} outside 0..{self._capacity - 1}")
        value = self._feistel(counter)
        while value >= self._capacity:
            value = self._feistel(value)
        return value

    def _feistel(self, value: int) -> int:
        half_bits = self._half_bits
        left, right = value >> half_bits, value & self._mask
        for table in self._round_tables:
            left, right = right, left ^ table[right]
        return (left << half_bits) | right


def _round_function(key: bytes, round_number: int, half_bits: int) -> Iterator[int]:
    """Keyed BLAKE2b of each possible half, truncated to ``half_bits`` bits."""
    keyed = hashlib.blake2b(digest_size=8, key=key, salt=round_number.to_bytes(16))
    mask = (1 << half_bits) - 1
    for half in range(1 << half_bits):
        digest = keyed.copy()
        digest.update(half.to_bytes(4, "big"))
        yield int.from_bytes(digest.digest()) & mask


class StatusAllocator:
    """Hands out status entries from the newest list, opening a new list when it is full.

    Only for use under the registry's issuance lock: it reads the newest list's counter once
    and :meth:`save` writes the counters back, in the transaction that stores the credentials.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        new_list_capacity: int,
        now: int,
        permutation: Callable[[int, int, bytes], IndexPermutation] = (
            lambda _list_id, capacity, key: IndexPermutation(key, capacity)
        ),
    ) -> None:
        """``permutation(list_id, capacity, key)`` may return a cached permutation."""
        self._conn = conn
        self._new_list_capacity = new_list_capacity
        self._now = now
        self._permutation = permutation
        self._changed: dict[int, int] = {}
        # Lists are numbered from 0, as verifiers look them up (sync probes 0, 1, 2, ...).
        self._list_id = -1
        self._capacity = self._allocated = 0
        self._current: IndexPermutation | None = None
        newest = conn.execute(
            select(status_lists).order_by(status_lists.c.list_id.desc()).limit(1)
        ).first()
        if newest is not None:
            self._list_id = newest.list_id
            self._capacity = newest.capacity
            self._allocated = newest.allocated
            self._current = permutation(newest.list_id, newest.capacity, newest.permutation_key)

    def allocate(self) -> StatusRef:
        """The next entry: a (list id, index) never handed out before."""
        if self._current is None or self._allocated >= self._capacity:
            self._open_list()
        assert self._current is not None
        index = self._current(self._allocated)
        self._allocated += 1
        self._changed[self._list_id] = self._allocated
        return StatusRef(self._list_id, index)

    def save(self) -> None:
        """Write the counters back."""
        for list_id, allocated in self._changed.items():
            self._conn.execute(
                status_lists.update()
                .where(status_lists.c.list_id == list_id)
                .values(allocated=allocated)
            )

    def _open_list(self) -> None:
        key = new_key()
        self._list_id += 1
        self._capacity, self._allocated = self._new_list_capacity, 0
        self._conn.execute(
            status_lists.insert().values(
                list_id=self._list_id,
                capacity=self._capacity,
                allocated=0,
                permutation_key=key,
                created_at=self._now,
            )
        )
        self._current = self._permutation(self._list_id, self._capacity, key)
