"""What reviewers of a radiomics or biomarker paper ask for, computed from a study's own results.

What the rad-score adds to the clinical model (NRI, IDI), how stable the cut-off is, how well
two readers agree beyond an ICC (Bland-Altman), and whether the cohort was large enough
(Riley et al., BMJ 2020). Each function takes the study's objects and returns a table that
the report shows as it is; the statistics live in :mod:`stsanalysis.stats`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..report.formatting import format_estimate, format_number
from ..stats.agreement import BlandAltmanResult, bland_altman
from ..stats.cutpoint import cutpoint_bootstrap
from ..stats.reclassification import reclassification
from ..stats.sample_size import RileySampleSize, max_r2_binary, riley_sample_size
from .split import TRAINING, set_masks

#: How the reclassification table names each index.
INDEX_NAMES = {"nri_categorical": "Categorical NRI", "nri_continuous": "Continuous NRI", "idi": "IDI"}
#: Riley et al. (2020): without a published model to go by, anticipate an R² of 15 % of its maximum.
CONSERVATIVE_R2_SHARE = 0.15


def reclassification_by_set(
    y: pd.Series,
    old: pd.Series,
    new: pd.Series,
    sets: pd.Series,
    *,
    cutoffs: Sequence[float] = (),
    n_boot: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """NRI and IDI of the ``new`` model's probabilities over the ``old`` one's, in each set (``Hmisc::improveProb``).

    One row per set and index (categorical NRI when ``cutoffs`` are given, continuous NRI,
    IDI): the overall estimate with its CI and p, and the events and non-events parts.
    """
    rows = []
    for set_name, mask in set_masks(sets).items():
        result = reclassification(y[mask], old[mask], new[mask], cutoffs=list(cutoffs) or None, n_boot=n_boot, seed=seed)
        for index, name in INDEX_NAMES.items():
            if index == "nri_categorical" and not cutoffs:
                continue
            overall, events, non_events = (result.row(index, part) for part in ("overall", "events", "non_events"))
            rows.append(
                {
                    "set": set_name,
                    "index": name,
                    "estimate": overall["estimate"],
                    "ci_low": overall["ci_low"],
                    "ci_high": overall["ci_high"],
                    "p": overall["p"],
                    "events": events["estimate"],
                    "non_events": non_events["estimate"],
                }
            )
    return pd.DataFrame(rows)


def reclassification_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`reclassification_by_set` as a manuscript prints it: estimate (95 % CI), p, the two parts."""
    return pd.DataFrame(
        {
            "set": table["set"],
            "index": table["index"],
            "estimate": [format_estimate(*values, 3) for values in zip(table["estimate"], table["ci_low"], table["ci_high"])],
            "p": table["p"],
            "events": table["events"],
            "non_events": table["non_events"],
        }
    )


def reclassification_sentence(table: pd.DataFrame, new: str, old: str, set_name: str = "validation") -> str:
    """One sentence on what ``new`` adds to ``old`` in ``set_name`` (the continuous NRI and the IDI)."""
    rows = table[table["set"] == set_name].set_index("index")
    if rows.empty:
        return ""
    parts = [
        f"{name} {format_estimate(rows.at[name, 'estimate'], rows.at[name, 'ci_low'], rows.at[name, 'ci_high'], 3)}"
        for name in ("Continuous NRI", "IDI")
    ]
    return f"In the {set_name} set, the {new} reclassified patients against the {old} with {' and '.join(parts)}."


