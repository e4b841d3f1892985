"""Recovery of a durable engine's data directory: snapshot load, journal replay,
checkpoint and re-sharding (see :mod:`engine._durable._data_dir` for the layout).

No trio here: recovery runs before the shards start. Recovery of a shard: load its
snapshot (rows alive at ``taken_at``, indexes built in bulk), then replay every journal
segment from the snapshot's ``segment`` on, in order, with the logged ``now``: logical
entries through the same ``ShardStore`` methods, row entries as puts of their rows, runs
of them in bulk (:mod:`engine._durable._replay`); an entry naming an operation that is
not journaled (:attr:`engine._core._ops.Op.journaled`) is damage. A torn tail of the *last* segment
(a crash mid-write) is cut off (``repair=True``); any other damage raises
:class:`JournalCorrupt` naming the file and offset.
"""

from __future__ import annotations

import os
from typing import Any

import attrs

from engine._core._config import KIND_NAMES, EngineConfig, KindPolicy
from engine._core._errors import InvalidArgument
from engine._core._ops import OPS
from engine._core._routing import shard_of
from engine._core._snapshot import routing_key
from engine._durable._data_dir import (
    MANIFEST,
    DataDir,
    ShardFiles,
    fsync_dir,
    policies_of,
    read_file,
    store_snapshot_body,
    write_snapshot,
)
from engine._durable._format import (
    HEADER_SIZE,
    JournalCorrupt,
    decode_header,
    decode_record,
    iter_entries,
    read_snapshot,
    scan_frames,
)
from engine._durable._replay import Replay
from engine._store._store import ShardStore

__all__ = ["RecoveredShard", "recover", "recover_shard", "written_config"]

#: The wire names replay accepts: the operations a durable shard journals.
JOURNALED = tuple(sorted(name for name, op in OPS.items() if op.journaled))


@attrs.frozen
class RecoveredShard:
    """One shard after recovery: its store and where its journal continues."""

    store: ShardStore
    seq: int
    next_segment: int
    journal_bytes: int
    snapshot_bytes: int
    journal_records: int
    truncated: int


def _load_snapshot(files: ShardFiles, store: ShardStore, replay: Replay) -> tuple[int, int, int]:
    """Load the snapshot: its rows queued in ``replay`` (stored at its next flush),
    the other records into ``store``; return ``(seq, first segment, size)``."""
    path = files.snapshot
    if not path.exists() and not path.is_symlink():
        return 0, 0, 0
    data = read_file(path)
    body = read_snapshot(data, str(path))  # CRC-checked, of the rows' shape: trusted
    taken_at = body.taken_at
    try:  # every index built in bulk, with the journal's first run of new rows
        replay.seed(taken_at, body.rows(), body.ttls)
    except ValueError as error:  # a record twice, or TTLs not parallel to the rows
        raise JournalCorrupt(f"{path}: {error}") from None
    for index, (kind, fields, ttl) in enumerate(body.records):
        try:  # items and checkpoints, in dump order (a thread's checkpoints first)
            store.load(taken_at, decode_record(kind, fields), ttl)
        except (KeyError, TypeError, ValueError) as error:
            raise JournalCorrupt(f"{path}: record {kind} {index}: {error!r}") from None
    return body.seq, body.segment, len(data)


