"""Tests of ``bench._measure``."""
