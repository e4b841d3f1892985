"""Files on disk: the journal format, the journal writer, the data directory (layout,
lock, manifest), recovery (snapshot load, replay, re-sharding), inspect and compact.
"""
