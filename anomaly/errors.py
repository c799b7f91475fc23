"""Errors of the detector."""


class DetectorError(Exception):
    """Base of the detector's errors."""
