# Reference values for tests/test_lasso.py:
#   glmnet(x, y, family = "binomial", alpha = 1, standardize = TRUE, thresh = 1e-14), default
#   lambda path (lambda.min.ratio 1e-4 when n >= p, 0.01 when n < p, 100 values), and
#   cv.glmnet(type.measure = "deviance") with fixed fold ids (lasso_data.csv column fold).
# glmnet ends its default path early (glmnet.control(): fdev = 1e-5, devmax = 0.999). The
# whole 100-value path (lambda, a0, beta, df, wide_*) is computed with
# glmnet.control(fdev = 0, devmax = 1), which switches that off; default_lambda and the
# cv.glmnet values with glmnet's default control.
# near_separable: three data sets on which glmnet's early stop matters, each with glmnet's
# default control: the default fit (n_lambda_default: how many lambdas glmnet returns), the
# same fit converged tightly (coefficients), cv.glmnet with the fold ids, and the number of
# lambdas of each fold's own path (shorter than the full one: cv.glmnet then predicts with the
# fold's last fit).
#   separable (lasso_separable_data.csv): 60 patients, 8 features, an outcome almost
#     determined by two of them; the path ends where 99.9% of the deviance is explained.
#   noise (lasso_noise_data.csv): the 10 features mRMR kept (relevance "f_statistic") from
#     noise_features(100, 1000, seed = 1731038949) in the first of 5 outer folds
#     (StratifiedKFold(5, shuffle = True, random_state = 1731038949)): 80 patients on which
#     LassoRadScore(cv = 5, random_state = 1731038949) used to stop with "Newton's method did
#     not converge"; the path ends where the deviance explained gains less than 1e-5.
#     Written by Python; its fold column is for cv.glmnet.
#   wide_noise (lasso_wide_noise_data.csv): p > n noise, 30 patients and 50 features.
suppressMessages(library(glmnet))
library(jsonlite)
set.seed(7)
n <- 120; p <- 12
z <- matrix(rnorm(n * p), n, p)
x <- z
x[, 2] <- z[, 1] * 0.7 + z[, 2] * 0.5            # correlated features
x[, 3] <- 1000 + 300 * z[, 3]                     # a feature on a large scale
x[, 4] <- 0.01 * z[, 4]                           # and one on a tiny scale
colnames(x) <- c("firstorder_Mean", "firstorder_Median", "glcm_Contrast", "glcm_Idm", "shape_Sphericity",
                 paste0("wavelet_feature_", 6:12))
lp <- -0.3 + 1.0 * z[, 1] - 0.8 * z[, 3] + 0.6 * z[, 4] + 0.5 * z[, 6]
y <- rbinom(n, 1, plogis(lp))
fold <- sample(rep(1:5, length.out = n))
write.csv(data.frame(x, y = y, fold = fold), "lasso_data.csv", row.names = FALSE)

# n < p: lambda.min.ratio = 0.01
set.seed(8)
wide_x <- matrix(rnorm(30 * 40), 30, 40)
wide_y <- rbinom(30, 1, plogis(wide_x[, 1]))
write.csv(data.frame(wide_x, y = wide_y), "lasso_wide_data.csv", row.names = FALSE)

glmnet.control(fdev = 0, devmax = 1)
fit <- glmnet(x, y, family = "binomial", alpha = 1, standardize = TRUE, thresh = 1e-14, maxit = 1e6)
wide <- glmnet(wide_x, wide_y, family = "binomial", thresh = 1e-14, maxit = 1e6)
glmnet.control(factory = TRUE)
default_fit <- glmnet(x, y, family = "binomial", alpha = 1, standardize = TRUE, thresh = 1e-14, maxit = 1e6)
cv <- cv.glmnet(x, y, family = "binomial", alpha = 1, type.measure = "deviance", foldid = fold,
                thresh = 1e-14, maxit = 1e6)

set.seed(4)
separable_x <- matrix(rnorm(60 * 8), 60, 8)
separable_y <- rbinom(60, 1, plogis(5 * separable_x[, 1] - 4 * separable_x[, 2]))
separable_fold <- sample(rep(1:5, length.out = 60))
write.csv(data.frame(separable_x, y = separable_y, fold = separable_fold), "lasso_separable_data.csv", row.names = FALSE)
set.seed(11)
wide_noise_x <- matrix(rnorm(30 * 50), 30, 50)
wide_noise_y <- sample(rep(0:1, 15))
wide_noise_fold <- sample(rep(1:5, length.out = 30))
write.csv(data.frame(wide_noise_x, y = wide_noise_y, fold = wide_noise_fold), "lasso_wide_noise_data.csv",
          row.names = FALSE)

near_separable <- function(file) {
  data <- read.csv(file)
  x <- as.matrix(data[, !(names(data) %in% c("y", "fold"))])
  default <- glmnet(x, data$y, family = "binomial")
  tight <- glmnet(x, data$y, family = "binomial", thresh = 1e-14, maxit = 1e6)
  cv <- cv.glmnet(x, data$y, family = "binomial", type.measure = "deviance", foldid = data$fold,
                  thresh = 1e-14, maxit = 1e6)
  fold_n_lambda <- sapply(sort(unique(data$fold)), function(k) length(
    glmnet(x[data$fold != k, ], data$y[data$fold != k], family = "binomial", thresh = 1e-14, maxit = 1e6)$lambda))
  list(n_lambda_default = length(default$lambda), lambda = tight$lambda, a0 = unname(tight$a0),
       beta = unname(as.matrix(tight$beta)), cvm = cv$cvm, cvsd = cv$cvsd, fold_n_lambda = fold_n_lambda)
}

write_json(list(
  lambda = fit$lambda, a0 = unname(fit$a0), beta = unname(as.matrix(fit$beta)), df = fit$df,
  default_lambda = default_fit$lambda,
  cv_lambda = cv$lambda, cvm = cv$cvm, cvsd = cv$cvsd, nzero = unname(cv$nzero),
  lambda_min = cv$lambda.min, lambda_1se = cv$lambda.1se,
  wide_lambda = wide$lambda, wide_a0 = unname(wide$a0)[1:20], wide_beta = unname(as.matrix(wide$beta))[, 1:20],
  near_separable = list(separable = near_separable("lasso_separable_data.csv"),
                        noise = near_separable("lasso_noise_data.csv"),
                        wide_noise = near_separable("lasso_wide_noise_data.csv"))
), "lasso.json", digits = NA, auto_unbox = TRUE)
