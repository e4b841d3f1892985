"""A deterministic offline embedder for the tests: a bag of hashed words."""

from __future__ import annotations

import hashlib
import math

DIMS = 64


def embed(texts: list[str]) -> list[list[float]]:
    """One unit vector per text: word counts hashed into ``DIMS`` buckets."""
    vectors = []
    for text in texts:
        vector = [0.0] * DIMS
        for word in text.lower().split():
            bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest())
            vector[bucket % DIMS] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        vectors.append([x / norm for x in vector])
    return vectors
