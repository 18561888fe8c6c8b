"""Feature selection for radiomics signatures: reliability, redundancy, mRMR.

* :class:`ReliabilityFilter` keeps the features reproducible across segmentations (inter-
  and intra-reader ICC above a threshold), fitted on the re-segmented subset of patients.
* :class:`CorrelationFilter` drops one feature of every highly correlated pair.
* :class:`MRMRSelector` keeps the ``k`` features of maximum relevance to the outcome and
  minimum redundancy among themselves (Peng, Long and Ding, IEEE TPAMI 2005).

The last two are scikit-learn selectors: inside a Pipeline they are fitted on the training
folds only. Feature names follow pyradiomics (``imageType_featureClass_feature``), optionally
prefixed by the sequence (``T1_original_glcm_Contrast``, see
:func:`stsanalysis.radiomics.pipeline.signature_features`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_selection import SelectorMixin, f_classif, mutual_info_classif, mutual_info_regression
from sklearn.utils.validation import check_is_fitted

from ..errors import InputError
from ..stats.reliability import ICC_FORMS, icc_features
from ..validation import finite_feature_frame
from .params import split_feature_name


class _ColumnSelector(SelectorMixin, BaseEstimator):
    """Shared transform: keep the selected columns, as a DataFrame when X is one."""

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return np.asarray(self.support_, dtype=bool)

    def transform(self, X):
        check_is_fitted(self, "support_")
        frame = finite_feature_frame(X)
        if frame.shape[1] != self.n_features_in_:
            raise InputError(f"X must have the {self.n_features_in_} features seen in fit; got {frame.shape[1]}.")
        if isinstance(X, pd.DataFrame):
            if list(X.columns) != list(self.feature_names_in_):
                raise InputError("X must have the feature columns seen in fit, in the same order.")
            return X.loc[:, self._get_support_mask()]
        return frame.to_numpy()[:, self._get_support_mask()]

    def _remember_features(self, frame: pd.DataFrame) -> None:
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]


class ReliabilityFilter(TransformerMixin, BaseEstimator):
    """Keep the features whose segmentation reliability (ICC) exceeds ``threshold``.

    Fitted on the re-segmentation subset (e.g. 40 patients segmented again by a second
    reader, and once more by reader 1 after a month), then applied to the whole feature
    table. ICCs come from :func:`stsanalysis.stats.icc_features` (psych naming; ``ICC2`` =
    two-way random, absolute agreement, single rater, McGraw-Wong ICC(A,1)). A feature is
    kept when every ICC computed (inter-reader, and intra-reader when ``repeat`` is given)
    is strictly greater than ``threshold`` (the published rule "ICC > 0.75"); a feature
    with an undefined ICC (constant) is dropped.
    """

    def __init__(self, threshold=0.75, form="ICC2"):
        self.threshold = threshold
        self.form = form

    def fit(self, reader1: pd.DataFrame, reader2: pd.DataFrame | None, repeat: pd.DataFrame | None = None):
        """``reader1``, ``reader2`` and/or ``repeat`` (reader 1's second segmentation):
        patients x features tables with the same patients (index) and features (columns)."""
        if not 0 <= self.threshold < 1:
            raise InputError(f"'threshold' must be in [0, 1); got {self.threshold!r}.")
        if self.form not in ICC_FORMS:
            raise InputError(f"'form' must be one of {list(ICC_FORMS)}; got {self.form!r}.")
        if reader2 is None and repeat is None:
            raise InputError("ReliabilityFilter.fit needs a second reading: 'reader2' (inter-reader) and/or 'repeat' (intra-reader).")
        iccs = {}
        if reader2 is not None:
            iccs["inter_reader"] = icc_features(reader1, reader2, form=self.form)
        if repeat is not None:
            iccs["intra_reader"] = icc_features(reader1, repeat, form=self.form)
        self.icc_ = pd.DataFrame(iccs)
        self.icc_.index.name = "feature"
        self.support_ = (self.icc_.fillna(-np.inf) > self.threshold).all(axis=1).to_numpy()
        self.feature_names_in_ = np.asarray(self.icc_.index, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.selected_features_ = list(self.icc_.index[self.support_])
        return self

    def get_support(self, indices=False):
        check_is_fitted(self, "support_")
        return np.flatnonzero(self.support_) if indices else self.support_.copy()

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Keep the reliable feature columns of ``X`` (any patients; other columns dropped)."""
        check_is_fitted(self, "support_")
        if not isinstance(X, pd.DataFrame):
            raise InputError("ReliabilityFilter.transform needs a DataFrame with named feature columns.")
        missing = [name for name in self.selected_features_ if name not in X.columns]
        if missing:
            raise InputError(f"X lacks {len(missing)} reliable feature(s) seen in fit, e.g. {missing[:3]}.")
        return X.loc[:, self.selected_features_]

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "support_")
        return np.asarray(self.selected_features_, dtype=object)

    def report(self) -> pd.DataFrame:
        """Features tested and kept per sequence and feature class (tidy table)."""
        check_is_fitted(self, "support_")
        parts = pd.DataFrame([split_feature_name(name) for name in self.icc_.index])
        parts["sequence"] = parts["sequence"].fillna("all")
        parts["kept"] = self.support_
        table = parts.groupby(["sequence", "feature_class"], sort=True)["kept"].agg(n_features="size", n_kept="sum").reset_index()
        table["proportion_kept"] = table["n_kept"] / table["n_features"]
        return table