def _replay(
    files: ShardFiles,
    replay: Replay,
    seq: int,
    first: int,
    repair: bool,
    recorded: int | None = None,
) -> tuple[int, int, int, int, int]:
    """Replay the journal; return ``(seq, next segment, bytes, records, truncated)``.

    ``recorded`` is the newest segment the manifest knows of: it must be on disk.
    """
    segments = [s for s in files.segments() if s >= first]
    if recorded is not None and recorded >= first and recorded not in segments:
        raise JournalCorrupt(
            f"{files.journal(recorded)}: missing (the manifest records it as shard "
            f"{files.shard}'s newest journal segment)"
        )
    total = records = truncated = 0
    for position, segment in enumerate(segments):
        path = files.journal(segment)
        # a gap in the numbers alone is no damage (a torn last segment is deleted by
        # repair and the next run starts after it); a missing segment that held
        # entries shows as a sequence jump below, a missing newest one by ``recorded``
        data = read_file(path)
        last = position == len(segments) - 1
        if last and len(data) < HEADER_SIZE:
            # A crash between creating the segment and writing its header: torn.
            truncated += len(data)
            if repair:
                os.unlink(path)
                fsync_dir(files.root)
            continue
        header = decode_header(data, str(path))
        if header.shard != files.shard or header.segment != segment:
            raise JournalCorrupt(
                f"{path}: offset 0: header names shard {header.shard} segment {header.segment}"
            )
        payloads, offsets, end = scan_frames(data, str(path))
        if end < len(data):
            if position != len(segments) - 1:
                raise JournalCorrupt(
                    f"{path}: offset {end}: truncated record in a segment that is not the last"
                )
            truncated += len(data) - end
            if repair:
                with open(path, "r+b") as file:
                    file.truncate(end)
                    file.flush()
                    os.fsync(file.fileno())
        total += end
        for entry_seq, now, op, args in iter_entries(payloads, str(path), offsets):
            if entry_seq <= seq:
                continue  # already in the snapshot
            if entry_seq != seq + 1:
                raise JournalCorrupt(f"{path}: sequence jumps from {seq} to {entry_seq}")
            known = OPS.get(op)
            if known is None or not known.journaled:
                raise JournalCorrupt(
                    f"{path}: entry {entry_seq}: unknown operation {op!r} (journaled "
                    f"operations: {', '.join(JOURNALED)})"
                )
            try:
                replay.apply(now, known, args)
            except Exception as error:
                raise JournalCorrupt(
                    f"{path}: entry {entry_seq}: replaying {op} failed: {error!r}"
                ) from None
            seq = entry_seq
            records += 1
    try:
        replay.flush()
    except ValueError as error:  # cannot happen for what was queued: damage
        where = files.journal(segments[-1]) if segments else files.snapshot
        raise JournalCorrupt(f"{where}: {error}") from None
    next_segment = (segments[-1] + 1) if segments else max(first, 1)
    return seq, next_segment, total, records, truncated


def recover_shard(
    data_dir: DataDir,
    generation: int,
    shard: int,
    config: EngineConfig,
    *,
    repair: bool,
    recorded: int | None = None,
) -> RecoveredShard:
    """Rebuild one shard from its snapshot and journal (``recorded``: the newest
    segment the manifest records for it, which must exist)."""
    files = data_dir.files(generation, shard)
    store = ShardStore(config)
    store.enforce_budget = False  # the journal holds the evictions that happened
    replay = Replay(store)
    seq, first, snapshot_bytes = _load_snapshot(files, store, replay)
    seq, next_segment, journal_bytes, replayed, truncated = _replay(
        files, replay, seq, first, repair, recorded
    )
    store.enforce_budget = True
    if repair and recorded is not None and not files.journal(recorded).exists():
        # repair deleted the recorded segment (torn before its header): record what is
        # left, so a crash before the next segment opens is not taken for a deletion
        remaining = [s for s in files.segments() if s >= first]
        data_dir.record_segment(generation, shard, remaining[-1] if remaining else None)
    return RecoveredShard(
        store, seq, next_segment, journal_bytes, snapshot_bytes, replayed, truncated
    )


def _recorded(manifest: dict[str, Any], shard: int) -> int | None:
    """The newest journal segment the manifest records for ``shard`` (or ``None``)."""
    segment = (manifest.get("segments") or {}).get(str(shard))
    return segment if type(segment) is int else None


def written_config(
    data_dir: DataDir, manifest: dict[str, Any], config: EngineConfig
) -> EngineConfig:
    """``config`` with the shard count and TTL policies the directory was written with.

    Raises:
        JournalCorrupt: if the manifest's policies are malformed (names the file).
    """
    changes: dict[str, Any] = {"shards": int(manifest["shards"])}
    try:
        for kind, fields in (manifest.get("policies") or {}).items():
            if kind in KIND_NAMES:
                changes[kind] = KindPolicy(**fields)
        return attrs.evolve(config, **changes)
    except (TypeError, ValueError, AttributeError) as error:
        raise JournalCorrupt(f"{data_dir.root / MANIFEST}: bad policies ({error})") from None


