"""Benchmarks (not tests): `make bench` runs them all through bench/run.py."""
