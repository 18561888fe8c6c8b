# Reference values for tests/test_logistic.py
# glm(..., family = binomial) with tight convergence; confint() = profile likelihood
# (stats::confint.glm, formerly MASS). Input: logistic_data.csv (generated here).
library(jsonlite)
set.seed(20261129)
n <- 150
d <- data.frame(
  age = round(rnorm(n, 58, 14)),
  size_cm = round(rlnorm(n, log(8), 0.5), 1),
  t_stage = sample(c("T1", "T2", "T3"), n, replace = TRUE, prob = c(0.3, 0.4, 0.3)),
  margin = sample(c("negative", "positive"), n, replace = TRUE, prob = c(0.7, 0.3))
)
lp <- -3 + 0.02 * d$age + 0.15 * d$size_cm + c(T1 = 0, T2 = 0.6, T3 = 1.3)[d$t_stage] +
  0.9 * (d$margin == "positive")
d$high_grade <- rbinom(n, 1, plogis(lp))
write.csv(d, "logistic_data.csv", row.names = FALSE)

ctrl <- glm.control(epsilon = 1e-14, maxit = 100)
summarise <- function(fit) {
  co <- summary(fit)$coefficients
  wald <- confint.default(fit)
  prof <- suppressMessages(confint(fit))
  list(
    term = rownames(co), estimate = unname(co[, 1]), std_error = unname(co[, 2]),
    z = unname(co[, 3]), p = unname(co[, 4]),
    wald_low = unname(wald[, 1]), wald_high = unname(wald[, 2]),
    profile_low = unname(prof[, 1]), profile_high = unname(prof[, 2]),
    aic = AIC(fit), bic = BIC(fit), log_likelihood = as.numeric(logLik(fit)),
    deviance = deviance(fit), null_deviance = fit$null.deviance, df_residual = fit$df.residual,
    lr_statistic = fit$null.deviance - deviance(fit), lr_df = fit$df.null - fit$df.residual,
    lr_p = pchisq(fit$null.deviance - deviance(fit), fit$df.null - fit$df.residual, lower.tail = FALSE),
    fitted = unname(fitted(fit))
  )
}
full <- glm(high_grade ~ age + size_cm + t_stage + margin, family = binomial, data = d, control = ctrl)
# Reference level T2 for t_stage, as a study config may ask
d2 <- d; d2$t_stage <- relevel(factor(d2$t_stage), ref = "T2")
releveled <- glm(high_grade ~ age + t_stage, family = binomial, data = d2, control = ctrl)
new <- data.frame(age = c(40, 70), size_cm = c(5, 15), t_stage = c("T3", "T1"), margin = c("positive", "negative"))

# univariable screen then multivariable model (LR test per variable, drop1)
cands <- c("age", "size_cm", "t_stage", "margin")
uni <- lapply(cands, function(v) {
  f <- glm(reformulate(v, "high_grade"), family = binomial, data = d, control = ctrl)
  list(summary = summarise(f), lr_p = anova(f, test = "LRT")[2, "Pr(>Chi)"])
})
names(uni) <- cands
uni_p <- sapply(uni, function(u) u$lr_p)
selected <- cands[uni_p < 0.05]
multi <- glm(reformulate(selected, "high_grade"), family = binomial, data = d, control = ctrl)
drop_p <- drop1(multi, test = "LRT")[-1, "Pr(>Chi)"]
names(drop_p) <- selected

write_json(list(
  full = summarise(full),
  predict_new = unname(predict(full, newdata = new, type = "response")),
  releveled = summarise(releveled),
  univariable = uni, selected = selected, multivariable = summarise(multi),
  multivariable_lr_p = as.list(drop_p)
), "logistic.json", digits = NA, auto_unbox = TRUE)
