# Reference values for tests/test_decision_curve.py: a hand decision curve written from
# Vickers & Elkin 2006: NB = TP/n - FP/n * pt / (1 - pt), positive = p >= pt;
# net interventions avoided per 100 = (NB - NB_treat_all) * (1 - pt) / pt * 100.
# Input: calibration_data.csv (written by calibration.R).
library(jsonlite)
d <- read.csv("calibration_data.csv")
n <- nrow(d)
curve <- function(p, thresholds) {
  tp <- sapply(thresholds, function(t) sum(p >= t & d$y == 1))
  fp <- sapply(thresholds, function(t) sum(p >= t & d$y == 0))
  nb <- tp / n - fp / n * thresholds / (1 - thresholds)
  nb_all <- mean(d$y) - (1 - mean(d$y)) * thresholds / (1 - thresholds)
  list(tp = tp, fp = fp, net_benefit = nb,
       net_interventions_avoided = (nb - nb_all) * (1 - thresholds) / thresholds * 100)
}
thresholds <- (1:99) / 100
custom <- c(0.05, 0.2, 0.5)
write_json(list(
  thresholds = thresholds,
  model = curve(d$p, thresholds), coarse = curve(d$p_coarse, thresholds),
  treat_all = curve(rep(1, n), thresholds), treat_none = curve(rep(-1, n), thresholds),
  custom_thresholds = custom, model_custom = curve(d$p, custom)
), "decision_curve.json", digits = NA, auto_unbox = TRUE)
