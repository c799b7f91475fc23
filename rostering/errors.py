"""Errors of the rostering domain; api/ maps them to HTTP in one place."""


class RosteringError(Exception):
    """Base of the rostering domain's errors."""


class RosterNotFound(RosteringError):
    """The roster does not exist, or is another tenant's (not told apart)."""


class InvalidRoster(RosteringError):
    """The request cannot be planned as asked (a bad range, weights, or a profile that does not fit)."""


class RosterNotReady(RosteringError):
    """The roster is still running, failed, or was already accepted."""
