"""The API benchmark (`python -m bench.api`)."""
