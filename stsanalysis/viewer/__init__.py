"""Interactive cohort explorer (ipywidgets + ipyniivue/plotly) and its pure helper functions."""

from .agreement import AGREEMENT_HEADERS, MaskAgreement, agreement_summary, hausdorff_95, mask_agreement
from .cohort import (
    ExplorerData,
    cohort_feature_table,
    filter_cohort,
    filter_options,
    load_explorer_data,
    numeric_columns,
    patient_images,
    reader_agreement_table,
    reliability_icc,
    resegmented_patients,
    two_by_two,
)
from .explorer import CohortExplorer
from .launch import EXPLORER_NOTEBOOK, launch
from .nomogram import NomogramCalculator