def cutoff_stability(y: pd.Series, probability: pd.Series, training: pd.Series, *, n_boot: int, seed: int) -> pd.DataFrame:
    """Bootstrap distribution of the Youden cut-off on the training set and of sensitivity/specificity at it (``cutpointr``).

    Rows: the cut-off, then sensitivity and specificity in-bag and out-of-bag; columns: the
    value on the training set, bootstrap mean, SD and 95 % percentile interval.
    """
    mask = training.to_numpy()
    result = cutpoint_bootstrap(y[mask].to_numpy(), probability[mask].to_numpy(), n_boot=n_boot, seed=seed, direction=">=")
    summary = result.summary.set_index(result.summary.columns[0])
    rows = {
        "Cut-off (probability)": ("optimal_cutpoint", result.cutpoint),
        "Sensitivity, in-bag": ("sensitivity_b", result.sensitivity),
        "Sensitivity, out-of-bag": ("sensitivity_oob", result.sensitivity),
        "Specificity, in-bag": ("specificity_b", result.specificity),
        "Specificity, out-of-bag": ("specificity_oob", result.specificity),
    }
    table = pd.DataFrame(
        [
            {"quantity": name, "training": value, **summary.loc[column, ["mean", "sd", "ci_low", "ci_high"]].to_dict()}
            for name, (column, value) in rows.items()
        ]
    )
    table.attrs["notes"] = [
        f"{result.n_boot_used} of {result.n_boot} bootstrap samples of the training set (cutpointr's boot_runs); "
        "out-of-bag: the patients a sample left out."
    ]
    return table


def bland_altman_by_column(
    first: pd.DataFrame, second: pd.DataFrame, labels: Mapping[str, str] | None = None
) -> dict[str, BlandAltmanResult]:
    """Bland-Altman analysis of every column of ``first`` against the same column of ``second`` (same patients)."""
    patients = first.index.intersection(second.index)
    return {
        (labels or {}).get(column, column): bland_altman(first.loc[patients, column], second.loc[patients, column])
        for column in first.columns
    }


def reader_bland_altman(data: pd.DataFrame, parameters: Sequence[str], labels: Mapping[str, str]) -> dict[str, BlandAltmanResult]:
    """Design A's Table 2b: reader 1 (``<parameter>_r1``) against reader 2 (``<parameter>_r2``) for each parameter."""
    first = data[[f"{name}_r1" for name in parameters]].set_axis(list(parameters), axis=1)
    second = data[[f"{name}_r2" for name in parameters]].set_axis(list(parameters), axis=1)
    return bland_altman_by_column(first, second, {name: labels.get(name, name) for name in parameters})


def bland_altman_table(results: Mapping[str, BlandAltmanResult], digits: int = 3) -> pd.DataFrame:
    """Table 2b: n, bias (95 % CI), limits of agreement with their exact 95 % CIs, and the proportional-bias slope."""
    return pd.DataFrame(
        [
            {
                "parameter": name,
                "n": result.n,
                "bias": format_estimate(result.bias, result.bias_ci_low, result.bias_ci_high, digits),
                "lower_limit": format_estimate(result.lower_limit, result.lower_limit_ci_low, result.lower_limit_ci_high, digits),
                "upper_limit": format_estimate(result.upper_limit, result.upper_limit_ci_low, result.upper_limit_ci_high, digits),
                "slope": format_number(result.slope, digits),
                "slope_p": result.slope_p,
            }
            for name, result in results.items()
        ]
    )


def sample_size(y: pd.Series, sets: pd.Series, parameters: int, *, c_statistic: float | None = None) -> RileySampleSize:
    """Riley et al.'s minimum sample size for a binary model with ``parameters`` candidate parameters.

    The prevalence is the training set's. The anticipated R² comes from ``c_statistic`` (a
    published model's) when given, else Riley et al.'s conservative choice: 15 % of the
    maximum Cox-Snell R² at that prevalence.
    """
    prevalence = float(y[(sets == TRAINING).to_numpy()].mean())
    if c_statistic:
        return riley_sample_size("binary", parameters=int(parameters), prevalence=prevalence, c_statistic=c_statistic)
    r2 = CONSERVATIVE_R2_SHARE * max_r2_binary(prevalence)
    return riley_sample_size("binary", parameters=int(parameters), prevalence=prevalence, r2_cox_snell=r2)
