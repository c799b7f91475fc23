"""Errors of the alerts domain; api/ maps them to HTTP in one place."""


class AlertsError(Exception):
    """Base of the alerts domain's errors."""


class AlertNotFound(AlertsError):
    """The alert does not exist (or is not visible to the caller)."""


class AlertStateError(AlertsError):
    """The alert is not in a state that allows this (for example: acknowledging a resolved alert)."""


class UnknownKind(AlertsError):
    """A filter names an alert kind that does not exist (a typo would otherwise list nothing)."""
