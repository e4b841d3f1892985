"""Tests of ``bench._bridge``."""
