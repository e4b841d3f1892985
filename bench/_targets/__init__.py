"""What is measured: the :class:`bench.Target` protocol, its implementations (engine,
lock, peers, Redis) and the registry of target names."""
