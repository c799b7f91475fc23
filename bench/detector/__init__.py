"""The detector benchmark (`python -m bench.detector`)."""
