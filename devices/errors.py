"""Errors of the devices domain; api/ maps them to HTTP in one place."""


class DevicesError(Exception):
    """Base of the devices domain's errors."""


class NotFound(DevicesError):
    """The home or device does not exist (or is not visible to the caller)."""


class InvalidState(DevicesError):
    """The device is not in a state that allows this operation (for example: already decommissioned)."""


class BrokerUnavailable(DevicesError):
    """The broker could not apply the change; nothing was changed in the registry."""
