"""Figures of radiomic features for teaching: images side by side, feature values per image,
feature ICCs per class, and principal-component maps coloured by scanner."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import InputError
from ..radiomics.params import FEATURE_CLASS_LABELS
from ..validation import require_columns
from .style import colour


def _class_label(feature_class: str) -> str:
    """A feature class as a legend or axis names it ("glcm" -> "GLCM", "firstorder" -> "First-order")."""
    label = FEATURE_CLASS_LABELS.get(feature_class, feature_class)
    return label[:1].upper() + label[1:]


def _as_2d(image) -> np.ndarray:
    """A 2-D array from an array or an object with an ``array`` attribute (a teaching phantom)."""
    array = np.asarray(getattr(image, "array", image), dtype=float)
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise InputError(f"Each image must be 2-D (or a single slice); got shape {array.shape}.")
    return array


def phantom_figure(images: Mapping[str, object], title: str | None = None, height: int = 320) -> go.Figure:
    """The images side by side in grey scale, one panel each, on one shared grey scale.

    ``images`` maps a name (the panel title) to a 2-D array or a phantom
    (:class:`stsanalysis.teaching.Phantom`). Hover shows row, column and grey value.
    """
    if not images:
        raise InputError("'images' must hold at least one image; got none.")
    arrays = {name: _as_2d(image) for name, image in images.items()}
    low = min(array.min() for array in arrays.values())
    high = max(array.max() for array in arrays.values())
    figure = make_subplots(rows=1, cols=len(arrays), subplot_titles=list(arrays), horizontal_spacing=0.03)
    for column, (name, array) in enumerate(arrays.items(), start=1):
        figure.add_trace(
            go.Heatmap(
                z=array,
                zmin=low,
                zmax=high,
                colorscale="gray",
                showscale=column == len(arrays),
                colorbar=dict(title="Grey value", thickness=12),
                name=name,
                hovertemplate="row %{y}, column %{x}<br>grey value %{z}<extra>" + name + "</extra>",
            ),
            row=1,
            col=column,
        )
        axis = "" if column == 1 else str(column)
        # square pixels, image orientation (row 0 at the top)
        figure.update_xaxes(showticklabels=False, constrain="domain", row=1, col=column)
        figure.update_yaxes(showticklabels=False, autorange="reversed", scaleanchor=f"x{axis}", row=1, col=column)
    figure.update_layout(title=title, height=height, template="plotly_white", margin=dict(t=70, b=20, l=20, r=20))
    return figure


def feature_comparison_figure(
    comparison: pd.DataFrame,
    features: Sequence[str],
    images: Sequence[str] | None = None,
    title: str | None = None,
    columns: int = 3,
) -> go.Figure:
    """Small multiples: one panel per feature, one bar per image.

    ``comparison`` is the table of :func:`stsanalysis.teaching.compare_features`
    (``feature_class``, ``feature``, one column per image); ``features`` names the panels
    as ``"featureClass_feature"`` (``"glcm_Contrast"``). Each panel has its own y scale:
    what matters is whether the bars within a panel differ. ``images`` selects and orders
    the bars (default: every column between ``feature`` and ``identical``).
    """
    require_columns(comparison, ["feature_class", "feature"], "the feature comparison")
    if images is None:
        images = [column for column in comparison.columns if column not in ("feature_class", "feature", "identical")]
    require_columns(comparison, images, "the feature comparison")
    keyed = comparison.set_index(comparison["feature_class"] + "_" + comparison["feature"])
    missing = [feature for feature in features if feature not in keyed.index]
    if missing:
        raise InputError(f"Feature(s) {missing} not in the comparison table; available e.g. {list(keyed.index[:5])}.")
    if not features:
        raise InputError("'features' must name at least one feature; got none.")

    rows = -(-len(features) // columns)
    titles = [f"{_class_label(keyed.at[name, 'feature_class'])}: {keyed.at[name, 'feature']}" for name in features]
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=titles, vertical_spacing=0.5 / rows, horizontal_spacing=0.08)
    for position, name in enumerate(features):
        row, column = divmod(position, columns)
        for index, image in enumerate(images):
            figure.add_trace(
                go.Bar(
                    x=[image],
                    y=[keyed.at[name, image]],
                    name=image,
                    marker_color=colour(index),
                    legendgroup=image,
                    showlegend=position == 0,
                    hovertemplate=f"{name}<br>{image}: %{{y:.4g}}<extra></extra>",
                ),
                row=row + 1,
                col=column + 1,
            )
        figure.update_xaxes(showticklabels=False, row=row + 1, col=column + 1)
    figure.update_layout(title=title, height=230 * rows + 80, template="plotly_white", bargap=0.15, margin=dict(t=90, b=30))
    return figure


def feature_icc_figure(
    iccs: pd.DataFrame,
    threshold: float | None = 0.75,
    title: str | None = None,
    form_label: str = "ICC",
) -> go.Figure:
    """ICC of every feature, one panel per reading, one box (with the features as points) per class.

    ``iccs`` is a features x readings table (:func:`stsanalysis.teaching.feature_iccs`)
    indexed by pyradiomics feature names. A dashed line marks ``threshold``; hover names
    the feature. Undefined ICCs (NaN) are left out.
    """
    from ..radiomics.params import split_feature_name

    if iccs.empty:
        raise InputError("'iccs' is empty; expected one row per feature and one column per reading.")
    classes = pd.Series([split_feature_name(name)["feature_class"] for name in iccs.index], index=iccs.index)
    order = [name for name in FEATURE_CLASS_LABELS if name in set(classes)]
    figure = make_subplots(
        rows=1,
        cols=iccs.shape[1],
        subplot_titles=[str(c).replace(", ", ",<br>") for c in iccs.columns],
        shared_yaxes=True,
        horizontal_spacing=0.02,
    )
    for column, reading in enumerate(iccs.columns, start=1):
        for index, feature_class in enumerate(order):
            values = iccs.loc[classes == feature_class, reading].dropna()
            figure.add_trace(
                go.Box(
                    y=values,
                    name=_class_label(feature_class),
                    boxpoints="all",
                    jitter=0.5,
                    pointpos=0,
                    marker=dict(color=colour(index), size=4),
                    line=dict(width=1),
                    fillcolor="rgba(0,0,0,0)",
                    legendgroup=feature_class,
                    showlegend=column == 1,
                    hovertext=list(values.index),
                    hovertemplate="%{hovertext}<br>" + form_label + " %{y:.3f}<extra></extra>",
                ),
                row=1,
                col=column,
            )
        figure.update_xaxes(showticklabels=False, row=1, col=column)
        if threshold is not None:
            figure.add_hline(y=threshold, line_dash="dash", line_color="grey", row=1, col=column)
    figure.update_yaxes(title_text=form_label, row=1, col=1)
    figure.update_annotations(font_size=12)  # the panel titles
    figure.update_layout(title=title, height=480, template="plotly_white", margin=dict(t=100, b=30))
    return figure


def pca_figure(
    panels: Mapping[str, pd.DataFrame],
    groups: pd.Series,
    symbols: pd.Series | None = None,
    title: str | None = None,
) -> go.Figure:
    """Principal-component scores side by side (e.g. before and after harmonisation).

    ``panels`` maps a panel title to a table with columns ``pc1`` and ``pc2`` (and
    optionally ``attrs["explained_variance_ratio"]``, shown in the axis titles), indexed by
    patient; points are coloured by ``groups`` (e.g. scanner) and, when ``symbols`` is
    given, shaped by it (e.g. training/test). Both Series are indexed like the panels.
    """
    if not panels:
        raise InputError("'panels' must hold at least one table of principal-component scores.")
    for name, scores in panels.items():
        require_columns(scores, ["pc1", "pc2"], f"panel '{name}'")
    levels = sorted(pd.unique(groups))
    symbol_levels = sorted(pd.unique(symbols)) if symbols is not None else [None]
    marker_symbols = ("circle", "x", "diamond", "square")
    figure = make_subplots(rows=1, cols=len(panels), subplot_titles=list(panels), horizontal_spacing=0.08)
    for column, (name, scores) in enumerate(panels.items(), start=1):
        for index, level in enumerate(levels):
            for symbol_index, symbol_level in enumerate(symbol_levels):
                chosen = (groups.reindex(scores.index) == level).to_numpy()
                if symbols is not None:
                    chosen &= (symbols.reindex(scores.index) == symbol_level).to_numpy()
                label = str(level) if symbols is None else f"{level}, {symbol_level}"
                figure.add_trace(
                    go.Scatter(
                        x=scores.loc[chosen, "pc1"],
                        y=scores.loc[chosen, "pc2"],
                        mode="markers",
                        name=label,
                        legendgroup=label,
                        showlegend=column == 1,
                        marker=dict(color=colour(index), symbol=marker_symbols[symbol_index % len(marker_symbols)], size=7),
                        hovertext=list(scores.index[chosen]),
                        hovertemplate="%{hovertext}<br>PC1 %{x:.2f}, PC2 %{y:.2f}<extra>" + label + "</extra>",
                    ),
                    row=1,
                    col=column,
                )
        ratio = scores.attrs.get("explained_variance_ratio")
        for axis, position in (("x", 0), ("y", 1)):
            text = f"PC{position + 1}" + (f" ({100 * ratio[position]:.0f} % of variance)" if ratio else "")
            getattr(figure, f"update_{axis}axes")(title_text=text, zeroline=False, row=1, col=column)
    figure.update_layout(title=title, height=460, template="plotly_white", margin=dict(t=80, b=40))
    return figure
