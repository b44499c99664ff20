## Reference values for the book's HKSJ convention, the test for subgroup differences
## and the prediction interval (issue #21, item 4 and 5d).  Run from the repository root:
##   Rscript tests/reference/make_hksj_pi.R
## writes tests/reference/hksj_pi_reference.json.  Data: the embedded package's data rows
## (data/CD015373, the review's analyses 1.15, 7.3 and 7.7) and metafor's dat.bcg.
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
ctl <- list(threshold = 1e-12, maxiter = 10000, stepadj = 0.5)
rows <- read.csv("data/CD015373/CD015373-analysis-data/CD015373-data-rows.csv", check.names = FALSE,
                 fileEncoding = "UTF-8-BOM", stringsAsFactors = FALSE)
of <- function(g, a) rows[rows[["Analysis group"]] == g & rows[["Analysis number"]] == a, ]

## RevMan's risk ratio: 0.5 added to every cell of a table with a zero cell
rr <- function(d) escalc("RR", ai = d[["Experimental cases"]], n1i = d[["Experimental N"]],
                         ci = d[["Control cases"]], n2i = d[["Control N"]], add = 1/2, to = "only0")
md <- function(d) escalc("MD", m1i = d[["Experimental mean"]], sd1i = d[["Experimental SD"]],
                         n1i = d[["Experimental N"]], m2i = d[["Control mean"]], sd2i = d[["Control SD"]],
                         n2i = d[["Control N"]])

## Cochrane Handbook 10.10.4.3 (Higgins et al. 2009): mu +/- t(k-2) sqrt(tau2 + SE^2), with
## mu and SE from metafor's predict() (metafor 3.8's own pi.lb/pi.ub use the normal quantile)
handbook_pi <- function(fit) {
  p <- predict(fit)
  half <- qt(0.975, fit$k - 2) * sqrt(fit$tau2 + p$se^2)
  list(pred = p$pred, se = p$se, pi_low = p$pred - half, pi_high = p$pred + half,
       metafor_pi_low = p$pi.lb, metafor_pi_high = p$pi.ub)
}

fits <- function(es, id, call) {
  out <- list(id = id, call = call, yi = as.numeric(es$yi), vi = as.numeric(es$vi))
  for (test in c("z", "knha", "adhoc")) {
    f <- rma(yi, vi, data = es, method = "REML", test = test, control = ctl)
    out[[test]] <- list(estimate = as.numeric(f$beta), se = f$se, ci_low = f$ci.lb, ci_high = f$ci.ub,
                        tau2 = f$tau2)
  }
  f <- rma(yi, vi, data = es, method = "REML", control = ctl)
  out$qh <- sum((es$yi - as.numeric(f$beta))^2 / (es$vi + f$tau2)) / (f$k - 1)
  if (f$k >= 3) out$pi <- handbook_pi(f)
  out
}

cases <- list(
  fits(rr(of(1, 15)), "CD015373_1.15", "rma(yi, vi, method='REML', test=z|knha|adhoc) on escalc('RR', add=1/2, to='only0')"),
  fits(rr(of(7, 7)), "CD015373_7.7", "rma(yi, vi, method='REML', test=z|knha|adhoc) on escalc('RR', add=1/2, to='only0')"),
  fits(escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg), "bcg_RR",
       "rma(yi, vi, method='REML', test=z|knha|adhoc) on escalc('RR', data=dat.bcg)")
)

## Test for subgroup differences, analysis 7.3 pooled with REML: Q between the subgroup
## estimates with inverse-variance (Wald) SEs, as RevMan; and with HKSJ SEs (the former book)
d73 <- of(7, 3)
es73 <- md(d73)
es73$grp <- d73[["Subgroup"]]
sub <- lapply(unique(es73$grp), function(g) {
  e <- es73[es73$grp == g, ]
  f <- rma(yi, vi, data = e, method = "REML", control = ctl)
  se_knha <- if (f$k >= 2) rma(yi, vi, data = e, method = "REML", test = "knha", control = ctl)$se else f$se
  list(name = g, k = f$k, estimate = as.numeric(f$beta), se = f$se, se_knha = se_knha)
})
b <- sapply(sub, `[[`, "estimate")
q_wald <- rma(b, sei = sapply(sub, `[[`, "se"), method = "FE")
q_knha <- rma(b, sei = sapply(sub, `[[`, "se_knha"), method = "FE")
subgroup <- list(id = "CD015373_7.3", call = paste(
  "per subgroup rma(yi, vi, method='REML') on escalc('MD'); then rma(b, sei=se, method='FE')$QE",
  "(Wald SEs) and the same with the subgroups' test='knha' SEs"),
  subgroups = sub, q = q_wald$QE, df = q_wald$k - 1, p = q_wald$QEp, q_knha = q_knha$QE, p_knha = q_knha$QEp)

out <- list(r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
            cases = cases, subgroup = subgroup)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           "tests/reference/hksj_pi_reference.json")
