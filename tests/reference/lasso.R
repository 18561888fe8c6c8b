# Reference values for tests/test_lasso.py:
#   glmnet(x, y, family = "binomial", alpha = 1, standardize = TRUE, thresh = 1e-14), default
#   lambda path (lambda.min.ratio 1e-4 when n >= p, 0.01 when n < p, 100 values), and
#   cv.glmnet(type.measure = "deviance") with fixed fold ids (lasso_data.csv column fold).
# glmnet.control(fdev = 0, devmax = 1) stops glmnet from truncating the path early, so that
# the whole 100-value path is compared.
suppressMessages(library(glmnet))
library(jsonlite)
glmnet.control(fdev = 0, devmax = 1)
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

fit <- glmnet(x, y, family = "binomial", alpha = 1, standardize = TRUE, thresh = 1e-14, maxit = 1e6)
cv <- cv.glmnet(x, y, family = "binomial", alpha = 1, type.measure = "deviance", foldid = fold,
                thresh = 1e-14, maxit = 1e6)

# n < p: lambda.min.ratio = 0.01
set.seed(8)
wide_x <- matrix(rnorm(30 * 40), 30, 40)
wide_y <- rbinom(30, 1, plogis(wide_x[, 1]))
write.csv(data.frame(wide_x, y = wide_y), "lasso_wide_data.csv", row.names = FALSE)
wide <- glmnet(wide_x, wide_y, family = "binomial", thresh = 1e-14, maxit = 1e6)

write_json(list(
  lambda = fit$lambda, a0 = unname(fit$a0), beta = unname(as.matrix(fit$beta)), df = fit$df,
  cv_lambda = cv$lambda, cvm = cv$cvm, cvsd = cv$cvsd, nzero = unname(cv$nzero),
  lambda_min = cv$lambda.min, lambda_1se = cv$lambda.1se,
  wide_lambda = wide$lambda, wide_a0 = unname(wide$a0)[1:20], wide_beta = unname(as.matrix(wide$beta))[, 1:20]
), "lasso.json", digits = NA, auto_unbox = TRUE)
