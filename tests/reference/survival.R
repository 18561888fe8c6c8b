# Reference values for tests/test_survival.py and tests/test_plotting_survival.py.
# Run: cd tests/reference && Rscript survival.R   (survival 3.5; writes survival.json and
# the two input CSVs it reads back).
library(survival)
library(jsonlite)
stopifnot(packageVersion("survival") >= "3.5")

# --- input data ---------------------------------------------------------------------------
# survival::lung, complete cases on the covariates used; status recoded 1/2 -> 0/1 and
# ph.ecog collapsed to 0 / 1 / 2+ for a three-group comparison.
lung_cc <- lung[!is.na(lung$ph.ecog), ]
lung_out <- data.frame(
  time = lung_cc$time,
  event = as.integer(lung_cc$status == 2),
  age = lung_cc$age,
  sex = lung_cc$sex,
  ph_ecog = lung_cc$ph.ecog,
  ecog_group = paste0("ecog", pmin(lung_cc$ph.ecog, 2))
)
write.csv(lung_out, "survival_lung.csv", row.names = FALSE)

# Small hand-made data: tied event times (3 in A, 3 in C), events tied with censoring
# (A at 3 and 6), a survival curve exactly 0.5 over a flat stretch (B: median is the
# midpoint 5), a curve dropping to 0 (C), tied risk scores.
hand <- data.frame(
  time  = c(2, 3, 3, 3, 5, 6, 6, 8, 9, 12,   1, 2, 3, 4, 7, 8,   2, 3, 3, 4, 6),
  event = c(1, 1, 0, 1, 0, 1, 0, 1, 1, 0,    1, 1, 1, 0, 1, 0,   1, 1, 1, 1, 1),
  group = c(rep("A", 10), rep("B", 6), rep("C", 5)),
  x     = c(1.2, 0.5, 2.0, 1.1, 0.3, 0.9, 1.5, 0.2, 0.8, -0.4,
            1.9, 1.0, 0.7, 0.1, -0.2, 0.4,  2.2, 1.3, 1.6, 0.6, 0.0),
  risk  = c(3, 2, 2, 3, 1, 2, 1, 1, 2, 0,   3, 3, 2, 1, 1, 0,   3, 3, 2, 2, 1)
)
write.csv(hand, "survival_hand.csv", row.names = FALSE)

lung_cc <- read.csv("survival_lung.csv")
hand <- read.csv("survival_hand.csv")
out <- list()

# --- Kaplan-Meier ---------------------------------------------------------------------------
strata_name <- function(s, n) {
  if (is.null(s)) rep("all", n) else sub("^[^=]*=", "", as.character(s))
}
km_table <- function(fit) {
  s <- summary(fit, censored = TRUE)
  list(group = strata_name(s$strata, length(s$time)), time = s$time, n_risk = s$n.risk,
       n_event = s$n.event, n_censor = s$n.censor, survival = s$surv,
       std_error = s$std.err, ci_low = s$lower, ci_high = s$upper)
}
km_median <- function(fit) {
  tab <- summary(fit)$table
  if (is.null(dim(tab))) tab <- t(as.matrix(tab))
  list(group = if (nrow(tab) == 1) "all" else sub("^[^=]*=", "", rownames(tab)),
       median = unname(tab[, "median"]), ci_low = unname(tab[, "0.95LCL"]),
       ci_high = unname(tab[, "0.95UCL"]))
}
km_at <- function(fit, times) {
  s <- summary(fit, times = times)
  list(group = strata_name(s$strata, length(s$time)), time = s$time, n_risk = s$n.risk,
       n_event = s$n.event, survival = s$surv, std_error = s$std.err,
       ci_low = s$lower, ci_high = s$upper)
}
# survminer's risk table: n.risk from summary(extend = TRUE), events and censorings cumulated.
risk_table <- function(fit, times) {
  s <- summary(fit, times = times, extend = TRUE)
  g <- strata_name(s$strata, length(s$time))
  list(group = g, time = s$time, n_risk = s$n.risk,
       cum_n_event = unlist(tapply(s$n.event, factor(g, unique(g)), cumsum)),
       cum_n_censor = unlist(tapply(s$n.censor, factor(g, unique(g)), cumsum)))
}

for (ct in c("log", "log-log", "plain")) {
  key <- gsub("-", "_", ct)
  f_lung <- survfit(Surv(time, event) ~ sex, data = lung_cc, conf.type = ct)
  f_hand <- survfit(Surv(time, event) ~ group, data = hand, conf.type = ct)
  f_all <- survfit(Surv(time, event) ~ 1, data = hand, conf.type = ct)
  out[[paste0("km_lung_sex_", key)]] <- list(
    table = km_table(f_lung), median = km_median(f_lung),
    at = km_at(f_lung, c(100, 200, 365, 500)))
  out[[paste0("km_hand_", key)]] <- list(
    table = km_table(f_hand), median = km_median(f_hand), at = km_at(f_hand, c(2.5, 3, 6, 7.5)))
  out[[paste0("km_hand_all_", key)]] <- list(table = km_table(f_all), median = km_median(f_all))
}
f90 <- survfit(Surv(time, event) ~ sex, data = lung_cc, conf.int = 0.90)
out$km_lung_sex_log_90 <- list(table = km_table(f90), median = {
  tab <- summary(f90)$table
  list(median = unname(tab[, "median"]), ci_low = unname(tab[, "0.9LCL"]),
       ci_high = unname(tab[, "0.9UCL"]))})
out$risk_table_lung_sex <- risk_table(survfit(Surv(time, event) ~ sex, data = lung_cc),
                                      c(0, 250, 500, 750, 1000))
