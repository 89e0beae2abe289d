"""Errors the command line turns into exit codes; library code raises, only the CLI exits."""

from __future__ import annotations


class DoctorError(Exception):
    """An error with a one-line message and a hint for the next line."""

    exit_code = 2

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InputError(DoctorError):
    """A value, file or option the user gave is wrong (exit 2)."""

    exit_code = 2


class EvaluationError(DoctorError):
    """The check could not be carried out, so no verdict can be given (exit 3)."""

    exit_code = 3
