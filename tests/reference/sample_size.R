# Reference values for tests/test_sample_size.py: the minimum sample size criteria of Riley et al.
# (Stat Med 2019;38:1276 and BMJ 2020;368:m441), written by hand as R's pmsampsize 1.1.3 computes
# them (pmsampsize is not installed here; its source: R/pmsampsize_bin.R, R/pmsampsize_surv.R,
# R/cstat2rsq.R), plus the MAPE criterion of the BMJ paper (van Smeden et al. 2019 formula), which
# pmsampsize lacks, and the time-to-event margin-of-error criterion solved for n.
#  - binary: shrinkage n = P / ((S - 1) log(1 - R2 / S)); optimism: the same with
#    S = R2 / (R2 + 0.05 * maxR2), maxR2 = 1 - exp(2 * (p log p + (1 - p) log(1 - p)));
#    overall risk n = (1.96 / 0.05)^2 p (1 - p); each rounded up; EPP = n * p / P;
#  - survival: maxR2 from E log(E / 10000) - E with E = ceiling(rate * meanfup * 10000);
#    risk by t: 1 - exp(-(rate +- 1.96 sqrt(rate / (meanfup * n))) t);
#  - C-statistic -> Cox-Snell R2 (Riley, Van Calster & Collins 2021): two unit-variance normals
#    sqrt(2) qnorm(C) apart; "exact" = 1 - exp(-2 * mutual information) by integrate(),
#    "simulated" = pmsampsize's glm on 1e6 simulated patients (seed 123456), unrounded.
# Expected values of pmsampsize's own tests (tests/testthat/test_bin.R, test_surv.R) are copied
# below; the first of each is the paper's example (Chagas disease: n 662, EPP 4.8; recurrent
# venous thromboembolism: n 4286, EPP 23.07).
#
# Regenerate (R 4.2.2, jsonlite 1.8.4):  cd tests/reference && Rscript sample_size.R
library(jsonlite)

n_shrinkage <- function(P, r2, S) ceiling(P / ((S - 1) * log(1 - r2 / S)))
binary <- function(r2, P, prevalence, mape = 0.05) {
  max_r2 <- 1 - exp(2 * (prevalence * log(prevalence) + (1 - prevalence) * log(1 - prevalence)))
  s_optimism <- r2 / (r2 + 0.05 * max_r2)
  n <- c(shrinkage = n_shrinkage(P, r2, 0.9), optimism = n_shrinkage(P, r2, s_optimism),
         overall_risk = ceiling((1.96 / 0.05)^2 * prevalence * (1 - prevalence)),
         mape = ceiling(exp((-0.508 + 0.259 * log(prevalence) + 0.504 * log(P) - log(mape)) / 0.544)))
  list(n = as.list(n), max_r2 = max_r2, r2_nagelkerke = r2 / max_r2, shrinkage_optimism = s_optimism,
       epp = as.list(n * prevalence / P))
}
survival <- function(r2, P, rate, timepoint, meanfup) {
  events <- ceiling(rate * meanfup * 10000)
  max_r2 <- 1 - exp(2 * (events * log(events / 10000) - events) / 10000)
  s_optimism <- r2 / (r2 + 0.05 * max_r2)
  n <- c(shrinkage = n_shrinkage(P, r2, 0.9), optimism = n_shrinkage(P, r2, s_optimism))
  floor <- exp(-rate * timepoint) - 0.05
  n["overall_risk"] <- if (floor <= 0) 1 else ceiling(rate * (1.96 / (-log(floor) / timepoint - rate))^2 / meanfup)
  n_final <- max(n)
  error <- 1.96 * sqrt(rate / (meanfup * n_final))
  list(n = as.list(n), n_final = n_final, max_r2 = max_r2, r2_nagelkerke = r2 / max_r2,
       events = n_final * rate * meanfup, epp = n_final * rate * meanfup / P,
       risk = 1 - exp(-rate * timepoint), risk_ci_low = 1 - exp(-(rate - error) * timepoint),
       risk_ci_high = 1 - exp(-(rate + error) * timepoint))
}
r2_from_c <- function(cstatistic, prevalence) {
  mu <- sqrt(2) * qnorm(cstatistic)
  a <- log(prevalence / (1 - prevalence)) - mu^2 / 2
  softplus <- function(t) ifelse(t > 0, t + log1p(exp(-t)), log1p(exp(t)))
  loss_events <- integrate(function(x) dnorm(x - mu) * softplus(-(a + mu * x)), -Inf, Inf, rel.tol = 1e-12, abs.tol = 0)$value
  loss_non_events <- integrate(function(x) dnorm(x) * softplus(a + mu * x), -Inf, Inf, rel.tol = 1e-12, abs.tol = 0)$value
  entropy <- -(prevalence * log(prevalence) + (1 - prevalence) * log(1 - prevalence))
  exact <- 1 - exp(-2 * (entropy - prevalence * loss_events - (1 - prevalence) * loss_non_events))
  # pmsampsize cstat2rsq: one simulated sample of 1e6 (the labels there put prevalence * n in
  # the N(0, 1) group coded 0; the R2 is the same either way round)
  n <- 1e6
  set.seed(123456)
  lp <- c(rnorm(prevalence * n, 0, 1), rnorm((1 - prevalence) * n, mu, 1))
  y <- c(rep(0, prevalence * n), rep(1, (1 - prevalence) * n))
  model <- glm(y ~ lp, family = binomial)
  list(exact = exact, simulated = 1 - exp(-(model$null.deviance - model$deviance) / n))
}

