"""Design B with a survival endpoint: LASSO-Cox signatures, a clinical Cox model and a Cox nomogram.

``endpoint: survival`` in a design-B config turns the study into a survival-model study of
the same cohort (``notebooks/radiomics_survival_study.ipynb``). Everything fitted is fitted
on the training set only: the radiomics pipeline (z-score, ComBat, mRMR with the Cox score
relevance, LASSO-Cox), the dummy coding of the clinical factors, the clinical Cox model, the
nomogram's Cox model and the cut-off of its risk groups; the validation set only receives
them. Steps 7-10 (discrimination, calibration, decision curves, risk groups) are in
:mod:`~stsanalysis.studies.survival_evaluation`, the sentences in
:mod:`~stsanalysis.studies.survival_model_text`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import InputError
from ..stats._horizon import horizons
from ..stats.cox import CoxResult, cox_regression
from ..stats.cox_nomogram import CoxNomogram
from ..stats.logistic import _Encoding
from ..stats.survival import SurvivalWarning
from .design import Outcome, Split, Survival
from .radiomics_features import Signature, fit_signatures
from .radiomics_nomogram import OUTCOME, Cohort, events_per_parameter_table, prepare_cohort
from .split import set_masks

#: The groups of the nomogram's risk cut-off: (below, at or above).
RISK_GROUPS = ("low risk", "high risk")
#: Fewer patients than this followed beyond a prediction time in a set draws a warning.
MIN_AT_RISK = 10


# --------------------------------------------------------------------------------------
# The cohort
# --------------------------------------------------------------------------------------
def event_outcome(survival: Survival) -> Outcome:
    """The event indicator as the cohort's 0/1 outcome: it stratifies a random split and is
    checked to hold events and censored patients in both sets."""
    return Outcome(column=survival.event, label=f"{survival.label} event", comparison=("==", 1.0), negative_label="censored")


def prepare_survival_cohort(
    clinical: pd.DataFrame,
    *,
    survival: Survival | None,
    split: Split,
    seed: int,
    model_variables: Sequence[str] = (),
    shown_variables: Sequence[str] = (),
    missing: str = "complete_case",
    batch_column: str | None = "scanner",
) -> Cohort:
    """Index, split and check a survival cohort (:func:`~stsanalysis.studies.radiomics_nomogram.prepare_cohort`).

    The survival endpoint must give ``prediction_times``. Times must be positive and
    present, events 0/1 (errors name the patients); every prediction time must lie within
    the follow-up of each set with events before it (:func:`check_prediction_times`).
    Missing clinical values: complete-case analysis only (patients excluded are counted
    per set); ``missing: impute`` is refused (a pooled Cox model is not available yet).
    """
    if survival is None:
        raise InputError("A survival-model study needs 'survival: {time, event, label, unit, prediction_times}'.")
    if not survival.prediction_times:
        raise InputError("'survival.prediction_times' must name the times at which survival is predicted, e.g. [12, 36, 60].")
    if missing != "complete_case":
        raise InputError(
            f"'missing: {missing}' is not available with a survival endpoint (no pooled Cox model yet); use 'complete_case', "
            "which excludes the patients with a missing model variable and counts them per set."
        )
    indexed = clinical.set_index("patient_id", drop=False)
    indexed.index = indexed.index.astype(str)
    survival.check(indexed)
    not_positive = indexed.index[pd.to_numeric(indexed[survival.time]) <= 0].tolist()
    if not_positive:
        raise InputError(
            f"'{survival.time}' ({survival.label} time) must be positive: patient(s) {not_positive[:10]} have a time of 0, so "
            "no risk set exists before their event or censoring. Set it to a small positive value (e.g. half a day) or drop them."
        )
    cohort = prepare_cohort(
        clinical,
        outcome=event_outcome(survival),
        split=split,
        seed=seed,
        survival=survival,
        model_variables=model_variables,
        shown_variables=shown_variables,
        missing=missing,
        batch_column=batch_column,
    )
    check_prediction_times(cohort)
    return cohort


def time_event(cohort: Cohort) -> pd.DataFrame:
    """The survival outcome of every patient: two float columns, time then event, named as the study's."""
    survival = cohort.survival
    return cohort.clinical[[survival.time, survival.event]].astype(float)


