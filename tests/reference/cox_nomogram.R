# Reference values for tests/test_cox_nomogram.py: rms::nomogram of a Cox model (rms 6.5,
# survival 3.5) with survival-probability axes from Survival(fit) and a median-survival axis
# from Quantile(fit), on cox_prediction_data.csv (written by cox_prediction.R).
# Run: cd tests/reference && Rscript cox_nomogram.R
suppressMessages(library(rms))
suppressMessages(library(jsonlite))
d <- read.csv("cox_prediction_data.csv")
dd <- datadist(d); options(datadist = "dd")
newdata <- data.frame(age = c(74, 45, 90, 62.5), female = c(0, 1, 0, 1), ecog = c(1, 0, 3, 2))
ticks <- seq(0.1, 0.9, by = 0.1)

# rms: the survival functions take the lp centred by cph (fit$center = sum(colMeans(x) * coef))
axis <- function(nom, name) list(x = nom[[name]]$x, value = nom[[name]]$x.real)
summarise <- function(fit, nom, predictors, funlabels) {
  info <- attr(nom, "info")
  list(
    axes = lapply(setNames(predictors, predictors), function(v) {
      a <- nom[[v]]
      list(value = a[[v]], xbeta = unname(a$Xbeta), points = unname(a$points))
    }),
    total_points = nom[["total.points"]]$x, scale = info$sc, intercept = unname(info$Intercept),
    lp_x = nom[["lp"]]$x, lp_value = nom[["lp"]]$x.real,
    outcome = lapply(setNames(funlabels, funlabels), function(f) axis(nom, f))
  )
}
# exact tick positions: the lp at which surv(t, lp) = p, found by uniroot, passed as fun.lp.at
exact_lp <- function(surv_t, lp_range) {
  inside <- ticks[ticks <= surv_t(lp_range[1]) & ticks >= surv_t(lp_range[2])]
  sapply(inside, function(p) uniroot(function(lp) surv_t(lp) - p, lp_range, tol = 1e-14)$root)
}

reference <- function(method, times, extra = list(), median_at = NULL) {
  # tight convergence so that the coefficients equal coxph's (cph's default eps is 1e-4)
  fit <- cph(Surv(months, death) ~ age + female + ecog, data = d, method = method,
             x = TRUE, y = TRUE, surv = TRUE, eps = 1e-11, tol = 1e-13, iter.max = 100)
  surv <- Survival(fit)
  quan <- Quantile(fit)
  med <- function(lp) quan(0.5, lp)
  funs <- lapply(times, function(t) { force(t); function(lp) surv(t, lp) })
  labels <- paste0("S", times)
  predictors <- c("age", "female", "ecog")
  default <- do.call(nomogram, c(list(fit, fun = funs, funlabel = labels, fun.at = ticks), extra))
  lp_at <- attr(default, "info")$lp.at
  exact_at <- lapply(funs, function(f) exact_lp(f, range(lp_at)))
  exact <- do.call(nomogram, c(list(fit, fun = funs, funlabel = labels, fun.lp.at = exact_at), extra))
  median_args <- list(fit, fun = med, funlabel = "median")
  if (!is.null(median_at)) median_args$fun.at <- median_at
  median <- do.call(nomogram, c(median_args, extra))
  lp_new <- predict(fit, newdata, type = "lp")
  list(
    coef = unname(coef(fit)), center = fit$center,
    default = summarise(fit, default, predictors, labels),
    exact = summarise(fit, exact, predictors, labels),
    exact_lp = exact_at,
    median = axis(median, "median"),
    lp_new = unname(lp_new),
    surv_new = lapply(times, function(t) unname(surv(t, lp_new))),
    median_new = unname(med(lp_new))
  )
}
out <- list(
  times = c(6, 12, 24),
  efron = reference("efron", c(6, 12, 24)),
  breslow = reference("breslow", c(6, 12, 24)),
  custom = reference("efron", 12, extra = list(age = c(40, 60, 80), maxscale = 10),
                     median_at = c(6, 9, 12, 18)),
  newdata = newdata
)
write_json(out, "cox_nomogram.json", digits = NA, auto_unbox = TRUE, dataframe = "columns")
