"""LASSO rad-score (design B, step 4).

The estimator lives in :mod:`stsanalysis.stats.lasso` beside the glmnet-equivalent solver it
uses; it is re-exported here so that the radiomics pipeline and users find it under
``stsanalysis.radiomics.signature.LassoRadScore`` as well.
"""

from ..stats.radscore import LassoRadScore

__all__ = ["LassoRadScore"]