class CorrelationFilter(_ColumnSelector):
    """Drop one feature of every pair with |correlation| >= ``threshold``.

    Features are visited from the most to the least relevant (absolute Spearman/Pearson
    correlation with ``y``; without ``y``, in column order) and a feature is kept when its
    absolute correlation with every feature kept so far is below ``threshold``. Of a highly
    correlated pair the one more related to the outcome therefore survives, or the first
    column when no ``y`` is given. ``dropped_`` maps each dropped feature to the kept
    feature it duplicates.
    """

    def __init__(self, threshold=0.9, method="spearman"):
        self.threshold = threshold
        self.method = method

    def fit(self, X, y=None):
        if self.method not in ("spearman", "pearson"):
            raise InputError(f"'method' must be 'spearman' or 'pearson'; got {self.method!r}.")
        if not 0 < self.threshold <= 1:
            raise InputError(f"'threshold' must be in (0, 1]; got {self.threshold!r}.")
        frame = finite_feature_frame(X)
        self._remember_features(frame)
        values = frame.to_numpy()
        if self.method == "spearman":
            values = rankdata(values, axis=0)
        standardized = _standardize(values)
        correlation = np.abs(standardized.T @ standardized) / len(values)
        if y is None:
            order = np.arange(values.shape[1])
        else:
            target = np.asarray(y, dtype=float)
            if self.method == "spearman":
                target = rankdata(target)
            relevance = np.abs(standardized.T @ _standardize(target[:, None]))[:, 0] / len(values)
            order = np.argsort(-relevance, kind="stable")
        kept: list[int] = []
        self.dropped_ = {}
        for feature in order:
            duplicates = [k for k in kept if correlation[feature, k] >= self.threshold]
            if duplicates:
                self.dropped_[frame.columns[feature]] = frame.columns[duplicates[0]]
            else:
                kept.append(feature)
        self.support_ = np.zeros(values.shape[1], dtype=bool)
        self.support_[kept] = True
        self.selected_features_ = list(frame.columns[np.sort(kept)])
        return self


