# Reference values for tests/test_reclassification.py:
#  - Hmisc::improveProb(x1 = p_old, x2 = p_new, y): continuous NRI and IDI, with print.improveProb's
#    Wald CIs (estimate +- qnorm((1 + conf) / 2) * se) and p = 2 * pnorm(-|z|); the SEs of the two
#    IDI parts are Hmisc's var.ev and var.ne (computed, not printed, by improveProb);
#  - the categorical NRI written by hand as PredictABEL::reclassification computes it (PredictABEL
#    is not installed): categories cut(p, c(0, cutoffs, 1), right = FALSE, include.lowest = TRUE),
#    then improveProb on the category codes (here all divided by the number of categories; PredictABEL
#    divides each model's codes by its own highest code), plus Pencina et al. (2008)'s test with the
#    variance under H0, (up + down) / n^2 per group;
#  - Pencina et al. (2008, Stat Med 27:157) worked example (HDL added to the Framingham model):
#    events 29 up, 7 down of 183; non-events 173 up, 174 down of 3081; printed NRI 0.121, z 3.616;
#  - the stratified bootstrap replayed on Python's draws (reclassification_boot_indices.csv).
#
# Regenerate (R 4.2.2, Hmisc 4.8.0, jsonlite 1.8.4; Debian r-cran-hmisc):
#   cd tests/reference
#   Rscript reclassification.R                    # writes reclassification_data.csv, stops without the draws
#   ../../.venv/bin/python bootstrap_indices.py   # writes reclassification_boot_indices.csv
#   Rscript reclassification.R                    # writes reclassification.json
suppressPackageStartupMessages(library(Hmisc))
library(jsonlite)
stopifnot(packageVersion("Hmisc") >= "4.8.0")

set.seed(20260301)
n <- 300
x1 <- rnorm(n); marker <- rnorm(n)
y <- rbinom(n, 1, plogis(-1.4 + 0.9 * x1 + 0.7 * marker))
p_old <- round(plogis(-1.3 + 0.8 * x1), 3)
p_new <- round(plogis(-1.4 + 0.85 * x1 + 0.6 * marker), 3)
p_new[1:12] <- p_old[1:12]                      # unchanged risks: neither up nor down
p_old[13:16] <- c(0.1, 0.3, 0.1, 0.3)           # risks exactly at a cut-off belong to the upper category
p_new[17:20] <- c(0.3, 0.1, 0.3, 0.1)
write.csv(data.frame(y = y, p_old = p_old, p_new = p_new), "reclassification_data.csv", row.names = FALSE)
d <- read.csv("reclassification_data.csv")

