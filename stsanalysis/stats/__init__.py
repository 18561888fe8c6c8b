"""Statistics: pure functions returning frozen dataclasses or tidy DataFrames.

Every public function of the sub-modules is re-exported here, so that
``from stsanalysis import stats; stats.icc(...)`` works.
"""

from .survival import (
    ConcordanceComparison,
    ConcordanceResult,
    CoxResult,
    KMResult,
    LogrankResult,
    SurvivalWarning,
    compare_concordance,
    concordance_index,
    cox_regression,
    kaplan_meier,
    logrank_test,
    pairwise_logrank,
)
from .roc import (
    AucBootstrap,
    Cutoff,
    DelongResult,
    PerfectSeparationWarning,
    RocResult,
    compare_rocs,
    delong_test,
    diagnostic_metrics,
    roc,
    roc_table,
)
from .reliability import ICC_FORMS, DroppedTargetsWarning, UndefinedIccWarning, icc, icc_features
from .univariate import (
    ChiSquareResult,
    ContingencyTest,
    FisherResult,
    GroupComparison,
    MannWhitneyResult,
    TestResult,
    TTestResult,
    chi_square,
    compare_groups,
    contingency_test,
    fisher_exact,
    mann_whitney,
    shapiro,
    summary_statistics,
    t_test,
)
from .correlation import CorrelationResult, pearson, spearman
from .tables import (
    AgreementResult,
    agreement_table,
    correlation_table,
    describe_parameters,
    group_comparison_table,
    reliability_table,
    table_one,
)
from .logistic import (
    EventsPerParameterWarning,
    LogisticConvergenceWarning,
    LogisticResult,
    SeparationWarning,
    logistic_regression,
    univariable_multivariable,
)
from .calibration import (
    CalibrationMetrics,
    HLResult,
    bootstrap_validation,
    calibration_curve,
    calibration_metrics,
    hosmer_lemeshow,
)
from .decision_curve import decision_curve
from .lasso import LassoLogisticResult, LassoRadScore, default_lambdas, lasso_logistic
from .nomogram import Nomogram
from .lasso import LassoPathWarning
