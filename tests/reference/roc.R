# Reference values for tests/test_roc.py: pROC 1.18 ROC curves, DeLong variance and CI,
# Youden cut-offs, coords at fixed thresholds, roc.test (paired and unpaired DeLong) and
# bootstrap CIs of the AUC and of the sensitivity at fixed specificities.
#   cd tests/reference && Rscript roc.R    (writes roc_input.csv and roc.json)
suppressPackageStartupMessages(library(pROC))
library(jsonlite)
stopifnot(packageVersion("pROC") >= "1.18")

set.seed(20261129)
n180_y <- rbinom(180, 1, 0.45)
latent <- rnorm(180)
n180_a <- round(plogis(-0.6 + 1.7 * n180_y + 0.9 * latent), 4)
n180_b <- round(plogis(-0.4 + 1.1 * n180_y + 0.7 * latent + 0.8 * rnorm(180)), 4)
likert_y <- rep(0:1, c(22, 18))
likert_score <- c(sample(1:5, 22, replace = TRUE, prob = c(0.3, 0.3, 0.2, 0.15, 0.05)),
                  sample(1:5, 18, replace = TRUE, prob = c(0.05, 0.15, 0.2, 0.3, 0.3)))
adc_y <- rep(0:1, c(24, 8))
adc_score <- round(c(rnorm(24, 1.75, 0.25), rnorm(8, 1.15, 0.2)), 3)
validation_y <- rbinom(71, 1, 0.45)
validation_a <- round(plogis(-0.5 + 1.2 * validation_y + rnorm(71)), 4)

inputs <- rbind(
  data.frame(dataset = "n10", y = c(0, 0, 0, 0, 0, 1, 1, 1, 1, 1),
             score = c(0.12, 0.35, 0.41, 0.22, 0.58, 0.63, 0.39, 0.81, 0.57, 0.95), score_b = NA),
  data.frame(dataset = "likert", y = likert_y, score = likert_score, score_b = NA),
  data.frame(dataset = "adc", y = adc_y, score = adc_score, score_b = NA),
  data.frame(dataset = "n180", y = n180_y, score = n180_a, score_b = n180_b),
  data.frame(dataset = "validation", y = validation_y, score = validation_a, score_b = NA),
  data.frame(dataset = "perfect", y = rep(0:1, each = 6),
             score = c(1.1, 2.3, 0.7, 3.2, 2.9, 1.8, 4.4, 5.1, 3.9, 6.0, 4.2, 7.3), score_b = NA),
  data.frame(dataset = "tied", y = c(0, 1, 0, 1, 1, 0, 0, 1), score = 3, score_b = NA),
  data.frame(dataset = "youden_ties", y = c(0, 1, 0, 1, 0, 1, 0, 1), score = 1:8, score_b = NA)
)
write.csv(inputs, "roc_input.csv", row.names = FALSE)
inputs <- read.csv("roc_input.csv")  # compute on exactly the values Python reads

# SPSS ROC (DISTRIBUTION(FREE)) standard error, Hanley & McNeil (1982) with Q1 and Q2
# estimated from the data (ties count 1/3 for a tied pair, as GNU PSPP's roc.c), by brute force.
spss_se <- function(controls, cases, auc) {
  n1 <- length(cases); n0 <- length(controls)
  q1 <- mean(sapply(controls, function(c) { a <- mean(cases > c); e <- mean(cases == c); a^2 + a * e + e^2 / 3 }))
  q2 <- mean(sapply(cases, function(x) { b <- mean(controls < x); e <- mean(controls == x); b^2 + b * e + e^2 / 3 }))
  sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc^2) + (n0 - 1) * (q2 - auc^2)) / (n1 * n0))
}

