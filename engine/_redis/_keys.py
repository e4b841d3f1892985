"""The Redis key layout of the engine: partitions, hash tags and members.

Records are spread over ``P`` partitions exactly as the embedded engine spreads them
over shards (``shard_of(routing key, P)``: sessions by ``session_id``, memories by
``user_id``, working memory by ``conversation_id``, documents by ``doc_id``). Every
key of partition ``p`` starts with the hash tag ``{prefix:p}``, so a record and all
its index entries share one cluster slot and one Lua script can change them
atomically. With ``B = {prefix:p}`` and ``NUL`` the byte 0:

====================================  ==========  ======================================
key                                   type        holds
====================================  ==========  ======================================
``B:s:<sid>``                          hash        a session (fields ``d uid n sm c u e t
                                                   ix rs``)
``B:sr:<sid>`` / ``B:so:<sid>``        hash / zset its runs by ``run_id`` / run order
``B:si:u:<group>``, ``B:si:c:<group>`` zset        sessions by updated_at / created_at;
                                                   group ``all``, ``user NUL <id>``,
                                                   ``agent|team|workflow NUL <id>``
``B:sn``                               hash        runs per session (statistics)
``B:m:<uid> NUL <mid>``                hash        a user memory (``d c u e t ix``)
``B:mi:u:<group>``, ``B:mi:c:<group>`` zset        memories (member ``uid NUL mid``);
                                                   group ``all`` or ``user NUL <uid>``
``B:mt:<uid> NUL <topic>``             set         memory ids with that topic
``B:mtc:<uid>``, ``B:mtc``             hash        topic -> live memories (user / all)
``B:kw:<uid> NUL <term>``              hash        BM25 postings: memory id -> tf
``B:kwl:<uid>``, ``B:kws:<uid>``       hash        memory length; user's ``n`` and ``len``
``B:w:<cid> NUL <type>``               hash        working memory; ``B:wa`` the set of all
``B:k:<doc>``                          hash        a knowledge doc; ``B:ki:u``/``B:ki:c``
``B:x``                                zset        deadlines: member -> expires_at
``B:xm``                               hash        member -> its index description ``ix``
``B:n``                                hash        counters (records, runs, expired)
``<prefix>:meta``                      hash        the partition count, fixed at creation
====================================  ==========  ======================================

Members of ``B:x`` are ``s NUL sid``, ``m NUL uid NUL mid``, ``w NUL cid NUL type``,
``k NUL doc``. Ids containing NUL are not supported (they could collide).
"""

from __future__ import annotations

from typing import Final

from engine._core._errors import InvalidArgument

__all__ = ["NUL", "KeyLayout", "check_prefix"]

NUL: Final = "\0"


def check_prefix(prefix: object) -> str:
    """Check a key prefix: a non-empty ``str`` without ``{``, ``}`` or NUL."""
    if not isinstance(prefix, str):
        raise TypeError(f"prefix: expected str, got {type(prefix).__name__}")
    if not prefix or any(c in prefix for c in "{}\0") or prefix.isspace():
        raise InvalidArgument(
            f"prefix: expected a non-empty str without '{{', '}}' or NUL, got {prefix!r}"
        )
    return prefix


class KeyLayout:
    """Key names of one engine (one ``prefix``) over ``partitions`` partitions."""

    __slots__ = ("_bases", "meta", "partitions", "prefix")

    def __init__(self, prefix: str, partitions: int) -> None:
        self.prefix = check_prefix(prefix)
        self.partitions = partitions
        self._bases = tuple(f"{{{prefix}:{p}}}" for p in range(partitions))
        self.meta = f"{prefix}:meta"

    def base(self, partition: int) -> str:
        """The hash-tagged base ``{prefix:p}`` of partition ``p``."""
        return self._bases[partition]

    def route(self, partition: int) -> str:
        """The key that routes a script to partition ``p`` (its counters)."""
        return self._bases[partition] + ":n"
