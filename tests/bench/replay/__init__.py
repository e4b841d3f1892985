"""Tests of ``bench._replay``."""