def check_prediction_times(cohort: Cohort) -> np.ndarray:
    """The prediction times, checked in each set: positive, within its follow-up, after an event.

    A time beyond a set's last follow-up names the set and its last usable time; a time
    that nobody outlives in a set (no controls for AUC(t)) is refused; fewer than
    :data:`MIN_AT_RISK` patients followed beyond a time draws a :class:`SurvivalWarning`.
    """
    outcome = time_event(cohort)
    times = np.asarray(cohort.survival.prediction_times, dtype=float)
    unit = cohort.survival.unit
    by_set = {
        name: [outcome.iloc[mask.nonzero()[0], column].to_numpy() for column in (0, 1)] for name, mask in set_masks(cohort.sets).items()
    }
    for set_name, (time, event) in by_set.items():  # errors first, warnings after
        horizons(times, time, event, what=f"the {set_name} set ({cohort.survival.label}, {unit})")
        if (times >= time.max()).any():
            raise InputError(
                f"Prediction time {times[times >= time.max()][0]:g} is the last follow-up of the {set_name} set: no patient is "
                f"followed beyond it, so survival at that time cannot be judged there. Choose times before {time.max():g} {unit}."
            )
    for set_name, (time, _) in by_set.items():
        for t in times:
            beyond = int((time > t).sum())
            if beyond < MIN_AT_RISK:
                warnings.warn(
                    f"Only {beyond} patient(s) of the {set_name} set are followed beyond prediction time {t:g} {unit}: "
                    "AUC, calibration and Brier score at that time rest on very few patients; consider an earlier time.",
                    SurvivalWarning,
                    stacklevel=2,
                )
    return times


def cohort_table(cohort: Cohort) -> pd.DataFrame:
    """Per set: patients, events, median follow-up (reverse Kaplan-Meier) and, at each
    prediction time, the events up to it and the patients still followed beyond it."""
    from .survival import follow_up_summary

    outcome = time_event(cohort)
    time, event = outcome.iloc[:, 0], outcome.iloc[:, 1]
    table = follow_up_summary(time, event, cohort.sets).rename(columns={"median_follow_up_months": "median_follow_up"})
    table["last_follow_up"] = [float(time[cohort.sets == name].max()) for name in table["set"]]
    for t in cohort.survival.prediction_times:
        in_set = [cohort.sets == name for name in table["set"]]
        table[f"events_by_{t:g}"] = [int(((time <= t) & (event == 1))[mask].sum()) for mask in in_set]
        table[f"followed_beyond_{t:g}"] = [int((time > t)[mask].sum()) for mask in in_set]
    return table


def events_per_parameter(cohort: Cohort, candidates: Mapping[str, int]) -> pd.DataFrame:
    """Events of the training set per candidate parameter of each model (< 10 flagged)."""
    return events_per_parameter_table(int(cohort.clinical.loc[cohort.training.to_numpy(), OUTCOME].sum()), candidates)


# --------------------------------------------------------------------------------------
# Step 4: LASSO-Cox signatures
# --------------------------------------------------------------------------------------
def fit_survival_signatures(features: pd.DataFrame, cohort: Cohort, sequences: Sequence[str], **fit_options) -> dict[str, Signature]:
    """One LASSO-Cox signature per sequence and the combined one, each pipeline
    (:func:`~stsanalysis.radiomics.pipeline.make_survival_pipeline`) fitted on training only.

    ``features`` are the reliable reader-1 features indexed like the cohort; ``fit_options``
    go to :func:`~stsanalysis.studies.radiomics_features.fit_signature` (k, lambda_rule, cv,
    n_repeats, seed, cache_dir). A signature's ``rad_score`` is its linear predictor.
    """
    from ..radiomics.pipeline import make_survival_pipeline

    return fit_signatures(
        features, time_event(cohort), cohort.batch, cohort.training, list(sequences), builder=make_survival_pipeline, **fit_options
    )


