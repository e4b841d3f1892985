"""Records of the namespaced item store and of the checkpoint store (LangGraph's shapes).

An :class:`Item` is a JSON object filed under a namespace (a tuple of labels) and a
key; checkpoints (:class:`Checkpoint`, :class:`ChannelBlob`, :class:`PendingWrite`)
hold opaque serialized bytes per ``(thread_id, checkpoint_ns)``. Binary fields become
base64 text in ``to_dict`` (snapshots, journal entries) and bytes again in
``from_dict``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, ClassVar, Final, NamedTuple

import attrs

from engine._core._codec import EMPTY, FrozenDict, freeze_mapping
from engine._core._errors import InvalidArgument
from engine._core._records import _Convertible, _id, _opt_str, _str, _time
from engine._core._validate import check_id

__all__ = [
    "ChannelBlob",
    "Checkpoint",
    "Item",
    "ItemHit",
    "PendingWrite",
    "SavedCheckpoint",
    "INTERNAL_LABEL",
    "check_namespace",
    "hidden",
    "namespace_key",
]

MAX_NAMESPACE_DEPTH: Final = 64
"""The most labels a namespace may have."""

INTERNAL_LABEL: Final = "__shardmem__"
"""The first label of the engine's own namespaces (memory vectors): refused in
``mem.items.put``, and left out of searches and listings that do not name it."""


def hidden(namespace: tuple[str, ...], prefix: tuple[str, ...]) -> bool:
    """Whether ``namespace`` is internal and ``prefix`` does not ask for it."""
    return bool(namespace) and namespace[0] == INTERNAL_LABEL and not prefix


def check_namespace(name: str, value: object, *, allow_empty: bool = False) -> tuple[str, ...]:
    """A namespace: a tuple (or list) of non-empty labels without control characters.

    Raises:
        TypeError: for a non-sequence or a non-``str`` label.
        InvalidArgument: for an empty namespace (unless ``allow_empty``), an empty or
            control-character label, or more than 64 labels.
    """
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise TypeError(f"{name}: expected a tuple of str labels, got {type(value).__name__}")
    labels = tuple(check_id(f"{name}[{i}]", label) for i, label in enumerate(value))
    if not labels and not allow_empty:
        raise InvalidArgument(f"{name}: expected at least one label, got ()")
    if len(labels) > MAX_NAMESPACE_DEPTH:
        raise InvalidArgument(
            f"{name}: expected at most {MAX_NAMESPACE_DEPTH} labels, got {len(labels)}"
        )
    return labels


def namespace_key(namespace: tuple[str, ...]) -> str:
    """The routing key of a namespace (labels joined by U+001E, which no label holds)."""
    return "\x1e".join(namespace)


def _conv_namespace(value: Any) -> tuple[str, ...]:
    return check_namespace("Item.namespace", value)


def _conv_value(value: Any) -> FrozenDict:
    return freeze_mapping(value, "Item.value")


def _conv_vectors(value: Any) -> tuple[tuple[float, ...], ...]:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise TypeError(f"Item.vectors: expected a tuple of vectors, got {type(value).__name__}")
    vectors = []
    for i, vector in enumerate(value):
        if isinstance(vector, str | bytes) or not hasattr(vector, "__iter__"):
            raise TypeError(f"Item.vectors[{i}]: expected a sequence of floats")
        floats = tuple(float(x) for x in vector)
        if not floats:
            raise InvalidArgument(f"Item.vectors[{i}]: expected a non-empty vector")
        vectors.append(floats)
    return tuple(vectors)


@attrs.frozen(kw_only=True)
class Item(_Convertible):
    """A JSON object under ``(namespace, key)``; sharded by namespace.

    Attributes:
        namespace: the labels, e.g. ``("memories", "alice")``.
        key: the item's key within the namespace.
        value: a JSON object (frozen).
        vectors: embeddings of the item's indexed fields (empty when not indexed);
            search ranks by the best cosine similarity among them.
        created_at, updated_at, expires_at: epoch seconds; filled by the engine.
    """

    namespace: tuple[str, ...] = attrs.field(converter=_conv_namespace)
    key: str = attrs.field(validator=_id)
    value: FrozenDict = attrs.field(default=EMPTY, converter=_conv_value)
    vectors: tuple[tuple[float, ...], ...] = attrs.field(default=(), converter=_conv_vectors)
    created_at: float | None = attrs.field(default=None, validator=_time)
    updated_at: float | None = attrs.field(default=None, validator=_time)
    expires_at: float | None = attrs.field(default=None, validator=_time)


def _to_bytes(name: str, value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"{name}: expected bytes, got {type(value).__name__}")


def _conv_checkpoint_data(value: Any) -> bytes:
    return _to_bytes("Checkpoint.data", value)


def _conv_checkpoint_metadata_data(value: Any) -> bytes:
    return _to_bytes("Checkpoint.metadata_data", value)


def _conv_blob_data(value: Any) -> bytes:
    return _to_bytes("ChannelBlob.data", value)


def _conv_write_data(value: Any) -> bytes:
    return _to_bytes("PendingWrite.data", value)


def _conv_metadata(value: Any) -> FrozenDict:
    return freeze_mapping(value, "Checkpoint.metadata")


def _versions(value: Any) -> FrozenDict:
    frozen = freeze_mapping(value, "Checkpoint.versions")
    for channel, version in frozen.items():
        if not isinstance(version, str):
            raise TypeError(f"Checkpoint.versions[{channel!r}]: expected str, got {version!r:.40}")
    return frozen


class _Binary(_Convertible):
    """Records with ``bytes`` fields: base64 text in ``to_dict``, bytes in ``from_dict``."""

    __slots__ = ()
    _binary: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of every field (bytes as base64 text)."""
        data = super().to_dict()
        for name in self._binary:
            data[name] = base64.b64encode(data[name]).decode("ascii")
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """Build the record from :meth:`to_dict`'s output.

        Raises:
            InvalidArgument: for unknown or missing fields, bad base64, or a bad value.
            TypeError: for a field of the wrong type.
        """
        fields = dict(data) if isinstance(data, Mapping) else data
        if isinstance(fields, dict):
            for name in cls._binary:
                text = fields.get(name)
                if isinstance(text, str):
                    try:
                        fields[name] = base64.b64decode(text.encode("ascii"), validate=True)
                    except (binascii.Error, UnicodeEncodeError):
                        raise InvalidArgument(f"{cls.__name__}.{name}: bad base64") from None
        return super().from_dict.__func__(cls, fields)  # type: ignore[attr-defined]


