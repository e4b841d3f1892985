"""Drop-in stores for agent frameworks, built on shardmem's public API only.

Each framework has a subpackage (``engine.integrations.arshai``, ...) that imports
its framework; importing :mod:`engine` imports none of them.
"""
