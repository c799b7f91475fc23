"""Console benchmark: a home's page with 28 days of history."""
