"""LASSO rad-score figures: the cross-validation curve and the coefficient path (as glmnet's plots)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from sklearn.utils.validation import check_is_fitted

from .style import colour, translucent


def lasso_cv_figure(model, title: str | None = None, deviance: str = "Binomial deviance") -> go.Figure:
    """Mean cross-validated deviance ± 1 SE against log(λ), as ``plot(cv.glmnet)``.

    Dashed lines mark λ_min and λ_1se; the top axis labels give the number of non-zero
    coefficients. ``deviance`` names the y axis: "Binomial deviance" (LASSO logistic) or
    "Partial-likelihood deviance" (LASSO-Cox).
    """
    check_is_fitted(model, "cv_results_")
    results = model.cv_results_
    log_lambda = np.log(results["lambda"])
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=np.r_[log_lambda, log_lambda[::-1]],
            y=np.r_[results["mean_deviance"] + results["se"], (results["mean_deviance"] - results["se"])[::-1]],
            fill="toself",
            fillcolor=translucent(colour(3), 0.2),
            line={"width": 0},
            hoverinfo="skip",
            name="± 1 SE",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=log_lambda,
            y=results["mean_deviance"],
            mode="markers+lines",
            marker={"color": colour(3), "size": 5},
            name="Mean deviance",
            customdata=results["n_nonzero"],
            hovertemplate="log(λ) %{x:.3f}<br>deviance %{y:.4f}<br>%{customdata} non-zero<extra></extra>",
        )
    )
    for value, label in ((model.lambda_min_, "λ min"), (model.lambda_1se_, "λ 1-SE")):
        figure.add_vline(
            x=float(np.log(value)),
            line_dash="dash",
            line_color="#57606a",
            annotation_text=label,
            annotation_position="top",
        )
    figure.update_layout(
        title=title,
        xaxis_title="log(λ)",
        yaxis_title=f"{deviance} (cross-validated)",
        template="plotly_white",
        height=420,
    )
    return figure


def lasso_path_figure(model, title: str | None = None, max_features: int = 30) -> go.Figure:
    """Coefficient of each feature against log(λ), as ``plot(glmnet, xvar = "lambda")``.

    Only the ``max_features`` features with the largest absolute coefficient anywhere on the
    path are drawn; the chosen λ is marked.
    """
    check_is_fitted(model, "path_")
    path = model.path_.drop(columns="intercept", errors="ignore")  # a Cox model has no intercept
    largest = path.abs().max().sort_values(ascending=False).index[:max_features]
    log_lambda = np.log(path.index.to_numpy())
    figure = go.Figure()
    for index, feature in enumerate(largest):
        figure.add_trace(
            go.Scatter(
                x=log_lambda,
                y=path[feature],
                mode="lines",
                name=feature,
                line={"color": colour(index), "width": 1.5},
                hovertemplate=f"{feature}<br>log(λ) %{{x:.3f}}<br>coefficient %{{y:.4f}}<extra></extra>",
            )
        )
    figure.add_vline(
        x=float(np.log(model.lambda_)),
        line_dash="dash",
        line_color="#57606a",
        annotation_text="chosen λ",
        annotation_position="top",
    )
    figure.update_layout(
        title=title,
        xaxis_title="log(λ)",
        yaxis_title="Coefficient",
        template="plotly_white",
        height=460,
        showlegend=False,
    )
    return figure
