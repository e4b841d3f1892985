"""The backend-neutral front: the facades that ``mem.sessions``, ``mem.memories``,
``mem.working`` and ``mem.knowledge`` are, the pipeline and the clock. The embedded and
the Redis engines both serve these facades.
"""
