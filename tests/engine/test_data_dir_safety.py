"""The data directory is the engine's alone: locking that survives a deleted LOCK,
no guessing without a manifest, no silently missing segment, no symlink followed,
owner-only permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from engine import InvalidArgument, JournalCorrupt, Session, open_memory_engine


async def _write(directory: Path, *ids: str, shards: int = 2) -> None:
    async with open_memory_engine(shards=shards, data_dir=directory, fsync="always") as mem:
        for session_id in ids:
            await mem.sessions.upsert(Session(session_id=session_id, user_id="u"))


async def _ids(directory: Path, shards: int = 2) -> list[str]:
    async with open_memory_engine(shards=shards, data_dir=directory) as mem:
        return sorted(s.session_id for s in await mem.sessions.list())


async def test_deleting_the_lock_file_lets_no_second_engine_in(tmp_path: Path) -> None:
    async with open_memory_engine(data_dir=tmp_path) as mem:
        await mem.sessions.upsert(Session(session_id="s1"))
        (tmp_path / "LOCK").unlink()  # what a tmp cleaner does
        with pytest.raises(BlockingIOError, match="in use by another engine"):
            async with open_memory_engine(data_dir=tmp_path):
                pass  # pragma: no cover
    assert await _ids(tmp_path, shards=4) == ["s1"]


async def test_a_missing_manifest_stops_recovery_and_deletes_nothing(tmp_path: Path) -> None:
    await _write(tmp_path, "s1", "s2", "s3")
    (tmp_path / "MANIFEST.json").unlink()
    files = sorted(os.listdir(tmp_path))
    # a different shard count would have re-routed (and deleted) the old generation
    with pytest.raises(
        JournalCorrupt, match=r"MANIFEST.json: missing, but the directory holds 2 snapshot/journal"
    ):
        await _ids(tmp_path, shards=3)
    assert sorted(os.listdir(tmp_path)) == files


async def test_a_deleted_journal_segment_is_found_not_skipped(tmp_path: Path) -> None:
    for run in range(3):  # each run of the engine writes a new segment
        await _write(tmp_path, f"s{run}", shards=1)
    segments = sorted(tmp_path.glob("*.journal"))
    assert len(segments) >= 3
    segments[1].unlink()  # its entries are missing: the next segment's sequence jumps
    with pytest.raises(JournalCorrupt, match=f"{segments[2].name}: sequence jumps"):
        await _ids(tmp_path, shards=1)


async def test_a_torn_last_segment_repaired_away_is_not_taken_for_a_deletion(
    tmp_path: Path,
) -> None:
    """A crash between creating a segment and writing its header leaves a torn file:
    repair deletes it, the next run starts after it, and that gap is no damage."""
    await _write(tmp_path, "s1", shards=1)
    (segment,) = tmp_path.glob("*.journal")
    number = int(segment.name.split("-")[-1].split(".")[0])
    torn = segment.with_name(segment.name.replace(f"{number:08d}", f"{number + 1:08d}"))
    torn.write_bytes(b"SH")  # fewer bytes than a header
    await _write(tmp_path, "s2", shards=1)  # repairs (deletes the torn one), then writes
    await _write(tmp_path, "s3", shards=1)
    assert await _ids(tmp_path, shards=1) == ["s1", "s2", "s3"]


async def test_a_planted_tmp_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await _write(data, "s1")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (data / "MANIFEST.json.tmp").symlink_to(victim)
    async with open_memory_engine(shards=4, data_dir=data) as mem:  # re-shards: new manifest
        assert [s.session_id for s in await mem.sessions.list()] == ["s1"]
    assert victim.read_text() == "precious"
    assert not (data / "MANIFEST.json.tmp").exists()


async def test_a_journal_segment_replaced_by_a_symlink_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await _write(data, "s1", shards=1)
    (segment,) = data.glob("*.journal")
    elsewhere = tmp_path / "elsewhere.journal"
    segment.rename(elsewhere)
    segment.symlink_to(elsewhere)
    with pytest.raises(JournalCorrupt, match="is a symlink; refusing to follow it"):
        await _ids(data, shards=1)


async def test_files_are_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    await _write(data, "s1")
    async with open_memory_engine(shards=2, data_dir=data) as mem:
        await mem.compact()  # writes snapshots too
    assert stat.S_IMODE(data.stat().st_mode) & 0o077 == 0
    names = os.listdir(data)
    assert any(name.endswith(".snapshot") for name in names)
    for name in names:
        assert stat.S_IMODE((data / name).stat().st_mode) & 0o077 == 0, name


async def test_a_world_writable_directory_is_refused(tmp_path: Path) -> None:
    tmp_path.chmod(0o777)
    with pytest.raises(InvalidArgument, match=r"got mode 0777 \(world-writable"):
        async with open_memory_engine(data_dir=tmp_path):
            pass  # pragma: no cover
    assert os.listdir(tmp_path) == []


async def test_a_deleted_last_segment_is_named_not_skipped(tmp_path: Path) -> None:
    """The newest segment has no successor to miss it: the manifest records it."""
    for run in range(2):
        await _write(tmp_path, f"s{run}", shards=1)
    newest = sorted(tmp_path.glob("*.journal"))[-1]
    newest.unlink()
    with pytest.raises(JournalCorrupt, match=f"{newest.name}: missing .* newest journal segment"):
        await _ids(tmp_path, shards=1)


async def test_the_only_segment_deleted_is_named_too(tmp_path: Path) -> None:
    await _write(tmp_path, "s1", shards=1)
    (only,) = tmp_path.glob("*.journal")
    only.unlink()
    with pytest.raises(JournalCorrupt, match=f"{only.name}: missing"):
        await _ids(tmp_path, shards=1)


async def test_compaction_and_reopening_keep_the_record_straight(tmp_path: Path) -> None:
    await _write(tmp_path, "s1", "s2")
    async with open_memory_engine(shards=2, data_dir=tmp_path) as mem:
        await mem.compact()
        await mem.sessions.upsert(Session(session_id="s3", user_id="u"))
    async with open_memory_engine(shards=3, data_dir=tmp_path) as mem:  # re-shards
        await mem.sessions.upsert(Session(session_id="s4", user_id="u"))
    assert await _ids(tmp_path, shards=3) == ["s1", "s2", "s3", "s4"]