def _checkpoint(
    data_dir: DataDir,
    generation: int,
    index: int,
    shard: RecoveredShard,
    config: EngineConfig,
    now: float,
) -> RecoveredShard:
    """Write the shard's snapshot now and delete the journal it covers (before serving)."""
    files = data_dir.files(generation, index)
    body = store_snapshot_body(
        shard.store, now, index, config.shards, shard.seq, shard.next_segment
    )
    size = write_snapshot(files, body)
    for segment in files.segments():
        if segment < shard.next_segment:
            os.unlink(files.journal(segment))
    fsync_dir(files.root)
    return attrs.evolve(shard, snapshot_bytes=size, journal_bytes=0, journal_records=0)


def recover(
    data_dir: DataDir,
    config: EngineConfig,
    now: float,
    *,
    repair: bool = True,
    restore: list[tuple[Any, float | None]] | None = None,
) -> tuple[int, list[RecoveredShard]]:
    """Recover every shard for ``config``; return the generation in use and the shards.

    Replay applies the TTL policies the journal was written under (kept in the
    manifest). Before the engine serves, the state is checkpointed (snapshots written
    and fsynced, the journal they cover deleted) when the policies changed or
    ``restore`` records were loaded; if the shard count changed, every record is
    re-routed into a new generation (snapshots first, then the manifest switched
    atomically, then the old files removed). Records already expired at ``now`` are
    dropped.

    Raises:
        JournalCorrupt: for damage beyond a torn tail.
        InvalidArgument: if ``restore`` is given and the directory holds records.
    """
    manifest = data_dir.manifest()
    if manifest is None:
        generation = 1
        shards = [
            RecoveredShard(ShardStore(config), 0, 1, 0, 0, 0, 0) for _ in range(config.shards)
        ]
        data_dir.write_manifest(generation, config)
        written = config
    else:
        generation = int(manifest["generation"])
        written = written_config(data_dir, manifest, config)
        shards = [
            recover_shard(
                data_dir, generation, i, written, repair=repair, recorded=_recorded(manifest, i)
            )
            for i in range(written.shards)
        ]
    for shard in shards:
        shard.store.expire_due(now)
    if not repair:
        return generation, shards
    if restore:
        if any(shard.store.counts().records for shard in shards):
            raise InvalidArgument(
                "snapshot: data_dir already holds records; restore into an empty one"
            )
        stores = [shard.store for shard in shards]
        for record, ttl in restore:
            stores[shard_of(routing_key(record), len(stores))].load(now, record, ttl)
    if written.shards != config.shards:
        return _reshard(data_dir, generation, shards, config, now)
    if restore or policies_of(written) != policies_of(config):
        shards = [
            _checkpoint(data_dir, generation, index, shard, config, now)
            for index, shard in enumerate(shards)
        ]
        data_dir.write_manifest(generation, config)
    for shard in shards:
        shard.store.reconfigure(config)
    return generation, shards


def _reshard(
    data_dir: DataDir,
    generation: int,
    shards: list[RecoveredShard],
    config: EngineConfig,
    now: float,
) -> tuple[int, list[RecoveredShard]]:
    stores = [ShardStore(config) for _ in range(config.shards)]
    for recovered in shards:
        for kind in recovered.store.dump(now).values():
            for record in kind:
                target = stores[shard_of(routing_key(record), config.shards)]
                target.load(now, record, recovered.store.ttl_of(record))
    new_generation = generation + 1
    result = []
    for index, store in enumerate(stores):
        files = data_dir.files(new_generation, index)
        size = write_snapshot(files, store_snapshot_body(store, now, index, config.shards, 0, 1))
        result.append(RecoveredShard(store, 0, 1, 0, size, 0, 0))
    data_dir.write_manifest(new_generation, config)
    data_dir.remove_generation(generation)
    return new_generation, result
