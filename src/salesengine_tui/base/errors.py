"""Errors a person can act on: the CLI prints the message as one line, the TUI shows it."""


class UserError(Exception):
    """A problem with input or environment, explained in one line, with the fix where known."""


class NotFound(UserError):
    pass


class DatabaseUnavailable(UserError):
    pass


class SchemaOutOfDate(UserError):
    pass


class PermissionDenied(UserError):
    pass
