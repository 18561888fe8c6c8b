# Reference values for tests/test_firth.py: Firth's bias-reduced logistic regression.
# Run: cd tests/reference && Rscript firth_brglm2.R
#   (R 4.2.2, brglm2 0.9, jsonlite 1.8.4; Debian r-base-core r-cran-brglm2 r-cran-jsonlite).
# Writes firth_brglm2.json and the two input CSVs it generates (firth_separated.csv,
# firth_quasi.csv); reads logistic_data.csv (written by logistic.R).
#
# Fit: glm(y ~ ..., family = binomial, method = brglm2::brglmFit, type = "AS_mean"), with a
# tight brglmControl(epsilon = 1e-13) so that the estimates are converged to ~1e-12. From the
# fit: coef, summary() SE / z / p (Wald, SE from the inverse Fisher information at the
# estimate), confint() (brglm2's confint is confint.default: Wald), deviance, null.deviance
# (brglm2 fits the null model with the same bias reduction), AIC, logLik, fitted.
#
# brglm2 gives no profile-likelihood intervals, and logistf (which does) is not a Debian
# package, so they are computed below by a loop of our own on the penalised log-likelihood
# that brglm2's AS_mean estimate maximises for logistic regression (Firth 1993):
#   l*(beta) = l(beta) + 1/2 log det(X' W X),   W = diag(p (1 - p)).
# Definitions are logistf's (Heinze & Schemper 2002; logistf::logistf with pl = TRUE):
#   * profile limit of beta_j: 2 (l*(beta_hat) - max_{beta_-j} l*(beta_j = b, beta_-j)) =
#     qchisq(0.95, 1), the other coefficients re-maximised under the FULL model's penalty;
#   * penalised LR p of beta_j: the same statistic at b = 0, against chi-square with 1 df;
#   * model LR test: all coefficients but the intercept fixed at 0 (logistf's loglik["null"]).
# The constrained maximiser is a modified-score (Firth) iteration on the free coefficients
# with logistf's step cap of 5 and step halving on l*; the limits are found by uniroot(tol = 1e-12).
# l* need not be concave: far in the tails of completely separated data the constrained fit
# can have several local maxima, and which one an iteration climbs depends on its start (on
# firth_separated.csv, from the estimate it jumps between two maxima 1.7 apart in the
# statistic near beta_adc = -66). Each constrained fit therefore starts from the estimate (as
# logistf) and from the maximum found at the nearest beta_j tried so far, and keeps the
# higher; on these data sets the limits so found were checked against a 15-start search.
library(jsonlite)
suppressMessages(library(brglm2))

# (a) the non-separated 150-patient cohort of logistic.R
cohort <- read.csv("logistic_data.csv")

# (b) complete separation: the ADC of the 20 high-grade tumours (x 10^-3 mm^2/s) lies below
# that of all 30 low-grade ones
set.seed(11)
n <- 50
high_grade <- rep(c(1L, 0L), c(20, 30))
adc <- round(ifelse(high_grade == 1, rnorm(n, 0.85, 0.12), rnorm(n, 1.35, 0.15)), 3)
separated <- data.frame(adc = adc, age = round(rnorm(n, 60, 10)), high_grade = high_grade)
stopifnot(max(separated$adc[high_grade == 1]) < min(separated$adc[high_grade == 0]))
write.csv(separated, "firth_separated.csv", row.names = FALSE)

