# Reference values for tests/test_univariate.py (stsanalysis.stats.univariate).
# Run: cd tests/reference && Rscript stats_univariate.R
library(jsonlite)
set.seed(4242)

# Two groups of unequal size without ties (n = 10 vs 7) and a version with ties
# (values rounded to one decimal: 13 vs 9), plus clearly normal groups for the t-test.
no_ties <- data.frame(
  value = c(round(rnorm(10, 1.4, 0.3), 4), round(rnorm(7, 1.0, 0.25), 4)),
  group = c(rep("high", 10), rep("low", 7))
)
stopifnot(!anyDuplicated(no_ties$value))
write.csv(no_ties, "stats_univariate_no_ties.csv", row.names = FALSE)

ties <- data.frame(
  value = c(round(rexp(13, 1 / 25), -1), round(rexp(9, 1 / 12), -1)),
  group = c(rep("high", 13), rep("low", 9))
)
stopifnot(anyDuplicated(ties$value) > 0)
write.csv(ties, "stats_univariate_ties.csv", row.names = FALSE)

two_sample <- function(d) {
  x <- d$value[d$group == "high"]
  y <- d$value[d$group == "low"]
  welch <- t.test(x, y)
  student <- t.test(x, y, var.equal = TRUE)
  w_exact <- suppressWarnings(wilcox.test(x, y, exact = TRUE))
  w_cont <- wilcox.test(x, y, exact = FALSE, correct = TRUE)
  # SPSS Mann-Whitney Z by its documented formula: U of x, tie-corrected variance,
  # no continuity correction, reported as -|Z|.
  nx <- length(x); ny <- length(y); n <- nx + ny
  r <- rank(c(x, y))
  u <- sum(r[1:nx]) - nx * (nx + 1) / 2
  t <- table(c(x, y))
  sigma <- sqrt(nx * ny / 12 * ((n + 1) - sum(t^3 - t) / (n * (n - 1))))
  z <- -abs(u - nx * ny / 2) / sigma
  list(
    shapiro_x = unname(unlist(shapiro.test(x)[c("statistic", "p.value")])),
    shapiro_y = unname(unlist(shapiro.test(y)[c("statistic", "p.value")])),
    welch = list(t = unname(welch$statistic), df = unname(welch$parameter), p = welch$p.value,
                 ci = unname(welch$conf.int[1:2]), mean_difference = unname(welch$estimate[1] - welch$estimate[2])),
    student = list(t = unname(student$statistic), df = unname(student$parameter), p = student$p.value,
                   ci = unname(student$conf.int[1:2])),
    wilcox = list(w = unname(w_exact$statistic), p_exact = if (anyDuplicated(c(x, y))) NA else w_exact$p.value,
                  p_continuity = w_cont$p.value),
    spss = list(u = u, z = z, p = 2 * pnorm(z), rank_sum_x = sum(r[1:nx]), rank_sum_y = sum(r[-(1:nx)]),
                effect_size_r = abs(z) / sqrt(n)),
    quantile_type7 = lapply(list(high = x, low = y), function(v) unname(quantile(v, c(.25, .5, .75), type = 7))),
    quantile_type6 = lapply(list(high = x, low = y), function(v) unname(quantile(v, c(.25, .5, .75), type = 6))),
    sd = list(high = sd(x), low = sd(y))
  )
}

tables <- list(
  small_2x2 = matrix(c(3, 1, 1, 3), 2, byrow = TRUE),
  tea_2x2 = matrix(c(8, 2, 1, 5), 2, byrow = TRUE),
  zero_2x2 = matrix(c(0, 7, 5, 4), 2, byrow = TRUE),
  medium_2x2 = matrix(c(12, 5, 9, 14), 2, byrow = TRUE),
  grade_2x4 = matrix(c(3, 5, 8, 2, 7, 4, 1, 6), 2, byrow = TRUE),
  large_2x4 = matrix(c(20, 31, 18, 21, 35, 22, 12, 21), 2, byrow = TRUE),
  table_3x3 = matrix(c(4, 1, 0, 2, 5, 1, 0, 2, 6), 3, byrow = TRUE),
  # larger tables, where enumeration without the network shortcuts would be infeasible
  table_3x4 = matrix(c(10, 12, 8, 5, 9, 11, 7, 13, 12, 4, 6, 3), 3, byrow = TRUE),
  subtype_2x6 = matrix(c(40, 50, 45, 45, 3, 2, 30, 20, 25, 25, 4, 1), 2, byrow = TRUE),
  sparse_3x7 = matrix(c(2, 3, 4, 1, 0, 2, 5, 6, 1, 0, 3, 2, 2, 1, 1, 1, 2, 0, 4, 2, 3), 3, byrow = TRUE)
)
for (name in names(tables)) write.csv(tables[[name]], sprintf("stats_table_%s.csv", name), row.names = FALSE)

contingency <- lapply(tables, function(m) {
  f <- fisher.test(m, workspace = 2e7)
  chi <- suppressWarnings(chisq.test(m, correct = FALSE))
  out <- list(fisher_p = f$p.value, chisq = unname(chi$statistic), chisq_df = unname(chi$parameter),
              chisq_p = chi$p.value, expected = chi$expected)
  if (all(dim(m) == 2)) {
    yates <- suppressWarnings(chisq.test(m, correct = TRUE))
    out$odds_ratio <- unname(f$estimate)
    out$or_ci <- unname(f$conf.int[1:2])
    out$yates <- unname(yates$statistic)
    out$yates_p <- yates$p.value
  }
  out
})

write_json(list(
  no_ties = two_sample(no_ties),
  ties = two_sample(ties),
  contingency = contingency
), "stats_univariate.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
