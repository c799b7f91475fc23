"""Errors of the homes domain; api/ maps them to HTTP in one place."""


class HomesError(Exception):
    """Base of the homes domain's errors."""


class NotFound(HomesError):
    """The organisation, home or person does not exist, or belongs to another tenant (not told apart)."""
