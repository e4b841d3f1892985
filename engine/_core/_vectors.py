"""Cosine similarity with numpy: the ranking of semantic item search."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine._core._errors import InvalidArgument
from engine._core._items import Item

__all__ = ["Hit", "cosine_scores", "rank_hits"]

#: A search hit: ``(sort key, item, score)``; sort keys of all shards merge in order.
Hit = tuple[tuple[Any, ...], Item, float | None]


def cosine_scores(
    query: Sequence[float], candidates: Sequence[Sequence[Sequence[float]]]
) -> list[float]:
    """For each candidate (a non-empty list of vectors), the best cosine similarity of
    one of its vectors to ``query``; 0.0 for a zero vector. O(total vectors * dims).

    Raises:
        InvalidArgument: if a vector's length differs from the query's.
    """
    if not candidates:
        return []
    try:
        import numpy as np
    except ModuleNotFoundError:  # pragma: no cover - numpy comes with the langgraph extra
        raise ModuleNotFoundError(
            "semantic search needs numpy: pip install 'shardmem[langgraph]'"
        ) from None
    q = np.asarray(query, dtype=np.float64)
    owners: list[int] = []
    rows: list[Sequence[float]] = []
    for index, vectors in enumerate(candidates):
        for vector in vectors:
            if len(vector) != len(q):
                raise InvalidArgument(
                    f"query vector: expected {len(vector)} dimensions (the stored "
                    f"vectors'), got {len(q)}"
                )
            owners.append(index)
            rows.append(vector)
    matrix = np.asarray(rows, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(q)
    dots = matrix @ q
    sims = np.divide(dots, norms, out=np.zeros_like(dots), where=norms != 0)
    best = np.full(len(candidates), -np.inf)
    np.maximum.at(best, np.asarray(owners), sims)
    return [float(x) for x in best]


def rank_hits(hits: list[Hit], vector: Sequence[float]) -> list[Hit]:
    """``hits`` by cosine similarity to ``vector`` (best first, sort key
    ``(0, -score, namespace, key)``), then the items without vectors in their order
    (sort key ``(1, *order)``)."""
    scored_items = [item for _, item, _ in hits if item.vectors]
    scores = cosine_scores(vector, [item.vectors for item in scored_items])
    scored: list[Hit] = [
        ((0, -score, item.namespace, item.key), item, score)
        for item, score in zip(scored_items, scores, strict=True)
    ]
    unscored: list[Hit] = [((1, *order), item, None) for order, item, _ in hits if not item.vectors]
    scored.sort(key=lambda hit: hit[0])
    return scored + unscored
