"""Checks shared by every prediction made at a time horizon t (survival at t, AUC(t), Brier(t), ...).

A survival prediction model is judged at times the user names ("1-, 3- and 5-year survival").
Those times must be positive, lie within the follow-up and have events before them; the data
must have positive times. Each failure names the time, the set and what to do.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .survival import _survival_data


def prediction_data(time, event, names: tuple[str, str] | None = None, what: str = "the data") -> tuple[np.ndarray, np.ndarray]:
    """Validated float times and 0/1 events for a prediction model: every time positive and present.

    A time of 0 (an event or censoring on the day of inclusion) has no risk set before it; it
    is refused with the rows named, as is a missing time.
    """
    time_array, event_array, _ = _survival_data(time, event, names=names)
    time_name = (names or ("time", "event"))[0]
    not_positive = ~(time_array > 0)
    if not_positive.any():
        rows = np.flatnonzero(not_positive)
        raise InputError(
            f"'{time_name}' must be a positive survival time in {what}; {rows.size} value(s) are 0 or missing "
            f"(rows {rows[:5].tolist()}). Set a time of 0 to a small positive value (e.g. half a day) or drop the patient."
        )
    return time_array, event_array


def horizons(times, time: np.ndarray, event: np.ndarray, what: str = "the data") -> np.ndarray:
    """The requested prediction times as a float array, each checked against the follow-up.

    Refused: a time <= 0, a time beyond the last follow-up of ``what`` (the message gives the
    last usable time) and a time before the first event (nothing to predict).
    """
    requested = np.atleast_1d(np.asarray(times, dtype=float))
    if requested.size == 0 or not np.isfinite(requested).all():
        raise InputError(f"The prediction times must be finite numbers; got {list(np.atleast_1d(times))}.")
    last = float(time.max())
    for t in requested:
        if t <= 0:
            raise InputError(f"Prediction time {t:g} must be positive.")
        if t > last:
            raise InputError(
                f"Prediction time {t:g} lies beyond the last follow-up of {what} ({last:g}); "
                f"the last usable time is {last:g}: choose times up to it."
            )
        if not ((time <= t) & (event == 1)).any():
            first = float(time[event == 1].min()) if event.any() else None
            hint = f"the first event is at {first:g}" if first is not None else "there are no events"
            raise InputError(f"No events occur up to prediction time {t:g} in {what} ({hint}); choose a later time.")
    return requested
