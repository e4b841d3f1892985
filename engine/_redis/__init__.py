"""The Redis/Valkey backend: connection, keys, codec, Lua scripts, the operations per
record kind, pipelines and restore. The public names are in :mod:`engine.redis`.
"""
