"""Study designs (STUDIES.md): turning a cohort table into the analysis data of a design.

The report notebooks call these so that they hold prose and calls, never logic that a
test cannot reach.
"""
