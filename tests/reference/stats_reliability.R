# Reference values for tests/test_reliability.py (stsanalysis.stats.reliability).
# Run: cd tests/reference && Rscript stats_reliability.R
library(psych)
library(jsonlite)

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
shrout_fleiss <- data.frame(
  target = 1:6,
  judge1 = c(9, 6, 8, 7, 10, 6),
  judge2 = c(2, 1, 4, 1, 5, 2),
  judge3 = c(5, 3, 6, 2, 6, 4),
  judge4 = c(8, 2, 8, 6, 9, 7)
)
write.csv(shrout_fleiss, "stats_icc_shrout_fleiss.csv", row.names = FALSE)

set.seed(20261129)
true_40 <- rnorm(40, 1.2, 0.3)
two_readers <- data.frame(
  patient = sprintf("P%02d", 1:40),
  reader1 = round(true_40 + rnorm(40, 0, 0.08), 4),
  reader2 = round(true_40 + 0.05 + rnorm(40, 0, 0.1), 4)
)
write.csv(two_readers, "stats_icc_40x2.csv", row.names = FALSE)

true_10 <- rnorm(10, 50, 10)
three_raters <- data.frame(
  target = 1:10,
  rater1 = round(true_10 + rnorm(10, 0, 4), 2),
  rater2 = round(true_10 + rnorm(10, 2, 4), 2),
  rater3 = round(true_10 + rnorm(10, -1, 6), 2)
)
write.csv(three_raters, "stats_icc_10x3.csv", row.names = FALSE)

icc_table <- function(x, alpha = 0.05) {
  r <- ICC(as.matrix(x), lmer = FALSE, alpha = alpha)$results
  out <- lapply(seq_len(nrow(r)), function(i) list(
    icc = r$ICC[i], f = r$F[i], df1 = r$df1[i], df2 = r$df2[i], p = r$p[i],
    ci_low = r[["lower bound"]][i], ci_high = r[["upper bound"]][i]))
  names(out) <- r$type
  out
}

# The 40 x 2 data with target 3 and 17 missing a rating: psych refuses; the reference is
# psych on the complete cases (what stsanalysis computes after dropping them).
complete_38 <- two_readers[-c(3, 17), c("reader1", "reader2")]

write_json(list(
  shrout_fleiss = icc_table(shrout_fleiss[, -1]),
  shrout_fleiss_alpha_10 = icc_table(shrout_fleiss[, -1], alpha = 0.10),
  two_readers = icc_table(two_readers[, -1]),
  three_raters = icc_table(three_raters[, -1]),
  two_readers_complete_38 = icc_table(complete_38)
), "stats_reliability.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
