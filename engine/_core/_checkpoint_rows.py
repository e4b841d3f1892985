"""Stored rows of checkpoints, channel blobs and pending writes (LangGraph's
``BaseCheckpointSaver`` records).

Keys and rows are tuples of atomic values, which the cyclic GC untracks:

- a checkpoint at ``(thread_id, checkpoint_ns, checkpoint_id)`` is ``(created_at,
  parent_id, type, data, metadata_type, metadata_data, metadata, versions, run_id)``,
  ``metadata`` the orjson encoding of its JSON part (``None`` when empty) and
  ``versions`` a flat tuple ``(channel, version, channel, version, ...)`` (no
  nested tuples: the collector untracks a row in one pass);
- a channel blob at ``(thread_id, checkpoint_ns, channel, version)`` is ``(type, data)``;
- the pending writes of a checkpoint at ``(thread_id, checkpoint_ns, checkpoint_id)``
  are one tuple of ``(task_id, idx, channel, type, data, task_path)``, in the order
  they were first written.

The ``*_of`` functions build the public records without re-validation (every value
was validated when the record it came from was built).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from engine._core._codec import _trusted
from engine._core._encoded import builder, decode_payload, encode_payload
from engine._core._items import ChannelBlob, Checkpoint, PendingWrite

__all__ = [
    "C_CREATED",
    "C_METADATA",
    "C_RUN",
    "C_VERSIONS",
    "blob_of",
    "blob_row",
    "checkpoint_of",
    "checkpoint_row",
    "blob_size",
    "checkpoint_size",
    "write_size",
    "version_pairs",
    "write_of",
    "write_row",
]

Row = tuple[Any, ...]

C_CREATED: Final = 0
C_METADATA: Final = 6
C_VERSIONS: Final = 7
C_RUN: Final = 8

_checkpoint = builder(
    Checkpoint,
    (
        "thread_id",
        "checkpoint_ns",
        "checkpoint_id",
        "parent_id",
        "type",
        "data",
        "metadata_type",
        "metadata_data",
        "metadata",
        "versions",
        "run_id",
        "created_at",
    ),
)
_blob = builder(ChannelBlob, ("thread_id", "checkpoint_ns", "channel", "version", "type", "data"))
_write = builder(
    PendingWrite,
    (
        "thread_id",
        "checkpoint_ns",
        "checkpoint_id",
        "task_id",
        "idx",
        "channel",
        "type",
        "data",
        "task_path",
    ),
)


def checkpoint_row(c: Checkpoint) -> Row:
    """The row of a validated checkpoint (its key is its three ids). O(size)."""
    return (
        c.created_at,
        c.parent_id,
        c.type,
        c.data,
        c.metadata_type,
        c.metadata_data,
        encode_payload(c.metadata),
        tuple([text for pair in c.versions.items() for text in pair]),
        c.run_id,
    )


def checkpoint_of(key: tuple[str, str, str], row: Row) -> Checkpoint:
    """The :class:`Checkpoint` at ``key``, built from its row. O(size)."""
    checkpoint: Checkpoint = _checkpoint(
        *key,
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        decode_payload(row[C_METADATA]),
        _trusted(dict(version_pairs(row[C_VERSIONS]))),
        row[C_RUN],
        row[C_CREATED],
    )
    return checkpoint


def version_pairs(versions: Row) -> Iterator[tuple[str, str]]:
    """The ``(channel, version)`` pairs of a checkpoint row's ``versions``."""
    return zip(versions[::2], versions[1::2], strict=True)


def blob_row(blob: ChannelBlob) -> Row:
    """The row of a validated channel blob (its key: thread, namespace, channel,
    version)."""
    return (blob.type, blob.data)


def blob_of(key: tuple[str, str, str, str], row: Row) -> ChannelBlob:
    """The :class:`ChannelBlob` at ``key``, built from its row."""
    blob: ChannelBlob = _blob(*key, *row)
    return blob


def write_row(write: PendingWrite) -> Row:
    """The row of a validated pending write (within its checkpoint's tuple)."""
    return (write.task_id, write.idx, write.channel, write.type, write.data, write.task_path)


def write_of(key: tuple[str, str, str], row: Row) -> PendingWrite:
    """The :class:`PendingWrite` of the checkpoint at ``key``, built from its row."""
    write: PendingWrite = _write(*key, *row)
    return write


def _optional(text: str | bytes | None) -> int:
    return 0 if text is None else len(text)


def checkpoint_size(key: tuple[str, str, str], row: Row) -> int:
    """The characters and bytes of a checkpoint's key and row (the payload the memory
    budget counts). O(channels), in C."""
    return (
        sum(map(len, key))
        + sum(map(len, row[2:6]))
        + sum(map(len, row[C_VERSIONS]))
        + _optional(row[1])
        + _optional(row[C_METADATA])
        + _optional(row[C_RUN])
    )


def blob_size(key: tuple[str, str, str, str], row: Row) -> int:
    """The characters and bytes of a channel blob's key and row."""
    return sum(map(len, key)) + len(row[0]) + len(row[1])


def write_size(row: Row) -> int:
    """The characters and bytes of a pending write's row (its key is its checkpoint's)."""
    return len(row[0]) + len(row[2]) + len(row[3]) + len(row[4]) + len(row[5])
