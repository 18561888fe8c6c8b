# Reference values for tests/test_calibration.py
#  - Hosmer-Lemeshow written from ResourceSelection::hoslem.test (not installed here):
#    quantile groups cut(p, unique(quantile(p, seq(0, 1, 1/g))), include.lowest = TRUE), df = g - 2
#  - rms::val.prob(p, y, pl = FALSE): logistic recalibration, Brier, Emax/E90/Eavg (lowess)
#  - calibration-in-the-large: glm(y ~ offset(qlogis(p)), binomial)
#  - rms::validate(lrm(...), B = 200): apparent indexes and Harrell's optimism correction
suppressMessages(library(rms))
library(jsonlite)  # masks rms::validate, called with its namespace below
set.seed(42)
n <- 200
x1 <- rnorm(n); x2 <- rbinom(n, 1, 0.4)
true_lp <- -0.4 + 1.1 * x1 + 0.8 * x2
y <- rbinom(n, 1, plogis(true_lp))
# a miscalibrated model (too extreme, shifted), rounded so that predictions have ties
p <- round(plogis(0.3 + 1.4 * true_lp + rnorm(n, 0, 0.3)), 3)
# coarse predictions: tied quantiles merge Hosmer-Lemeshow groups (fewer than g), df stays g - 2
p_coarse <- round(pmin(pmax(p, 0.06), 0.94), 1)
write.csv(data.frame(y = y, p = p, p_coarse = p_coarse), "calibration_data.csv", row.names = FALSE)

hoslem <- function(y, p, g) {
  breaks <- unique(quantile(p, probs = seq(0, 1, 1 / g)))
  groups <- cut(p, breaks = breaks, include.lowest = TRUE)
  observed <- xtabs(cbind(1 - y, y) ~ groups)
  expected <- xtabs(cbind(1 - p, p) ~ groups)
  statistic <- sum((observed - expected)^2 / expected)
  list(statistic = statistic, df = g - 2, p = 1 - pchisq(statistic, g - 2),
       n = as.vector(table(groups)), observed = unname(observed[, 2]), expected = unname(expected[, 2]))
}

vp <- val.prob(p, y, pl = FALSE)
citl <- coef(glm(y ~ 1 + offset(qlogis(p)), family = binomial, control = glm.control(epsilon = 1e-14)))
smooth <- lowess(p, y, iter = 0)

d <- read.csv("logistic_data.csv")
fit <- lrm(high_grade ~ age + size_cm + t_stage + margin, data = d, x = TRUE, y = TRUE)
set.seed(1)
v <- rms::validate(fit, B = 200)

write_json(list(
  hl10 = hoslem(y, p, 10), hl8 = hoslem(y, p, 8),
  hl_coarse = hoslem(y, p_coarse, 10),
  val_prob = as.list(vp), calibration_in_the_large = unname(citl),
  lowess_x = smooth$x, lowess_y = smooth$y,
  validate = list(index = rownames(v), apparent = unname(v[, "index.orig"]),
                  optimism = unname(v[, "optimism"]), corrected = unname(v[, "index.corrected"]))
), "calibration.json", digits = NA, auto_unbox = TRUE)
