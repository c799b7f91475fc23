"""Rostering benchmarks: Solomon VRPTW quality against published best-known solutions, and a home-care day."""