# --------------------------------------------------------------------------------------
# Cox models of coded covariates (step 5 and 6)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoxCoding:
    """Numeric Cox covariates of clinical factors: a text factor becomes 0/1 dummies, one per
    level but the first (its reference, levels sorted as R's ``factor``), learnt on training."""

    encoding: _Encoding

    @classmethod
    def from_training(cls, cohort: Cohort, variables: Sequence[str]) -> CoxCoding:
        training = cohort.clinical[cohort.training.to_numpy()]
        try:
            return cls(_Encoding.from_data(training, list(dict.fromkeys(variables)), None))
        except InputError as error:
            raise InputError(f"In the training set: {error}") from None

    def terms(self, variable: str) -> list[tuple[str, object]]:
        """(column, level) of each covariate of ``variable``: itself (level None), or ``variable[level]`` per dummy."""
        return [(term, level) for term, name, level in self.encoding.term_rows()[1:] if name == variable]

    def columns(self, variable: str) -> list[str]:
        """The covariate columns of ``variable``."""
        return [term for term, _ in self.terms(variable)]

    def encode(self, cohort: Cohort) -> pd.DataFrame:
        """Every patient's covariates and survival outcome (the time and event columns)."""
        terms = [term for term, _, _ in self.encoding.term_rows()[1:]]
        parts = []
        for set_name, mask in set_masks(cohort.sets).items():
            rows = cohort.clinical[mask]
            try:
                parts.append(pd.DataFrame(self.encoding.matrix(rows, f"the {set_name} set")[:, 1:], index=rows.index, columns=terms))
            except InputError as error:
                raise InputError(f"In the {set_name} set: {error}") from None
        return pd.concat(parts).loc[cohort.clinical.index].join(time_event(cohort))


def fit_cox(data: pd.DataFrame, cohort: Cohort, covariates: Sequence[str]) -> tuple[CoxResult, list[str]]:
    """Cox model (Efron ties) of ``covariates`` on the training rows of ``data``; and the
    covariates whose coefficient diverged (monotone likelihood, warned by ``cox_regression``)."""
    survival = cohort.survival
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SurvivalWarning)
        fit = cox_regression(data[cohort.training.to_numpy()], survival.time, survival.event, list(covariates), what="the training set")
    diverged = [name for name in covariates if any(f"'{name}'" in str(warning.message) for warning in caught)]
    for warning in caught:
        warnings.warn(warning.message, warning.category, stacklevel=2)
    return fit, diverged


# --------------------------------------------------------------------------------------
# Step 5: univariable, then multivariable Cox regression of the clinical factors
# --------------------------------------------------------------------------------------
_STATISTICS = ("hazard_ratio", "ci_low", "ci_high", "p", "p_variable", "diverged")


def _term_rows(fit: CoxResult, coding: CoxCoding, variables: Sequence[str], prefix: str, variable_p, diverged) -> pd.DataFrame:
    """Hazard ratio per term, a reference row (HR 1) for each text factor, the factor's p on every row."""
    coefficients = fit.coefficients.set_index("term")
    rows = []
    for variable in variables:
        shared = {"variable": variable, "p_variable": variable_p(variable)}
        if variable in coding.encoding.levels:
            reference = {"hazard_ratio": 1.0, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "diverged": False}
            level = coding.encoding.levels[variable][0]
            rows.append({**shared, "term": f"{variable}[{level}]", "level": level, "is_reference": True, **reference})
        for term, level in coding.terms(variable):
            estimate = coefficients.loc[term, ["hazard_ratio", "ci_low", "ci_high", "p"]].to_dict()
            rows.append({**shared, "term": term, "level": level, "is_reference": False, **estimate, "diverged": term in diverged})
    table = pd.DataFrame(rows)[["variable", "term", "level", "is_reference", *_STATISTICS]]
    return table.rename(columns={column: f"{prefix}_{column}" for column in _STATISTICS})


def _drop_one_p(data: pd.DataFrame, cohort: Cohort, coding: CoxCoding, fit: CoxResult, variables: Sequence[str], variable: str) -> float:
    """Likelihood-ratio p of dropping all the covariates of ``variable`` (R ``drop1(fit, test = "Chisq")``)."""
    dropped = coding.columns(variable)
    kept = [term for other in variables if other != variable for term in coding.columns(other)]
    if kept:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurvivalWarning)  # the full model already warned
            reduced = fit_cox(data, cohort, kept)[0].log_likelihood
    else:
        reduced = fit.log_likelihood_null
    return float(sps.chi2.sf(2 * (fit.log_likelihood - reduced), len(dropped)))


