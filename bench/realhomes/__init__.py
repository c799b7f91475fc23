"""The detector on real homes' logs (public research data, never committed), with injected incidents."""
