"""Radiomics pipeline: extraction, reliability filter, ComBat, mRMR, LASSO rad-score."""
