# Reference values for tests/test_decision_curve_survival.py: decision curves at time t for a
# survival outcome (Vickers, Cronin, Elkin, Kattan, Bach 2008, BMC Med Inform Decis Mak 8:53),
# written by hand from the formula with survival::survfit for the Kaplan-Meier estimates
# (no Debian R package computes it):
#   NB(pt) = [1 - S(t | risk >= pt)] P(risk >= pt) - S(t | risk >= pt) P(risk >= pt) pt / (1 - pt)
#   treat all: NB = 1 - S(t) - S(t) pt / (1 - pt); treat none: 0; no patient with risk >= pt: 0.
# S(t | group) is summary(survfit(...), times = t, extend = TRUE)$surv: the group's KM at its
# last time when its follow-up ends before t, as stdca does (stdca calls a patient positive
# when risk > pt; here risk >= pt, as the binary decision curve).
# tp / fp are the expected numbers of true and false positives, n P(risk >= pt) (1 - S) and
# n P(risk >= pt) S, so that NB = tp / n - fp / n pt / (1 - pt) as for a binary outcome.
# The bootstrap is replayed on fixed draws made here (sample.int) and written as
# decision_curve_survival_boot_indices.csv (1-based rows, one replicate per line).
#
# Regenerate (R 4.2.2, survival 3.5.3, jsonlite 1.8.4):  cd tests/reference && Rscript decision_curve_survival.R
suppressPackageStartupMessages(library(survival))
library(jsonlite)

set.seed(20260301)
n <- 150
x1 <- rnorm(n)
x2 <- rbinom(n, 1, 0.4)
x3 <- rnorm(n)
linear <- 0.9 * x1 + 0.7 * x2 + 0.3 * x3
# Weibull event times (shape 1.3, median about 30 months at linear = 0), uniform censoring,
# administrative end at 60 months; times rounded to 0.1 month so that some are tied
event_time <- (-log(runif(n)) / (log(2) / 30^1.3 * exp(linear)))^(1 / 1.3)
censor_time <- pmin(runif(n, 2, 90), 60)
time <- pmax(round(pmin(event_time, censor_time), 1), 0.1)
event <- as.integer(event_time <= censor_time)
simulated <- data.frame(time, event, x1, x2, x3)
full <- coxph(Surv(time, event) ~ x1 + x2 + x3, data = simulated)
small <- coxph(Surv(time, event) ~ x1, data = simulated)
risk_at <- function(fit, t) 1 - summary(survfit(fit, newdata = simulated), times = t)$surv[1, ]
simulated$risk_full <- risk_at(full, 24)
simulated$risk_small <- risk_at(small, 24)
write.csv(simulated[c("time", "event", "risk_full", "risk_small")], "decision_curve_survival_data.csv", row.names = FALSE)
# the reference is computed on the values as read back, the numbers Python reads
d <- read.csv("decision_curve_survival_data.csv")

km_at <- function(time, event, t) summary(survfit(Surv(time, event) ~ 1), times = t, extend = TRUE)$surv

curve <- function(time, event, risk, t, thresholds) {
  n <- length(time)
  rows <- lapply(thresholds, function(pt) {
    group <- risk >= pt
    if (!any(group)) return(c(tp = 0, fp = 0, net_benefit = 0))
    s <- km_at(time[group], event[group], t)
    treated <- sum(group) / n
    c(tp = n * treated * (1 - s), fp = n * treated * s,
      net_benefit = (1 - s) * treated - s * treated * pt / (1 - pt))
  })
  out <- as.data.frame(do.call(rbind, rows))
  all_s <- km_at(time, event, t)
  net_benefit_all <- 1 - all_s - all_s * thresholds / (1 - thresholds)
  out$net_interventions_avoided <- (out$net_benefit - net_benefit_all) * (1 - thresholds) / thresholds * 100
  as.list(out)
}

strategies <- function(data, t, thresholds) {
  list(
    full = curve(data$time, data$event, data$risk_full, t, thresholds),
    small = curve(data$time, data$event, data$risk_small, t, thresholds),
    treat_all = curve(data$time, data$event, rep(1, nrow(data)), t, thresholds)
  )
}

thresholds <- (1:99) / 100
out <- list(
  thresholds = thresholds,
  t24 = strategies(d, 24, thresholds),
  t12 = strategies(d, 12, thresholds),
  event_probability_24 = 1 - km_at(d$time, d$event, 24),
  event_probability_12 = 1 - km_at(d$time, d$event, 12)
)

# ---- percentile bootstrap (quantile type 7) replayed on fixed draws
n_boot <- 60
draws <- t(replicate(n_boot, sample.int(n, n, replace = TRUE)))
write.table(draws, "decision_curve_survival_boot_indices.csv", sep = ",", row.names = FALSE, col.names = FALSE)
boot_thresholds <- (1:19) / 20
replicates <- lapply(seq_len(n_boot), function(b) strategies(d[draws[b, ], ], 24, boot_thresholds))
limits <- function(name, level) {
  values <- sapply(replicates, function(r) r[[name]]$net_benefit)  # threshold x replicate
  probs <- c((1 - level) / 2, 1 - (1 - level) / 2)
  bounds <- apply(values, 1, quantile, probs = probs, type = 7, names = FALSE)
  list(ci_low = bounds[1, ], ci_high = bounds[2, ])
}
out$bootstrap <- list(thresholds = boot_thresholds, t = 24, n_boot = n_boot)
for (level in c(0.95, 0.9)) {
  key <- paste0("level_", level * 100)
  out$bootstrap[[key]] <- list(full = limits("full", level), small = limits("small", level),
                               treat_all = limits("treat_all", level))
}

# ---- a hand case whose highest-risk group is censored before t: its KM at its last time
toy <- data.frame(
  time = c(2, 3, 5, 6, 8, 10, 12, 15, 20, 25),
  event = c(1, 0, 1, 1, 0, 1, 0, 1, 0, 0),
  risk = c(0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)
)
toy_thresholds <- c(0.05, 0.25, 0.55, 0.75, 0.82, 0.88, 0.95)
out$toy <- c(list(data = as.list(toy), t = 12, thresholds = toy_thresholds),
             curve(toy$time, toy$event, toy$risk, 12, toy_thresholds))

write_json(out, "decision_curve_survival.json", digits = NA, auto_unbox = TRUE)
