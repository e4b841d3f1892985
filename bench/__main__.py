"""``python -m bench``: the ``shardmem`` command line."""

from bench._cli import main

raise SystemExit(main())
