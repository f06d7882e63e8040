"""Benchmarks: each writes its figures to bench/results/."""
