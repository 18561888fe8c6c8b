# Reference values for stsanalysis.radiomics.harmonization.ComBat  (tests/test_harmonization.py)
# sva::ComBat on 60 samples x 20 features, 3 batches of unequal size with location and
# scale effects, and a binary outcome (the covariate to protect).
# Run: cd tests/reference && Rscript combat.R   -> combat_data.csv, combat.json
suppressPackageStartupMessages({library(sva); library(jsonlite)})
set.seed(20241129)
n_per_batch <- c(A = 25, B = 20, C = 15)
batch <- rep(names(n_per_batch), n_per_batch)
n <- length(batch); p <- 20
outcome <- rbinom(n, 1, 0.4)
feature_mean <- rnorm(p, 50, 20); feature_sd <- rexp(p, 1 / 5) + 1
shift <- matrix(rnorm(3 * p, 0, 3), 3, p, dimnames = list(names(n_per_batch), NULL))
scale <- matrix(exp(rnorm(3 * p, 0, 0.4)), 3, p, dimnames = list(names(n_per_batch), NULL))
x <- matrix(NA_real_, n, p)
for (j in seq_len(p)) {
  signal <- feature_mean[j] + 2 * outcome * (j %% 3 == 0) * feature_sd[j]
  x[, j] <- signal + shift[batch, j] * feature_sd[j] + scale[batch, j] * feature_sd[j] * rnorm(n)
}
colnames(x) <- sprintf("feature_%02d", seq_len(p))
data <- data.frame(sample = sprintf("S%02d", seq_len(n)), batch = batch, outcome = outcome, x)
write.csv(data, "combat_data.csv", row.names = FALSE)

dat <- t(x)  # sva works features x samples
mod <- model.matrix(~outcome, data = data)
as_rows <- function(adjusted) unname(split(t(adjusted), seq_len(n)))  # samples x features
run <- function(...) as_rows(suppressMessages(ComBat(dat = dat, batch = batch, ...)))

set.seed(1)  # non-parametric ComBat draws no random numbers, seeded for safety
out <- list(
  sva_version = as.character(packageVersion("sva")),
  parametric = run(),
  parametric_covariate = run(mod = mod),
  nonparametric = run(par.prior = FALSE),
  nonparametric_covariate = run(mod = mod, par.prior = FALSE),
  mean_only = run(mean.only = TRUE),
  mean_only_nonparametric = run(mean.only = TRUE, par.prior = FALSE),
  ref_batch_B = run(ref.batch = "B"),
  ref_batch_B_covariate = run(mod = mod, ref.batch = "B")
)

# Degenerate batches (tests/test_degenerate_data.py).
rows_of <- function(adjusted) unname(split(t(adjusted), seq_len(ncol(adjusted))))
# Batch C reduced to its first sample: sva switches to mean.only = TRUE by itself (with a
# note); stsanalysis refuses unless mean_only=True is asked for, then gives these numbers.
single <- c(which(batch != "C"), which(batch == "C")[1])
single_mean_only <- suppressMessages(ComBat(dat = dat[, single], batch = batch[single], mean.only = TRUE))
stopifnot(isTRUE(all.equal(single_mean_only, suppressMessages(ComBat(dat = dat[, single], batch = batch[single])))))
out$single_sample_batch_C_mean_only <- list(samples = data$sample[single], adjusted = rows_of(single_mean_only))
# feature_01 constant (7) within batch A: sva leaves it unadjusted and harmonises the
# others as without it (stsanalysis adjusts its location in A and all of it in B and C).
constant_a <- dat
constant_a[1, batch == "A"] <- 7
invisible(capture.output(constant_adjusted <- suppressMessages(ComBat(dat = constant_a, batch = batch))))  # sva cat()s its note
out$constant_feature_01_in_A <- rows_of(constant_adjusted)
write_json(out, "combat.json", digits = NA, auto_unbox = TRUE)
