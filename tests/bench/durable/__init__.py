"""Tests of ``bench._durable``."""
