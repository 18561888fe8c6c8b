"""Pseudonymised patient ids: stable, keyed, applied to every report table when configured."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from stsanalysis.data.pseudonymise import SECRET_VARIABLE, pseudonymise
from stsanalysis.errors import InputError
from stsanalysis.report.formatting import to_html_table


def test_pseudonym_is_the_keyed_hash():
    expected = "PSN-" + hmac.new(b"study-secret", b"B001", hashlib.sha256).hexdigest()[:12]
    assert pseudonymise(["B001"], "study-secret").tolist() == [expected]
    assert pseudonymise(["B001", "B001"], "study-secret").nunique() == 1
    assert pseudonymise(["B001"], "other-secret")[0] != expected


def test_short_secret_is_refused():
    with pytest.raises(InputError, match="at least 8 characters"):
        pseudonymise(["B001"], "short")


def test_report_tables_show_pseudonyms_only_when_configured(monkeypatch):
    frame = pd.DataFrame({"patient_id": ["B001", "B002"], "value": [1.0, 2.0]})
    assert "B001" in to_html_table(frame)
    monkeypatch.setenv(SECRET_VARIABLE, "study-secret")
    html_text = to_html_table(frame)
    assert "B001" not in html_text and "B002" not in html_text
    assert pseudonymise(["B001"], "study-secret")[0] in html_text
