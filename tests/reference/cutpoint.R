# Reference values for tests/test_cutpoint.py: the Youden-optimal cut-off of cutpointr 1.1
# (method = maximize_metric, metric = youden; defaults break_ties = median, tol_metric = 1e-6,
# boot_stratify = FALSE), its bootstrap replayed on the rows Python draws, and cutpointr's own
# bootstrap (R's RNG) whose distribution the Python one should resemble.
#
# Regenerate (R 4.2.2, cutpointr 1.1.2, jsonlite 1.8.4; Debian r-cran-cutpointr):
#   cd tests/reference
#   Rscript cutpoint.R                        # writes cutpoint_data.csv, then stops if the draws are missing
#   ../../.venv/bin/python bootstrap_indices.py   # writes cutpoint_boot_indices.csv (numpy draws)
#   Rscript cutpoint.R                        # writes cutpoint.json
suppressPackageStartupMessages(library(cutpointr))
library(jsonlite)
stopifnot(packageVersion("cutpointr") >= "1.1.2")

set.seed(20260214)
n120_y <- rbinom(120, 1, 0.4)
n120_x <- round(rnorm(120, mean = 2 + 1.1 * n120_y, sd = 1), 1)  # one decimal: tied values
adc_y <- rep(0:1, c(30, 14))
adc_x <- round(c(rnorm(30, 1.6, 0.3), rnorm(14, 1.1, 0.25)), 2)   # lower in positives
data <- rbind(
  data.frame(dataset = "n120", y = n120_y, x = n120_x),
  data.frame(dataset = "adc", y = adc_y, x = adc_x),
  # four tied optima (x >= 2, 4, 6, 8): the median 5 is a cut-off with Youden index 0
  data.frame(dataset = "tied_optima", y = c(0, 1, 0, 1, 0, 1, 0, 1), x = 1:8),
  # equal medians (3 and 3): cutpointr assumes "<=" where pROC assumes "higher is positive"
  data.frame(dataset = "equal_medians", y = c(0, 0, 0, 1, 1, 1), x = c(1, 3, 9, 2, 3, 4)),
  data.frame(dataset = "small", y = rep(0:1, each = 5), x = c(1.2, 2.3, 2.9, 3.1, 4.0, 3.3, 3.8, 4.4, 5.0, 5.6))
)
write.csv(data, "cutpoint_data.csv", row.names = FALSE)
data <- read.csv("cutpoint_data.csv")

fit <- function(d, direction = NULL) {
  suppressMessages(cutpointr(d, x, y, pos_class = 1, neg_class = 0, direction = direction,
                             method = maximize_metric, metric = youden))
}
point <- function(cp) {
  list(direction = cp$direction, optimal_cutpoint = cp$optimal_cutpoint[[1]], youden = cp$youden[[1]],
       sensitivity = cp$sensitivity[[1]], specificity = cp$specificity[[1]], acc = cp$acc[[1]],
       n_optima = length(cp$roc_curve[[1]]$m[cp$roc_curve[[1]]$m >= max(cp$roc_curve[[1]]$m, na.rm = TRUE) - 1e-6]))
}
out <- list()
for (name in unique(data$dataset)) out$point[[name]] <- point(fit(data[data$dataset == name, ]))
out$point$n120_fixed_lower <- point(fit(data[data$dataset == "n120", ], direction = "<="))

# ---- the bootstrap replayed on Python's draws: each row of cutpoint_boot_indices.csv holds the
# 1-based rows of one replicate of the n120 data; the in-bag and out-of-bag metrics are computed
# as cutpointr's boot_runs code does (roc(), get_opt_ind(), sens_spec of the in-bag cut-off)
if (!file.exists("cutpoint_boot_indices.csv")) stop("run bootstrap_indices.py, then this script again")
draws <- as.matrix(read.csv("cutpoint_boot_indices.csv", header = FALSE))
n120 <- data[data$dataset == "n120", c("x", "y")]
direction <- fit(n120)$direction
oob_metrics <- function(d, oc) {
  curve <- cutpointr::roc(d, x, y, pos_class = 1, neg_class = 0, direction = direction, silent = TRUE)
  i <- cutpointr:::get_opt_ind(curve, oc = oc, direction = direction)
  tp <- curve$tp[i]; fp <- curve$fp[i]; tn <- curve$tn[i]; fn <- curve$fn[i]
  c(sensitivity = tp / (tp + fn), specificity = tn / (tn + fp),
    youden = tp / (tp + fn) + tn / (tn + fp) - 1, acc = (tp + tn) / (tp + fp + tn + fn))
}
replay <- t(apply(draws, 1, function(rows) {
  cp <- fit(n120[rows, ], direction = direction)
  oc <- cp$optimal_cutpoint[[1]]
  c(optimal_cutpoint = oc, sensitivity_b = cp$sensitivity[[1]], specificity_b = cp$specificity[[1]],
    youden_b = cp$youden[[1]], acc_b = cp$acc[[1]],
    setNames(oob_metrics(n120[-unique(rows), ], oc), paste0(c("sensitivity", "specificity", "youden", "acc"), "_oob")))
}))
out$replay <- as.data.frame(replay)
out$replay_quantiles <- lapply(out$replay, function(v) unname(quantile(v, c(0.025, 0.5, 0.975), type = 7)))

# ---- cutpointr's own bootstrap (R's RNG): summaries the numpy bootstrap should resemble
set.seed(7)
boot <- suppressMessages(cutpointr(n120, x, y, pos_class = 1, neg_class = 0, method = maximize_metric,
                                   metric = youden, boot_runs = 2000))$boot[[1]]
columns <- c("optimal_cutpoint", "sensitivity_b", "sensitivity_oob", "specificity_b", "specificity_oob",
             "youden_b", "youden_oob", "acc_b", "acc_oob")
out$cutpointr_boot <- lapply(setNames(columns, columns), function(column) {
  v <- boot[[column]]
  list(n = sum(!is.na(v)), mean = mean(v, na.rm = TRUE), sd = sd(v, na.rm = TRUE),
       quantiles = unname(quantile(v, c(0.025, 0.5, 0.975), na.rm = TRUE, type = 7)))
})
out$versions <- list(R = R.version.string, cutpointr = as.character(packageVersion("cutpointr")))
write_json(out, "cutpoint.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
