"""The LASSO rad-score as a scikit-learn estimator: lambda by (repeated) cross-validation, then a formula.

The penalised fit itself is :func:`stsanalysis.stats.lasso.lasso_logistic` (glmnet's objective).
``_CrossValidatedLasso`` holds what this estimator shares with
:class:`~stsanalysis.stats.cox_lasso.LassoCoxRadScore`: the folds, each fold's path read off
at the full-data lambdas, cv.glmnet's summary (cvm, cvsd), the lambda rule, the fitted
attributes and the formula.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import special
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from ..errors import InputError
from ..memo import cached_table
from ..validation import binary_outcome
from .lasso import _CV_PROBABILITY_CLIP, _BinomialLoss, _default_path, _feature_matrix, _interpolate, _lasso_path, _Standardised


def _signed_term(value: float, name: str, digits: int) -> str:
    return f"{'-' if value < 0 else '+'} {abs(value):.{digits}g} × {name}"


class _CrossValidatedLasso(BaseEstimator, TransformerMixin):
    """Lambda by cross-validation as cv.glmnet; subclasses give the loss and the held-out deviance.

    Its parameters, shared by both estimators: ``lambda_rule``, ``cv``, ``n_repeats``, ``lambdas``, ``n_lambdas``,
    ``random_state`` and ``cache_dir`` (a folder that keeps the cross-validated deviance, the
    slow part of a fit, between runs: :func:`stsanalysis.memo.cached_table`; None: no cache).
    """

    def __init__(
        self, lambda_rule: str = "min", cv=10, n_repeats: int = 1, lambdas=None, n_lambdas: int = 100, random_state=None, cache_dir=None
    ):
        self.lambda_rule = lambda_rule
        self.cv = cv
        self.n_repeats = n_repeats
        self.lambdas = lambdas
        self.n_lambdas = n_lambdas
        self.random_state = random_state
        self.cache_dir = cache_dir

    def _check_lambda_rule(self) -> None:
        if self.lambda_rule not in ("min", "1se"):
            raise InputError(f"'lambda_rule' must be 'min' or '1se'; got {self.lambda_rule!r}.")

    def _folds(self, X: np.ndarray, strata: np.ndarray, classes: str) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        """Train/test indices grouped by repeat, stratified on ``strata`` (named ``classes``
        in the error message) when ``cv`` is a number of folds."""
        if isinstance(self.cv, (int, np.integer)):
            if self.cv < 2:
                raise InputError(f"'cv' must be at least 2 folds; got {self.cv}.")
            smallest_class = int(np.unique(strata, return_counts=True)[1].min())
            if smallest_class < self.cv:
                raise InputError(
                    f"'cv' = {self.cv} stratified folds need at least {self.cv} patients in "
                    f"each {classes}; the smaller class has {smallest_class}."
                )
            splitter = (
                RepeatedStratifiedKFold(n_splits=self.cv, n_repeats=self.n_repeats, random_state=self.random_state)
                if self.n_repeats > 1
                else StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
            )
            folds = list(splitter.split(X, strata))
            return [folds[i : i + self.cv] for i in range(0, len(folds), self.cv)]
        return [list(self.cv.split(X, strata))]

    def _lambda_grid(self, loss, Xs: np.ndarray) -> np.ndarray:
        """glmnet's default path, or the lambdas given, in decreasing order."""
        if self.lambdas is None:
            if not isinstance(self.n_lambdas, (int, np.integer)) or self.n_lambdas < 2:
                raise InputError(f"'n_lambdas' must be an integer of at least 2; got {self.n_lambdas!r}.")
            return _default_path(loss, Xs, self.n_lambdas)
        lambdas = np.sort(np.asarray(self.lambdas, dtype=float).ravel())[::-1]
        if lambdas.size == 0 or not np.isfinite(lambdas).all() or lambdas[-1] <= 0:
            raise InputError(f"'lambdas' must be positive numbers; got {np.asarray(self.lambdas).ravel()[:5].tolist()}.")
        return lambdas

    def _cross_validate(
        self, values: np.ndarray, names: list[str], folds, loss_of: Callable, lambdas: np.ndarray, held_out: Callable, outcome
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_cross_validated_deviance`, or its result for the same inputs kept in ``cache_dir``.

        The key is everything the deviance depends on: the estimator, the features, the
        ``outcome`` (the arrays ``loss_of`` and ``held_out`` read), the folds and the lambdas.
        """

        def compute() -> pd.DataFrame:
            cvm, cvsd = self._cross_validated_deviance(values, names, folds, loss_of, lambdas, held_out)
            return pd.DataFrame({"mean_deviance": cvm, "se": cvsd})

        parts = [
            type(self).__name__,
            pd.DataFrame(values, columns=names),
            pd.DataFrame(np.column_stack(outcome)),
            [[(train.tolist(), test.tolist()) for train, test in repeat] for repeat in folds],
            lambdas.tolist(),
            self.lambdas is None,
            self.n_lambdas,
        ]
        table = cached_table(self.cache_dir, "lasso_cv", parts, compute)
        return table["mean_deviance"].to_numpy(), table["se"].to_numpy()

    def _cross_validated_deviance(
        self, values: np.ndarray, names: list[str], folds, loss_of: Callable, lambdas: np.ndarray, held_out: Callable
    ) -> tuple[np.ndarray, np.ndarray]:
        """cv.glmnet's ``cvm`` and ``cvsd`` at ``lambdas``, averaged over repeats.

        As cv.glmnet, each fold follows its own default path (or the lambdas given), read off
        at the full-data lambdas by linear interpolation in lambda, and at its last fit below
        the lambdas where it stopped (predict.glmnet, lambda.interp). ``loss_of(train, what)``
        gives the loss of a training part; ``held_out(train, test, fold, loss, unpenalised,
        betas)`` (``fold`` the training part standardised, the coefficients on that scale)
        gives the fold's deviance per lambda and its weight. ``cvm`` is the weighted mean over
        folds and ``cvsd`` = sqrt(weighted variance / (folds - 1)).
        """
        default_path = self.lambdas is None
        mean_deviance, se = [], []
        for repeat in folds:
            fold_deviance, fold_weight = [], []
            for number, (train, test) in enumerate(repeat, start=1):
                what = f"the training part of fold {number}"
                fold = _Standardised.of(values[train], names, what)
                loss = loss_of(train, what)
                fold_lambdas = _default_path(loss, fold.values, self.n_lambdas) if default_path else lambdas
                unpenalised, betas = _interpolate(*_lasso_path(loss, fold.values, fold_lambdas, stop_early=default_path), lambdas)
                deviance, weight = held_out(train, test, fold, loss, unpenalised, betas)
                fold_deviance.append(deviance)
                fold_weight.append(weight)
            fold_deviance, weights = np.array(fold_deviance), np.array(fold_weight, dtype=float)
            cvm = weights @ fold_deviance / weights.sum()
            mean_deviance.append(cvm)
            se.append(np.sqrt((weights @ (fold_deviance - cvm) ** 2) / weights.sum() / (len(repeat) - 1)))
        return np.mean(mean_deviance, axis=0), np.mean(se, axis=0)

    def _store(self, names, lambdas, betas, coefficients, mean_deviance, se, intercepts=None) -> int:
        """Set lambda_min_, lambda_1se_, lambda_ (cv.glmnet's rules), lambdas_, path_,
        cv_results_, coef_ (original scale) and the feature names; return the chosen index."""
        best = int(np.argmin(mean_deviance))
        self.lambda_min_ = float(lambdas[best])
        self.lambda_1se_ = float(lambdas[mean_deviance <= mean_deviance[best] + se[best]].max())
        self.lambda_ = self.lambda_min_ if self.lambda_rule == "min" else self.lambda_1se_
        chosen = int(np.flatnonzero(lambdas == self.lambda_)[0])
        self.lambdas_ = lambdas
        self.path_ = pd.DataFrame(coefficients, columns=names, index=pd.Index(lambdas, name="lambda"))
        if intercepts is not None:
            self.path_.insert(0, "intercept", intercepts)
        self.cv_results_ = pd.DataFrame(
            {"lambda": lambdas, "mean_deviance": mean_deviance, "se": se, "n_nonzero": np.count_nonzero(betas, axis=1)}
        )
        self.coef_ = pd.Series(coefficients[chosen], index=names)
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        return chosen

    def _feature_values(self, X) -> np.ndarray:
        """The features of ``X``, checked against those the rad-score was fitted on."""
        check_is_fitted(self, "coef_")
        values, names = _feature_matrix(X)
        if values.shape[1] != self.n_features_in_:
            raise InputError(f"'X' has {values.shape[1]} features; the rad-score was fitted on {self.n_features_in_}.")
        if isinstance(X, pd.DataFrame) and names != list(self.feature_names_in_):
            raise InputError(
                "The feature columns of 'X' differ from those the rad-score was fitted on "
                f"(first difference: {next(a for a, b in zip(names, self.feature_names_in_) if a != b)!r})."
            )
        return values

    def transform(self, X) -> np.ndarray:
        """The rad-score as one column (for use inside a Pipeline)."""
        return self.decision_function(X)[:, None]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array(["rad_score"], dtype=object)

    def _formula(self, digits: int, intercept: float | None = None) -> str:
        check_is_fitted(self, "coef_")
        terms = [_signed_term(value, name, digits) for name, value in self.coef_.items() if value != 0]
        if intercept is not None:
            return " ".join([f"Rad-score = {intercept:.{digits}g}", *terms])
        if not terms:
            return "Rad-score = 0"
        first = terms[0][2:] if terms[0].startswith("+") else "-" + terms[0][2:]
        return " ".join(["Rad-score =", first, *terms[1:]])


class LassoRadScore(_CrossValidatedLasso, ClassifierMixin):
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
        cache_dir=None,
    ):
        super().__init__(lambda_rule, cv, n_repeats, lambdas, n_lambdas, random_state, cache_dir)
        self.scoring = scoring

    def fit(self, X, y):
        self._check_lambda_rule()
        if self.scoring != "deviance":
            raise InputError(f"'scoring' must be 'deviance' (cv.glmnet type.measure); got {self.scoring!r}.")
        values, names = _feature_matrix(X)
        y = binary_outcome(y, "y").astype(float)
        if values.shape[0] != y.size:
            raise InputError(f"'X' has {values.shape[0]} rows but 'y' has {y.size} values.")
        standardised = _Standardised.of(values, names)
        loss = _BinomialLoss(y)
        lambdas, intercepts, betas = _lasso_path(
            loss, standardised.values, self._lambda_grid(loss, standardised.values), stop_early=self.lambdas is None
        )

        def held_out(train, test, fold, loss, intercepts, betas):
            eta = intercepts + betas @ fold.transform(values[test]).T
            probability = np.clip(special.expit(eta), _CV_PROBABILITY_CLIP, 1 - _CV_PROBABILITY_CLIP)
            deviance = -2 * (y[test] * np.log(probability) + (1 - y[test]) * np.log(1 - probability))
            return deviance.mean(axis=1), test.size

        folds = self._folds(values, y, "outcome class")
        mean_deviance, se = self._cross_validate(values, names, folds, lambda train, _: _BinomialLoss(y[train]), lambdas, held_out, (y,))
        original = [standardised.original_scale(float(b0), beta) for b0, beta in zip(intercepts[:, 0], betas)]
        chosen = self._store(
            names,
            lambdas,
            betas,
            np.array([coefficients for _, coefficients in original]).reshape(len(lambdas), len(names)),
            mean_deviance,
            se,
            intercepts=[intercept for intercept, _ in original],
        )
        self.intercept_ = original[chosen][0]
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X) -> np.ndarray:
        """The rad-score: intercept + sum of coefficient x feature."""
        return self.intercept_ + self._feature_values(X) @ self.coef_.to_numpy()

    def predict_proba(self, X) -> np.ndarray:
        probability = special.expit(self.decision_function(X))
        return np.column_stack([1 - probability, probability])

    def predict(self, X) -> np.ndarray:
        return (self.decision_function(X) >= 0).astype(int)

    def formula(self, digits: int = 4) -> str:
        """``Rad-score = b0 + b1 × feature_1 - b2 × feature_2 ...`` with ``digits`` significant
        digits (significant, not decimal, because features differ in scale by orders of magnitude)."""
        return self._formula(digits, intercept=self.intercept_)
