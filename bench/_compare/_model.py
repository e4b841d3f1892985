"""Reading the JSON documents of ``shardmem bench`` and pairing their rows.

Each document names its schema (``"shardmem.bench.<kind>/<version>"``); the readable
kinds are the replay of one target (``chitchat``), of several (``compare``) and the open
loop (``load``). A row is one operation of a target (the replay; ``total`` for all of
them) or one offered rate (the open loop; ``best rate`` for the sweep's answer).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

__all__ = ["READABLE_SCHEMAS", "CompareError", "Pair", "Row", "RunRows", "pair_rows", "read_run"]

#: The schemas ``compare`` reads, by kind: the highest version understood.
READABLE_SCHEMAS: Final = {"chitchat": 1, "compare": 1, "load": 1}
_SCHEMA = re.compile(r"^shardmem\.bench\.(?P<kind>[a-z]+)/(?P<version>\d+)$")


class CompareError(ValueError):
    """A file ``compare`` cannot read, or two runs it cannot pair (the message says why)."""


@attrs.frozen(kw_only=True)
class Row:
    """One row's measurements (``None`` where the row has none).

    Attributes:
        throughput: Operations (or turns) per second.
        p50_us, p99_us: Latency percentiles, microseconds.
    """

    throughput: float | None
    p50_us: float | None = None
    p99_us: float | None = None


@attrs.frozen(kw_only=True)
class RunRows:
    """A run's rows by target, then by row name, in file order.

    Attributes:
        path: The file read.
        kind: ``"replay"`` (schemas ``chitchat`` and ``compare``) or ``"load"``.
        targets: ``{target: {row: Row}}``.
    """

    path: str
    kind: str
    targets: dict[str, dict[str, Row]]


@attrs.frozen(kw_only=True)
class Pair:
    """The same row in run A and run B; ``None`` on the side that lacks it.

    Attributes:
        target: ``"a"``, or ``"a -> b"`` when each run holds one target and they differ.
        row: The operation or rate.
    """

    target: str
    row: str
    a: Row | None
    b: Row | None

    def ratio(self, field: str) -> float | None:
        """B's value over A's for ``field`` (``"throughput"``, ``"p50_us"``, ``"p99_us"``),
        or ``None`` if either is missing or A's is 0."""
        if self.a is None or self.b is None:
            return None
        a, b = getattr(self.a, field), getattr(self.b, field)
        return None if a is None or b is None or a == 0 else b / a


def read_run(path: Path | str) -> RunRows:
    """Read one JSON result of ``shardmem bench``.

    Raises:
        CompareError: if the file cannot be read, is not JSON, has no known schema, or its
            schema version is newer than this version of shardmem reads.
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CompareError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CompareError(f"{path}: expected a JSON document, got {exc}") from None
    schema = document.get("schema") if isinstance(document, dict) else None
    match = _SCHEMA.match(schema) if isinstance(schema, str) else None
    known = ", ".join(f"shardmem.bench.{kind}/{v}" for kind, v in READABLE_SCHEMAS.items())
    if match is None or match["kind"] not in READABLE_SCHEMAS:
        raise CompareError(f"{path}: expected a result with schema {known}, got {schema!r}")
    kind, version = match["kind"], int(match["version"])
    if version > READABLE_SCHEMAS[kind]:
        raise CompareError(
            f"{path}: schema {schema!r} is newer than this shardmem reads ({known}); upgrade"
        )
    try:
        if kind == "chitchat":
            return RunRows(path=str(path), kind="replay", targets=_replay(document))
        if kind == "compare":
            targets: dict[str, dict[str, Row]] = {}
            for result in document["targets"].values():
                if "skipped" not in result:
                    targets.update(_replay(result))
            return RunRows(path=str(path), kind="replay", targets=targets)
        return RunRows(path=str(path), kind="load", targets=_load(document))
    except (KeyError, TypeError, AttributeError) as exc:
        raise CompareError(
            f"{path}: expected a {schema} document, got one missing or mistyping {exc}"
        ) from None


def _replay(document: Mapping[str, Any]) -> dict[str, dict[str, Row]]:
    rows = {
        op: Row(throughput=v["ops_per_second"], p50_us=v["p50_us"], p99_us=v["p99_us"])
        for op, v in document["ops"].items()
    }
    rows["total"] = Row(throughput=document["total"]["ops_per_second"])
    return {document["target"]: rows}


def _load(document: Mapping[str, Any]) -> dict[str, dict[str, Row]]:
    targets: dict[str, dict[str, Row]] = {}
    for name, load in document["targets"].items():
        if "skipped" in load:
            continue
        rows = {
            f"{point['rate']:,.0f}/s offered": Row(
                throughput=point["achieved"],
                p50_us=point["latency"]["p50_us"],
                p99_us=point["latency"]["p99_us"],
            )
            for point in load["points"]
        }
        if len(load["points"]) > 1:
            rows["best rate"] = Row(throughput=load["best_rate"])
        targets[name] = rows
    return targets


def pair_rows(a: RunRows, b: RunRows) -> list[Pair]:
    """Pair the rows of two runs by target and row name (A's order, then B's extra rows).

    Two runs of one target each are paired whatever their target names, so
    ``engine.json`` against ``langgraph.json`` compares the two stores.

    Raises:
        CompareError: if one is a replay and the other an open-loop run.
    """
    if a.kind != b.kind:
        raise CompareError(
            f"cannot compare a {a.kind} run ({a.path}) with a {b.kind} run ({b.path})"
        )
    if len(a.targets) == 1 and len(b.targets) == 1:
        (name_a, rows_a), (name_b, rows_b) = *a.targets.items(), *b.targets.items()
        label = name_a if name_a == name_b else f"{name_a} -> {name_b}"
        return _pair(label, rows_a, rows_b)
    pairs: list[Pair] = []
    for name in [*a.targets, *(t for t in b.targets if t not in a.targets)]:
        pairs += _pair(name, a.targets.get(name, {}), b.targets.get(name, {}))
    return pairs


def _pair(label: str, a: Mapping[str, Row], b: Mapping[str, Row]) -> list[Pair]:
    names = [*a, *(row for row in b if row not in a)]
    return [Pair(target=label, row=row, a=a.get(row), b=b.get(row)) for row in names]
