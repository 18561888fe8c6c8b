"""Report building: formatting of results, study config, provenance, notebook -> HTML."""