out$risk_table_hand <- risk_table(survfit(Surv(time, event) ~ group, data = hand),
                                  c(0, 3, 6, 9, 12))

# --- log-rank / Peto-Peto -------------------------------------------------------------------
survdiff_out <- function(fit) {
  df <- sum(fit$exp > 0) - 1
  list(statistic = fit$chisq, df = df, p = pchisq(fit$chisq, df, lower.tail = FALSE),
       group = sub("^[^=]*=", "", names(fit$n)), n = as.vector(fit$n),
       observed = fit$obs, expected = fit$exp, variance = diag(fit$var))
}
for (rho in c(0, 1)) {
  out[[paste0("survdiff_lung_sex_rho", rho)]] <-
    survdiff_out(survdiff(Surv(time, event) ~ sex, data = lung_cc, rho = rho))
  out[[paste0("survdiff_lung_ecog_rho", rho)]] <-
    survdiff_out(survdiff(Surv(time, event) ~ ecog_group, data = lung_cc, rho = rho))
  out[[paste0("survdiff_hand_rho", rho)]] <-
    survdiff_out(survdiff(Surv(time, event) ~ group, data = hand, rho = rho))
}
# survminer::pairwise_survdiff by hand: survdiff on each pair's subset, then p.adjust.
pairwise <- function(data, rho, method) {
  lev <- sort(unique(data$ecog_group))
  pairs <- combn(lev, 2)
  res <- apply(pairs, 2, function(pr) {
    sub <- data[data$ecog_group %in% pr, ]
    fit <- survdiff(Surv(time, event) ~ ecog_group, data = sub, rho = rho)
    c(fit$chisq, pchisq(fit$chisq, 1, lower.tail = FALSE))
  })
  list(group_a = pairs[1, ], group_b = pairs[2, ], statistic = res[1, ], p = res[2, ],
       p_adjusted = p.adjust(res[2, ], method = method))
}
out$pairwise_lung_ecog_rho0_BH <- pairwise(lung_cc, 0, "BH")
out$pairwise_lung_ecog_rho1_holm <- pairwise(lung_cc, 1, "holm")

# --- Cox regression ---------------------------------------------------------------------------
cox_out <- function(fit) {
  s <- summary(fit)
  zph <- cox.zph(fit)
  list(term = names(coef(fit)), coef = unname(coef(fit)),
       std_error = unname(sqrt(diag(vcov(fit)))), z = unname(s$coefficients[, "z"]),
       p = unname(s$coefficients[, "Pr(>|z|)"]),
       ci_low = unname(s$conf.int[, "lower .95"]), ci_high = unname(s$conf.int[, "upper .95"]),
       loglik_null = fit$loglik[1], loglik = fit$loglik[2],
       lr = unname(s$logtest), score = unname(s$sctest),
       # summary() rounds the Wald statistic to 2 decimals; fit$wald.test is unrounded
       wald = c(unname(fit$wald.test), unname(s$waldtest[2:3])),
       concordance = unname(fit$concordance["concordance"]),
       concordance_se = unname(fit$concordance["std"]),
       zph_term = rownames(zph$table), zph_chisq = unname(zph$table[, "chisq"]),
       zph_df = unname(zph$table[, "df"]), zph_p = unname(zph$table[, "p"]))
}
ctrl <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)
for (ties in c("efron", "breslow")) {
  out[[paste0("cox_lung_", ties)]] <- cox_out(
    coxph(Surv(time, event) ~ age + sex + ph_ecog, data = lung_cc, ties = ties, control = ctrl))
  out[[paste0("cox_hand_", ties)]] <- cox_out(
    coxph(Surv(time, event) ~ x + risk, data = hand, ties = ties, control = ctrl))
}

# --- concordance --------------------------------------------------------------------------
conc_out <- function(fit) list(c = unname(fit$concordance), var = unname(fit$var),
                               count = as.list(fit$count))
out$concordance_lung_age <- conc_out(concordance(Surv(time, event) ~ age, data = lung_cc, reverse = TRUE))
out$concordance_lung_ecog <- conc_out(concordance(Surv(time, event) ~ ph_ecog, data = lung_cc, reverse = TRUE))
out$concordance_hand_risk <- conc_out(concordance(Surv(time, event) ~ risk, data = hand, reverse = TRUE))
out$concordance_hand_x <- conc_out(concordance(Surv(time, event) ~ x, data = hand, reverse = TRUE))
# concordance() takes one predictor in a formula; given two coxph fits it returns both C's
# and their joint infinitesimal-jackknife variance matrix. Each fit's linear predictor is
# its covariate times a positive coefficient, so it ranks patients as the covariate does.
cox_age <- coxph(Surv(time, event) ~ age, data = lung_cc)
cox_ecog <- coxph(Surv(time, event) ~ ph_ecog, data = lung_cc)
stopifnot(coef(cox_age) > 0, coef(cox_ecog) > 0)
two <- concordance(cox_age, cox_ecog)
contrast <- c(1, -1)
diff_var <- drop(t(contrast) %*% two$var %*% contrast)
out$concordance_lung_age_vs_ecog <- list(
  c = unname(two$concordance), var = unname(two$var),
  difference = sum(contrast * two$concordance), difference_var = diff_var,
  p = 2 * pnorm(-abs(sum(contrast * two$concordance)) / sqrt(diff_var)))

# na = "null": NA and NaN (undefined CI where S = 0) become JSON null, read as NaN
write_json(out, "survival.json", digits = NA, auto_unbox = TRUE, na = "null")
