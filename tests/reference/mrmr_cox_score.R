# Reference values for tests/test_report_survival_model.py: the relevance="cox_score" of
# MRMRSelector is the univariable Cox score statistic of each feature at beta = 0 with
# Breslow's handling of ties, summary(coxph(..., ties = "breslow"))$sctest, as nats chi2 / (2 n).
# Data: survival::lung, complete cases of five numeric covariates, time in months rounded to
# 0.5 (many tied times).
# Run: cd tests/reference && Rscript mrmr_cox_score.R   (writes mrmr_cox_score.json and mrmr_cox_score_data.csv).
library(survival)
library(jsonlite)

columns <- c("age", "ph.ecog", "ph.karno", "pat.karno", "wt.loss")
lung_cc <- lung[complete.cases(lung[, c("time", "status", columns)]), ]
cohort <- data.frame(
  months = round(lung_cc$time / 30.4375 * 2) / 2 + 0.5,
  progression = as.integer(lung_cc$status == 2),
  age = lung_cc$age,
  ecog = lung_cc$ph.ecog,
  karnofsky = lung_cc$ph.karno,
  patient_karnofsky = lung_cc$pat.karno,
  weight_loss = lung_cc$wt.loss
)
write.csv(cohort, "mrmr_cox_score_data.csv", row.names = FALSE)
features <- c("age", "ecog", "karnofsky", "patient_karnofsky", "weight_loss")
score <- sapply(features, function(name) {
  fit <- coxph(as.formula(paste("Surv(months, progression) ~", name)), data = cohort, ties = "breslow")
  unname(summary(fit)$sctest["test"])
})
write_json(list(n = nrow(cohort), features = features, score_statistic = as.list(score)),
           "mrmr_cox_score.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
