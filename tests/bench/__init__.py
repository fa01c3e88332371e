"""Benchmarks: run by ``hatch run bench:all``, never by the test suite; they print tables."""
