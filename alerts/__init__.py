"""Alerts: the lifecycle of a condition in a home, from raised to resolved, with its history."""
