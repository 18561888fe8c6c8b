"""The LASSO rad-score as a scikit-learn estimator: lambda by (repeated) cross-validation, then a formula.

The penalised fit itself is :func:`stsanalysis.stats.lasso.lasso_logistic` (glmnet's objective).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from ..errors import InputError
from ..validation import binary_outcome
from .lasso import _CV_PROBABILITY_CLIP, _default_path, _feature_matrix, _interpolate, _path, _Standardised, default_lambdas


def _signed_term(value: float, name: str, digits: int) -> str:
    return f"{'-' if value < 0 else '+'} {abs(value):.{digits}g} × {name}"


class LassoRadScore(BaseEstimator, TransformerMixin, ClassifierMixin):
    """Rad-score by LASSO logistic regression with lambda chosen by cross-validation.

    Follows ``cv.glmnet(X, y, family = "binomial", type.measure = "deviance")``: the lambda
    path is computed on all training data and, as glmnet's default path, stops early once
    the fraction of deviance explained exceeds 0.999 or gains less than 1e-5 per lambda
    (so ``lambdas_`` may hold fewer than ``n_lambdas``; lambdas given in ``lambdas`` are all
    fitted, as in glmnet). Every fold is fitted along its own default path and read off at
    the full-data lambdas by linear interpolation (exactly at ``lambdas`` when they are
    given), and at its smallest-lambda fit where its path stopped earlier, as cv.glmnet
    does; the held-out binomial deviance (probabilities clipped to [1e-5, 1 - 1e-5]) is
    averaged per fold,
    ``cvm`` is the fold-size weighted mean and ``se`` = sqrt(weighted variance of the fold
    means / (folds - 1)). ``lambda_rule="min"`` takes the lambda with the smallest mean
    deviance, ``"1se"`` the largest lambda within one SE of it.

    ``cv`` is the number of stratified folds (shuffled with ``random_state``) or any
    scikit-learn splitter, e.g. ``PredefinedSplit(fold_ids)`` to reproduce a cv.glmnet run
    with ``foldid``. With an integer ``cv`` and ``n_repeats`` > 1 the folds are redrawn per
    repeat and the mean deviance and the SE are averaged over repeats (``n_repeats`` is
    ignored when ``cv`` is a splitter).

    After ``fit``: ``coef_`` (Series by feature, original scale), ``intercept_``,
    ``lambda_``, ``lambda_min_``, ``lambda_1se_``, ``lambdas_``, ``cv_results_``
    (lambda, mean_deviance, se, n_nonzero), ``path_`` (coefficients per lambda, original
    scale; index lambda). ``transform``/``decision_function`` give the rad-score (the linear
    predictor), ``predict_proba`` the probabilities; ``formula()`` writes the rad-score.

    Where the features nearly separate the outcome (e.g. 10 features for 60 patients) the
    solver may not converge at the smallest lambdas; the path, of the full data or of a
    fold, then stops there with a ``LassoPathWarning``, as glmnet returns the solutions for
    the larger lambdas with a warning.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(60, 4)), columns=["glcm_contrast", "firstorder_mean", "shape_volume", "noise"])
    >>> y = (X["glcm_contrast"] - X["shape_volume"] + rng.normal(0, 0.5, 60) > 0).astype(int)
    >>> model = LassoRadScore(cv=5, random_state=1).fit(X, y)
    >>> print(model.formula(digits=2))
    Rad-score = 0.062 + 2.6 × glcm_contrast - 0.5 × firstorder_mean - 2.3 × shape_volume
    >>> model.coef_.round(2).tolist()
    [2.57, -0.5, -2.27, 0.0]
    """

    def __init__(
        self,
        lambda_rule: str = "min",
        cv=10,
        n_repeats: int = 1,
        lambdas=None,
        n_lambdas: int = 100,
        scoring: str = "deviance",
        random_state=None,
    ):
        self.lambda_rule = lambda_rule
        self.cv = cv
        self.n_repeats = n_repeats
        self.lambdas = lambdas
        self.n_lambdas = n_lambdas
        self.scoring = scoring
        self.random_state = random_state

    def _folds(self, X: np.ndarray, y: np.ndarray) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        """Train/test indices grouped by repeat."""
        if isinstance(self.cv, (int, np.integer)):
            if self.cv < 2:
                raise InputError(f"'cv' must be at least 2 folds; got {self.cv}.")
            smallest_class = int(min(y.sum(), y.size - y.sum()))
            if smallest_class < self.cv:
                raise InputError(
                    f"'cv' = {self.cv} stratified folds need at least {self.cv} patients in "
                    f"each outcome class; the smaller class has {smallest_class}."
                )
            splitter = (
                RepeatedStratifiedKFold(n_splits=self.cv, n_repeats=self.n_repeats, random_state=self.random_state)
                if self.n_repeats > 1
                else StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
            )
            folds = list(splitter.split(X, y))
            return [folds[i : i + self.cv] for i in range(0, len(folds), self.cv)]
        return [list(self.cv.split(X, y))]

    def fit(self, X, y):
        if self.lambda_rule not in ("min", "1se"):
            raise InputError(f"'lambda_rule' must be 'min' or '1se'; got {self.lambda_rule!r}.")
        if self.scoring != "deviance":
            raise InputError(f"'scoring' must be 'deviance' (cv.glmnet type.measure); got {self.scoring!r}.")
        values, names = _feature_matrix(X)
        y = binary_outcome(y, "y").astype(float)
        if values.shape[0] != y.size:
            raise InputError(f"'X' has {values.shape[0]} rows but 'y' has {y.size} values.")
        standardised = _Standardised.of(values, names)
        lambdas = (
            default_lambdas(values, y, self.n_lambdas) if self.lambdas is None else np.sort(np.asarray(self.lambdas, dtype=float))[::-1]
        )
        default_path = self.lambdas is None
        lambdas, intercepts, betas = _path(standardised.values, y, lambdas, stop_early=default_path)

        mean_deviance, se = [], []
        for repeat in self._folds(values, y):
            fold_deviance, fold_size = [], []
            for train, test in repeat:
                fold = _Standardised.of(values[train], names)
                # as cv.glmnet: each fold follows its own default path (or the lambdas given),
                # read off at the full-data lambdas by linear interpolation in lambda, and at
                # its last fit below the lambdas where it stopped (predict.glmnet, lambda.interp)
                fold_lambdas = _default_path(fold.values, y[train], self.n_lambdas) if default_path else lambdas
                fold_intercepts, fold_betas = _interpolate(*_path(fold.values, y[train], fold_lambdas, stop_early=default_path), lambdas)
                eta = fold_intercepts[:, None] + fold_betas @ ((values[test] - fold.mean) / fold.scale).T
                probability = np.clip(special.expit(eta), _CV_PROBABILITY_CLIP, 1 - _CV_PROBABILITY_CLIP)
                deviance = -2 * (y[test] * np.log(probability) + (1 - y[test]) * np.log(1 - probability))
                fold_deviance.append(deviance.mean(axis=1))
                fold_size.append(test.size)
            fold_deviance, weights = np.array(fold_deviance), np.array(fold_size, dtype=float)
            cvm = weights @ fold_deviance / weights.sum()
            mean_deviance.append(cvm)
            se.append(np.sqrt((weights @ (fold_deviance - cvm) ** 2) / weights.sum() / (len(repeat) - 1)))
        mean_deviance, se = np.mean(mean_deviance, axis=0), np.mean(se, axis=0)

        best = int(np.argmin(mean_deviance))
        self.lambda_min_ = float(lambdas[best])
        self.lambda_1se_ = float(lambdas[mean_deviance <= mean_deviance[best] + se[best]].max())
        self.lambda_ = self.lambda_min_ if self.lambda_rule == "min" else self.lambda_1se_
        chosen = int(np.flatnonzero(lambdas == self.lambda_)[0])

        original = [standardised.original_scale(b0, beta) for b0, beta in zip(intercepts, betas)]
        self.lambdas_ = lambdas
        self.path_ = pd.DataFrame([coefficients for _, coefficients in original], columns=names, index=pd.Index(lambdas, name="lambda"))
        self.path_.insert(0, "intercept", [intercept for intercept, _ in original])
        self.cv_results_ = pd.DataFrame(
            {"lambda": lambdas, "mean_deviance": mean_deviance, "se": se, "n_nonzero": np.count_nonzero(betas, axis=1)}
        )
        self.intercept_, coefficients = original[chosen]
        self.coef_ = pd.Series(coefficients, index=names)
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X) -> np.ndarray:
        """The rad-score: intercept + sum of coefficient x feature."""
        check_is_fitted(self, "coef_")
        values, names = _feature_matrix(X)
        if values.shape[1] != self.n_features_in_:
            raise InputError(f"'X' has {values.shape[1]} features; the rad-score was fitted on {self.n_features_in_}.")
        if isinstance(X, pd.DataFrame) and names != list(self.feature_names_in_):
            raise InputError(
                "The feature columns of 'X' differ from those the rad-score was fitted on "
                f"(first difference: {next(a for a, b in zip(names, self.feature_names_in_) if a != b)!r})."
            )
        return self.intercept_ + values @ self.coef_.to_numpy()

    def transform(self, X) -> np.ndarray:
        """The rad-score as one column (for use inside a Pipeline)."""
        return self.decision_function(X)[:, None]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array(["rad_score"], dtype=object)

    def predict_proba(self, X) -> np.ndarray:
        probability = special.expit(self.decision_function(X))
        return np.column_stack([1 - probability, probability])

    def predict(self, X) -> np.ndarray:
        return (self.decision_function(X) >= 0).astype(int)

    def formula(self, digits: int = 4) -> str:
        """``Rad-score = b0 + b1 × feature_1 - b2 × feature_2 ...`` with ``digits`` significant
        digits (significant, not decimal, because features differ in scale by orders of magnitude)."""
        check_is_fitted(self, "coef_")
        terms = [_signed_term(value, name, digits) for name, value in self.coef_.items() if value != 0]
        return " ".join([f"Rad-score = {self.intercept_:.{digits}g}", *terms])
