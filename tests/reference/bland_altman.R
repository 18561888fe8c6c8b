# Reference values for tests/test_bland_altman.py: Bland-Altman bias and 95 % limits of agreement,
# written by hand (BlandAltmanLeh is not installed here):
#  - bias = mean(d), d = a - b, with the t interval; limits bias -+ qnorm(0.975) * sd(d);
#  - approximate CIs of the limits (Bland & Altman 1999): limit +- qt((1 + conf) / 2, n - 1) * sqrt(3 * sd^2 / n);
#  - exact CIs (Carkeet 2015, limits as a pair): bias + k * sd with k the exact two-sided normal
#    tolerance factor for content 0.95 at confidence (1 - conf) / 2 (inner) and (1 + conf) / 2 (outer):
#    confidence = 2 * integral_0^Inf dnorm(u) * P(chisq_{n-1} > (n - 1) r(u / sqrt(n))^2 / k^2) du,
#    pnorm(x + r) - pnorm(x - r) = content; here by integrate() and uniroot();
#  - proportional bias: summary(lm(d ~ m)), m = (a + b) / 2.
#
# Regenerate (R 4.2.2, jsonlite 1.8.4):  cd tests/reference && Rscript bland_altman.R
library(jsonlite)

set.seed(20260315)
volume <- exp(rnorm(40, log(60), 0.8))                        # tumour volumes, ml
reader_a <- round(volume * exp(rnorm(40, 0, 0.08)) + 2, 1)    # reader A: +2 ml and noise
reader_b <- round(volume * 0.95 * exp(rnorm(40, 0, 0.08)), 1) # reader B: 5 % smaller: proportional bias
data <- rbind(
  data.frame(dataset = "volumes", a = reader_a, b = reader_b),
  data.frame(dataset = "small", a = c(10.2, 12.5, 9.8, 15.1, 11.0, 13.4, 8.9, 14.2),
             b = c(10.0, 12.9, 9.1, 14.3, 11.4, 12.8, 8.7, 13.5)),
  data.frame(dataset = "five", a = c(1.1, 2.0, 2.9, 4.2, 5.0), b = c(1.0, 2.2, 2.7, 4.0, 5.3))
)
write.csv(data, "bland_altman_data.csv", row.names = FALSE)
data <- read.csv("bland_altman_data.csv")

half_width <- function(x, content) {
  uniroot(function(r) pnorm(x + r) - pnorm(x - r) - content,
          c(qnorm((1 + content) / 2), x + qnorm((1 + content) / 2)), tol = 1e-14)$root
}
tolerance_factor <- function(n, content, confidence) {
  df <- n - 1
  integrand <- function(u) sapply(u, function(v) dnorm(v) * pchisq(df * half_width(v / sqrt(n), content)^2 / k^2, df, lower.tail = FALSE))
  coverage <- function(k) {
    k <<- k
    2 * integrate(integrand, 0, Inf, rel.tol = 1e-12, abs.tol = 0, subdivisions = 1000)$value - confidence
  }
  uniroot(coverage, c(1e-3, 500), tol = 1e-13)$root
}

bland_altman <- function(a, b, conf) {
  d <- a - b; m <- (a + b) / 2; n <- length(d)
  bias <- mean(d); s <- sd(d); z <- qnorm(0.975); t <- qt((1 + conf) / 2, n - 1)
  lower <- bias - z * s; upper <- bias + z * s
  content <- pnorm(z) - pnorm(-z)
  inner <- tolerance_factor(n, content, (1 - conf) / 2)
  outer <- tolerance_factor(n, content, (1 + conf) / 2)
  fit <- summary(lm(d ~ m))
  co <- coef(fit)
  list(n = n, bias = bias, sd_difference = s, bias_se = s / sqrt(n),
       bias_ci_low = bias - t * s / sqrt(n), bias_ci_high = bias + t * s / sqrt(n),
       lower_limit = lower, upper_limit = upper,
       lower_limit_ci_low = bias - outer * s, lower_limit_ci_high = bias - inner * s,
       upper_limit_ci_low = bias + inner * s, upper_limit_ci_high = bias + outer * s,
       lower_limit_ci_low_approx = lower - t * sqrt(3 * s^2 / n), lower_limit_ci_high_approx = lower + t * sqrt(3 * s^2 / n),
       upper_limit_ci_low_approx = upper - t * sqrt(3 * s^2 / n), upper_limit_ci_high_approx = upper + t * sqrt(3 * s^2 / n),
       tolerance_factor_inner = inner, tolerance_factor_outer = outer,
       intercept = co[1, 1], intercept_se = co[1, 2], intercept_p = co[1, 4],
       slope = co[2, 1], slope_se = co[2, 2], slope_p = co[2, 4], r_squared = fit$r.squared)
}

out <- list()
for (name in unique(data$dataset)) {
  rows <- data[data$dataset == name, ]
  out[[name]] <- bland_altman(rows$a, rows$b, 0.95)
}
rows <- data[data$dataset == "volumes", ]
out$volumes_conf90 <- bland_altman(rows$a, rows$b, 0.90)
grid <- expand.grid(n = c(3, 10, 40, 200), confidence = c(0.025, 0.5, 0.95, 0.975))
grid$k <- mapply(function(n, confidence) tolerance_factor(n, 0.95, confidence), grid$n, grid$confidence)
out$tolerance_factors <- grid
out$versions <- list(R = R.version.string)
write_json(out, "bland_altman.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
