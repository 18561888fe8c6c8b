# Reference values for tests/test_imputation.py: multiple imputation by chained equations
# and Rubin's-rules pooling of logistic models with mice.
#
# Regenerate (Debian packages r-base-core r-cran-mice r-cran-jsonlite; mice pulls in mitml):
#
#     cd tests/reference && Rscript mice_pool.R
#
# Produced with R 4.2.2 (2022-11-10), mice 3.15.0, mitml 0.4-4.
#
# Input:  mice_data.csv (written here once, with set.seed, when it does not exist; committed).
# Output: mice_completed.csv (complete(imp, "long"): the m = 5 completed datasets, which the
#         Python tests pool, so that the pooling is compared on identical data) and
#         mice_pool.json (pooled multivariable model, D1 test of margin, pooled univariable
#         models and the pooled univariable -> multivariable screen).
# glm() is fitted with epsilon = 1e-14 (as logistic.R) so that the comparison at 1e-6 tests
# the pooling, not glm's default convergence tolerance of 1e-8.
library(mice)
library(jsonlite)

if (!file.exists("mice_data.csv")) {
  set.seed(20260311)
  n <- 150
  d <- data.frame(
    age = round(rnorm(n, 58, 14)),
    size_cm = round(rlnorm(n, log(8), 0.5), 1),
    margin = sample(c("R0", "R1", "R2"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2)),
    sex = sample(c("female", "male"), n, replace = TRUE)
  )
  lp <- -3.2 + 0.02 * d$age + 0.16 * d$size_cm + c(R0 = 0, R1 = 0.7, R2 = 1.4)[d$margin] +
    0.3 * (d$sex == "male")
  d$y <- rbinom(n, 1, plogis(lp))
  # about 10 % missing in size_cm and in margin, more often in older patients (MAR)
  d$size_cm[sample(n, 15, prob = rank(d$age))] <- NA
  d$margin[sample(n, 15, prob = rank(d$age))] <- NA
  write.csv(d[, c("y", "age", "size_cm", "margin", "sex")], "mice_data.csv", row.names = FALSE, na = "")
}

data <- read.csv("mice_data.csv", na.strings = "")
data$margin <- factor(data$margin)
data$sex <- factor(data$sex)
# default methods: pmm for size_cm, polyreg for margin (y, age, sex are complete)
imp <- mice(data, m = 5, seed = 20260312, printFlag = FALSE)
completed <- complete(imp, "long")
write.csv(completed, "mice_completed.csv", row.names = FALSE)

ctrl <- glm.control(epsilon = 1e-14, maxit = 100)
fit_formula <- function(rhs) {
  # a formula call (not a formula object), so that with() evaluates it in each completed dataset
  formula <- str2lang(paste("y ~", rhs))
  eval(bquote(with(imp, glm(.(formula), family = binomial, control = ctrl))))
}

pooled_summary <- function(fit) {
  pooled <- pool(fit)
  s <- summary(pooled, conf.int = TRUE)
  p <- pooled$pooled
  list(
    term = as.character(s$term), estimate = s$estimate, std_error = s$std.error,
    statistic = s$statistic, df = s$df, p = s$p.value,
    ci_low = s[["2.5 %"]], ci_high = s[["97.5 %"]],
    ubar = p$ubar, b = p$b, t = p$t, dfcom = p$dfcom, riv = p$riv, lambda = p$lambda, fmi = p$fmi,
    m = pooled$m
  )
}

d1 <- function(fit1, fit0) {
  test <- D1(fit1, fit0)$result
  list(statistic = test[1, "F.value"], df1 = test[1, "df1"], df2 = test[1, "df2"], p = test[1, "P(>F)"])
}

full <- fit_formula("age + size_cm + margin + sex")
without_margin <- fit_formula("age + size_cm + sex")
null_model <- fit_formula("1")

candidates <- c("age", "size_cm", "margin", "sex")
univariable <- list()
for (candidate in candidates) {
  fit <- fit_formula(candidate)
  univariable[[candidate]] <- c(pooled_summary(fit), list(d1 = d1(fit, null_model)))
}

# The pooled screen: a variable with one term is judged by its pooled t-test (Rubin df), a
# factor with several levels by D1; the same rules decide retention in the multivariable model.
variable_p <- function(summary, d1_test, variable) {
  rows <- grepl(paste0("^", variable), summary$term)
  if (sum(rows) == 1) summary$p[rows] else d1_test$p
}
selected <- Filter(function(v) variable_p(univariable[[v]], univariable[[v]]$d1, v) < 0.05, candidates)
multivariable_fit <- fit_formula(paste(selected, collapse = " + "))
drop_one <- list()
for (variable in selected) {
  rest <- setdiff(selected, variable)
  reduced <- fit_formula(if (length(rest)) paste(rest, collapse = " + ") else "1")
  drop_one[[variable]] <- d1(multivariable_fit, reduced)
}

reference <- list(
  versions = list(r = R.version.string, mice = as.character(packageVersion("mice")),
                  mitml = as.character(packageVersion("mitml"))),
  m = 5,
  full = pooled_summary(full),
  d1_margin = d1(full, without_margin),
  univariable = univariable,
  screen = list(
    selected = selected,
    multivariable = pooled_summary(multivariable_fit),
    drop_one = drop_one
  )
)
write_json(reference, "mice_pool.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
