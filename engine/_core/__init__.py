"""The pure core: values and rules shared by every backend.

Records, payload codec, validation, errors, configuration, statistics, routing, queries,
the portable snapshot format and text analysis. Standard library and attrs only: no trio,
no outcome, no actors, no I/O (enforced by ``tests/test_layering.py``).
"""
