# Reference values for tests/test_correlation.py (stsanalysis.stats.correlation).
# Run: cd tests/reference && Rscript stats_correlation.R
library(jsonlite)
set.seed(77)

# 32 patients as in design A: ADC with ties, FNCLCC grade 1-3 (heavy ties), Ki-67 in %.
grade <- sample(1:3, 32, replace = TRUE, prob = c(.3, .3, .4))
adc <- round(1.9 - 0.3 * grade + rnorm(32, 0, 0.25), 2)
ki67 <- round(pmax(1, 10 * grade + rnorm(32, 0, 12)))
data <- data.frame(adc_mean = adc, grade = grade, ki67 = ki67)
stopifnot(anyDuplicated(adc) > 0)
write.csv(data, "stats_correlation.csv", row.names = FALSE)

small <- data.frame(x = c(2.1, 3.4, 1.9, 5.6, 4.4, 3.3, 6.1, 2.8, 4.9, 5.0),
                    y = c(1.0, 2.2, 1.4, 3.9, 2.1, 2.5, 4.4, 1.1, 3.0, 3.8))
write.csv(small, "stats_correlation_n10.csv", row.names = FALSE)

pair <- function(x, y) {
  s <- cor.test(x, y, method = "spearman", exact = FALSE)
  p <- cor.test(x, y)
  list(spearman = list(rho = unname(s$estimate), p = s$p.value),
       pearson = list(r = unname(p$estimate), p = p$p.value, ci = unname(p$conf.int[1:2])),
       pearson_90 = unname(cor.test(x, y, conf.level = 0.90)$conf.int[1:2]))
}

write_json(list(
  adc_grade = pair(data$adc_mean, data$grade),
  adc_ki67 = pair(data$adc_mean, data$ki67),
  small = pair(small$x, small$y)
), "stats_correlation.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
