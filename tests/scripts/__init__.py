"""Tests of the benchmark scripts own machinery (load generators)."""
