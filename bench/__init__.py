"""Benchmarks of crawl, archive, parse and catalog speed: `python -m bench.run`."""
