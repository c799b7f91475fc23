"""Errors of the console: a page that needs a login, and a form refused for its CSRF token."""


class ConsoleError(Exception):
    """Base of the console's own errors (domain errors keep their own classes)."""


class LoginRequired(ConsoleError):
    """No valid console login: the browser is sent to the login page, coming back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__("log in to use the console")
        self.next_path = next_path


class CsrfRefused(ConsoleError):
    """A form or action without its CSRF token (or an unreadable form): refused with 403."""


class InvalidForm(ConsoleError):
    """A form whose fields do not fit (the message says which): the page says so, with 422."""
