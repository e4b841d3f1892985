"""``python -m bench``: the ``shardmem`` command line."""

from bench import main

raise SystemExit(main())
