"""Tests of ``bench._targets``."""