class MRMRSelector(_ColumnSelector):
    """Minimum-redundancy maximum-relevance selection of ``k`` features (Peng et al. 2005).

    Greedy forward selection (Peng's MID scheme): the first feature is the most relevant;
    each next one maximises relevance(f) - mean over selected s of redundancy(f, s). Both
    terms are mutual informations in nats; ties go to the first column.

    Estimators
    ----------
    relevance="mutual_info"
        I(feature; y) by ``sklearn.feature_selection.mutual_info_classif``: the
        Kraskov-Stoegbauer-Grassberger nearest-neighbour estimator for a continuous
        feature and a discrete outcome (Ross 2014), ``n_neighbors`` neighbours, features
        scaled to unit variance, tie-breaking noise drawn with ``random_state`` (fixed,
        so that the selection is reproducible). In nats.
    relevance="f_statistic"
        The ANOVA F of the feature between the outcome classes (``f_classif``) turned into
        the mutual information of a normal model, -0.5 ln(1 - eta^2) with
        eta^2 = F (c - 1) / (F (c - 1) + n - c) for c classes: parametric, fast, on the
        same scale as the redundancy.
    relevance="cox_score"
        For a survival outcome: ``y`` holds two columns, the survival time then the event
        (1 = event, 0 = censored), as :class:`~stsanalysis.stats.cox_lasso.LassoCoxRadScore`
        takes it. The univariable Cox score statistic of the feature at beta = 0 (the
        log-rank statistic of a continuous covariate; Breslow handling of tied times, as
        glmnet's Cox family), chi2 = U^2 / I, turned into nats as chi2 / (2 n): the mutual
        information -0.5 ln(1 - R^2) of a normal model whose likelihood-ratio statistic is
        -n ln(1 - R^2), with the score statistic standing in for the likelihood ratio.
    redundancy="correlation"
        I(f; s) = -0.5 ln(1 - r^2) with r Pearson's correlation: the mutual information
        of two jointly normal variables, in nats like the relevance; fast (one matrix
        product per step).
    redundancy="mutual_info"
        I(f; s) by the KSG estimator (``mutual_info_regression``); no normality
        assumption, slower (one nearest-neighbour search per feature and step).

    ``cache_dir`` keeps the mutual-information relevance on disk between runs
    (:func:`stsanalysis.memo.cached_table`, keyed on the data and ``random_state``); None
    computes it every time.

    Attributes
    ----------
    selected_features_
        The ``k`` features in the order of selection.
    scores_
        Relevance of every feature in nats (array, as scikit-learn's univariate selectors).
    selection_scores_
        The mRMR criterion of each selected feature when it was chosen (Series).
    """

    def __init__(
        self,
        k=30,
        relevance="mutual_info",
        redundancy="correlation",
        n_neighbors=3,
        random_state=0,
        cache_dir=None,
    ):
        self.k = k
        self.relevance = relevance
        self.redundancy = redundancy
        self.n_neighbors = n_neighbors
        self.random_state = random_state
        self.cache_dir = cache_dir

    def fit(self, X, y):
        self._check_parameters()
        frame = finite_feature_frame(X)
        if self.k > frame.shape[1]:
            raise InputError(f"'k' ({self.k}) exceeds the number of features ({frame.shape[1]}).")
        target = _survival_target(y, len(frame)) if self.relevance == "cox_score" else _class_target(y, len(frame))
        self._remember_features(frame)
        values = frame.to_numpy()
        relevance = self._relevance(values, target)
        standardized = _standardize(values)

        selected = [int(np.argmax(relevance))]
        criteria = [relevance[selected[0]]]
        redundancy_sum = np.zeros(values.shape[1])
        while len(selected) < self.k:
            redundancy_sum += self._redundancy_to(values, standardized, selected[-1])
            criterion = relevance - redundancy_sum / len(selected)
            criterion[selected] = -np.inf
            best = int(np.argmax(criterion))  # ties: the first column
            selected.append(best)
            criteria.append(criterion[best])

        self.scores_ = relevance
        self.support_ = np.zeros(values.shape[1], dtype=bool)
        self.support_[selected] = True
        self.selected_features_ = list(frame.columns[selected])
        self.selection_scores_ = pd.Series(criteria, index=self.selected_features_, name="mrmr_mid")
        return self

    def _check_parameters(self) -> None:
        choices = {
            "relevance": ("mutual_info", "f_statistic", "cox_score"),
            "redundancy": ("correlation", "mutual_info"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise InputError(f"'{name}' must be one of {list(allowed)}; got {getattr(self, name)!r}.")
        if not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise InputError(f"'k' must be a positive integer; got {self.k!r}.")

    def _relevance(self, values: np.ndarray, target) -> np.ndarray:
        if self.relevance == "cox_score":
            return _cox_score_relevance(values, *target)
        if self.relevance == "mutual_info":
            from ..memo import cached_table

            # the KSG estimate is the slow part of a fit: kept on disk, keyed on the data and the seed
            return cached_table(
                self.cache_dir,
                "mrmr_relevance",
                [pd.DataFrame(values), pd.Series(target), self.n_neighbors, self.random_state],
                lambda: pd.DataFrame(
                    {
                        "relevance": mutual_info_classif(
                            values, target, discrete_features=False, n_neighbors=self.n_neighbors, random_state=self.random_state
                        )
                    }
                ),
            )["relevance"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            statistic, _ = f_classif(values, target)
        statistic = np.nan_to_num(statistic, nan=0.0)  # a constant feature carries no information
        between_df, within_df = len(np.unique(target)) - 1, len(target) - len(np.unique(target))
        eta_squared = statistic * between_df / (statistic * between_df + within_df)
        return _gaussian_mutual_information(eta_squared)

    def _redundancy_to(self, values: np.ndarray, standardized: np.ndarray, feature: int) -> np.ndarray:
        if self.redundancy == "mutual_info":
            return mutual_info_regression(
                values,
                values[:, feature],
                discrete_features=False,
                n_neighbors=self.n_neighbors,
                random_state=self.random_state,
            )
        r = standardized.T @ standardized[:, feature] / len(values)
        return _gaussian_mutual_information(r**2)


def _class_target(y, n_rows: int) -> np.ndarray:
    """A class outcome: one non-missing value per row, at least two classes."""
    target = np.asarray(y)
    if target.shape != (n_rows,) or pd.isna(target).any():
        raise InputError(f"'y' must hold one non-missing outcome per row of X ({n_rows}).")
    if len(np.unique(target)) < 2:
        raise InputError("'y' must have at least two classes to measure relevance.")
    return target


def _survival_target(y, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(time, event) of a two-column survival outcome: positive times, 0/1 events, some events."""
    from ..stats._horizon import prediction_data
    from ..stats.cox_lasso import _survival_outcome

    time, event, names = _survival_outcome(y)
    time, event = prediction_data(time, event, names=names, what="the training data")
    if time.size != n_rows:
        raise InputError(f"'y' must hold one survival time and event per row of X ({n_rows}); got {time.size}.")
    if not event.any():
        raise InputError(f"The survival outcome has no events among its {n_rows} patients; relevance='cox_score' needs events.")
    return time, event


def _cox_score_relevance(values: np.ndarray, time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """chi2 / (2 n) of each column's univariable Cox score test at beta = 0 (Breslow ties).

    U = sum over events of (x_i - mean of x in the risk set), I = sum over event times of
    d_k x the variance of x in the risk set; chi2 = U^2 / I (0 for a constant feature).
    """
    order = np.argsort(time, kind="stable")
    centred = values[order] - values.mean(axis=0)
    sorted_time, sorted_event = time[order], event[order]
    event_times, tied = np.unique(sorted_time[sorted_event == 1], return_counts=True)
    # risk set of an event time: the patients from the first with time >= it
    start = np.searchsorted(sorted_time, event_times, side="left")
    at_risk = (time.size - start)[:, None]
    sums = np.cumsum(centred[::-1], axis=0)[::-1][start]
    squares = np.cumsum(centred[::-1] ** 2, axis=0)[::-1][start]
    mean = sums / at_risk
    score = centred[sorted_event == 1].sum(axis=0) - tied @ mean
    information = tied @ (squares / at_risk - mean**2)
    chi_square = np.divide(score**2, information, out=np.zeros_like(score), where=information > 1e-12 * np.maximum(1.0, tied.sum()))
    return chi_square / (2 * time.size)


def _gaussian_mutual_information(r_squared: np.ndarray) -> np.ndarray:
    """-0.5 ln(1 - r^2): mutual information (nats) of jointly normal variables."""
    return -0.5 * np.log1p(-np.minimum(r_squared, 1 - 1e-12))


def _standardize(values: np.ndarray) -> np.ndarray:
    """Columns centred and scaled to unit population SD; constant columns become 0."""
    centred = values - values.mean(axis=0)
    sd = centred.std(axis=0)
    return np.divide(centred, sd, out=np.zeros_like(centred, dtype=float), where=sd > 0)
