"""The ``shardmem`` command line: argparse and the command handlers, no measuring code."""
