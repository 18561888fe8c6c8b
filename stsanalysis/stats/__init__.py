"""Statistics: pure functions returning frozen dataclasses or tidy DataFrames.

Every public function of the sub-modules is re-exported here, so that
``from stsanalysis import stats; stats.icc(...)`` works.
"""

from .agreement import BlandAltmanResult, bland_altman
from .calibration import (
    CalibrationMetrics,
    CalibrationSummary,
    HLResult,
    bootstrap_validation,
    calibration_curve,
    calibration_metrics,
    calibration_summary,
    hosmer_lemeshow,
)
from .concordance import ConcordanceComparison, ConcordanceResult, compare_concordance, concordance_index
from .contingency import ChiSquareResult, ContingencyTest, FisherResult, chi_square, contingency_test, fisher_exact
from .correlation import CorrelationResult, pearson, spearman
from .cox import CoxResult, cox_regression
from .cutpoint import CutpointBootstrap, cutpoint_bootstrap
from .decision_curve import decision_curve
from .delong import DelongResult, compare_rocs, delong_test
from .diagnostic import Cutoff, diagnostic_metrics
from .imputation import ImputationConvergenceWarning, multiple_imputation
from .lasso import LassoLogisticResult, LassoPathWarning, default_lambdas, lasso_logistic
from .logistic import (
    EventsPerParameterWarning,
    LogisticConvergenceWarning,
    LogisticResult,
    SeparationWarning,
    logistic_regression,
)
from .nomogram import Nomogram
from .pooling import (
    DegenerateWaldTestWarning,
    PooledLogisticResult,
    PooledWaldTest,
    pool_rubin,
    pooled_logistic,
    pooled_wald_test,
)
from .radscore import LassoRadScore
from .reclassification import ReclassificationResult, reclassification
from .reliability import ICC_FORMS, DroppedTargetsWarning, UndefinedIccWarning, icc, icc_features
from .roc import PerfectSeparationWarning, RocResult, roc
from .roc_bootstrap import BAND_SPECIFICITIES, AucBootstrap
from .sample_size import RileySampleSize, cox_snell_r2_from_c, riley_sample_size
from .screening import pooled_univariable_multivariable, univariable_multivariable
from .survival import KMResult, LogrankResult, SurvivalWarning, kaplan_meier, logrank_test, pairwise_logrank
from .tables import (
    AgreementResult,
    agreement_table,
    correlation_table,
    describe_parameters,
    group_comparison_table,
    reliability_table,
    roc_summary,
    roc_table,
    table_one,
)
from .univariate import (
    GroupComparison,
    MannWhitneyResult,
    TestResult,
    TTestResult,
    compare_groups,
    mann_whitney,
    shapiro,
    summary_statistics,
    t_test,
)
