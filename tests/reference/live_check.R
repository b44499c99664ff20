# Live cross-check: fits the meta-analyses described in a JSON file with metafor
# and writes the results as JSON.  Called by tests/test_metafor_live.py:
#   Rscript tests/reference/live_check.R IN.json OUT.json
# Each input item: id, type (dichotomous|continuous), measure, method, test and
# the arm data.  Conventions: escalc(add=1/2, to="only0", drop00=(measure %in% c("RR","OR"))),
# as RevMan (for RD yi with add=0, RevMan's convention); tight REML/PM control as in
# make_reference.R.
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
items <- fromJSON(args[1], simplifyVector = FALSE)
ctrl <- list(threshold = 1e-12, maxiter = 10000, stepadj = 0.5, tol = 1e-15, tau2.max = 1e8)
num <- function(x) as.numeric(unlist(x))
out <- lapply(items, function(it) {
  if (it$type == "dichotomous") {
    dat <- escalc(measure = it$measure, ai = num(it$events1), n1i = num(it$n1),
                  ci = num(it$events2), n2i = num(it$n2), add = 1/2, to = "only0",
                  drop00 = it$measure %in% c("RR", "OR"))
    if (it$measure == "RD") {
      ## RevMan's RD: the estimate from the raw counts, only the variance from the
      ## corrected table (as in make_reference.R, rd_revman_call)
      dat$yi <- escalc(measure = "RD", ai = num(it$events1), n1i = num(it$n1),
                       ci = num(it$events2), n2i = num(it$n2), add = 0, drop00 = FALSE)$yi
    }
  } else {
    dat <- escalc(measure = "MD", m1i = num(it$mean1), sd1i = num(it$sd1), n1i = num(it$n1),
                  m2i = num(it$mean2), sd2i = num(it$sd2), n2i = num(it$n2))
  }
  dat <- dat[!is.na(dat$yi), ]
  method <- if (it$method == "FE") "FE" else it$method
  res <- rma(yi, vi, data = dat, method = method, test = it$test, control = ctrl)
  list(id = it$id, k = res$k, estimate = as.numeric(res$beta), se = res$se,
       ci_low = res$ci.lb, ci_high = res$ci.ub, stat = res$zval, p = res$pval,
       tau2 = res$tau2, q = res$QE, weights = I(as.numeric(weights(res))))
})
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null"), args[2])
