"""``python -m bench``: the ``shardmem`` command line."""

from bench._cli._main import main

raise SystemExit(main())
