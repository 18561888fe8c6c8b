# Reference values for tests/test_time_dependent.py (stsanalysis.stats.time_dependent, .brier and
# Uno's C of .concordance):
#  - riskRegression::Score(list(marker), Hist(time, event) ~ 1, data, times, metrics = "auc",
#    cens.model = "km", se.fit = TRUE): IPCW cumulative/dynamic AUC(t), its SE from the influence
#    function, the Wald CI clipped to [0, 1], the contrast of two markers ($AUC$contrasts) and the
#    ROC curve at t (plots = "ROC");
#  - Score(list(1 - S), ..., metrics = "brier", summary = c("ibs", "ipa")): IPCW Brier(t) with SE
#    and CI, the null model (Kaplan-Meier) Brier, IPA and Score's IBS;
#  - pec::pec(list(cbind(1, S)), Surv(time, event) ~ 1, times = grid, exact = FALSE, start = 0,
#    cens.model = "marginal") then pec::ibs / pec::crps: the integrated Brier score;
#  - survival::concordance(Surv(time, event) ~ risk, reverse = TRUE, timewt = "n/G2", ymax = tau):
#    Uno's C with its infinitesimal-jackknife SE;
#  - 25 bootstrap replicates (rows drawn here, written to time_dependent_boot_indices.csv) of the
#    apparent AUC(t), each a Score call on the resampled data (the censoring KM refitted).
#
# Data: "main" (n = 150, 34 % censored, times rounded up to half months so that many are tied,
# marker and a correlated second marker; predicted survival of the true exponential model on a
# grid of 3 to 48 months) and "ties" (n = 40, integer months 1-12, marker with 5 values).
#
# Regenerate (R 4.2.2, riskRegression 2022.11.28, pec 2022.5.4, survival 3.5-3, jsonlite):
#   cd tests/reference && Rscript time_dependent.R
suppressPackageStartupMessages({
  library(riskRegression)
  library(pec)
  library(survival)
  library(prodlim)
})
library(jsonlite)
stopifnot(packageVersion("riskRegression") == "2022.11.28", packageVersion("survival") >= "3.5")

grid_names <- function(grid) paste0("s_", grid)

simulate_main <- function() {
  set.seed(20261203)
  n <- 150
  marker <- round(rnorm(n), 2)
  marker_b <- round(0.6 * marker + 0.8 * rnorm(n), 2)
  event_time <- rexp(n, 0.025 * exp(0.7 * marker))
  cens_time <- runif(n, 12, 100)
  time <- ceiling(pmin(event_time, cens_time) * 2) / 2
  event <- as.integer(event_time <= cens_time)
  grid <- seq(3, 48, by = 3)
  predicted <- round(outer(0.025 * exp(0.7 * marker), grid, function(rate, t) exp(-rate * t)), 6)
  colnames(predicted) <- grid_names(grid)
  data.frame(time, event, marker, marker_b, predicted)
}

simulate_ties <- function() {
  set.seed(7)
  n <- 40
  marker <- sample(0:4, n, replace = TRUE)
  marker_b <- pmin(4, pmax(0, marker + sample(-1:1, n, replace = TRUE)))
  time <- sample(1:12, n, replace = TRUE)
  event <- rbinom(n, 1, 0.65)
  grid <- c(3, 6, 9)
  predicted <- round(outer(0.08 * exp(0.3 * marker), grid, function(rate, t) exp(-rate * t)), 6)
  colnames(predicted) <- grid_names(grid)
  data.frame(time, event, marker, marker_b, predicted)
}

score_auc <- function(d, times, conf = 0.95) {
  s <- Score(list(a = d$marker, b = d$marker_b), formula = Hist(time, event) ~ 1, data = data.table::as.data.table(d), times = times,
             metrics = "auc", cens.model = "km", se.fit = TRUE, conf.int = conf, plots = "ROC")
  auc <- lapply(c("a", "b"), function(m) as.list(s$AUC$score[model == m, c("times", "AUC", "se", "lower", "upper")]))
  names(auc) <- c("a", "b")
  roc <- lapply(times, function(t) as.list(s$ROC$plotframe[model == "a" & times == t, c("risk", "TPR", "FPR")]))
  names(roc) <- paste0("t", times)
  list(auc = auc, contrast = as.list(s$AUC$contrasts[, c("times", "delta.AUC", "se", "lower", "upper", "p")]), roc = roc)
}

