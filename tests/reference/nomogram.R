# Reference values for tests/test_nomogram.py: rms::nomogram of the logistic model of
# logistic.R (lrm gives the same maximum-likelihood fit as glm). Continuous axes are
# pretty(c(min, max), n = nint) of the data, as rms does with datadist()'s full range
# (limits "Low"/"High"); also base::pretty on assorted ranges, which the axes rely on.
suppressMessages(library(rms))
library(jsonlite)
d <- read.csv("logistic_data.csv")
dd <- datadist(d); options(datadist = "dd")
# tight convergence so that the coefficients equal glm()'s to 1e-10 (lrm.fit's default eps is 0.025)
fit <- lrm(high_grade ~ age + size_cm + t_stage + margin, data = d, eps = 1e-12, maxit = 100)
risk <- c(0.1, 0.3, 0.5, 0.7, 0.9)
axes <- function(nom, predictors) {
  lapply(setNames(predictors, predictors), function(v) {
    a <- nom[[v]]
    list(value = a[[v]], xbeta = unname(a$Xbeta), points = unname(a$points))
  })
}
summarise <- function(nom, predictors) {
  info <- attr(nom, "info")
  list(axes = axes(nom, predictors), total_points = nom[["total.points"]]$x, scale = info$sc,
       intercept = unname(info$Intercept), lp_x = nom[["lp"]]$x, lp_value = nom[["lp"]]$x.real,
       risk_x = nom[[length(nom)]]$x,
       risk_value = nom[[length(nom)]]$x.real)
}
predictors <- c("age", "size_cm", "t_stage", "margin")
default <- nomogram(fit, fun = plogis, fun.at = risk)
custom <- nomogram(fit, fun = plogis, fun.at = risk, age = c(30, 50, 70), maxscale = 10)

set.seed(3)
lows <- c(0, -3.7, 0.0012, 24, 2.5, 1e5, -250, 0.5)
highs <- c(1, 12.2, 0.0089, 93, 28.8, 3.3e5, -20, 0.5000001)
ranges <- lapply(seq_along(lows), function(i) list(low = lows[i], high = highs[i],
                                                   n5 = pretty(c(lows[i], highs[i])),
                                                   n10 = pretty(c(lows[i], highs[i]), n = 10)))
write_json(list(
  coefficients = unname(coef(fit)), default = summarise(default, predictors),
  custom = summarise(custom, predictors), pretty = ranges
), "nomogram.json", digits = NA, auto_unbox = TRUE)
