"""Recovery of damaged data directories: torn tails are cut, anything a crash cannot
explain is refused with ``JournalCorrupt`` naming the file and the offset.
"""

from __future__ import annotations

import random
import shutil
import struct
from pathlib import Path

import pytest

from engine import (
    JournalCorrupt,
    open_memory_engine,
)
from engine._durable._data_dir import MANIFEST
from engine._durable._format import (
    HEADER_SIZE,
)

from ._durable_support import (
    START,
    copy_dir,
    ends_of_records,
    files,
    fill,
    journal_files,
    session_ids,
    write_sessions,
)

# --------------------------------------------------------- torn tails, damage


async def test_torn_tail_at_any_offset_keeps_every_complete_record(tmp_path: Path) -> None:
    source = tmp_path / "source"
    await write_sessions(source, 30)
    name = journal_files(source)[0].name
    ends = ends_of_records(source / name)
    size = ends[-1]
    rng = random.Random(20240607)
    cuts = {HEADER_SIZE, HEADER_SIZE + 1, HEADER_SIZE + 8, size - 1, size}
    cuts |= {end + delta for end in ends[:3] for delta in (-1, 0, 1, 7, 8, 9)}
    cuts |= {rng.randrange(HEADER_SIZE, size + 1) for _ in range(25)}
    for cut in sorted(cuts):
        root = copy_dir(source, tmp_path / f"cut{cut}")
        path = root / name
        with open(path, "r+b") as file:
            file.truncate(cut)
        kept = [end for end in ends if end <= cut]
        assert await session_ids(root) == [f"s{i}" for i in range(len(kept))], cut
        assert path.stat().st_size == (kept[-1] if kept else HEADER_SIZE), cut  # cut on disk
        assert await session_ids(root) == [f"s{i}" for i in range(len(kept))], cut  # stable


async def test_torn_tail_then_more_writes(tmp_path: Path) -> None:
    await write_sessions(tmp_path, 5)
    path = journal_files(tmp_path)[0]
    with open(path, "r+b") as file:
        file.truncate(path.stat().st_size - 3)
    await write_sessions(tmp_path, 5, start=5)
    assert await session_ids(tmp_path) == ["s0", "s1", "s2", "s3", *(f"s{i}" for i in range(5, 10))]


async def test_torn_record_in_a_segment_that_is_not_the_last_is_corrupt(tmp_path: Path) -> None:
    await write_sessions(tmp_path, 5)
    await write_sessions(tmp_path, 5, start=5)
    first = journal_files(tmp_path)[0]
    good_end = ends_of_records(first)[-2]
    with open(first, "r+b") as file:
        file.truncate(first.stat().st_size - 3)
    size = first.stat().st_size
    message = rf"^{first}: offset {good_end}: truncated record in a segment that is not the last"
    with pytest.raises(JournalCorrupt, match=message):
        await session_ids(tmp_path)
    assert first.stat().st_size == size  # nothing cut


