"""Measurement helpers shared by every benchmark: latency histograms, loop and GC
monitors, the machine description and goals."""