# (c) quasi-complete separation by a factor level: every "positive" margin is high grade
set.seed(20270312)
n <- 70
quasi <- data.frame(
  size_cm = round(rlnorm(n, log(5), 0.4), 1),
  margin = sample(c("negative", "close", "positive"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
)
quasi$high_grade <- rbinom(n, 1, plogis(-2 + 0.3 * quasi$size_cm + 0.5 * (quasi$margin == "close")))
quasi$high_grade[quasi$margin == "positive"] <- 1L
write.csv(quasi, "firth_quasi.csv", row.names = FALSE)
# factor() sorts the levels: "close" is the reference, as in Python
quasi$margin <- factor(quasi$margin)

log1pexp <- function(eta) -plogis(-eta, log.p = TRUE)

penalised_loglik <- function(beta, X, y) {
  eta <- drop(X %*% beta)
  w <- plogis(eta) * plogis(-eta)
  sum(y * eta - log1pexp(eta)) +
    0.5 * as.numeric(determinant(crossprod(X, w * X), logarithm = TRUE)$modulus)
}

modified_score <- function(beta, X, y) {
  eta <- drop(X %*% beta)
  p <- plogis(eta)
  w <- p * plogis(-eta)
  info <- crossprod(X, w * X)
  h <- w * rowSums((X %*% solve(info)) * X)
  list(score = drop(crossprod(X, y - p + h * (0.5 - p))), info = info)
}

# maximise l* over the coefficients not in `fixed`, which are held at `values`
constrained_fit <- function(X, y, fixed, values, start) {
  beta <- start
  beta[fixed] <- values
  free <- setdiff(seq_len(ncol(X)), fixed)
  pl <- penalised_loglik(beta, X, y)
  if (!is.finite(pl)) return(list(beta = beta, pl = pl, converged = FALSE))
  for (iter in 1:500) {
    ms <- modified_score(beta, X, y)
    step <- solve(ms$info[free, free, drop = FALSE], ms$score[free])
    # as logistf's maxstep = 5: far from the maximum the information is nearly singular
    step <- step * min(1, 5 / max(abs(step)))
    for (halving in 0:40) {
      candidate <- beta
      candidate[free] <- beta[free] + step / 2^halving
      pl_candidate <- penalised_loglik(candidate, X, y)
      if (pl_candidate >= pl - 1e-12 * (1 + abs(pl))) break
    }
    if (halving == 40) return(list(beta = beta, pl = pl, converged = FALSE))
    beta <- candidate
    pl <- pl_candidate
    # relative step: on separated data the coefficients reach the hundreds and the iteration
    # stalls at rounding level (steps ~1e-9 there)
    if (max(abs(step)) < 1e-10 * (1 + max(abs(beta))) || max(abs(ms$score[free])) < 1e-10) {
      return(list(beta = beta, pl = pl, converged = TRUE))
    }
  }
  list(beta = beta, pl = pl, converged = FALSE)
}

# the highest constrained maximum from the estimate and from the maximum found at the
# nearest value of beta_j tried so far (far out, the start decides which local maximum the
# iteration climbs)
profile_limit <- function(X, y, j, beta_hat, pl_max, se, direction, level = 0.95) {
  cutoff <- qchisq(level, 1)
  tried <- beta_hat[j]
  maximisers <- list(beta_hat)
  excess <- function(b) {
    nearest <- maximisers[[which.min(abs(tried - b))]]
    fits <- Filter(function(f) f$converged, lapply(list(beta_hat, nearest), function(start) constrained_fit(X, y, j, b, start)))
    stopifnot(length(fits) > 0)
    best <- fits[[which.max(sapply(fits, function(f) f$pl))]]
    tried <<- c(tried, b)
    maximisers[[length(maximisers) + 1]] <<- best$beta
    2 * (pl_max - best$pl) - cutoff
  }
  step <- se
  while (excess(beta_hat[j] + direction * step) < 0) step <- 2 * step
  uniroot(excess, sort(c(beta_hat[j], beta_hat[j] + direction * step)), tol = 1e-12)$root
}

firth <- function(formula, data) {
  fit <- glm(formula, family = binomial, data = data, method = brglm2::brglmFit, type = "AS_mean",
             control = brglmControl(epsilon = 1e-13, maxit = 1000))
  stopifnot(fit$converged)
  X <- model.matrix(fit)
  y <- fit$y
  beta_hat <- coef(fit)
  co <- summary(fit)$coefficients
  wald <- confint(fit)
  pl_max <- penalised_loglik(beta_hat, X, y)
  k <- ncol(X)
  lower <- upper <- lr_p <- numeric(k)
  for (j in seq_len(k)) {
    lower[j] <- profile_limit(X, y, j, beta_hat, pl_max, co[j, 2], -1)
    upper[j] <- profile_limit(X, y, j, beta_hat, pl_max, co[j, 2], 1)
    at_zero <- constrained_fit(X, y, j, 0, beta_hat)
    stopifnot(at_zero$converged)
    lr_p[j] <- pchisq(2 * (pl_max - at_zero$pl), 1, lower.tail = FALSE)
  }
  null_fit <- constrained_fit(X, y, 2:k, rep(0, k - 1), beta_hat)
  stopifnot(null_fit$converged)
  null_pl <- null_fit$pl
  list(
    term = names(beta_hat), estimate = unname(beta_hat), std_error = unname(co[, 2]),
    z = unname(co[, 3]), p = unname(co[, 4]),
    wald_low = unname(wald[, 1]), wald_high = unname(wald[, 2]),
    profile_low = lower, profile_high = upper, penalised_lr_p = lr_p,
    # |modified score| at brglm2's estimate: it is the maximiser of l*
    max_abs_adjusted_score = max(abs(fit$grad[names(beta_hat)])),
    penalised_log_likelihood = pl_max,
    model_lr_statistic = 2 * (pl_max - null_pl), model_lr_df = k - 1,
    model_lr_p = pchisq(2 * (pl_max - null_pl), k - 1, lower.tail = FALSE),
    aic = AIC(fit), log_likelihood = as.numeric(logLik(fit)),
    deviance = deviance(fit), null_deviance = fit$null.deviance,
    fitted = unname(fitted(fit))
  )
}

# maximum likelihood on the separated data, for contrast: glm warns, estimates run away
ml_separated <- suppressWarnings(glm(high_grade ~ adc + age, family = binomial, data = separated))

write_json(list(
  versions = list(R = R.version.string, brglm2 = as.character(packageVersion("brglm2"))),
  cohort = firth(high_grade ~ age + size_cm + t_stage + margin, cohort),
  separated = firth(high_grade ~ adc + age, separated),
  quasi = firth(high_grade ~ size_cm + margin, quasi),
  ml_separated_adc = unname(coef(ml_separated)["adc"])
), "firth_brglm2.json", digits = NA, auto_unbox = TRUE)
