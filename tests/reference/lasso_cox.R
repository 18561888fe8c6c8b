# Reference values for tests/test_lasso_cox.py (run here: Rscript lasso_cox.R; glmnet 4.1-6):
#   glmnet(x, Surv(time, event), family = "cox", alpha = 1, standardize = TRUE, thresh = 1e-20)
#   (Breslow ties, glmnet 4.1's only method for family = "cox" with right-censored data):
#   - default_*: the default lambda path (lambda.min.ratio 1e-4 when n >= p, 0.01 when n < p,
#     100 values), ended early by glmnet's Cox rules (53 lambdas here), its coefficients and
#     dev.ratio; fold_n_lambda: the length of each fold's own default path;
#   - full_*: the whole 100-value path, passed as lambda = ... (never ended early);
#   - single_*: fits at single lambdas;
#   - cv_default / cv_given: cv.glmnet(..., family = "cox", foldid = fold) (type.measure =
#     "deviance", grouped = TRUE) with glmnet's default path and with 25 lambdas given;
#     cv_censored_fold: the same with foldid = censored_fold, whose fold 6 holds 10 censored
#     patients and no event (weight 0 in cvm and cvsd);
#   - null_deviance, deviance_at_min: coxnet.deviance() at beta = 0 and at lambda.min.
#   - wide_*: p > n (see below).
# thresh = 1e-20 (1e-18 for p > n): at 1e-14 glmnet's coordinate descent still leaves
# coefficients ~5e-7 (standardised scale) from the optimum here.
# Data (simulated here, written beside this script):
#   lasso_cox_data.csv: 120 patients, 20 features on different scales (two correlated, one
#     around 1000, one around 0.01), three with real effects; times rounded up to 0.5 months
#     so that events tie; 38 censored; fold = the cv.glmnet fold ids (10 folds).
#   lasso_cox_wide_data.csv: p > n, 50 patients and 80 features (two real effects), 5 folds.
suppressMessages(library(glmnet))
library(survival)
library(jsonlite)

set.seed(20240611)
n <- 120; p <- 20
z <- matrix(rnorm(n * p), n, p)
x <- z
x[, 2] <- 0.7 * z[, 1] + 0.5 * z[, 2]
x[, 3] <- 1000 + 300 * z[, 3]
x[, 4] <- 0.01 * z[, 4]
colnames(x) <- c("firstorder_Mean", "firstorder_Median", "shape_VoxelVolume", "glcm_Idm",
                 paste0("texture_", 5:p))
lp <- 0.8 * z[, 1] - 0.6 * z[, 3] + 0.5 * z[, 6]
event_time <- rexp(n, 0.05 * exp(lp))
censor_time <- runif(n, 5, 60)
time <- pmin(event_time, censor_time)
time <- ceiling(time * 2) / 2                       # half-month resolution: tied times
event <- as.integer(event_time <= censor_time)
fold <- sample(rep(1:10, length.out = n))
write.csv(data.frame(x, time = time, event = event, fold = fold), "lasso_cox_data.csv", row.names = FALSE)

set.seed(99)
wide_n <- 50; wide_p <- 80
wide_x <- matrix(rnorm(wide_n * wide_p), wide_n, wide_p)
colnames(wide_x) <- paste0("feature_", seq_len(wide_p))
wide_time <- ceiling(rexp(wide_n, 0.1 * exp(1.0 * wide_x[, 1] - 0.8 * wide_x[, 2])) * 2) / 2
wide_censor <- runif(wide_n, 2, 30)
wide_event <- as.integer(wide_time <= wide_censor)
wide_time <- pmin(wide_time, ceiling(wide_censor * 2) / 2)
wide_fold <- sample(rep(1:5, length.out = wide_n))
write.csv(data.frame(wide_x, time = wide_time, event = wide_event, fold = wide_fold), "lasso_cox_wide_data.csv",
          row.names = FALSE)

path_fit <- function(x, y, thresh = 1e-20, ...) glmnet(x, y, family = "cox", thresh = thresh, maxit = 1e7, ...)
beta_matrix <- function(fit) unname(as.matrix(fit$beta))
cv_values <- function(cv) list(
  lambda = cv$lambda, cvm = cv$cvm, cvsd = cv$cvsd, nzero = unname(cv$nzero),
  lambda_min = cv$lambda.min, lambda_1se = cv$lambda.1se,
  coef_min = as.vector(coef(cv, s = "lambda.min")), coef_1se = as.vector(coef(cv, s = "lambda.1se")))

y <- Surv(time, event)
default <- path_fit(x, y)
ratio <- 1e-4
full_lambda <- default$lambda[1] * ratio^((0:99) / 99)
full <- path_fit(x, y, lambda = full_lambda)
single_lambda <- c(0.2, 0.05, 0.01)
single <- sapply(single_lambda, function(l) as.vector(coef(path_fit(x, y, lambda = l))))
cv_default <- cv.glmnet(x, y, family = "cox", foldid = fold, thresh = 1e-20, maxit = 1e7)
given_lambda <- exp(seq(log(0.3), log(0.003), length.out = 25))
cv_given <- cv.glmnet(x, y, family = "cox", foldid = fold, lambda = given_lambda, thresh = 1e-20, maxit = 1e7)
# a held-out part without events (fold 6: 10 censored patients) has weight 0 in cvm and cvsd
censored_fold <- (fold - 1) %% 5 + 1
censored_fold[which(event == 0)[1:10]] <- 6
cv_censored_fold <- cv.glmnet(x, y, family = "cox", foldid = censored_fold, lambda = given_lambda, thresh = 1e-20,
                              maxit = 1e7)
fold_n_lambda <- sapply(1:10, function(k) length(path_fit(x[fold != k, ], y[fold != k])$lambda))
# the partial-likelihood deviance cv.glmnet uses: 2 (saturated - Breslow log partial likelihood)
null_deviance <- coxnet.deviance(y = y)
deviance_at_min <- coxnet.deviance(x = x, y = y, beta = coef(cv_default, s = "lambda.min"))

wide_y <- Surv(wide_time, wide_event)
# glmnet's default path for p > n (100 lambdas: it does not end early here); with thresh
# tighter than 1e-12 its coordinate descent stops converging at the smallest lambdas, so the
# coefficients and cv.glmnet are taken on the first 60 lambdas, given, with thresh = 1e-18
wide_default <- path_fit(wide_x, wide_y, thresh = 1e-12)
wide_lambda <- wide_default$lambda[1:60]
wide <- path_fit(wide_x, wide_y, thresh = 1e-18, lambda = wide_lambda)
wide_cv <- cv.glmnet(wide_x, wide_y, family = "cox", foldid = wide_fold, lambda = wide_lambda, thresh = 1e-18, maxit = 1e7)

write_json(list(
  default_lambda = default$lambda, default_beta = beta_matrix(default), default_dev_ratio = default$dev.ratio,
  full_lambda = full$lambda, full_beta = beta_matrix(full), full_dev_ratio = full$dev.ratio,
  single_lambda = single_lambda, single_beta = unname(single),
  cv_default = cv_values(cv_default), fold_n_lambda = fold_n_lambda,
  cv_given = cv_values(cv_given), censored_fold = censored_fold, cv_censored_fold = cv_values(cv_censored_fold),
  null_deviance = null_deviance, deviance_at_min = deviance_at_min,
  wide_default_lambda = wide_default$lambda, wide_lambda = wide$lambda, wide_beta = beta_matrix(wide),
  wide_cv = cv_values(wide_cv)
), "lasso_cox.json", digits = NA, auto_unbox = TRUE)
