"""Tests of ``bench._micro``."""
