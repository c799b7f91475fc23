"""The ingest benchmark (`python -m bench.ingest`)."""