describe <- function(r) {
  ci <- suppressWarnings(ci.auc(r, method = "delong"))
  v <- suppressWarnings(var(r))
  best <- coords(r, "best", best.method = "youden",
                 ret = c("threshold", "sensitivity", "specificity", "tp", "fp", "tn", "fn",
                         "ppv", "npv", "accuracy"))
  best$threshold <- sprintf("%.17g", best$threshold)  # keeps +-Inf, which jsonlite drops from rows
  oriented_cases <- if (r$direction == "<") r$cases else -r$cases
  oriented_controls <- if (r$direction == "<") r$controls else -r$controls
  list(
    direction = r$direction,
    auc = as.numeric(r$auc),
    variance = v,
    ci = as.numeric(ci)[c(1, 3)],
    thresholds = r$thresholds,  # +-Inf are written as "Inf"/"-Inf" strings
    sensitivities = r$sensitivities,
    specificities = r$specificities,
    youden = best,
    spss_se = spss_se(oriented_controls, oriented_cases, as.numeric(r$auc)),
    n_cases = length(r$cases),
    n_controls = length(r$controls)
  )
}

fit <- function(name, direction = "auto", column = "score") {
  d <- inputs[inputs$dataset == name, ]
  roc(d$y, d[[column]], direction = direction, quiet = TRUE)
}

out <- list()
for (name in c("n10", "likert", "adc", "n180", "validation", "perfect", "tied", "youden_ties")) {
  out[[name]] <- describe(fit(name))
}
out$n180_b <- describe(fit("n180", column = "score_b"))
# A fixed direction that is wrong for the data: pROC keeps it and reports AUC < 0.5.
out$adc_wrong_direction <- describe(fit("adc", direction = "<"))

# coords at fixed thresholds: one between observed values, one equal to an observed value.
adc <- fit("adc")
adc_thresholds <- c(1.5, inputs$score[inputs$dataset == "adc"][3])
out$adc_at <- list(threshold = adc_thresholds,
                   coords = coords(adc, x = adc_thresholds, input = "threshold",
                                   ret = c("threshold", "sensitivity", "specificity", "tp", "fp",
                                           "tn", "fn", "ppv", "npv", "accuracy")))
n10 <- fit("n10")
out$n10_at <- list(threshold = c(0.5, 0.57),
                   coords = coords(n10, x = c(0.5, 0.57), input = "threshold",
                                   ret = c("threshold", "sensitivity", "specificity", "tp", "fp",
                                           "tn", "fn", "ppv", "npv", "accuracy")))

# roc.test: paired DeLong (same 180 patients, two scores) and unpaired (180 vs 71 patients).
roc_a <- fit("n180"); roc_b <- fit("n180", column = "score_b"); roc_v <- fit("validation")
paired <- roc.test(roc_a, roc_b, method = "delong", paired = TRUE)
out$paired <- list(statistic = unname(paired$statistic), p = paired$p.value,
                   estimate = unname(paired$estimate), ci = as.numeric(paired$conf.int))
unpaired <- roc.test(roc_a, roc_v, method = "delong", paired = FALSE)
out$unpaired <- list(statistic = unname(unpaired$statistic), df = unname(unpaired$parameter),
                     p = unpaired$p.value, estimate = unname(unpaired$estimate))

# Bootstrap (random: Python is compared within a tolerance, not to the digit).
set.seed(1)
boot <- ci.auc(roc_a, method = "bootstrap", boot.n = 2000, boot.stratified = TRUE, progress = "none")
set.seed(2)
boot_adc <- ci.auc(adc, method = "bootstrap", boot.n = 2000, boot.stratified = TRUE, progress = "none")
set.seed(3)
band <- ci.se(roc_a, specificities = seq(0, 1, 0.1), boot.n = 2000, boot.stratified = TRUE,
              progress = "none")
out$bootstrap <- list(n180 = as.numeric(boot), adc = as.numeric(boot_adc),
                      band_specificities = seq(0, 1, 0.1),
                      band_low = unname(band[, 1]), band_median = unname(band[, 2]),
                      band_high = unname(band[, 3]))

out$versions <- list(pROC = as.character(packageVersion("pROC")), R = R.version.string)
write_json(out, "roc.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
