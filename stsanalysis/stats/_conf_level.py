"""The confidence-level keyword of the statistics: ``conf_level`` (R's ``conf.level``).

A few functions also accept the name an R package uses for the same setting (psych's
``alpha`` = 1 - confidence level) or an older spelling (``level``); this module turns either
into one confidence level and refuses contradictory values.
"""

from __future__ import annotations

import math

from ..errors import InputError

DEFAULT_CONF_LEVEL = 0.95


def check_conf_level(conf_level: float, name: str = "conf_level") -> float:
    """``conf_level`` itself when it lies strictly between 0 and 1, else InputError."""
    try:
        valid = bool(0 < conf_level < 1)
    except TypeError:
        valid = False
    if not valid:
        raise InputError(f"'{name}' must be between 0 and 1; got {conf_level!r}.")
    return conf_level


def resolve_conf_level(conf_level: float, other: float | None, other_name: str, *, is_alpha: bool = False) -> float:
    """The confidence level from ``conf_level`` and an alternative keyword ``other_name``.

    ``other`` (None when not given) is a confidence level, or with ``is_alpha=True`` psych's
    ``alpha`` = 1 - confidence level. Given alone (``conf_level`` left at 0.95) it decides;
    given with a different ``conf_level`` it must agree, else InputError names both.
    """
    check_conf_level(conf_level)
    if other is None:
        return conf_level
    implied = 1 - check_conf_level(other, other_name) if is_alpha else check_conf_level(other, other_name)
    if conf_level != DEFAULT_CONF_LEVEL and not math.isclose(implied, conf_level, rel_tol=0, abs_tol=1e-12):
        raise InputError(
            f"'{other_name}' = {other!r} and 'conf_level' = {conf_level!r} ask for different confidence "
            f"levels ({implied:g} and {conf_level:g}); give only 'conf_level'."
        )
    return implied
