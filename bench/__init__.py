"""Benchmarks and the detector's evaluation: run by `make bench` and `make eval`, not part of the product."""
