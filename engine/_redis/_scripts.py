"""The Redis engine's Lua scripts, read from the package's ``lua/`` folder.

``lua/prelude.lua`` holds the helpers and conventions every script shares (keys,
``ARGV[1..3]``, index upkeep, TTL deadlines, the sweep); ``lua/<name>.lua`` is the
script ``name`` (its header lists its arguments). A script runs as the prelude followed
by its file, loaded once per server and then called by SHA-1 (``EVALSHA``).
"""

from __future__ import annotations

import hashlib
from importlib.resources import files
from typing import Final

import attrs

__all__ = ["SCRIPTS", "Script"]

_PRELUDE: Final = "prelude"


@attrs.frozen
class Script:
    """One script as the server runs it.

    Attributes:
        name: the file's stem (``lua/<name>.lua``).
        body: the prelude followed by the script.
        sha: the hex SHA-1 of ``body`` (what ``EVALSHA`` names).
    """

    name: str
    body: str
    sha: str


def _load() -> dict[str, Script]:
    folder = files("engine._redis").joinpath("lua")
    texts = {
        entry.name.removesuffix(".lua"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".lua")
    }
    prelude = texts.pop(_PRELUDE)
    scripts = {}
    for name, text in sorted(texts.items()):
        body = prelude + text
        scripts[name] = Script(name, body, hashlib.sha1(body.encode()).hexdigest())
    return scripts


#: Every script by name, read at import.
SCRIPTS: Final = _load()
