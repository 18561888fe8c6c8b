"""Stable pseudonyms for patient ids: HMAC-SHA256 keyed with a secret only the study team holds.

The same id and secret always give the same pseudonym (so tables from several runs can be
linked), and without the secret a pseudonym cannot be traced back to the id. Set the secret
in the environment variable ``STSANALYSIS_PSEUDONYM_SECRET`` before building a report: every
table of the report and its CSV download then shows pseudonyms in the ``patient_id`` column.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import pandas as pd

from ..errors import InputError

SECRET_VARIABLE = "STSANALYSIS_PSEUDONYM_SECRET"
ID_COLUMNS = ("patient_id",)


def pseudonymise(ids, secret: str, *, prefix: str = "PSN-", length: int = 12) -> pd.Series:
    """Pseudonyms ``prefix + first `length` hex digits of HMAC-SHA256(secret, id)``."""
    if not secret or len(secret) < 8:
        raise InputError(f"The pseudonymisation secret must have at least 8 characters (set {SECRET_VARIABLE}).")
    values = pd.Series(ids)
    key = secret.encode()
    return values.map(lambda value: prefix + hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()[:length])


def configured_secret() -> str | None:
    """The secret from ``STSANALYSIS_PSEUDONYM_SECRET``, or None when pseudonymisation is off."""
    return os.environ.get(SECRET_VARIABLE) or None


def pseudonymise_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its patient-id column pseudonymised when a secret is configured."""
    secret = configured_secret()
    columns = [column for column in ID_COLUMNS if column in frame.columns]
    if secret is None or not columns:
        return frame
    return frame.assign(**{column: pseudonymise(frame[column], secret).to_numpy() for column in columns})
