# One-off timing of pROC's bootstrap CI of the AUC for the benchmark of
# benchmarks/bench_roc_bootstrap.py (n = 180, 2000 stratified replicates).
#   Rscript benchmarks/roc_bootstrap_proc.R    (from the repository root)
suppressPackageStartupMessages(library(pROC))
d <- read.csv("tests/reference/roc_input.csv")
d <- d[d$dataset == "n180", ]
r <- roc(d$y, d$score, quiet = TRUE)
set.seed(1)
times <- replicate(3, system.time(
  ci.auc(r, method = "bootstrap", boot.n = 2000, boot.stratified = TRUE, progress = "none")
)[["elapsed"]])
cat(sprintf("pROC %s, ci.auc(method = \"bootstrap\", boot.n = 2000): %.3f s (best of 3; all: %s)\n",
            packageVersion("pROC"), min(times), paste(round(times, 3), collapse = ", ")))
