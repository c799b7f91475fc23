"""The detector scored on simulated homes with injected incidents (`python -m bench.evaluation.evaluate`)."""
