# One-off timing of psych::ICC looped over the features, for benchmarks/bench_icc.py.
#   Rscript benchmarks/icc_psych_loop.R READER_A.csv READER_B.csv
# Each CSV: one row per patient, one column per feature (bench_icc.py writes them).
# Prints "psych_seconds=<elapsed> ..." and "icc2=<every feature's ICC2, comma-separated>".
suppressPackageStartupMessages(library(psych))
args <- commandArgs(trailingOnly = TRUE)
a <- as.matrix(read.csv(args[1], check.names = FALSE))
b <- as.matrix(read.csv(args[2], check.names = FALSE))
icc2 <- numeric(ncol(a))
elapsed <- system.time(
  for (j in seq_len(ncol(a))) {
    icc2[j] <- ICC(cbind(a[, j], b[, j]), lmer = FALSE)$results["Single_random_raters", "ICC"]
  }
)[["elapsed"]]
cat(sprintf("psych_seconds=%.4f n_features=%d psych_version=%s\n", elapsed, ncol(a), packageVersion("psych")))
cat(sprintf("icc2=%s\n", paste(sprintf("%.15g", icc2), collapse = ",")))