out <- list()
out$binary <- list(
  list(input = list(r2 = 0.288, parameters = 24, prevalence = 0.174), pmsampsize = list(n = c(623, 662, 221, 662), epp = c(4.52, 4.8, 1.6, 4.8))),
  list(input = list(r2 = 0.55, parameters = 24, prevalence = 0.174), pmsampsize = list(n = c(255, 532, 221, 532), epp = c(1.85, 3.86, 1.6, 3.86))),
  list(input = list(r2 = 0.288, parameters = 36, prevalence = 0.174), pmsampsize = list(n = c(934, 992, 221, 992), epp = c(4.51, 4.79, 1.07, 4.79))),
  list(input = list(r2 = 0.288, parameters = 24, prevalence = 0.25), pmsampsize = list(n = c(623, 590, 289, 623), epp = c(6.49, 6.15, 3.01, 6.49))),
  list(input = list(r2 = 0.1, parameters = 8, prevalence = 0.3), pmsampsize = NULL)
)
for (i in seq_along(out$binary)) {
  x <- out$binary[[i]]$input
  out$binary[[i]]$hand <- binary(x$r2, x$parameters, x$prevalence)
}
surv_cases <- list(
  c(0.051, 25, 0.065, 2, 2.07, 4286, 866, 4286, 23.07), c(0.065, 25, 0.065, 2, 2.07, 3335, 859, 3335, 17.95),
  c(0.051, 50, 0.065, 2, 2.07, 8572, 1731, 8572, 23.07), c(0.051, 25, 0.1, 2, 2.07, 4286, 731, 4286, 35.49),
  c(0.051, 25, 0.065, 4, 2.07, 4286, 866, 4286, 23.07), c(0.051, 25, 0.065, 2, 4, 4286, 679, 4286, 44.57),
  c(0.06, 40, 0.08, 3, 5, 5798, 969, 5798, 57.98), c(0.03, 10, 0.09, 3, 3, 2950, 272, 2950, 79.65),
  c(0.3, 80, 0.03, 1, 5, 1974, 2272, 2272, 4.26),
  c(0.2, 10, 0.3, 5, 0.5, NA, NA, NA, NA)  # short follow-up, high risk: the margin criterion binds
)
out$survival <- lapply(surv_cases, function(v) {
  list(input = list(r2 = v[1], parameters = v[2], rate = v[3], timepoint = v[4], meanfup = v[5]),
       pmsampsize = if (is.na(v[6])) NULL else list(n_shrinkage = v[6], n_optimism = v[7], n_final = v[8], epp_final = v[9]),
       hand = survival(v[1], v[2], v[3], v[4], v[5]))
})
out$c_statistic <- lapply(list(c(0.8, 0.2), c(0.81, 0.77), c(0.7, 0.1), c(0.9, 0.5)), function(v) {
  c(list(cstatistic = v[1], prevalence = v[2]), r2_from_c(v[1], v[2]))
})
out$versions <- list(R = R.version.string)
write_json(out, "sample_size.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
