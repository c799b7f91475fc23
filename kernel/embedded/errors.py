"""Errors raised while starting or stopping an embedded server."""


class EmbeddedError(Exception):
    """An embedded server could not be started or stopped; the message says why and what to do."""
