# Reference values for the exact r x c Fisher test (stsanalysis.stats.fisher_exact):
# stats::fisher.test p values (FEXACT, Mehta & Patel's network algorithm) and R's time on
# the birthwt race x ftv table (benchmarks/bench_fisher.py prints it beside ours).
#   cd tests/reference && Rscript fisher_rxc.R    (writes fisher_rxc.json; ~1 min)
# MASS is one of R's recommended packages (Debian: r-cran-mass, pulled in by r-base).
library(MASS)
library(jsonlite)

tables <- list(
  # MASS::birthwt: mother's race by number of physician visits in the first trimester /
  # number of previous premature labours
  birthwt_race_ftv = unclass(table(birthwt$race, birthwt$ftv)),
  birthwt_race_ptl = unclass(table(birthwt$race, birthwt$ptl)),
  sparse_3x7_zeros = matrix(c(5, 2, 1, 0, 5, 0, 2, 3, 0, 7, 4, 1, 5, 5, 3, 0, 1, 5, 0, 4, 3), 3, byrow = TRUE),
  zeros_4x4 = matrix(c(0, 6, 0, 2, 5, 6, 1, 3, 2, 5, 7, 8, 5, 3, 6, 10), 4, byrow = TRUE),
  wide_2x8 = matrix(c(16, 1, 0, 0, 8, 8, 2, 2, 10, 8, 18, 6, 2, 5, 13, 1), 2, byrow = TRUE),
  # 5 x 5 tables with n ~ 60 need more than fisher.test's default workspace (200000)
  table_5x5_n54 = matrix(c(0, 7, 0, 6, 3, 4, 0, 2, 3, 2, 1, 1, 0, 1, 1, 1, 0, 1, 1, 2, 7, 1, 1, 6, 3), 5, byrow = TRUE),
  table_5x5_n62 = matrix(c(5, 4, 0, 0, 8, 3, 1, 5, 1, 4, 4, 3, 0, 4, 0, 0, 3, 1, 0, 5, 3, 3, 1, 2, 2), 5, byrow = TRUE),
  # every permutation of the diagonal has the observed probability: ties within tolerance
  ties_3x3 = matrix(c(2, 1, 1, 1, 2, 1, 1, 1, 2), 3, byrow = TRUE),
  # the observed table is the most probable one: p = 1 after clipping
  uniform_2x3 = matrix(3, 2, 3)
)
# the tables of tests/reference/stats_univariate.R (also asserted in tests/test_univariate.py)
for (path in sort(Sys.glob("stats_table_*.csv"))) {
  tables[[sub("^stats_table_(.*)\\.csv$", "\\1", path)]] <- unname(as.matrix(read.csv(path)))
}

p_values <- lapply(tables, function(m) {
  list(counts = unname(m), p = fisher.test(m, workspace = 2e7)$p.value)
})

# R's time for the birthwt table: 100 calls of fisher.test (default arguments), per call
m <- tables$birthwt_race_ftv
invisible(fisher.test(m))
runs <- 100
elapsed <- system.time(for (i in seq_len(runs)) fisher.test(m))
load <- if (file.exists("/proc/loadavg")) as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1]][1]) else NA
timing <- list(
  table = "birthwt_race_ftv", runs = runs,
  seconds_per_call = elapsed[["elapsed"]] / runs,
  user_seconds_per_call = elapsed[["user.self"]] / runs,
  load_average_1min = load, date = format(Sys.Date()),
  call = "system.time(for (i in 1:100) fisher.test(table(birthwt$race, birthwt$ftv))) / 100"
)

write_json(
  list(tables = p_values, timing = timing, versions = list(R = R.version.string, MASS = as.character(packageVersion("MASS")))),
  "fisher_rxc.json", digits = NA, auto_unbox = TRUE, pretty = TRUE
)