wald <- function(estimate, se, conf) {
  z <- estimate / se
  q <- qnorm((1 + conf) / 2)
  list(estimate = estimate, se = se, z = z, p = 2 * pnorm(-abs(z)), ci_low = estimate - q * se, ci_high = estimate + q * se)
}
indices <- function(y, p_old, p_new, cutoffs, conf) {
  ip <- improveProb(x1 = p_old, x2 = p_new, y = y)
  d <- p_new - p_old
  out <- list(
    nri_continuous = list(overall = wald(ip$nri, ip$se.nri, conf), events = wald(ip$nri.ev, ip$se.nri.ev, conf),
                          non_events = wald(ip$nri.ne, ip$se.nri.ne, conf)),
    idi = list(overall = wald(ip$idi, ip$se.idi, conf),
               events = wald(ip$improveSens, sqrt(var(d[y == 1]) / sum(y == 1)), conf),
               non_events = wald(ip$improveSpec, sqrt(var(d[y == 0]) / sum(y == 0)), conf)))
  counts <- c(up_events = ip$pup.ev * ip$na, down_events = ip$pdown.ev * ip$na,
              up_non_events = ip$pup.ne * ip$nb, down_non_events = ip$pdown.ne * ip$nb)
  out$nri_continuous$counts <- as.list(round(counts))
  if (!is.null(cutoffs)) {
    breaks <- c(0, cutoffs, 1)
    c1 <- cut(p_old, breaks, right = FALSE, include.lowest = TRUE)
    c2 <- cut(p_new, breaks, right = FALSE, include.lowest = TRUE)
    k <- nlevels(c1)
    cat_ip <- improveProb(x1 = as.numeric(c1) / k, x2 = as.numeric(c2) / k, y = y)
    out$nri_categorical <- list(overall = wald(cat_ip$nri, cat_ip$se.nri, conf),
                                events = wald(cat_ip$nri.ev, cat_ip$se.nri.ev, conf),
                                non_events = wald(cat_ip$nri.ne, cat_ip$se.nri.ne, conf))
    n_ev <- cat_ip$na; n_ne <- cat_ip$nb
    null_ev <- (cat_ip$pup.ev + cat_ip$pdown.ev) / n_ev
    null_ne <- (cat_ip$pup.ne + cat_ip$pdown.ne) / n_ne
    out$nri_categorical$overall$z_null <- cat_ip$nri / sqrt(null_ev + null_ne)
    out$nri_categorical$events$z_null <- cat_ip$nri.ev / sqrt(null_ev)
    out$nri_categorical$non_events$z_null <- cat_ip$nri.ne / sqrt(null_ne)
    out$nri_categorical$counts <- list(up_events = round(cat_ip$pup.ev * n_ev), down_events = round(cat_ip$pdown.ev * n_ev),
                                       up_non_events = round(cat_ip$pup.ne * n_ne), down_non_events = round(cat_ip$pdown.ne * n_ne))
    tab <- table(outcome = y, old = c1, new = c2)
    out$reclassification_table <- list(non_event = unname(unclass(tab[1, , ])), event = unname(unclass(tab[2, , ])))
  }
  out
}
out <- list()
out$cutoffs_10_30 <- indices(d$y, d$p_old, d$p_new, c(0.1, 0.3), 0.95)
out$cutoffs_10_30_conf90 <- indices(d$y, d$p_old, d$p_new, c(0.1, 0.3), 0.90)
out$cutoffs_20 <- indices(d$y, d$p_old, d$p_new, 0.2, 0.95)

# ---- Pencina et al. (2008): the reclassification counts of their HDL example as data
pencina_y <- rep(c(1, 0), c(183, 3081))
old_cat <- c(rep(1, 29), rep(2, 7), rep(1, 147), rep(1, 173), rep(2, 174), rep(1, 3081 - 347))
new_cat <- c(rep(2, 29), rep(1, 7), rep(1, 147), rep(2, 173), rep(1, 174), rep(1, 3081 - 347))
pencina <- improveProb(x1 = old_cat / 3, x2 = new_cat / 3, y = pencina_y)
out$pencina <- list(nri = pencina$nri, nri_events = pencina$nri.ev, nri_non_events = pencina$nri.ne,
                    se = pencina$se.nri,
                    z_null = pencina$nri / sqrt((pencina$pup.ev + pencina$pdown.ev) / 183 + (pencina$pup.ne + pencina$pdown.ne) / 3081),
                    paper_nri = 0.121, paper_z = 3.616)

# ---- the bootstrap replayed: each row holds the 1-based rows of one stratified replicate
if (!file.exists("reclassification_boot_indices.csv")) stop("run bootstrap_indices.py, then this script again")
draws <- as.matrix(read.csv("reclassification_boot_indices.csv", header = FALSE))
replicates <- t(apply(draws, 1, function(rows) {
  r <- indices(d$y[rows], d$p_old[rows], d$p_new[rows], c(0.1, 0.3), 0.95)
  unlist(lapply(r[c("nri_categorical", "nri_continuous", "idi")], function(index) {
    sapply(index[c("overall", "events", "non_events")], function(component) component$estimate)
  }))
}))
out$bootstrap <- lapply(as.data.frame(replicates), function(v) unname(quantile(v, c(0.025, 0.975), type = 7)))
out$versions <- list(R = R.version.string, Hmisc = as.character(packageVersion("Hmisc")))
write_json(out, "reclassification.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
