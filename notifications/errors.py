"""Notification errors (mapped to HTTP in api/errors.py)."""


class NotificationsError(Exception):
    """Base of the notification errors."""


class NotFound(NotificationsError):
    """A contact point, policy or link that does not exist, or is another's."""


class InvalidInput(NotificationsError):
    """A request that cannot be carried out as given (a policy naming nobody, a bad address)."""


class LinkInvalid(NotificationsError):
    """An acknowledgement link that was used, has expired, or never existed (one answer for all)."""


class CodeInvalid(NotificationsError):
    """A verification code that is wrong, expired or tried too often."""
