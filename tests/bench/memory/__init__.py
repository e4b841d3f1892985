"""Tests of ``bench._memory``."""
