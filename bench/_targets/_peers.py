"""Shared plumbing of the peer targets: lazy imports, version checks, the skip error."""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import warnings
from collections.abc import Iterator
from typing import Any

import trio

__all__ = ["PEERS", "PeerUnavailable", "checkpoint", "peer", "peer_version", "quiet", "require"]

#: The distribution name of each peer.
PEERS: dict[str, str] = {
    "agno": "agno",
    "arshai": "arshai",
    "upsonic": "upsonic",
    "langgraph": "langgraph",
    # the framework adapters: the same calls on shardmem (engine.integrations)
    "arshai-shardmem": "arshai",
    "agno-shardmem": "agno",
    "agno-shardmem-redis": "agno",
    "upsonic-shardmem": "upsonic",
    "langgraph-shardmem": "langgraph",
}


class PeerUnavailable(RuntimeError):
    """A peer's package is missing or lacks the API the target needs (one-line message)."""


def peer_version(name: str) -> str | None:
    """The installed version of the peer's distribution, or ``None``."""
    try:
        return importlib.metadata.version(PEERS[name])
    except importlib.metadata.PackageNotFoundError:
        return None


def require(name: str) -> str:
    version = peer_version(name)
    if version is None:
        raise PeerUnavailable(
            f"{name}: not installed (pip install 'shardmem[peers]'"
            + (", in its own environment)" if name == "upsonic" else ")")
        )
    return version


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the warnings some peers emit at import (e.g. pydantic v1-style configs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def peer(module: str, name: str) -> Any:
    """``from module import name`` for a peer, typed ``Any`` (peers ship partial types).

    Raises:
        ImportError: if the module or the name is missing.
    """
    try:
        return getattr(importlib.import_module(module), name)
    except AttributeError:
        raise ImportError(f"cannot import name {name!r} from {module!r}", name=module) from None


async def checkpoint() -> None:
    await trio.lowlevel.checkpoint()
