"""Exceptions and warnings raised by stsanalysis.

Every error a user can cause by their data or configuration is an :class:`InputError`
whose message names the column, patient, file or key, what was expected and what was
found, so that it can be fixed without reading a traceback.

Degenerate data that has a conventional answer (a test of a constant variable: the
statistic as R computes it, p = NaN) is not an error: the function returns that answer and
warns with a named class, so that one constant column does not abort a whole table. The
table builders catch these warnings and turn them into table footnotes.
"""


class InputError(ValueError):
    """Bad input data or configuration (a subclass of ValueError)."""


class ConstantVariableWarning(UserWarning):
    """A test was asked of data without variance; its p value is NaN (undefined).

    ``variable`` names the variable and ``reason`` says what is constant ("all 40 values
    are identical (1.2)"), for the footnote a table builder writes from the warning.
    """

    def __init__(self, message: str, *, variable: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.variable = variable
        self.reason = reason
