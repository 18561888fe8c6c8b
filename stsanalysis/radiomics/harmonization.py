"""ComBat harmonisation of batch (scanner/centre) effects, as ``sva::ComBat``.

ComBat (Johnson, Li and Rabinovic, Biostatistics 2007) models each feature as
``x = alpha + covariates * beta + gamma_batch + delta_batch * error``: it standardises the
features, estimates the additive (gamma) and multiplicative (delta) batch effects per
feature, shrinks them towards their across-feature mean by empirical Bayes (parametric
normal / inverse-gamma priors fitted by the method of moments, or a non-parametric prior
integrated over the other features), and removes them.

:class:`ComBat` reproduces ``sva::ComBat`` (its ``fit_transform`` equals ComBat's output on
the training data) and, unlike ``sva``, keeps the estimates so that ``transform`` applies
them to new data (a validation centre) without refitting: the harmonisation is learnt on
the training set only. sva works on features x samples matrices; here X is samples x
features, as in scikit-learn.

Batch labels in a scikit-learn Pipeline
---------------------------------------
A Pipeline passes only ``X`` (and ``y`` to ``fit``), so ComBat can take the batch labels at
construction: ``ComBat(batch_labels=centre)`` with ``centre`` a Series indexed by sample id.
``fit``/``transform`` then look the batch of every row of X up by ``X.index`` (the
preceding steps must keep the index: ``set_output(transform="pandas")``), and the second
positional argument of ``fit`` (where a Pipeline puts ``y``) is ignored. Outside a
Pipeline, pass ``batch`` (and ``covariates``) to ``fit``/``transform`` directly.

Degenerate batches (where this differs from sva)
------------------------------------------------
- A batch of one sample has no variance to estimate: ``sva::ComBat`` then switches to
  ``mean.only = TRUE`` for all batches with only a printed note. Here ``fit`` raises
  :class:`~stsanalysis.errors.InputError` naming the batch, unless ``mean_only=True`` was
  chosen (which then matches ``sva::ComBat(mean.only = TRUE)``).
- A feature constant within a batch (of two or more samples) has no scale there. sva
  leaves such a feature unadjusted in every batch (and prints a note). Here it is adjusted
  for location only in the batch where it is constant (its delta* is 1, its gamma* the
  ``mean.only`` posterior) and fully in the others, with a :class:`ComBatWarning` naming
  feature and batch; the priors are estimated from the other features, so that those are
  harmonised exactly as by sva. A feature that cannot be standardised at all (constant
  within every batch, or within ``ref_batch``) is passed through unchanged, as sva does,
  also with a :class:`ComBatWarning`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..errors import InputError
from ..validation import finite_feature_frame

# sva::it.sol's convergence criterion
_CONVERGENCE = 1e-4
#: Features listed by name in a ComBatWarning (the attributes hold all of them).
_LISTED = 10


class ComBatWarning(UserWarning):
    """A feature ComBat cannot fully adjust: constant within a batch (named with the batch)."""


class ComBat(TransformerMixin, BaseEstimator):
    """Empirical-Bayes location/scale batch harmonisation matching ``sva::ComBat``.

    Parameters
    ----------
    parametric
        ``True``: parametric priors (``par.prior = TRUE``, the sva default); ``False``:
        non-parametric prior (sva's ``int.eprior``, slower, O(features^2) per batch).
    mean_only
        Adjust only the batch means, not the variances (``mean.only = TRUE``). Required when
        a batch has a single sample (``fit`` raises :class:`InputError` otherwise, where sva
        switches silently; see the module docstring).
    ref_batch
        A batch left unchanged; the others are moved to it (``ref.batch``).
    batch_labels
        Optional Series of batch labels indexed by sample id, for use inside a Pipeline
        (see the module docstring). ``None``: pass ``batch`` to ``fit``/``transform``.

    Attributes
    ----------
    batches_
        Batch levels (sorted, as R's factor levels).
    grand_mean_, var_pooled_
        Per-feature standardisation (Series).
    covariate_coefficients_
        Covariate effects (DataFrame covariate x feature; empty without covariates).
    gamma_hat_, delta_hat_, gamma_star_, delta_star_
        Batch effects before and after empirical-Bayes shrinkage (DataFrame batch x feature).
    unadjusted_features_
        Features that cannot be standardised (constant within every batch, or within
        ``ref_batch``); passed through unchanged, as sva does, with a :class:`ComBatWarning`.
    location_only_
        ``(feature, batch)`` pairs where the feature is constant within the batch: adjusted
        for location only there (delta* = 1), with a :class:`ComBatWarning` unless
        ``mean_only``. sva leaves such features unadjusted everywhere.
    """

    def __init__(self, parametric=True, mean_only=False, ref_batch=None, batch_labels=None):
        self.parametric = parametric
        self.mean_only = mean_only
        self.ref_batch = ref_batch
        self.batch_labels = batch_labels

    # ------------------------------------------------------------------ public API

    def fit(self, X, batch=None, covariates=None):
        """Estimate the batch effects on training data ``X`` (samples x features).

        ``batch``: one label per row (ignored when ``batch_labels`` was given; a Pipeline
        passes ``y`` there). ``covariates``: numeric DataFrame/array of effects to protect
        (e.g. the outcome coded 0/1), one row per sample; encode categories as 0/1 columns.
        """
        frame = finite_feature_frame(X)
        labels = self._batch_of(frame, batch)
        design_covariates = self._covariate_matrix(covariates, frame, fitting=True)
        self.batches_ = np.array(sorted(pd.unique(labels)), dtype=object)
        if self.ref_batch is not None and self.ref_batch not in set(self.batches_):
            raise InputError(f"ref_batch {self.ref_batch!r} is not one of the batches {list(self.batches_)}.")
        if len(self.batches_) < 2:
            raise InputError(f"ComBat needs at least 2 batches; got {list(self.batches_)}.")
        self._check_batch_sizes(frame.index, labels)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self._fit(frame.to_numpy(dtype=float), labels, design_covariates)
        return self

    def transform(self, X, batch=None, covariates=None):
        """Remove the training batch effects from ``X``; nothing is re-estimated.

        Every batch of ``X`` must have been seen in ``fit`` (else :class:`InputError`
        naming it); covariates are required when ``fit`` had them.
        """
        check_is_fitted(self, "gamma_star_")
        frame = finite_feature_frame(X)
        if list(frame.columns) != list(self.feature_names_in_):
            raise InputError(
                f"X must have the {self.n_features_in_} feature columns ComBat was fitted on, "
                f"in the same order; got {frame.shape[1]} columns."
            )
        labels = self._batch_of(frame, batch)
        unseen = sorted(set(labels) - set(self.batches_), key=str)
        if unseen:
            raise InputError(
                f"Batch(es) {unseen} were not in the training data (batches {list(self.batches_)}); "
                "ComBat can only remove the effects of batches it was fitted on."
            )
        design_covariates = self._covariate_matrix(covariates, frame, fitting=False)
        values = frame.to_numpy(dtype=float)
        stand_mean = self.grand_mean_.to_numpy() + design_covariates @ self.covariate_coefficients_.to_numpy()
        scale = np.sqrt(self.var_pooled_.to_numpy())
        rows = pd.Index(self.batches_).get_indexer(labels)
        gamma, delta = self._batch_effect_rows(rows)
        adjusted = (values - stand_mean) / scale
        adjusted = (adjusted - gamma) / np.sqrt(delta) * scale + stand_mean
        if self.ref_batch is not None:  # sva returns the reference batch unchanged
            in_ref = np.asarray(labels == self.ref_batch)
            adjusted[in_ref] = values[in_ref]
        keep = frame.columns.isin(self.unadjusted_features_)
        adjusted[:, keep] = values[:, keep]
        return pd.DataFrame(adjusted, index=frame.index, columns=frame.columns)

    def fit_transform(self, X, batch=None, covariates=None):
        """``fit`` then ``transform`` on the same data: the output of ``sva::ComBat``."""
        return self.fit(X, batch, covariates).transform(X, batch, covariates)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "feature_names_in_")
        return self.feature_names_in_.copy()

    # ------------------------------------------------------------------ estimation

    def _check_batch_sizes(self, samples: pd.Index, labels: np.ndarray) -> None:
        sizes = pd.Series(labels).value_counts()
        if self.ref_batch is not None and sizes[self.ref_batch] < 2:
            raise InputError(
                f"The reference batch {self.ref_batch!r} has {sizes[self.ref_batch]} sample; ComBat estimates the "
                "pooled variance from the reference batch and needs at least 2 samples there."
            )
        single = sorted(sizes.index[sizes == 1], key=str)
        if single and not self.mean_only:
            listed = ", ".join(f"{batch!r} (n = 1: sample {samples[np.asarray(labels == batch)][0]!r})" for batch in single)
            raise InputError(
                f"ComBat cannot estimate a batch variance from one sample: batch(es) {listed}. Use "
                "ComBat(mean_only=True) to adjust only the batch means (as sva::ComBat(mean.only = TRUE)), or merge "
                "the batch with a similar one."
            )
        if len(labels) <= len(sizes):
            raise InputError(f"ComBat needs more samples than batches; got {len(labels)} samples in {len(sizes)} batches.")

    def _fit(self, values: np.ndarray, labels: np.ndarray, covariates: np.ndarray) -> None:
        batch_index = pd.Index(self.batches_).get_indexer(labels)
        n_batch = len(self.batches_)
        counts = np.bincount(batch_index, minlength=n_batch)
        ref = None if self.ref_batch is None else int(np.flatnonzero(self.batches_ == self.ref_batch)[0])

        # constant[b, j]: feature j does not vary within batch b (of two or more samples)
        constant = np.zeros((n_batch, values.shape[1]), dtype=bool)
        for b in np.flatnonzero(counts > 1):
            constant[b] = np.ptp(values[batch_index == b], axis=0) == 0  # identical values (var can round to 1e-33)
        passed_through = constant[ref] if ref is not None else constant[counts > 1].all(axis=0)
        location_only = constant & ~passed_through
        self._warn_degenerate(constant, passed_through, counts)
        data = values[:, ~passed_through]

        batch_design = np.eye(n_batch)[batch_index]
        if ref is not None:
            batch_design[:, ref] = 1.0  # sva: the reference column becomes the intercept
        design = np.column_stack([batch_design, covariates])
        if np.linalg.matrix_rank(design) < design.shape[1]:
            raise InputError("The covariates are confounded with batch (or with each other); remove the confounded covariate(s) and refit.")
        coefficients = np.linalg.solve(design.T @ design, design.T @ data)
        if ref is not None:
            grand_mean = coefficients[ref]
            residuals = data[batch_index == ref] - design[batch_index == ref] @ coefficients
        else:
            grand_mean = (counts / len(labels)) @ coefficients[:n_batch]
            residuals = data - design @ coefficients
        var_pooled = (residuals**2).mean(axis=0)  # divisor n, as sva
        covariate_coefficients = coefficients[n_batch:]
        standardized = (data - grand_mean - covariates @ covariate_coefficients) / np.sqrt(var_pooled)

        gamma_hat = np.linalg.solve(batch_design.T @ batch_design, batch_design.T @ standardized)
        if self.mean_only:
            delta_hat = np.ones((n_batch, data.shape[1]))
        else:  # 0 where location_only (those cells get delta* = 1)
            delta_hat = np.vstack([standardized[batch_index == b].var(axis=0, ddof=1) for b in range(n_batch)])
        gamma_star, delta_star = self._empirical_bayes(standardized, batch_index, gamma_hat, delta_hat, location_only[:, ~passed_through])
        if ref is not None:
            gamma_star[ref], delta_star[ref] = 0.0, 1.0

        # passed-through features: zero effects, unit scale, so transform leaves them as they are
        def full(adjusted_values, fill):
            out = np.full(adjusted_values.shape[:-1] + (values.shape[1],), fill, dtype=float)
            out[..., ~passed_through] = adjusted_values
            return out

        columns = pd.Index(self.feature_names_in_)
        by_batch = dict(index=pd.Index(self.batches_, name="batch"), columns=columns)
        self._batch_design_rows = np.eye(n_batch) if ref is None else _with_ref_column(n_batch, ref)
        self.unadjusted_features_ = list(columns[passed_through])
        self.location_only_ = [(columns[j], self.batches_[b]) for j, b in zip(*np.nonzero(location_only.T))]
        self.grand_mean_ = pd.Series(full(grand_mean, 0.0), index=columns)
        self.var_pooled_ = pd.Series(full(var_pooled, 1.0), index=columns)
        self.covariate_coefficients_ = pd.DataFrame(full(covariate_coefficients, 0.0), index=self._covariate_names, columns=columns)
        self.gamma_hat_ = pd.DataFrame(full(gamma_hat, 0.0), **by_batch)
        self.delta_hat_ = pd.DataFrame(full(delta_hat, 1.0), **by_batch)
        self.gamma_star_ = pd.DataFrame(full(gamma_star, 0.0), **by_batch)
        self.delta_star_ = pd.DataFrame(full(delta_star, 1.0), **by_batch)
        self.mean_only_used_ = bool(self.mean_only)

    def _empirical_bayes(self, standardized, batch_index, gamma_hat, delta_hat, location_only):
        """gamma* and delta* of every batch and feature.

        The priors of a batch come from the features sva adjusts (those constant in no
        batch), so that their estimates equal sva's; a feature constant within some batch
        gets its posterior under those priors, location only (as ``mean.only``) where it is
        constant.
        """
        regular = ~location_only.any(axis=0)
        gamma_star, delta_star = np.empty_like(gamma_hat), np.ones_like(delta_hat)
        for b in range(len(self.batches_)):
            in_batch = standardized[batch_index == b]
            # without any regular feature, the priors come from the cells that have a scale
            prior = regular if regular.any() else ~location_only[b] if (~location_only[b]).any() else location_only[b]
            prior_effects = (gamma_hat[b, prior], delta_hat[b, prior])
            groups = [
                (regular, None, bool(self.mean_only)),  # sva's own computation
                (~regular & ~location_only[b], prior_effects, bool(self.mean_only)),
                (location_only[b], prior_effects, True),
            ]
            for columns, priors, location in groups:
                if not columns.any():
                    continue
                if self.parametric:
                    estimates = _parametric_eb(in_batch[:, columns], gamma_hat[b, columns], delta_hat[b, columns], location, priors)
                else:
                    delta = np.ones(columns.sum()) if location else delta_hat[b, columns]
                    if priors is not None and location:
                        priors = (priors[0], np.ones_like(priors[1]))
                    estimates = _nonparametric_eb(in_batch[:, columns], gamma_hat[b, columns], delta, priors)
                gamma_star[b, columns], delta_star[b, columns] = estimates
        return gamma_star, delta_star

    def _warn_degenerate(self, constant: np.ndarray, passed_through: np.ndarray, counts: np.ndarray) -> None:
        """One ComBatWarning per kind of degenerate feature, naming features and batches."""
        names = np.asarray(self.feature_names_in_)

        def listed(features: np.ndarray) -> str:
            text = "; ".join(
                f"'{names[j]}' in batch(es) " + ", ".join(f"{self.batches_[b]!r} (n = {counts[b]})" for b in np.flatnonzero(constant[:, j]))
                for j in features[:_LISTED]
            )
            return text + (f"; and {len(features) - _LISTED} more" if len(features) > _LISTED else "")

        location_only = np.flatnonzero(constant.any(axis=0) & ~passed_through)
        if len(location_only) and not self.mean_only:
            warnings.warn(
                ComBatWarning(
                    f"{len(location_only)} feature(s) are constant within a batch, where their scale cannot be "
                    f"estimated: {listed(location_only)}. They are adjusted for location only in those batches "
                    "(sva::ComBat would leave them unadjusted in every batch); see ComBat.location_only_."
                ),
                stacklevel=4,
            )
        unadjusted = np.flatnonzero(passed_through)
        if len(unadjusted):
            where = "the reference batch" if self.ref_batch is not None else "every batch"
            warnings.warn(
                ComBatWarning(
                    f"{len(unadjusted)} feature(s) are constant within {where} and cannot be standardised: "
                    f"{listed(unadjusted)}. They are passed through unchanged, as sva::ComBat does; "
                    "see ComBat.unadjusted_features_."
                ),
                stacklevel=4,
            )

    def _batch_effect_rows(self, rows: np.ndarray):
        # sva subtracts batch.design %*% gamma.star (with ref.batch the reference column is 1
        # for every sample, and gamma.star of the reference batch is 0)
        gamma = self._batch_design_rows[rows] @ self.gamma_star_.to_numpy()
        return gamma, self.delta_star_.to_numpy()[rows]

    # ------------------------------------------------------------------ input handling

    def _batch_of(self, frame: pd.DataFrame, batch) -> np.ndarray:
        if self.batch_labels is not None:
            lookup = pd.Series(self.batch_labels)
            missing = frame.index.difference(lookup.index)
            if len(missing):
                raise InputError(
                    f"batch_labels has no batch for sample(s) {list(missing[:5])} of X; it must be indexed by the same sample ids as X."
                )
            labels = lookup.reindex(frame.index).to_numpy()
        elif batch is None:
            raise InputError(
                "ComBat needs the batch of every sample: pass batch=... or construct ComBat(batch_labels=<Series indexed by sample id>)."
            )
        else:
            labels = np.asarray(batch, dtype=object)
            if labels.shape != (len(frame),):
                raise InputError(f"'batch' must have one label per row of X ({len(frame)}); got shape {labels.shape}.")
        if pd.isna(labels).any():
            raise InputError(f"'batch' has {int(pd.isna(labels).sum())} missing label(s).")
        return labels

    def _covariate_matrix(self, covariates, frame: pd.DataFrame, fitting: bool) -> np.ndarray:
        if fitting:
            self._covariate_names = [] if covariates is None else list(pd.DataFrame(covariates).columns)
        if covariates is None:
            if not fitting and self._covariate_names:
                raise InputError(f"ComBat was fitted with covariates {self._covariate_names}; pass them to transform too.")
            return np.zeros((len(frame), 0))
        table = pd.DataFrame(covariates)
        if not fitting and list(table.columns) != self._covariate_names:
            raise InputError(f"covariates must have the columns used in fit {self._covariate_names}; got {list(table.columns)}.")
        if len(table) != len(frame):
            raise InputError(f"covariates must have one row per sample ({len(frame)}); got {len(table)}.")
        numeric = table.apply(pd.to_numeric, errors="coerce")
        if numeric.isna().any(axis=None):
            raise InputError(
                "covariates must be numeric without missing values (code categories as 0/1 columns); "
                f"check columns {list(table.columns[numeric.isna().any().to_numpy()])}."
            )
        return numeric.to_numpy(dtype=float)


def _with_ref_column(n_batch: int, ref: int) -> np.ndarray:
    rows = np.eye(n_batch)
    rows[:, ref] = 1.0
    return rows


def _parametric_eb(standardized, gamma_hat, delta_hat, mean_only, priors=None):
    """sva's parametric empirical Bayes: priors by the method of moments, then it.sol.

    ``priors``: the (gamma_hat, delta_hat) of the features that set the priors; by
    default these features themselves, as sva.
    """
    prior_gamma, prior_delta = (gamma_hat, delta_hat) if priors is None else priors
    gamma_bar, tau2 = prior_gamma.mean(), prior_gamma.var(ddof=1)
    if mean_only:  # sva: postmean(gamma.hat, gamma.bar, n = 1, d.star = 1, t2)
        return (tau2 * gamma_hat + gamma_bar) / (tau2 + 1), np.ones_like(gamma_hat)
    mean_delta, var_delta = prior_delta.mean(), prior_delta.var(ddof=1)
    a_prior = (2 * var_delta + mean_delta**2) / var_delta
    b_prior = (mean_delta * var_delta + mean_delta**3) / var_delta
    n = standardized.shape[0]
    gamma_old, delta_old = gamma_hat, delta_hat
    while True:
        gamma_new = (tau2 * n * gamma_hat + delta_old * gamma_bar) / (tau2 * n + delta_old)
        sum2 = ((standardized - gamma_new) ** 2).sum(axis=0)
        delta_new = (0.5 * sum2 + b_prior) / (n / 2 + a_prior - 1)
        # sva's criterion, signed denominators included, so that iterations stop where sva's do
        change = max(
            (np.abs(gamma_new - gamma_old) / gamma_old).max(),
            (np.abs(delta_new - delta_old) / delta_old).max(),
        )
        gamma_old, delta_old = gamma_new, delta_new
        if not change > _CONVERGENCE:
            return gamma_new, delta_new


def _nonparametric_eb(standardized, gamma_hat, delta_hat, priors=None):
    """sva's int.eprior: posterior means over the empirical prior of the other features.

    For feature r, the other features' (gamma_k, delta_k) are weighted by the normal
    likelihood of feature r's standardized data; computed on the log scale (the weights
    are the same, without sva's underflow to 0/0 when a batch is large). ``priors``: the
    (gamma_hat, delta_hat) of other features forming the prior; by default these features,
    each left out of its own prior, as sva.
    """
    prior_gamma, prior_delta = (gamma_hat, delta_hat) if priors is None else priors
    n = standardized.shape[0]
    sum_x, sum_x2 = standardized.sum(axis=0), (standardized**2).sum(axis=0)
    # sum2[r, k] = sum_j (x_rj - gamma_k)^2
    sum2 = sum_x2[:, None] - 2 * np.outer(sum_x, prior_gamma) + n * prior_gamma[None, :] ** 2
    log_likelihood = -n / 2 * np.log(2 * np.pi * prior_delta)[None, :] - sum2 / (2 * prior_delta[None, :])
    if priors is None:
        np.fill_diagonal(log_likelihood, -np.inf)  # leave feature r out of its own prior
    weights = np.exp(log_likelihood - log_likelihood.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return weights @ prior_gamma, weights @ prior_delta
