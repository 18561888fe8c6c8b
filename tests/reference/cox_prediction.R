# Reference values for tests/test_cox_prediction.py: prediction from a Cox model with
# survival 3.5 -- coefficients and fit$means, basehaz(fit, centered = FALSE), predict(type =
# "lp") on new data and summary(survfit(fit, newdata), times)$surv, for Efron's and Breslow's
# ties; and coxph's warning on a monotone likelihood.
# Run: cd tests/reference && Rscript cox_prediction.R   (writes cox_prediction.json and the
# input CSVs cox_prediction_data.csv and cox_separated_data.csv).
library(survival)
library(jsonlite)
stopifnot(packageVersion("survival") >= "3.5")

# --- input data ---------------------------------------------------------------------------
# survival::lung, complete cases, time in months rounded to 0.1 (more tied times), sex as a
# 0/1 'female' (coxph does not centre a 0/1 covariate: fit$means is 0 for it) and ph.ecog 0-3.
lung_cc <- lung[!is.na(lung$ph.ecog), ]
cohort <- data.frame(
  months = round(lung_cc$time / 30.4375, 1),
  death = as.integer(lung_cc$status == 2),
  age = lung_cc$age,
  female = as.integer(lung_cc$sex == 2),
  ecog = lung_cc$ph.ecog
)
write.csv(cohort, "cox_prediction_data.csv", row.names = FALSE)
# Monotone likelihood: every death is in the 'implant' = 1 group.
separated <- data.frame(
  months = c(3, 5, 6, 8, 9, 11, 12, 14, 15, 18, 20, 22, 24, 25, 27, 30, 31, 33, 36, 40),
  death = c(1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0),
  age = c(61, 45, 70, 52, 66, 58, 49, 73, 55, 63, 47, 68, 59, 51, 64, 57, 72, 44, 60, 53),
  implant = c(1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0)
)
write.csv(separated, "cox_separated_data.csv", row.names = FALSE)

cohort <- read.csv("cox_prediction_data.csv")
hand <- read.csv("survival_hand.csv")
separated <- read.csv("cox_separated_data.csv")

# new patients: three of the cohort and two made up (one outside the covariate range)
newdata_lung <- rbind(cohort[c(1, 50, 200), c("age", "female", "ecog")],
                      data.frame(age = c(45, 90), female = c(1, 0), ecog = c(0, 3)))
newdata_hand <- data.frame(x = c(-0.4, 0.5, 1.0, 2.2, 3.0), risk = c(0, 1, 2, 3, 3))

predictions <- function(formula, data, newdata, ties, times) {
  fit <- coxph(formula, data = data, ties = ties, model = TRUE, x = TRUE,
               control = coxph.control(eps = 1e-11, iter.max = 100))
  base <- basehaz(fit, centered = FALSE)
  events <- survfit(fit)$n.event
  surv <- summary(survfit(fit, newdata = newdata), times = times)$surv  # times x patients
  list(coef = unname(coef(fit)), means = unname(fit$means),
       basehaz_time = base$time, basehaz_hazard = base$hazard, basehaz_n_event = events,
       lp_centred = unname(predict(fit, newdata = newdata, type = "lp")),
       lp_uncentred = drop(unname(as.matrix(newdata[names(coef(fit))]) %*% coef(fit))),
       times = times, surv = unname(t(surv)))  # patients x times
}
out <- list()
for (ties in c("efron", "breslow")) {
  out[[paste0("lung_", ties)]] <- predictions(Surv(months, death) ~ age + female + ecog, cohort,
                                              newdata_lung, ties, c(3, 6, 12, 18.5, 24))
  out[[paste0("hand_", ties)]] <- predictions(Surv(time, event) ~ x + risk, hand, newdata_hand, ties,
                                              c(2, 3, 5.5, 9))
}
out$newdata_lung <- newdata_lung
out$newdata_hand <- newdata_hand

# coxph's warning names the covariate whose coefficient diverges
messages <- character(0)
separated_fit <- withCallingHandlers(
  coxph(Surv(months, death) ~ age + implant, data = separated),
  warning = function(w) { messages <<- c(messages, conditionMessage(w)); invokeRestart("muffleWarning") }
)
out$separated_warning <- messages
out$separated_coef <- unname(coef(separated_fit))
write_json(out, "cox_prediction.json", digits = NA, auto_unbox = TRUE, dataframe = "columns")
