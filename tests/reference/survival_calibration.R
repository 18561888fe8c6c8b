# Reference values for tests/test_survival_calibration.py
#  - grouped calibration at t: rms::groupkm(S_pred(t), Surv, u = t, cuts = ...) with the cuts of
#    rms::calibrate(cph, cmethod = "KM", u = t, m = n / groups):
#    unique(quantile(c(0, 1, S_pred), seq(0, 1, length = groups + 1)))
#  - smooth calibration (Austin, Harrell & van Klaveren 2020, Stat Med 39:2714):
#    cph(Surv(time, event) ~ rcs(log(-log(S_pred(t))), 3)), observed = survest(..., times = t),
#    ICI / E50 / E90 / Emax of |S_pred - S_observed|, curve on 100 points from the 1st to 99th
#    percentile of S_pred
#  - rms::validate(cph) and rms::calibrate(cph, cmethod = "KM") directly, and the same
#    computation in an own loop over the SAME bootstrap draws (set.seed then sample(n, TRUE) per
#    replicate, as predab.resample draws them), with the Cox fits converged tightly (rms refits
#    with eps = 1e-4); the draws are written to CSV for the Python test to replay.
suppressMessages(library(rms))
library(jsonlite)

set.seed(2024)
n <- 120
age <- round(rnorm(n, 60, 10))
size_cm <- round(exp(rnorm(n, 1.8, 0.4)), 1)
high_grade <- rbinom(n, 1, 0.4)
ki67 <- round(runif(n, 0, 60))
lp_true <- 0.03 * (age - 60) + 0.12 * (size_cm - 6) + 0.8 * high_grade + 0.01 * ki67
event_time <- rexp(n, 0.02 * exp(lp_true))
censor_time <- pmin(runif(n, 12, 90), 72)
months <- pmax(round(pmin(event_time, censor_time) * 2) / 2, 0.5)  # half months: ties
death <- as.integer(event_time <= censor_time)
d <- data.frame(months, death, age, size_cm, high_grade, ki67)

times <- c(12, 24, 36)
t_main <- 24
groups <- 5
m <- n / groups  # calibrate(..., m) makes floor(n / m) = groups groups

tight <- function(formula, data, u) {
  cph(formula, data = data, x = TRUE, y = TRUE, surv = TRUE, time.inc = u, eps = 1e-12, tol = 1e-14, iter.max = 100)
}
fit <- tight(Surv(months, death) ~ age + size_cm + high_grade + ki67, d, t_main)
predicted <- sapply(times, function(u) survest(fit, newdata = d, times = u, conf.int = FALSE)$surv)
colnames(predicted) <- paste0("pred_", times)
out <- cbind(d, predicted)
# 17 significant digits so that the Python test reads exactly R's predictions
out[] <- lapply(out, function(column) sprintf("%.17g", column))
write.csv(out, "survival_calibration_data.csv", row.names = FALSE, quote = FALSE)

km_cuts <- function(s, g) unique(quantile(c(0, 1, s), seq(0, 1, length = g + 1)))

grouped <- lapply(times, function(u) {
  s <- predicted[, paste0("pred_", u)]
  cuts <- km_cuts(s, groups)
  z <- groupkm(s, Surv(months, death), u = u, cuts = cuts)
  list(t = u, cuts = cuts, x = z[, "x"], n = z[, "n"], events = z[, "events"], KM = z[, "KM"],
       std_err = z[, "std.err"],
       ci_low = z[, "KM"] * exp(-qnorm(0.975) * z[, "std.err"]),
       ci_high = pmin(1, z[, "KM"] * exp(qnorm(0.975) * z[, "std.err"])))
})
# groups = 3 at t = 12 as well (another number of groups)
s12 <- predicted[, "pred_12"]
z3 <- groupkm(s12, Surv(months, death), u = 12, cuts = km_cuts(s12, 3))
grouped3 <- list(x = z3[, "x"], n = z3[, "n"], KM = z3[, "KM"], std_err = z3[, "std.err"])

smooth <- lapply(times, function(u) {
  s <- predicted[, paste0("pred_", u)]
  cal_data <- data.frame(months, death, cll = log(-log(s)))
  cal <- cph(Surv(months, death) ~ rcs(cll, 3), data = cal_data, x = TRUE, y = TRUE, surv = TRUE,
             eps = 1e-12, tol = 1e-14, iter.max = 100)
  observed <- survest(cal, newdata = cal_data, times = u, conf.int = FALSE)$surv
  grid <- seq(quantile(s, 0.01), quantile(s, 0.99), length = 100)
  grid_observed <- survest(cal, newdata = data.frame(cll = log(-log(grid))), times = u, conf.int = FALSE)$surv
  error <- abs(s - observed)
  list(t = u, knots = unname(cal$Design$parms$cll), coef = unname(coef(cal)), observed = observed,
       grid = grid, grid_observed = grid_observed,
       ici = mean(error), e50 = unname(median(error)), e90 = unname(quantile(error, 0.9)), emax = max(error))
})

# --- bootstrap: rms itself, and an own loop over the same draws --------------------------------
B <- 25
X <- fit$x
S <- Surv(months, death)
draws <- function(seed) {
  set.seed(seed)
  t(sapply(seq_len(B), function(i) sample(n, replace = TRUE)))
}

