# Reference values for tests/test_tables.py (stsanalysis.stats.tables).
# Run: cd tests/reference && Rscript stats_tables.R
library(psych)
library(jsonlite)
set.seed(20261129)

# A design-A-like cohort of 32 patients (some values missing on purpose).
n <- 32
high_grade <- c(rep(0, 10), rep(1, 22))
truth <- 1.7 - 0.5 * high_grade + rnorm(n, 0, 0.25)
cohort <- data.frame(
  patient = sprintf("STS-%02d", 1:n),
  high_grade = ifelse(high_grade == 1, "high", "low"),
  age = round(rnorm(n, 58, 12)),
  ki67 = round(rexp(n, 1 / (10 + 25 * high_grade))),
  adc_r1 = round(truth + rnorm(n, 0, 0.06), 3),
  adc_r2 = round(truth + 0.03 + rnorm(n, 0, 0.08), 3),
  cho_r1 = round(2 + 2 * high_grade + rexp(n, 1), 2),
  sex = sample(c("female", "male"), n, replace = TRUE),
  subtype = sample(c("UPS", "myxofibrosarcoma", "liposarcoma", "leiomyosarcoma"), n, replace = TRUE),
  surgical_grade = ifelse(high_grade == 1, sample(2:3, n, replace = TRUE), 1)
)
# 16/16 split: the 10 low-grade patients have expected counts of exactly 5 -> chi-square
cohort$deep <- c(rep("yes", 3), rep("no", 7), rep("yes", 13), rep("no", 9))
cohort$cho_r2 <- round(cohort$cho_r1 + rnorm(n, 0, 0.3), 2)
cohort$adc_mean <- (cohort$adc_r1 + cohort$adc_r2) / 2
biopsy <- cohort$surgical_grade
biopsy[c(4, 17, 25)] <- c(2, 2, 3)
cohort$biopsy_grade <- biopsy
cohort$age[7] <- NA
cohort$cho_r2[12] <- NA
write.csv(cohort, "stats_tables_cohort.csv", row.names = FALSE)

by_group <- function(v) split(v, cohort$high_grade)

# SPSS Mann-Whitney Z p (tie-corrected, no continuity correction), as in stats_univariate.R
spss_p <- function(x, y) {
  nx <- length(x); ny <- length(y); N <- nx + ny
  r <- rank(c(x, y)); u <- sum(r[1:nx]) - nx * (nx + 1) / 2
  t <- table(c(x, y))
  z <- -abs(u - nx * ny / 2) / sqrt(nx * ny / 12 * ((N + 1) - sum(t^3 - t) / (N * (N - 1))))
  c(z = z, p = 2 * pnorm(z))
}
two_group <- function(v) {
  g <- by_group(v); g <- lapply(g, function(s) s[!is.na(s)])
  x <- g$high; y <- g$low   # sorted levels: "high" then "low"
  sw <- c(shapiro.test(x)$p.value, shapiro.test(y)$p.value)
  if (all(sw > 0.05)) {
    tt <- t.test(x, y)
    list(test = "Welch t-test", statistic = unname(tt$statistic), p = tt$p.value, shapiro = sw)
  } else {
    s <- spss_p(x, y)
    list(test = "Mann-Whitney U", statistic = unname(s["z"]), p = unname(s["p"]), shapiro = sw)
  }
}
categorical <- function(v) {
  m <- table(v, cohort$high_grade)
  e <- suppressWarnings(chisq.test(m, correct = FALSE))
  if (any(e$expected < 5)) list(test = "Fisher's exact test", p = fisher.test(m)$p.value)
  else list(test = "Chi-square test", p = e$p.value)
}

describe <- function(v) {
  v <- v[!is.na(v)]
  q <- quantile(v, c(.25, .5, .75), type = 7)
  list(n = length(v), min = min(v), max = max(v), mean = mean(v), sd = sd(v),
       p25 = unname(q[1]), median = unname(q[2]), p75 = unname(q[3]), shapiro_p = shapiro.test(v)$p.value)
}

icc2 <- function(a, b) {
  r <- suppressWarnings(ICC(na.omit(cohort[, c(a, b)]), lmer = FALSE))$results
  as.list(r[r$type == "ICC2", c("ICC", "lower bound", "upper bound", "p", "F")])
}

spearman <- function(a, b) {
  ok <- complete.cases(cohort[, c(a, b)])
  s <- cor.test(cohort[ok, a], cohort[ok, b], method = "spearman", exact = FALSE)
  list(rho = unname(s$estimate), p = s$p.value, n = sum(ok))
}

kappa <- suppressWarnings(cohen.kappa(cohort[, c("surgical_grade", "biopsy_grade")]))
agree <- sum(cohort$surgical_grade == cohort$biopsy_grade)
accuracy <- binom.test(agree, n)

write_json(list(
  table_one = list(age = two_group(cohort$age), ki67 = two_group(cohort$ki67),
                   adc_mean = two_group(cohort$adc_mean),
                   sex = categorical(cohort$sex), deep = categorical(cohort$deep),
                   subtype = categorical(cohort$subtype)),
  describe = list(adc_mean = describe(cohort$adc_mean), ki67 = describe(cohort$ki67),
                  cho_r2 = describe(cohort$cho_r2)),
  reliability = list(adc = icc2("adc_r1", "adc_r2"), cho = icc2("cho_r1", "cho_r2")),
  correlation = list(adc_mean_grade = spearman("adc_mean", "surgical_grade"),
                     adc_mean_ki67 = spearman("adc_mean", "ki67"),
                     cho_r2_ki67 = spearman("cho_r2", "ki67")),
  agreement = list(n_agree = agree, accuracy = unname(accuracy$estimate),
                   accuracy_ci = unname(accuracy$conf.int[1:2]),
                   kappa = kappa$kappa, kappa_variance = kappa$var.kappa,
                   kappa_ci = unname(kappa$confid[1, c(1, 3)]),
                   table = unclass(table(cohort$surgical_grade, cohort$biopsy_grade)))
), "stats_tables.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
