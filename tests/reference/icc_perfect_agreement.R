# Reference values for tests/test_bad_input.py: the ICC when two readers agree exactly
# (identical readings) or up to a constant shift (reader 2 = reader 1 + 0.5).
# Run: cd tests/reference && Rscript icc_perfect_agreement.R
# R's residual mean square is then ~1e-30 instead of 0, so psych gives finite F and the
# limits of the intervals, which stsanalysis computes directly.
suppressPackageStartupMessages(library(psych))
library(jsonlite)

x <- c(1, 2, 3, 5, 8, 13)
cases <- list(identical = cbind(x, x), shifted = cbind(x, x + 0.5))
out <- lapply(cases, function(ratings) {
  r <- ICC(ratings, lmer = FALSE)$results
  list(
    form = c("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"),
    icc = unname(r$ICC),
    ci_low = unname(r[["lower bound"]]),
    ci_high = unname(r[["upper bound"]])
  )
})
out$x <- x
write_json(out, "icc_perfect_agreement.json", digits = NA, auto_unbox = TRUE)
