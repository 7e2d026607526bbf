"""Benchmarks of egot2: ratios of things measured side by side in one process (``python -m bench``)."""