fit_tight <- function(x, y, init = NULL, iter = 100) {
  coxph.fit(as.matrix(x), y, strata = NULL, offset = NULL, init = init,
            control = coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = iter, toler.inf = Inf), weights = NULL,
            method = "efron", rownames = NULL)
}
apparent_indexes <- function(lp, y, loglik, n) {
  lr <- -2 * (loglik[1] - loglik[2]); ll0 <- -2 * loglik[1]
  c(Dxy = unname(rms:::dxy.cens(lp, y, type = "hazard")["Dxy"]),
    R2 = (1 - exp(-lr / n)) / (1 - exp(-ll0 / n)), Slope = 1, D = (lr - 1) / ll0, U = -2 / ll0,
    Q = (lr - 1) / ll0 + 2 / ll0, g = GiniMd(lp))
}
test_indexes <- function(lp, y, n) {
  refit <- fit_tight(lp, y)
  frozen <- fit_tight(lp, y, init = 1, iter = 0)
  lr <- -2 * (refit$loglik[1] - refit$loglik[2]); ll0 <- -2 * refit$loglik[1]
  slope <- unname(refit$coefficients)
  D <- (lr - 1) / ll0; U <- -2 * (frozen$loglik[2] - refit$loglik[2]) / ll0
  c(Dxy = unname(rms:::dxy.cens(lp, y, type = "hazard")["Dxy"]),
    R2 = (1 - exp(-lr / n)) / (1 - exp(-ll0 / n)), Slope = slope, D = D, U = U, Q = D - U,
    g = GiniMd(slope * lp))
}

validate_seed <- 7
set.seed(validate_seed)
v <- rms::validate(fit, B = B)
validate_draws <- draws(validate_seed)
index_orig <- apparent_indexes(fit$linear.predictors, S, fit$loglik, n)
per_boot <- t(sapply(seq_len(B), function(b) {
  rows <- validate_draws[b, ]
  fb <- fit_tight(X[rows, ], S[rows])
  lp_train <- drop(X[rows, ] %*% fb$coefficients)
  lp_test <- drop(X %*% fb$coefficients)
  c(apparent_indexes(lp_train, S[rows], fb$loglik, n), test_indexes(lp_test, S, n))
}))
training <- colMeans(per_boot[, 1:7]); test <- colMeans(per_boot[, 8:14])
validate_loop <- list(index = names(index_orig), index_orig = unname(index_orig), training = unname(training),
                      test = unname(test), optimism = unname(training - test),
                      corrected = unname(index_orig - training + test))

calibrate_seed <- 8
set.seed(calibrate_seed)
cal <- calibrate(fit, cmethod = "KM", u = t_main, m = m, B = B)
calibrate_draws <- draws(calibrate_seed)
s_main <- predicted[, paste0("pred_", t_main)]
cuts_main <- km_cuts(s_main, groups)
distance <- function(s, y) {
  if (sum(y[, 2]) < 5) return(rep(NA, length(cuts_main) - 1))
  z <- groupkm(s, y, u = t_main, cuts = cuts_main)
  z[, "KM"] - z[, "x"]
}
boot_cal <- t(sapply(seq_len(B), function(b) {
  rows <- calibrate_draws[b, ]
  bd <- d[rows, ]
  fb <- tight(Surv(months, death) ~ age + size_cm + high_grade + ki67, bd, t_main)
  s0 <- fb$surv.summary[2, 1, 1]
  s_train <- s0^exp(drop(X[rows, ] %*% coef(fb)) - fb$center)
  s_test <- s0^exp(drop(X %*% coef(fb)) - fb$center)
  c(distance(s_train, S[rows]), distance(s_test, S))
}))
k <- length(cuts_main) - 1
cal_training <- colMeans(boot_cal[, 1:k], na.rm = TRUE)
cal_test <- colMeans(boot_cal[, k + (1:k)], na.rm = TRUE)
cal_orig <- groupkm(s_main, S, u = t_main, cuts = cuts_main)
calibrate_loop <- list(index_orig = unname(cal_orig[, "KM"] - cal_orig[, "x"]), training = unname(cal_training),
                       test = unname(cal_test), optimism = unname(cal_training - cal_test),
                       KM_corrected = unname(cal_orig[, "KM"] - cal_training + cal_test))

cat("validate: own loop vs rms, max |difference| per column\n")
print(apply(abs(cbind(validate_loop$index_orig, validate_loop$training, validate_loop$test) -
                 v[c("Dxy", "R2", "Slope", "D", "U", "Q", "g"), c("index.orig", "training", "test")]), 2, max))
cat("calibrate: own loop vs rms\n")
print(max(abs(calibrate_loop$training - cal[, "training"])))
print(max(abs(calibrate_loop$test - cal[, "test"])))

write_json(list(
  times = times, t = t_main, groups = groups, m = m, B = B,
  coefficients = unname(coef(fit)),
  grouped = grouped, grouped3_t12 = grouped3, smooth = smooth,
  validate_rms = list(index = rownames(v), index_orig = unname(v[, "index.orig"]), training = unname(v[, "training"]),
                      test = unname(v[, "test"]), optimism = unname(v[, "optimism"]),
                      corrected = unname(v[, "index.corrected"]), n = unname(v[, "n"])),
  validate_loop = validate_loop,
  calibrate_rms = list(mean_predicted = unname(cal[, "mean.predicted"]), KM = unname(cal[, "KM"]),
                       std_err = unname(cal[, "std.err"]), index_orig = unname(cal[, "index.orig"]),
                       training = unname(cal[, "training"]), test = unname(cal[, "test"]),
                       optimism = unname(cal[, "mean.optimism"]), KM_corrected = unname(cal[, "KM.corrected"]),
                       n = unname(cal[, "n"])),
  calibrate_loop = calibrate_loop
), "survival_calibration.json", digits = NA, auto_unbox = TRUE)
write.table(validate_draws, "survival_calibration_validate_draws.csv", sep = ",", row.names = FALSE, col.names = FALSE)
write.table(calibrate_draws, "survival_calibration_calibrate_draws.csv", sep = ",", row.names = FALSE, col.names = FALSE)
