"""Seeded, version-independent randomness (SHA-256 in counter mode).

Every random choice that decides who is selected (or, elsewhere in stadmaken, which tie wins) is
derived from a recorded seed by the method below, never from ``random`` or numpy, whose streams
may change between versions. The method is specified byte for byte in ``docs/randomness.md``;
this module is its reference implementation and the test vectors there are checked by the tests.

In short: a *stream* is named by the seed and a label. Its byte sequence is the concatenation of
``SHA-256(b"stadmaken-v1" 0x00 len(seed) seed len(label) label counter)`` for counter = 0, 1, 2,
..., where ``seed`` and ``label`` are UTF-8 encoded, lengths are 4-byte big-endian and the
counter is 8-byte big-endian. An integer in ``[0, n)`` is drawn by rejection sampling: take the
fewest whole bytes that hold ``n - 1`` (big-endian), clear the bits above its bit length, and
retry while the result is ``n`` or more.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["SeededStream", "new_seed"]

_DOMAIN = b"stadmaken-v1"
T = TypeVar("T")


def new_seed() -> str:
    """Return a fresh seed from the operating system: 32 hexadecimal digits (128 bits)."""
    return secrets.token_hex(16)


class SeededStream:
    """A stream of uniform integers derived from ``seed`` and ``label`` by SHA-256.

    Parameters
    ----------
    seed : str
        The recorded seed, any text (encoded as UTF-8).
    label : str
        Names what the stream is for, so that independent choices use independent streams.

    Examples
    --------
    >>> s = SeededStream("2026", "example")
    >>> [s.randbelow(10) for _ in range(5)]
    [7, 1, 9, 7, 7]
    """

    __slots__ = ("_buffer", "_counter", "_prefix")

    def __init__(self, seed: str, label: str) -> None:
        seed_bytes = seed.encode("utf-8")
        label_bytes = label.encode("utf-8")
        self._prefix = (
            _DOMAIN
            + b"\x00"
            + len(seed_bytes).to_bytes(4, "big")
            + seed_bytes
            + len(label_bytes).to_bytes(4, "big")
            + label_bytes
        )
        self._counter = 0
        self._buffer = bytearray()

    def read(self, count: int) -> bytes:
        """Return the next ``count`` bytes of the stream."""
        while len(self._buffer) < count:
            block = hashlib.sha256(self._prefix + self._counter.to_bytes(8, "big")).digest()
            self._buffer.extend(block)
            self._counter += 1
        out = bytes(self._buffer[:count])
        del self._buffer[:count]
        return out

    def randbelow(self, n: int) -> int:
        """Return a uniform integer in ``[0, n)``; ``n == 1`` returns 0 and reads no bytes."""
        if n <= 0:
            raise ValueError("randbelow needs n >= 1")
        if n == 1:
            return 0
        bits = (n - 1).bit_length()
        size = (bits + 7) // 8
        mask = (1 << bits) - 1
        while True:
            value = int.from_bytes(self.read(size), "big") & mask
            if value < n:
                return value

    def sample(self, items: Sequence[T], count: int) -> list[T]:
        """Choose ``count`` of ``items`` uniformly without replacement (partial Fisher–Yates).

        For ``j = 0 .. count-1``: ``r = randbelow(len(items) - j)``, swap positions ``j`` and
        ``j + r``; the result is the first ``count`` items, in the order chosen.
        """
        if not 0 <= count <= len(items):
            raise ValueError("sample size out of range")
        pool = list(items)
        for j in range(count):
            r = self.randbelow(len(pool) - j)
            pool[j], pool[j + r] = pool[j + r], pool[j]
        return pool[:count]

    def choose_weighted(self, weights: Sequence[int]) -> int:
        """Return index ``i`` with probability ``weights[i] / sum(weights)`` (integer weights).

        ``r = randbelow(sum(weights))``; the result is the first ``i`` whose cumulative weight
        ``weights[0] + ... + weights[i]`` exceeds ``r``.
        """
        total = sum(weights)
        if total <= 0 or any(w < 0 for w in weights):
            raise ValueError("weights must be non-negative with a positive sum")
        r = self.randbelow(total)
        cumulative = 0
        for i, w in enumerate(weights):
            cumulative += w
            if r < cumulative:
                return i
        raise AssertionError("unreachable")  # pragma: no cover
