# Timing of a bootstrap CI of the apparent time-dependent AUC with riskRegression, for
# benchmarks/bench_time_auc.py (which writes the data and calls this script):
#   Rscript benchmarks/time_auc_riskregression.R DATA.csv N_BOOT TIMES    (TIMES e.g. "12,24,36")
# DATA.csv has columns time, event, marker.
#
# Score has no bootstrap CI of the apparent AUC of a fixed marker: its resampling options
# (split.method = "bootcv", "loob", "cv5", with B) cross-validate models refitted in each
# training sample and refuse numeric predictions ("Cannot crossvalidate performance of
# deterministic risk predictions"), and se.fit / conf.int give the influence-function (Wald) CI.
# So the bootstrap is a plain R loop: N_BOOT resamplings of the rows, one Score call each
# (metrics = "auc", cens.model = "km", se.fit = FALSE: the censoring KM refitted on each
# resample), then the 2.5 % and 97.5 % quantiles (type 7) of the AUCs at each time.
# Prints "score_seconds=..." (one Score call with se.fit = TRUE), "loop_seconds=...",
# "auc=", "se=", "boot_low=", "boot_high=" (comma-separated, one value per time).
suppressPackageStartupMessages({
  library(riskRegression)
  library(survival)  # Score's censoring model calls Surv()
})
library(data.table)
args <- commandArgs(trailingOnly = TRUE)
d <- as.data.table(read.csv(args[1]))
n_boot <- as.integer(args[2])
times <- as.numeric(strsplit(args[3], ",")[[1]])

score_auc <- function(data, se_fit) {
  Score(list(marker = data$marker), formula = Hist(time, event) ~ 1, data = data, times = times, metrics = "auc",
        cens.model = "km", se.fit = se_fit, null.model = FALSE, contrasts = FALSE)$AUC$score
}

point_seconds <- system.time(point <- score_auc(copy(d), TRUE))[["elapsed"]]
set.seed(1)
aucs <- matrix(NA_real_, n_boot, length(times))
loop_seconds <- system.time(
  for (b in seq_len(n_boot)) {
    aucs[b, ] <- score_auc(d[sample(nrow(d), replace = TRUE)], FALSE)$AUC
  }
)[["elapsed"]]
limits <- apply(aucs, 2, quantile, probs = c(0.025, 0.975), na.rm = TRUE)
collapse <- function(x) paste(sprintf("%.15g", x), collapse = ",")
cat(sprintf("score_seconds=%.4f loop_seconds=%.4f n_boot=%d riskRegression_version=%s\n", point_seconds, loop_seconds,
            n_boot, packageVersion("riskRegression")))
cat(sprintf("auc=%s\nse=%s\nboot_low=%s\nboot_high=%s\n", collapse(point$AUC), collapse(point$se), collapse(limits[1, ]),
            collapse(limits[2, ])))
