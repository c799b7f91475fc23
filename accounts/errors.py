"""Errors of the accounts domain; api/ maps them to HTTP in one place."""


class AccountsError(Exception):
    """Base of the accounts domain's errors."""


class NotAuthenticated(AccountsError):
    """No credentials, or credentials that are wrong, expired, tampered with or revoked."""


class Forbidden(AccountsError):
    """The caller is known and may see the resource, but their role does not allow this action."""


class NotFound(AccountsError):
    """The resource does not exist, or belongs to another tenant (the two are not told apart)."""


class Conflict(AccountsError):
    """The change clashes with what exists (for example: an email already in use)."""


class InvalidInput(AccountsError):
    """The request is well-formed but makes no sense (for example: a carer without an organisation)."""


class RateLimited(AccountsError):
    """Too many failed logins for this username or address; try again after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