@pytest.mark.parametrize("record", [0, 3, 28])
async def test_damage_in_the_middle_names_file_and_offset(tmp_path: Path, record: int) -> None:
    await write_sessions(tmp_path, 30)
    path = journal_files(tmp_path)[0]
    ends = ends_of_records(path)
    offset = HEADER_SIZE if record == 0 else ends[record - 1]
    data = bytearray(path.read_bytes())
    data[offset + 8 + 5] ^= 0x20  # a byte in the record's JSON payload
    path.write_bytes(data)
    before = files(tmp_path)
    with pytest.raises(JournalCorrupt) as caught:
        await session_ids(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{path}: offset {offset}: record fails its CRC check"), message
    assert path.read_bytes() == data  # nothing dropped, nothing truncated
    assert files(tmp_path) == before  # the engine never started


async def test_damaged_length_field_in_the_middle_is_not_a_torn_tail(tmp_path: Path) -> None:
    """Regression: it was taken for a torn tail, and every later record cut away."""
    await write_sessions(tmp_path, 20)
    path = journal_files(tmp_path)[0]
    data = bytearray(path.read_bytes())
    data[HEADER_SIZE + 2] ^= 0x01  # record 0 now claims ~64 KiB: past the end of the file
    path.write_bytes(data)
    with pytest.raises(JournalCorrupt, match=f"offset {HEADER_SIZE}"):
        await session_ids(tmp_path)  # (once: opened with 0 sessions, the file cut to 22 B)
    assert path.read_bytes() == data


@pytest.mark.parametrize("header_bytes", [0, 10])
async def test_segment_cut_inside_its_header_is_a_torn_tail(
    tmp_path: Path, header_bytes: int
) -> None:
    """A crash between creating a segment and writing its header (regression: the
    directory could not be opened any more, "header truncated")."""
    await write_sessions(tmp_path, 3)
    await write_sessions(tmp_path, 3, start=3)
    last = journal_files(tmp_path)[-1]
    with open(last, "r+b") as file:
        file.truncate(header_bytes)  # as a SIGKILL inside _open_segment would leave it
    assert await session_ids(tmp_path) == ["s0", "s1", "s2"]


async def test_zero_filled_tail_is_a_torn_tail(tmp_path: Path) -> None:
    """After a power loss, XFS (or ext4 with data=writeback) can show a file whose
    size was extended but whose new blocks were never written: zeros. The writer
    never writes an empty payload, so zeros to the end of the file are a torn tail."""
    await write_sessions(tmp_path, 5)
    path = journal_files(tmp_path)[0]
    size = path.stat().st_size
    with open(path, "ab") as file:
        file.write(bytes(4096))
    assert await session_ids(tmp_path) == ["s0", "s1", "s2", "s3", "s4"]
    assert path.stat().st_size == size


async def test_zeros_in_the_middle_are_corrupt(tmp_path: Path) -> None:
    await write_sessions(tmp_path, 5)
    path = journal_files(tmp_path)[0]
    ends = ends_of_records(path)
    data = bytearray(path.read_bytes())
    data[ends[1] : ends[2]] = bytes(ends[2] - ends[1])  # record 2 zeroed, 3 and 4 intact
    path.write_bytes(data)
    with pytest.raises(JournalCorrupt, match=rf"^{path}: "):
        await session_ids(tmp_path)
    assert path.read_bytes() == data


async def test_bad_journal_header_is_corrupt(tmp_path: Path) -> None:
    await write_sessions(tmp_path, 3)
    path = journal_files(tmp_path)[0]
    good = path.read_bytes()
    path.write_bytes(b"SHMX" + good[4:])
    with pytest.raises(JournalCorrupt, match=rf"^{path}: offset 0: not a shardmem journal"):
        await session_ids(tmp_path)
    path.write_bytes(good[:4] + struct.pack("<H", 99) + good[6:])
    with pytest.raises(JournalCorrupt, match=rf"^{path}: offset 4: journal version 99 "):
        await session_ids(tmp_path)
    path.write_bytes(good)
    assert await session_ids(tmp_path) == ["s0", "s1", "s2"]


async def test_a_journal_of_another_shard_is_corrupt(tmp_path: Path) -> None:
    async with open_memory_engine(shards=2, data_dir=tmp_path) as mem:
        await fill(mem, 4)
    zero, one = journal_files(tmp_path, 0)[0], journal_files(tmp_path, 1)[0]
    shutil.copyfile(zero, one)
    with pytest.raises(JournalCorrupt, match=rf"^{one}: offset 0: header names shard 0"):
        await session_ids(tmp_path, shards=2)


async def test_undecodable_entry_with_a_good_crc_is_corrupt(tmp_path: Path) -> None:
    from engine._durable._format import frame

    await write_sessions(tmp_path, 2)
    path = journal_files(tmp_path)[0]
    with open(path, "ab") as file:
        file.write(frame(b'[3, 0.0, "upsert_session", [{"$": "Pickle"}]]'))
    with pytest.raises(JournalCorrupt, match=rf"^{path}: .*: undecodable entry"):
        await session_ids(tmp_path)


async def test_undecodable_entry_is_named_by_its_offset(tmp_path: Path) -> None:
    from engine._durable._format import frame

    await write_sessions(tmp_path, 2)
    path = journal_files(tmp_path)[0]
    offset = path.stat().st_size
    with open(path, "ab") as file:
        file.write(frame(b'[3, 0.0, "upsert_session", [{"$": "Pickle"}]]'))
    with pytest.raises(JournalCorrupt, match=rf"^{path}: offset {offset}: undecodable entry"):
        await session_ids(tmp_path)


async def test_unknown_operation_is_corrupt(tmp_path: Path) -> None:
    from engine._durable._format import encode_entry, frame

    await write_sessions(tmp_path, 2)
    path = journal_files(tmp_path)[0]
    with open(path, "ab") as file:
        file.write(frame(encode_entry(3, START, "_remove", (0, "s0"))))
    with pytest.raises(JournalCorrupt, match=rf"^{path}: entry 3: unknown operation '_remove'"):
        await session_ids(tmp_path)


async def test_sequence_gap_is_corrupt(tmp_path: Path) -> None:
    from engine._durable._format import encode_entry, frame

    await write_sessions(tmp_path, 2)
    path = journal_files(tmp_path)[0]
    with open(path, "ab") as file:
        file.write(frame(encode_entry(9, START, "clear", ())))
    with pytest.raises(JournalCorrupt, match=rf"^{path}: sequence jumps from 2 to 9"):
        await session_ids(tmp_path)


async def test_damaged_manifest_is_corrupt(tmp_path: Path) -> None:
    await write_sessions(tmp_path, 1)
    (tmp_path / MANIFEST).write_bytes(b'{"format": "something-else", "version": 1}')
    with pytest.raises(JournalCorrupt, match=r"MANIFEST\.json: not a shardmem data directory"):
        await session_ids(tmp_path)


async def test_manifest_that_is_not_json_is_corrupt(tmp_path: Path) -> None:
    """Regression: it raised orjson's JSONDecodeError, which names no file."""
    await write_sessions(tmp_path, 1)
    (tmp_path / MANIFEST).write_bytes(b"\x00garbage")
    with pytest.raises(JournalCorrupt, match=r"MANIFEST\.json"):
        await session_ids(tmp_path)
