"""Tests of ``bench._cli``."""