def cox_screen(cohort: Cohort, candidates: Sequence[str], p_enter: float, p_keep: float | None = None) -> pd.DataFrame:
    """Univariable Cox model of each candidate on training; those with likelihood-ratio
    p < ``p_enter`` enter one multivariable model, where a factor is ``retained`` when its
    drop-one likelihood-ratio p < ``p_keep`` (default ``p_enter``).

    One row per term with a reference row per text factor: ``variable, term, level,
    is_reference``, ``univariable_hazard_ratio, _ci_low, _ci_high`` (Wald), ``_p`` (Wald, per
    term), ``_p_variable`` (likelihood ratio, per factor), ``_diverged`` (monotone
    likelihood), ``selected``, the same ``multivariable_*`` columns and ``retained``;
    ``attrs["selected"]``, ``attrs["retained"]``. As ``coxph`` with ``drop1``.
    """
    p_keep = p_enter if p_keep is None else p_keep
    for name, value in (("p_enter", p_enter), ("p_keep", p_keep)):
        if not 0 < value <= 1:
            raise InputError(f"'{name}' must be in (0, 1]; got {value!r}.")
    coding = CoxCoding.from_training(cohort, candidates)
    data = coding.encode(cohort)

    def term_table(variables: list[str], prefix: str) -> pd.DataFrame:
        columns = [term for variable in variables for term in coding.columns(variable)]
        fit, diverged = fit_cox(data, cohort, columns)
        if len(variables) == 1:
            return _term_rows(fit, coding, variables, prefix, lambda _: fit.lr_p, diverged)
        return _term_rows(fit, coding, variables, prefix, lambda v: _drop_one_p(data, cohort, coding, fit, variables, v), diverged)

    univariable = pd.concat([term_table([candidate], "univariable") for candidate in candidates], ignore_index=True)
    univariable["selected"] = univariable["univariable_p_variable"] < p_enter
    selected = [name for name in candidates if univariable.loc[univariable["variable"] == name, "selected"].iloc[0]]
    if selected:
        table = univariable.merge(term_table(selected, "multivariable"), on=["variable", "term", "level", "is_reference"], how="left")
    else:
        table = univariable.assign(**{f"multivariable_{column}": np.nan for column in _STATISTICS})
    table["retained"] = table["multivariable_p_variable"] < p_keep
    table.attrs["selected"] = selected
    table.attrs["retained"] = [name for name in selected if table.loc[table["variable"] == name, "retained"].iloc[0]]
    return table


@dataclass(frozen=True)
class CoxModel:
    """A Cox model fitted on training with the coded data of every patient: ``model``,
    ``data`` (covariates, time and event, indexed by patient), ``factors`` (the clinical
    variables it holds) and ``diverged`` (covariates with monotone likelihood)."""

    model: CoxResult
    data: pd.DataFrame
    factors: tuple[str, ...]
    diverged: tuple[str, ...] = ()

    @property
    def covariates(self) -> tuple[str, ...]:
        return self.model.covariates

    def linear_predictor(self) -> pd.Series:
        """x beta of every patient, centred as ``predict(coxph, type = "lp")``: higher = higher hazard."""
        return pd.Series(self.model.linear_predictor_of(self.data), index=self.data.index, name="linear_predictor")

    def survival(self, times) -> pd.DataFrame:
        """Predicted S(t) of every patient (rows) at each time (columns)."""
        return self.model.predict_survival(self.data, times)


@dataclass(frozen=True)
class ClinicalCoxModel:
    """Step 5: the screen and the Cox model of its factors (None when no factor passed)."""

    screen: pd.DataFrame
    factors: tuple[str, ...]
    model: CoxModel | None


def fit_clinical_cox(cohort: Cohort, candidates: Sequence[str], p_enter: float) -> ClinicalCoxModel | None:
    """Screen ``candidates`` (:func:`cox_screen`); the retained factors (else those selected)
    form the clinical Cox model. None when no candidate is configured."""
    if not candidates:
        return None
    screen = cox_screen(cohort, candidates, p_enter)
    factors = tuple(screen.attrs["retained"]) or tuple(screen.attrs["selected"])
    return ClinicalCoxModel(screen=screen, factors=factors, model=fit_factor_model(cohort, factors) if factors else None)


