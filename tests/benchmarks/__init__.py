"""Benchmarks: run on demand, never part of the default test run."""
