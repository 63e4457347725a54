"""hebbjax's error types: every one is a ``ValueError`` whose message is one line naming the
problem and the valid choices, so the CLI prints it as ``hebbjax CMD: error: ...`` with exit
code 2 and library users can catch it as a ``ValueError`` or by its type."""

from __future__ import annotations


class HebbjaxError(ValueError):
    """Base class of hebbjax's input errors."""


class ConfigError(HebbjaxError):
    """A run configuration or an option value that hebbjax cannot use."""


class DataError(HebbjaxError):
    """A file (genome, task set, run file) that is missing, damaged or of the wrong kind."""


class RunError(HebbjaxError):
    """A run directory that cannot be started, resumed or evaluated as asked."""
