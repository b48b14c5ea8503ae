"""The one small exception hierarchy of csfkg.

Every error a user can cause is a :class:`CsfkgError` with a one-sentence message and the
exit code the command line returns for it (2: usage, input or runtime error). Data that does
not conform to a shape is not an exception: it is a validation result (exit code 1).
"""

from __future__ import annotations


class CsfkgError(Exception):
    """An error a user can cause; ``str(error)`` is one clear sentence."""

    exit_code: int = 2


class InputError(CsfkgError):
    """A patient file is missing, unreadable or not valid RDF."""


class UsageError(CsfkgError):
    """Arguments that cannot be combined or values that are not accepted."""


class PatientSelectionError(CsfkgError):
    """The patient asked for is not in the file, or the file holds several and none was chosen."""
