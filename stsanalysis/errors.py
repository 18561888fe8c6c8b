"""Exceptions raised by stsanalysis.

Every error a user can cause by their data or configuration is an :class:`InputError`
whose message names the column, patient, file or key, what was expected and what was
found, so that it can be fixed without reading a traceback.
"""


class InputError(ValueError):
    """Bad input data or configuration (a subclass of ValueError)."""