@attrs.frozen(kw_only=True)
class Checkpoint(_Binary):
    """One checkpoint of a thread; sharded by ``thread_id``.

    Attributes:
        thread_id, checkpoint_ns, checkpoint_id: its identity (``checkpoint_ns`` may
            be ``""``, the root graph); ids sort in creation order (LangGraph's uuid6).
        parent_id: the previous checkpoint's id, or ``None``.
        type, data: the serialized checkpoint (without its channel values).
        metadata_type, metadata_data: the serialized metadata, returned as stored.
        metadata: the JSON-representable top-level metadata entries: what
            ``list(filter=...)`` matches.
        versions: channel -> version (text) of the channel values it holds.
        run_id: the metadata's ``run_id`` (for ``delete_for_runs``), or ``None``.
        created_at: epoch seconds; filled by the engine.
    """

    _binary: ClassVar[tuple[str, ...]] = ("data", "metadata_data")

    thread_id: str = attrs.field(validator=_id)
    checkpoint_ns: str = attrs.field(validator=_str)
    checkpoint_id: str = attrs.field(validator=_id)
    parent_id: str | None = attrs.field(default=None, validator=_opt_str)
    type: str = attrs.field(validator=_str)
    data: bytes = attrs.field(converter=_conv_checkpoint_data)
    metadata_type: str = attrs.field(validator=_str)
    metadata_data: bytes = attrs.field(converter=_conv_checkpoint_metadata_data)
    metadata: FrozenDict = attrs.field(default=EMPTY, converter=_conv_metadata)
    versions: FrozenDict = attrs.field(default=EMPTY, converter=_versions)
    run_id: str | None = attrs.field(default=None, validator=_opt_str)
    created_at: float | None = attrs.field(default=None, validator=_time)


@attrs.frozen(kw_only=True)
class ChannelBlob(_Binary):
    """The value of one channel at one version, in a ``(thread_id, checkpoint_ns)``.

    ``type == "empty"`` marks a channel without a value (LangGraph's convention).
    """

    _binary: ClassVar[tuple[str, ...]] = ("data",)

    thread_id: str = attrs.field(validator=_id)
    checkpoint_ns: str = attrs.field(validator=_str)
    channel: str = attrs.field(validator=_str)
    version: str = attrs.field(validator=_str)
    type: str = attrs.field(validator=_str)
    data: bytes = attrs.field(converter=_conv_blob_data)


@attrs.frozen(kw_only=True)
class PendingWrite(_Binary):
    """A write a task made after a checkpoint, keyed ``(checkpoint_id, task_id, idx)``."""

    _binary: ClassVar[tuple[str, ...]] = ("data",)

    thread_id: str = attrs.field(validator=_id)
    checkpoint_ns: str = attrs.field(validator=_str)
    checkpoint_id: str = attrs.field(validator=_id)
    task_id: str = attrs.field(validator=_str)
    idx: int = attrs.field()
    channel: str = attrs.field(validator=_str)
    type: str = attrs.field(validator=_str)
    data: bytes = attrs.field(converter=_conv_write_data)
    task_path: str = attrs.field(default="", validator=_str)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.idx, bool) or not isinstance(self.idx, int):
            raise TypeError(f"PendingWrite.idx: expected int, got {type(self.idx).__name__}")


class ItemHit(NamedTuple):
    """One search result: the item and its similarity (``None`` unless ranked by a
    query vector, or when the item has no vectors)."""

    item: Item
    score: float | None


class SavedCheckpoint(NamedTuple):
    """A checkpoint as read back: the checkpoint, the blobs of the channel versions it
    names (those stored), and its pending writes."""

    checkpoint: Checkpoint
    blobs: tuple[ChannelBlob, ...]
    writes: tuple[PendingWrite, ...]