score_brier <- function(d, grid, conf = 0.95) {
  risk <- 1 - as.matrix(d[, grid_names(grid)])
  s <- Score(list(model = risk), formula = Hist(time, event) ~ 1, data = data.table::as.data.table(d), times = grid,
             metrics = "brier", summary = c("ibs", "ipa"), cens.model = "km", se.fit = TRUE, conf.int = conf)
  out <- lapply(c("model", "Null model"), function(m) {
    as.list(s$Brier$score[model == m, c("times", "Brier", "se", "lower", "upper", "IBS", "IPA")])
  })
  names(out) <- c("model", "null")
  out
}

pec_ibs <- function(d, grid, taus) {
  predicted <- cbind(1, as.matrix(d[, grid_names(grid)]))
  p <- pec(list(model = predicted), formula = Surv(time, event) ~ 1, data = d, times = grid, exact = FALSE,
           start = 0, cens.model = "marginal", reference = TRUE, splitMethod = "none", verbose = FALSE)
  stopifnot(all.equal(p$time, c(0, grid)))
  integrated <- unclass(crps(p, times = taus))
  list(times = p$time, brier_model = p$AppErr$model, brier_reference = p$AppErr$Reference, taus = taus,
       ibs_model = unname(integrated["model", ]), ibs_reference = unname(integrated["Reference", ]),
       ibs_single = unclass(ibs(p, times = taus[1]))["model", 1])
}

uno <- function(d, taus) {
  out <- list()
  for (marker in c("marker", "marker_b")) {
    for (tau in taus) {
      ymax <- if (is.na(tau)) NULL else tau
      fit <- concordance(as.formula(paste("Surv(time, event) ~", marker)), data = d, reverse = TRUE,
                         timewt = "n/G2", ymax = ymax)
      key <- paste0(marker, "_", if (is.na(tau)) "none" else tau)
      out[[key]] <- list(c = unname(fit$concordance), se = sqrt(unname(fit$var)))
    }
  }
  out
}

bootstrap_replay <- function(d, times, n_boot) {
  set.seed(99)
  draws <- t(replicate(n_boot, sample(nrow(d), nrow(d), replace = TRUE)))
  write.table(draws, "time_dependent_boot_indices.csv", sep = ",", row.names = FALSE, col.names = FALSE)
  draws <- as.matrix(read.csv("time_dependent_boot_indices.csv", header = FALSE))
  aucs <- t(apply(draws, 1, function(rows) {
    Score(list(a = d$marker[rows]), formula = Hist(time, event) ~ 1, data = data.table::as.data.table(d[rows, ]), times = times,
          metrics = "auc", cens.model = "km", se.fit = FALSE, null.model = FALSE, contrasts = FALSE)$AUC$score$AUC
  }))
  list(times = times, auc = aucs)
}

write.csv(simulate_main(), "time_dependent_data.csv", row.names = FALSE)
write.csv(simulate_ties(), "time_dependent_ties.csv", row.names = FALSE)
main <- read.csv("time_dependent_data.csv")
ties <- read.csv("time_dependent_ties.csv")
main_grid <- seq(3, 48, by = 3)

reference <- list(
  main = list(
    auc = score_auc(main, c(12, 24, 36)),
    auc_conf90 = score_auc(main, c(12, 24, 36), conf = 0.90)$auc,
    brier = score_brier(main, main_grid),
    brier_conf90 = score_brier(main, c(12, 24, 36), conf = 0.90),
    pec = pec_ibs(main, main_grid, c(48, 30, 31, 12.5)),
    uno = uno(main, c(NA, 24, 36)),
    bootstrap = bootstrap_replay(main, c(12, 24, 36), 25)
  ),
  ties = list(
    auc = score_auc(ties, c(3, 6, 9)),
    brier = score_brier(ties, c(3, 6, 9)),
    pec = pec_ibs(ties, c(3, 6, 9), c(9, 7)),
    uno = uno(ties, c(NA, 6))
  ),
  versions = list(R = R.version.string, riskRegression = as.character(packageVersion("riskRegression")),
                  pec = as.character(packageVersion("pec")), survival = as.character(packageVersion("survival")))
)
write_json(reference, "time_dependent.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
