"""Errors of the visits domain; api/ maps them to HTTP in one place."""


class VisitsError(Exception):
    """Base of the visits domain's errors."""


class NotFound(VisitsError):
    """The plan, visit, tag or carer does not exist, or is another tenant's (never told apart)."""


class InvalidInput(VisitsError):
    """The request names something that does not fit (a carer without the skills, a date out of range)."""


class InvalidState(VisitsError):
    """The visit is not in a state that allows this (checking out a visit nobody checked in to)."""


class Conflict(VisitsError):
    """The change collides with what exists (a tag id already given to another carer)."""


class Forbidden(VisitsError):
    """The caller sees the visit but their role may not do this (a family member checking in)."""
