# Reference values for stats.diagnostic_metrics: epiR 2.0.57 epi.tests(method = "exact").
# Table layout of epi.tests: rows test +/-, columns outcome +/-, i.e. c(tp, fp, fn, tn) by row.
#   cd tests/reference && Rscript diagnostic.R    (writes diagnostic.json)
suppressPackageStartupMessages(library(epiR))
library(jsonlite)

tables <- list(
  large = c(tp = 670, fp = 202, fn = 74, tn = 640),  # the example of ?epi.tests
  small = c(tp = 15, fp = 4, fn = 3, tn = 20)
)
out <- lapply(tables, function(counts) {
  dat <- as.table(matrix(counts, nrow = 2, byrow = TRUE))
  detail <- epi.tests(dat, method = "exact", digits = 4, conf.level = 0.95)$detail
  list(counts = as.list(counts), detail = detail)
})
out$versions <- list(epiR = as.character(packageVersion("epiR")), R = R.version.string)
write_json(out, "diagnostic.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
