"""telecare package."""
