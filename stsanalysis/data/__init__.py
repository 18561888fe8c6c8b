"""Cohort input: reading and validating tables, and the deterministic demo cohorts."""