def fit_factor_model(cohort: Cohort, factors: Sequence[str], extra: pd.DataFrame | None = None) -> CoxModel:
    """Cox model of the coded ``factors`` (and the numeric columns of ``extra``, e.g. the
    rad-score, first), fitted on training."""
    coding = CoxCoding.from_training(cohort, factors) if factors else None
    data = coding.encode(cohort) if coding else time_event(cohort)
    if extra is not None:
        data = extra.join(data)
    covariates = [*(extra.columns if extra is not None else ()), *(term for factor in factors for term in coding.columns(factor))]
    fit, diverged = fit_cox(data, cohort, covariates)
    return CoxModel(model=fit, data=data, factors=tuple(factors), diverged=tuple(diverged))


# --------------------------------------------------------------------------------------
# Step 6: the Cox nomogram
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NomogramCoxFit:
    """The nomogram's Cox model (rad-score + clinical factors) and its :class:`CoxNomogram`."""

    cox: CoxModel
    nomogram: CoxNomogram

    def linear_predictor(self) -> pd.Series:
        """The linear predictor as the nomogram's "Linear predictor" axis shows it (x beta minus rms's ``center``)."""
        lp = self.cox.model.linear_predictor_of(self.cox.data, centred=False) - self.nomogram.center
        return pd.Series(lp, index=self.cox.data.index, name="linear_predictor")


def time_unit_singular(unit: str) -> str:
    """ "months" -> "month": the unit in "12-month survival".

    >>> time_unit_singular("years"), time_unit_singular("days")
    ('year', 'day')
    """
    return unit[:-1] if unit.endswith("s") else unit


def fit_cox_nomogram(cohort: Cohort, rad_score: pd.Series | None, factors: Sequence[str]) -> NomogramCoxFit:
    """The Cox model of the rad-score and ``factors`` on training, drawn as a nomogram with one
    survival axis per prediction time (``rms::nomogram(cph, fun = surv(t, lp))``).

    ``rad_score`` None (the signature kept no feature) leaves the clinical factors alone; with
    neither, there is nothing to model and an error says so.
    """
    if rad_score is None and not factors:
        raise InputError(
            "The nomogram has no predictor: the signature kept no feature and no clinical factor entered the clinical model "
            "(or 'nomogram_factors'). Name factors in 'nomogram_factors', or change 'lambda_rule' / 'mrmr_k'."
        )
    extra = rad_score.rename("rad_score").to_frame() if rad_score is not None else None
    cox = fit_factor_model(cohort, factors, extra=extra)
    training = cox.data[cohort.training.to_numpy()]
    survival = cohort.survival
    nomogram = CoxNomogram(cox.model, training, list(survival.prediction_times), time_unit=time_unit_singular(survival.unit))
    return NomogramCoxFit(cox=cox, nomogram=nomogram)


def informative_signatures(signatures: Mapping[str, Signature]) -> dict[str, Signature]:
    """The signatures that kept at least one feature (a rad-score that varies)."""
    return {name: signature for name, signature in signatures.items() if signature.rad_score.nunique() > 1}


def nomogram_signature_name(signatures: Mapping[str, Signature]) -> str | None:
    """The signature of the nomogram (the combined one, else the only one), or None when it kept no feature."""
    from .radiomics_features import nomogram_signature

    name = nomogram_signature(signatures)
    return name if name in informative_signatures(signatures) else None


def signature_cox_model(cohort: Cohort, signature: Signature) -> CoxModel:
    """A Cox model of a signature's rad-score alone on training: its predicted survival (the
    LASSO-Cox score has no baseline hazard of its own)."""
    return fit_factor_model(cohort, (), extra=signature.rad_score.rename("rad_score").to_frame())


def risk_groups(fit: NomogramCoxFit, cohort: Cohort) -> tuple[pd.Series, float]:
    """Each patient's nomogram risk group (:data:`RISK_GROUPS`) and the cut-off, fixed on the
    training set by ``survival.risk_groups`` and applied unchanged to the validation set."""
    lp = fit.linear_predictor()
    cutoff = cohort.survival.risk_groups.cutoff(lp[cohort.training.to_numpy()])
    groups = pd.Series(np.where(lp >= cutoff, RISK_GROUPS[1], RISK_GROUPS[0]), index=lp.index, name="group")
    for set_name, mask in set_masks(cohort.sets).items():
        present = set(groups[mask])
        if len(present) < 2:
            raise InputError(
                f"The nomogram's risk cut-off {cutoff:.3g} ({cohort.survival.risk_groups.describe()}) puts every patient of the "
                f"{set_name} set in the {present.pop()} group; choose another 'survival.risk_groups'."
            )
    return groups, cutoff
