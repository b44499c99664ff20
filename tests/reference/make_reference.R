#!/usr/bin/env Rscript
## =============================================================================
## Reference values for the Python meta-analysis engine.
##
## Run from the repository root:
##     Rscript tests/reference/make_reference.R
## Writes tests/reference/metafor_reference.json (deterministic: no timestamps).
##
## Sources for every quantity:
##   * metafor 3.8-1 (Viechtbauer 2010, J Stat Softw 36(3), doi:10.18637/jss.v036.i03;
##     https://wviechtb.github.io/metafor/reference/rma.uni.html, rma.mh.html,
##     rma.peto.html, escalc.html, predict.rma.html, regtest.html, leave1out.html).
##   * RevMan 5 conventions: Deeks JJ, Higgins JPT (2010). "Statistical algorithms in
##     Review Manager 5" (Cochrane Statistical Methods Group), referred to below as
##     [RevMan5-SA]; and Cochrane Handbook v6, ch. 10.
##   * Prediction interval with t_{k-2}: Higgins JPT, Thompson SG, Spiegelhalter DJ
##     (2009) JRSS A 172:137-159, eq. (12).
##   * Hartung-Knapp(-Sidik-Jonkman) and its 'ad hoc' truncation: Knapp & Hartung
##     (2003) Stat Med 22:2693-2710; Roever, Knapp & Friede (2015) BMC Med Res
##     Methodol 15:99 (the 'ad hoc' variant max(1, q)).
## Every hand-computed formula is commented where it is computed.
## =============================================================================

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_file <- file.path("tests", "reference", "metafor_reference.json")
if (!dir.exists(dirname(out_file))) stop("run from the repository root (/work/main)")

LEVEL <- 0.95
## Tight convergence for iterative tau2 estimators:
##  - REML: Fisher scoring, stop when |change| < threshold; stepadj 0.5 for stability.
##  - PM:   uniroot() on the generalised Q equation, with tolerance 'tol'
##          (metafor's default tol = .Machine$double.eps^0.25 is far too loose).
CTRL_STR <- "control=list(threshold=1e-12, maxiter=10000, stepadj=0.5, tol=1e-15)"

## ---------------------------------------------------------------------------
## small helpers
## ---------------------------------------------------------------------------
## scalar: numeric or NA (NA -> JSON null); non-finite values become null
sc <- function(x) {
  if (is.null(x) || length(x) == 0) return(NA)
  x <- unname(as.numeric(x)[1])
  if (!is.finite(x)) NA else x
}
## array: always a JSON array (I() prevents auto-unboxing of length-1 vectors)
arr <- function(x) {
  x <- unname(as.numeric(x))
  x[!is.finite(x)] <- NA
  I(x)
}
## evaluate an R code string in an environment and return list(fit, call string)
run <- function(code, env) eval(parse(text = code), envir = env)

## weights(res) aligned to all input rows (NA for rows not used in the fit)
aligned_weights <- function(res) {
  w <- rep(NA_real_, res$k.all)
  ww <- weights(res)
  if (length(ww) != sum(res$not.na)) stop("weights length mismatch")
  w[res$not.na] <- ww
  w
}

## RevMan-style (Q-based) I^2, in percent [RevMan5-SA; Higgins & Thompson 2002]
i2_q <- function(q, df) {
  if (!is.finite(q) || df < 1 || q <= 0) return(0)
  max(0, (q - df) / q) * 100
}

## prediction interval with t_{k-2} (Higgins et al. 2009, eq. 12; RevMan 5):
##   mu +/- qt(0.975, k-2) * sqrt(tau2 + se^2)
pi_t <- function(mu, se, tau2, k, level = LEVEL) {
  if (k < 3) return(c(NA, NA))
  h <- qt(1 - (1 - level) / 2, df = k - 2) * sqrt(tau2 + se^2)
  c(mu - h, mu + h)
}

## summary of an rma.uni fit ------------------------------------------------
summ_uni <- function(res, random = TRUE) {
  pr <- predict(res, level = LEVEL * 100)
  r <- list(
    k = res$k,
    estimate = sc(res$beta), se = sc(res$se),
    ci_low = sc(res$ci.lb), ci_high = sc(res$ci.ub),
    stat = sc(res$zval), p = sc(res$pval),
    tau2 = sc(res$tau2),
    q = sc(res$QE), q_df = res$k - res$p, q_p = sc(res$QEp),
    i2_metafor = sc(res$I2),
    i2_q = i2_q(res$QE, res$k - res$p),
    pi_low = if (random) sc(pr$pi.lb) else NA,
    pi_high = if (random) sc(pr$pi.ub) else NA,
    weights = arr(aligned_weights(res))
  )
  if (random) {
    pt <- pi_t(res$beta, res$se, res$tau2, res$k)
    r$pi_low_t <- sc(pt[1]); r$pi_high_t <- sc(pt[2])
  }
  r
}

## summary of rma.mh / rma.peto fits (fixed-effect, tau2 = 0) ------------------
summ_mh <- function(res) {
  list(
    k = res$k, k_yi = res$k.yi,
    estimate = sc(res$beta), se = sc(res$se),
    ci_low = sc(res$ci.lb), ci_high = sc(res$ci.ub),
    stat = sc(res$zval), p = sc(res$pval),
    tau2 = 0,
    q = sc(res$QE), q_df = res$k.yi - 1, q_p = sc(res$QEp),
    i2_metafor = sc(res$I2),
    i2_q = i2_q(res$QE, res$k.yi - 1),
    pi_low = NA, pi_high = NA,
    weights = arr(aligned_weights(res))
  )
}

## input blocks -------------------------------------------------------------
input_dich <- function(study, e1, n1, e2, n2)
  list(study = I(as.character(study)), events1 = arr(e1), n1 = arr(n1),
       events2 = arr(e2), n2 = arr(n2))
input_cont <- function(d)
  list(study = I(as.character(d$study)), n1 = arr(d$n1i), mean1 = arr(d$m1i), sd1 = arr(d$sd1i),
       n2 = arr(d$n2i), mean2 = arr(d$m2i), sd2 = arr(d$sd2i))
input_gen <- function(d)
  list(study = I(as.character(d$study)), yi = arr(d$yi), vi = arr(d$vi))

make_case <- function(id, dataset, call, data_type, input, measure, method, test,
                      yi, vi, result, note = "", extra = list()) {
  c(list(id = id, dataset = dataset, call = call, data_type = data_type, input = input,
         measure = measure, method = method, test = test, level = LEVEL,
         yi = arr(yi), vi = arr(vi), result = result, note = note), extra)
}

cases <- list()
add_case <- function(cs) {
  if (cs$id %in% vapply(cases, `[[`, "", "id")) stop("duplicate id ", cs$id)
  cases[[length(cases) + 1]] <<- cs
}

## ---------------------------------------------------------------------------
## Hand-computed quantities (with sources)
## ---------------------------------------------------------------------------

## Greenland & Robins (1985) variance of the Mantel-Haenszel risk difference,
## Biometrics 41:55-68; this is the formula used by RevMan 5 [RevMan5-SA, M-H RD]:
##   Var(RD_MH) = sum_i (a_i b_i n2_i^3 + c_i d_i n1_i^3) / (n1_i n2_i N_i^2)
##                / ( sum_i n1_i n2_i / N_i )^2
## with b = n1 - a, d = n2 - c, N = n1 + n2 (raw counts, no continuity correction).
## metafor's rma.mh uses instead the Sato, Greenland & Robins (1989) variance
## (Biometrics 45:1323-1324), see ?rma.mh.
se_rd_gr1985 <- function(ai, n1i, ci, n2i) {
  ai <- as.numeric(ai); n1i <- as.numeric(n1i); ci <- as.numeric(ci); n2i <- as.numeric(n2i)
  bi <- n1i - ai; di <- n2i - ci; Ni <- n1i + n2i
  num <- sum((ai * bi * n2i^3 + ci * di * n1i^3) / (n1i * n2i * Ni^2))
  den <- sum(n1i * n2i / Ni)^2
  sqrt(num / den)
}

## Peto one-step per-study statistics (Yusuf et al. 1985, Prog Cardiovasc Dis
## 27:335-371; [RevMan5-SA, Peto]):  O = a, E = n1 (a+c) / N,
##   V = (a+c)(b+d) n1 n2 / (N^2 (N-1)),  yi = (O-E)/V,  vi = 1/V.
## Double-zero (or double-full) studies have V = 0 -> not estimable (NA).
peto_by_hand <- function(ai, n1i, ci, n2i) {
  ai <- as.numeric(ai); n1i <- as.numeric(n1i); ci <- as.numeric(ci); n2i <- as.numeric(n2i)
  Ni <- n1i + n2i; mi <- ai + ci
  O <- ai; E <- n1i * mi / Ni
  V <- mi * (Ni - mi) * n1i * n2i / (Ni^2 * (Ni - 1))
  yi <- ifelse(V > 0, (O - E) / V, NA); vi <- ifelse(V > 0, 1 / V, NA)
  ## RevMan heterogeneity for Peto: Q = sum (O-E)^2/V - (sum(O-E))^2 / sum V
  ok <- V > 0
  Q <- sum((O - E)[ok]^2 / V[ok]) - sum((O - E)[ok])^2 / sum(V[ok])
  list(yi = yi, vi = vi, O = O, E = E, V = V, Q = Q)
}

## RevMan 5 SMD (Hedges' adjusted g) [RevMan5-SA, "Standardised mean difference"]:
##   s  = sqrt(((n1-1) sd1^2 + (n2-1) sd2^2) / (N-2)),  d = (m1 - m2)/s,
##   g  = d (1 - 3/(4N - 9)),   v = N/(n1 n2) + g^2 / (2 (N - 3.94)),  N = n1 + n2.
## metafor's escalc(measure="SMD") uses the exact correction
##   J = gamma(m/2) / (sqrt(m/2) gamma((m-1)/2)), m = N-2, and
##   vi = 1/n1 + 1/n2 + yi^2/(2N)  (vtype="LS"), see ?escalc.
smd_revman <- function(d) {
  d[] <- lapply(d, function(x) if (is.numeric(x)) as.numeric(x) else x)
  N <- d$n1i + d$n2i
  s <- sqrt(((d$n1i - 1) * d$sd1i^2 + (d$n2i - 1) * d$sd2i^2) / (N - 2))
  dd <- (d$m1i - d$m2i) / s
  g <- dd * (1 - 3 / (4 * N - 9))
  v <- N / (d$n1i * d$n2i) + g^2 / (2 * (N - 3.94))
  list(yi = g, vi = v)
}

## Hartung-Knapp (metafor test='knha') and the 'ad hoc' truncated variant
## (Roever et al. 2015):  w = 1/(vi + tau2),  mu = sum(w yi)/sum(w),
##   qh = sum(w (yi - mu)^2) / (k - 1),
##   se_knha  = sqrt(qh / sum(w)),  se_adhoc = sqrt(max(1, qh) / sum(w)),
##   CI = mu +/- qt(1-alpha/2, k-1) * se.
hk_by_hand <- function(yi, vi, tau2, level = LEVEL) {
  ok <- !is.na(yi) & !is.na(vi)
  yi <- yi[ok]; vi <- vi[ok]; k <- length(yi)
  w <- 1 / (vi + tau2); mu <- sum(w * yi) / sum(w)
  qh <- sum(w * (yi - mu)^2) / (k - 1)
  crit <- qt(1 - (1 - level) / 2, df = k - 1)
  se_knha <- sqrt(qh / sum(w)); se_adhoc <- sqrt(max(1, qh) / sum(w))
  list(k = k, mu = mu, qh = qh, crit = crit, se_knha = se_knha, se_adhoc = se_adhoc, w = w)
}

## DerSimonian-Laird moment estimator with Q computed around the MH estimate:
## RevMan 5 'M-H, Random' [RevMan5-SA, "DerSimonian and Laird random-effects models"]:
##   Q = sum((yi - theta_MH)^2 / vi),  w = 1/vi,
##   tau2 = max(0, (Q - (k-1)) / (sum(w) - sum(w^2)/sum(w)))
tau2_mhdl <- function(yi, vi, theta_mh) {
  ok <- !is.na(yi) & !is.na(vi)
  yi <- yi[ok]; vi <- vi[ok]; w <- 1 / vi
  Q <- sum((yi - theta_mh)^2 / vi)
  list(Q = Q, df = length(yi) - 1,
       tau2 = max(0, (Q - (length(yi) - 1)) / (sum(w) - sum(w^2) / sum(w))))
}

## ---------------------------------------------------------------------------
## Convergence check (REML, PM) for one case: dat.bcg log RR
## REML restricted log-likelihood (Viechtbauer 2005, J Educ Behav Stat 30:261-293):
##   lR(t) = -1/2 [ sum log(vi+t) + log(sum w) + sum w (yi - mu(t))^2 ],  w = 1/(vi+t)
## score:  dlR/dt = 1/2 [ -sum w + sum w^2 / sum w + sum w^2 (yi - mu)^2 ]
## ---------------------------------------------------------------------------
check_convergence <- function(yi, vi, tau2_reml, tau2_pm) {
  mu_t <- function(t) { w <- 1 / (vi + t); sum(w * yi) / sum(w) }
  llR <- function(t) { w <- 1 / (vi + t); mu <- mu_t(t)
    -0.5 * (sum(log(vi + t)) + log(sum(w)) + sum(w * (yi - mu)^2)) }
  score <- function(t) { w <- 1 / (vi + t); mu <- mu_t(t)
    0.5 * (-sum(w) + sum(w^2) / sum(w) + sum(w^2 * (yi - mu)^2)) }
  t_opt <- optimize(llR, c(0, 10), maximum = TRUE, tol = 1e-14)$maximum
  t_root <- uniroot(score, c(1e-8, 10), tol = 1e-15)$root
  ## Paule-Mandel: sum w (yi - mu)^2 = k - 1
  t_pm <- uniroot(function(t) { w <- 1 / (vi + t); sum(w * (yi - mu_t(t))^2) - (length(yi) - 1) },
                  c(0, 10), tol = 1e-15)$root
  cat(sprintf("REML tau2 metafor      = %.15g\n", tau2_reml))
  cat(sprintf("REML tau2 optimize()   = %.15g  (|diff| = %.3g)\n", t_opt, abs(t_opt - tau2_reml)))
  cat(sprintf("REML tau2 score root   = %.15g  (|diff| = %.3g)\n", t_root, abs(t_root - tau2_reml)))
  cat(sprintf("PM   tau2 metafor      = %.15g\n", tau2_pm))
  cat(sprintf("PM   tau2 uniroot      = %.15g  (|diff| = %.3g)\n", t_pm, abs(t_pm - tau2_pm)))
  ## optimize() on a flat maximum is only accurate to ~sqrt(eps); the score root is exact
  stopifnot(abs(t_root - tau2_reml) < 1e-10, abs(t_opt - tau2_reml) < 1e-7,
            abs(t_pm - tau2_pm) < 1e-10)
}

## ===========================================================================
## 1. dat.bcg: RR / OR / RD x FE / DL / REML / PM (test z); RR knha; PI
## ===========================================================================
bcg <- dat.bcg
bcg$study <- paste(bcg$author, bcg$year)
bcg$ai <- bcg$tpos; bcg$n1i <- bcg$tpos + bcg$tneg
bcg$ci <- bcg$cpos; bcg$n2i <- bcg$cpos + bcg$cneg
bcg_input <- input_dich(bcg$study, bcg$ai, bcg$n1i, bcg$ci, bcg$n2i)

method_arg <- function(method) {
  if (method %in% c("REML", "PM")) sprintf("method='%s', %s", method, CTRL_STR)
  else sprintf("method='%s'", method)
}

## generic driver for escalc + rma.uni cases
uni_case <- function(id, dataset, d, measure, method, test = "z", data_type, input,
                     escalc_args = "", note = "", extra = list(), esc = NULL) {
  env <- new.env(); env$d <- d
  esc <- if (!is.null(esc)) esc else if (data_type == "dichotomous") {
    sprintf("dat <- escalc(measure='%s', ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d%s)", measure, escalc_args)
  } else if (data_type == "continuous") {
    sprintf("dat <- escalc(measure='%s', m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=d%s)",
            measure, escalc_args)
  } else "dat <- d"
  run(esc, env)
  fit_call <- sprintf("rma(yi, vi, data=dat, %s%s)", method_arg(method),
                      if (test == "knha") ", test='knha'" else "")
  res <- suppressWarnings(run(fit_call, env))
  result <- summ_uni(res, random = method != "FE")
  if (method == "FE") result$tau2 <- 0
  dt <- env$dat
  cs <- make_case(id, dataset, paste(esc, fit_call, sep = "; "), data_type, input,
                  if (data_type == "generic") "GEN" else measure, method, test,
                  dt$yi, dt$vi, result, note, extra)
  attr(cs, "fit") <- res
  attr(cs, "dat") <- dt
  cs
}

note_pi <- paste("pi_low/pi_high = metafor predict(): normal quantile for test='z',",
                 "t_{k-1} for test='knha'; pi_low_t/pi_high_t = mu +/- qt(0.975,k-2)*sqrt(tau2+se^2)",
                 "(Higgins 2009 / RevMan 5).")
note_i2 <- "i2_metafor = 100*tau2/(tau2+typical vi) (metafor); i2_q = max(0,(Q-df)/Q)*100 (RevMan)."

bcg_fits <- list()
for (measure in c("RR", "OR", "RD")) {
  for (method in c("FE", "DL", "REML", "PM")) {
    id <- sprintf("bcg_%s_%s", measure, method)
    cs <- uni_case(id, "dat.bcg", bcg, measure, method, "z", "dichotomous", bcg_input,
                   note = if (method == "FE") note_i2 else paste(note_pi, note_i2))
    bcg_fits[[id]] <- attr(cs, "fit")
    if (id %in% c("bcg_RR_FE", "bcg_RR_DL")) {
      ## ---- 8. Egger's regression test -------------------------------------
      ## regtest(model='lm', predictor='sei'): weighted lm(yi ~ sei, weights=1/vi);
      ## equivalent to Egger et al. (1997, BMJ 315:629) classic test
      ## lm(yi/sei ~ I(1/sei)) whose intercept is the bias coefficient.
      res <- attr(cs, "fit"); dt <- attr(cs, "dat")
      rt <- regtest(res, model = "lm", predictor = "sei")
      eg <- lm(I(yi / sqrt(vi)) ~ I(1 / sqrt(vi)), data = dt)
      ct <- summary(eg)$coefficients
      stopifnot(abs(ct[1, 3] - rt$zval) < 1e-8 * max(1, abs(rt$zval)))
      cs$egger <- list(call = "regtest(res, model='lm', predictor='sei'); lm(I(yi/sqrt(vi)) ~ I(1/sqrt(vi)), data=dat)",
                       intercept = sc(ct[1, 1]), intercept_se = sc(ct[1, 2]),
                       slope = sc(ct[2, 1]), slope_se = sc(ct[2, 2]),
                       stat = sc(rt$zval), p = sc(rt$pval), df = rt$dfs,
                       regtest_est = sc(rt$est))
    }
    if (id == "bcg_RR_DL") {
      ## ---- 9. leave-one-out -----------------------------------------------
      l1 <- leave1out(attr(cs, "fit"))
      cs$leave1out <- list(call = "leave1out(res)", study = I(bcg$study),
                           estimate = arr(l1$estimate), se = arr(l1$se),
                           ci_low = arr(l1$ci.lb), ci_high = arr(l1$ci.ub),
                           stat = arr(l1$zval), p = arr(l1$pval),
                           tau2 = arr(l1$tau2), i2 = arr(l1$I2), q = arr(l1$Q), q_p = arr(l1$Qp))
    }
    add_case(cs)
  }
}

## REML/PM convergence check against independent root finding
local({
  d <- attr(cases[[which(vapply(cases, `[[`, "", "id") == "bcg_RR_REML")]], "dat")
  check_convergence(d$yi, d$vi, bcg_fits$bcg_RR_REML$tau2, bcg_fits$bcg_RR_PM$tau2)
})

## ---- knha and 11. 'ad hoc' HKSJ -----------------------------------------------
adhoc_case <- function(knha_case, id) {
  res <- attr(knha_case, "fit")
  hk <- hk_by_hand(res$yi.f, res$vi.f, res$tau2)
  ## check our hand HK against metafor's test='knha'
  stopifnot(abs(hk$se_knha - res$se) < 1e-10 * res$se, abs(hk$mu - res$beta) < 1e-12)
  se <- hk$se_adhoc; mu <- hk$mu; k <- hk$k
  stat <- mu / se
  ## prediction interval: same form as metafor's knha predict (t_{k-1}) but with se_adhoc
  h1 <- hk$crit * sqrt(res$tau2 + se^2)
  pt <- pi_t(mu, se, res$tau2, k)
  r <- knha_case$result
  r$se <- se; r$ci_low <- mu - hk$crit * se; r$ci_high <- mu + hk$crit * se
  r$stat <- stat; r$p <- 2 * pt(abs(stat), df = k - 1, lower.tail = FALSE)
  r$pi_low <- mu - h1; r$pi_high <- mu + h1
  r$pi_low_t <- sc(pt[1]); r$pi_high_t <- sc(pt[2])
  r$qh <- hk$qh; r$se_knha <- hk$se_knha
  cs <- knha_case
  cs$id <- id; cs$test <- "adhoc"
  cs$call <- paste(knha_case$call,
                   "# then by hand: w=1/(vi+tau2); qh=sum(w*(yi-mu)^2)/(k-1); se=sqrt(max(1,qh)/sum(w)); CI=mu+/-qt(.975,k-1)*se")
  cs$result <- r
  cs$note <- paste("HKSJ 'ad hoc' truncated variant (Roever et al. 2015), computed by hand;",
                   "metafor 3.8 has no test='adhoc'. qh =", format(hk$qh, digits = 6),
                   if (hk$qh < 1) "(< 1: truncation active, se = sqrt(1/sum(w)))." else "(>= 1: identical to knha).",
                   "pi_low/pi_high = mu +/- qt(.975,k-1)*sqrt(tau2+se_adhoc^2); pi_*_t use qt(.975,k-2).",
                   "tau2/Q/I2/weights unchanged from the knha fit.")
  cs
}

for (method in c("REML", "DL")) {
  id <- sprintf("bcg_RR_%s_knha", method)
  cs <- uni_case(id, "dat.bcg", bcg, "RR", method, "knha", "dichotomous", bcg_input,
                 note = paste("Hartung-Knapp (metafor test='knha'): t_{k-1} for CI, test and PI.", note_pi))
  add_case(cs)
  add_case(adhoc_case(cs, sprintf("bcg_RR_%s_adhoc", method)))
}

## ===========================================================================
## 2. Mantel-Haenszel fixed effect (rma.mh)
## ===========================================================================
hine <- dat.hine1989
hine$study <- hine$source
hine_input <- input_dich(hine$study, hine$ai, hine$n1i, hine$ci, hine$n2i)

## RevMan's risk difference per study: the estimate from the counts as they are,
## the variance from the table with 0.5 added to every cell of a table with a zero
## cell (RevMan's stored per-study results show both: Cochrane review
## CD000478.pub5, analysis 7.2, e.g. 0/38 vs 0/39 stored as RD 0 [-0.049316, 0.049316]).
rd_revman_call <- paste(
  "dat <- escalc(measure='RD', ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d, add=0, drop00=FALSE);",
  "dat$vi <- escalc(measure='RD', ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d, add=1/2, to='only0', drop00=FALSE)$vi")

mh_case <- function(id, dataset, d, measure, input, extra_args = "", note = "") {
  env <- new.env(); env$d <- d
  call <- sprintf("rma.mh(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d, measure='%s'%s)", measure, extra_args)
  res <- suppressWarnings(run(call, env))
  result <- summ_mh(res)
  nt <- paste("Mantel-Haenszel fixed effect (metafor rma.mh; MH computed on raw counts,",
              "yi/vi for Q use escalc with add=1/2 to='only0'). q is Cochran's Q around the MH estimate",
              "with inverse-variance weights. OR variance: Robins-Breslow-Greenland; RR: Greenland-Robins (as RevMan).")
  yi <- res$yi.f; vi <- res$vi.f
  if (measure == "RD") {
    ## RevMan's RD per study: estimate from the raw counts, variance from the
    ## corrected table (rd_revman_call); Q about the MH estimate with these.
    env$d <- d
    run(rd_revman_call, env)
    yi <- env$dat$yi; vi <- env$dat$vi
    q <- sum((yi - as.numeric(res$beta))^2 / vi)
    result$q_revman <- sc(q)
    result$q_p_revman <- sc(pchisq(q, length(yi) - 1, lower.tail = FALSE))
    result$i2_q_revman <- i2_q(q, length(yi) - 1)
    nt <- paste(nt, "yi/vi here are RevMan's RD convention (", rd_revman_call, "); q_revman",
                "(and q_p_revman, i2_q_revman) is Cochran's Q about the MH estimate with them.")
    result$se_gr1985 <- se_rd_gr1985(d$ai, d$n1i, d$ci, d$n2i)
    z <- qnorm(1 - (1 - LEVEL) / 2)
    result$ci_low_gr1985 <- sc(res$beta - z * result$se_gr1985)
    result$ci_high_gr1985 <- sc(res$beta + z * result$se_gr1985)
    result$stat_gr1985 <- sc(res$beta / result$se_gr1985)
    result$p_gr1985 <- sc(2 * pnorm(-abs(result$stat_gr1985)))
    nt <- paste(nt, "RD: metafor se uses the Sato/Greenland-Robins (1989) variance;",
                "se_gr1985 (and *_gr1985 CI/stat/p) use the Greenland-Robins (1985) variance used by RevMan 5.")
  }
  cs <- make_case(id, dataset, call, "dichotomous", input, measure, "MH", "z",
                  yi, vi, result, paste(nt, note))
  attr(cs, "fit") <- res
  cs
}

add_case(mh_case("bcg_RR_MH", "dat.bcg", bcg, "RR", bcg_input))
add_case(mh_case("bcg_OR_MH", "dat.bcg", bcg, "OR", bcg_input))
add_case(mh_case("bcg_RD_MH", "dat.bcg", bcg, "RD", bcg_input))
add_case(mh_case("hine_RD_MH", "dat.hine1989", hine, "RD", hine_input))
add_case(mh_case("hine_RR_MH", "dat.hine1989", hine, "RR", hine_input))

## ===========================================================================
## 3. Peto (rma.peto)
## ===========================================================================
## rma.peto is called with add=0 so that metafor's per-study yi/vi (res$yi.f) are the
## raw Peto (O-E)/V and 1/V as in RevMan (the default add=1/2 corrects zero cells in
## the per-study values only). The pooled estimate and Q are always computed from
## raw O, E, V in rma.peto and do not depend on 'add'.
peto_case <- function(id, dataset, d, input, note = "", extra = list()) {
  env <- new.env(); env$d <- d
  call <- "rma.peto(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d, add=0)"
  res <- suppressWarnings(run(call, env))
  ph <- peto_by_hand(d$ai, d$n1i, d$ci, d$n2i)
  ## hand values must match metafor's (add=0)
  ok <- !is.na(ph$yi)
  stopifnot(all(ok == !is.na(res$yi.f)),
            max(abs(ph$yi[ok] - res$yi.f[ok])) < 1e-10,
            abs(ph$Q - res$QE) < 1e-9 * max(1, ph$Q),
            abs(sum((ph$O - ph$E)[ok]) / sum(ph$V[ok]) - res$beta) < 1e-12)
  result <- summ_mh(res)
  ## sanity: metafor's default add=1/2 gives the same estimate and Q
  res_def <- suppressWarnings(rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d))
  stopifnot(abs(res_def$beta - res$beta) < 1e-14, abs(res_def$QE - res$QE) < 1e-12)
  nt <- paste("Peto one-step OR. yi=(O-E)/V, vi=1/V (raw counts, double-zero studies not estimable -> null).",
              "k = metafor res$k (all tables with data, incl. double zeros); k_yi = studies with V>0; q_df = k_yi-1.",
              "q = Peto Q = sum((O-E)^2/V) - (sum(O-E))^2/sum(V) (metafor and RevMan).",
              "add=0 only changes metafor's per-study yi/vi; the default add=1/2 would report continuity-corrected",
              "per-study values for single-zero studies.", note)
  cs <- make_case(id, dataset, call, "dichotomous", input, "OR", "PETO", "z",
                  ph$yi, ph$vi, result, nt, extra)
  attr(cs, "fit") <- res
  cs
}

yus <- dat.yusuf1985
yus <- yus[!is.na(yus$ai) & !is.na(yus$ci) & !is.na(yus$n1i) & !is.na(yus$n2i), ]
yus$study <- paste0(yus$trial, " [", yus$id, "]")
yus_input <- function(d) input_dich(d$study, d$ai, d$n1i, d$ci, d$n2i)
yus_tables <- names(which(table(yus$table) >= 2))
yus_tables <- yus_tables[order(suppressWarnings(as.numeric(gsub("[ab]", "", yus_tables))), yus_tables)]
for (tb in yus_tables) {
  d <- yus[yus$table == tb, ]
  add_case(peto_case(sprintf("yusuf_t%s_PETO", tb), sprintf("dat.yusuf1985[table=='%s']", tb),
                     d, yus_input(d), note = "Rows with missing counts removed from dat.yusuf1985."))
}
add_case(peto_case("bcg_PETO", "dat.bcg", bcg, bcg_input))

## ===========================================================================
## 4. MH-DL: RevMan 5 'M-H, Random' (not a metafor method)
## ===========================================================================
mhdl_case <- function(id, dataset, d, measure, input, mh_args = "") {
  env <- new.env(); env$d <- d
  mh_call <- sprintf("mh <- rma.mh(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d, measure='%s'%s)", measure, mh_args)
  mh <- suppressWarnings(run(mh_call, env))
  yi <- mh$yi.f; vi <- mh$vi.f
  td <- tau2_mhdl(yi, vi, mh$beta)
  stopifnot(abs(td$Q - mh$QE) < 1e-9 * max(1, td$Q))   # metafor's rma.mh Q is the same Q
  env$dat <- data.frame(yi = yi, vi = vi)
  fit_call <- sprintf("rma(yi, vi, data=dat, tau2=%.17g)", td$tau2)
  res <- suppressWarnings(run(fit_call, env))
  result <- summ_uni(res, random = TRUE)
  result$q_iv <- result$q                  # Q around the IV estimate (from the fit)
  result$q <- td$Q; result$q_df <- td$df   # Q around the MH estimate (RevMan)
  result$q_p <- pchisq(td$Q, td$df, lower.tail = FALSE)
  result$i2_q <- i2_q(td$Q, td$df)
  result$mh_estimate <- sc(mh$beta); result$mh_se <- sc(mh$se)
  cs <- make_case(id, dataset,
                  paste(mh_call,
                        "; Q <- sum((yi-mh$beta)^2/vi); w <- 1/vi; tau2 <- max(0,(Q-(k-1))/(sum(w)-sum(w^2)/sum(w)));",
                        fit_call),
                  "dichotomous", input, measure, "MH-DL", "z", yi, vi, result,
                  paste("RevMan 5 convention ('M-H, Random'), not a metafor method: DL tau2 with Q computed around",
                        "the MH fixed-effect estimate (escalc yi/vi, add=1/2 to='only0'), then inverse-variance RE fit",
                        "with tau2 fixed via rma(yi, vi, tau2=...). q/q_df/q_p/i2_q refer to the MH-based Q;",
                        "q_iv is the fitted model's Q around the IV FE estimate; i2_metafor is tau2-based.", note_pi))
  attr(cs, "fit") <- res
  cs
}
add_case(mhdl_case("bcg_RR_MHDL", "dat.bcg", bcg, "RR", bcg_input))
add_case(mhdl_case("bcg_OR_MHDL", "dat.bcg", bcg, "OR", bcg_input))
add_case(mhdl_case("hine_RD_MHDL", "dat.hine1989", hine, "RD", hine_input))

## ===========================================================================
## 5. Continuous: dat.normand1999
## ===========================================================================
nor <- dat.normand1999
nor$study <- nor$source
nor_input <- input_cont(nor)
for (method in c("FE", "DL", "REML", "PM")) {
  add_case(uni_case(sprintf("normand_MD_%s", method), "dat.normand1999", nor, "MD", method, "z",
                    "continuous", nor_input,
                    note = paste("MD: vi = sd1^2/n1 + sd2^2/n2.", if (method != "FE") note_pi else "")))
}
nor_rm <- smd_revman(nor)
for (method in c("DL", "REML")) {
  add_case(uni_case(sprintf("normand_SMD_%s", method), "dat.normand1999", nor, "SMD", method, "z",
                    "continuous", nor_input,
                    note = paste("metafor SMD: exact Hedges correction J(m)=gamma(m/2)/(sqrt(m/2)gamma((m-1)/2)), m=N-2;",
                                 "vi = 1/n1+1/n2+yi^2/(2N) (vtype='LS'). yi_revman/vi_revman: RevMan 5 formula.",
                                 note_pi),
                    extra = list(yi_revman = arr(nor_rm$yi), vi_revman = arr(nor_rm$vi))))
}
for (method in c("FE", "DL")) {
  env <- new.env(); env$dat <- data.frame(yi = nor_rm$yi, vi = nor_rm$vi)
  fit_call <- sprintf("rma(yi, vi, data=dat, %s)", method_arg(method))
  res <- run(fit_call, env)
  result <- summ_uni(res, random = method != "FE")
  if (method == "FE") result$tau2 <- 0
  add_case(make_case(sprintf("normand_SMD_revman_%s", method), "dat.normand1999",
                     paste("# yi,vi by RevMan 5 formula: s=sqrt(((n1-1)sd1^2+(n2-1)sd2^2)/(N-2)); d=(m1-m2)/s;",
                           "g=d*(1-3/(4N-9)); v=N/(n1*n2)+g^2/(2*(N-3.94));", fit_call),
                     "continuous", nor_input, "SMD", method, "z", nor_rm$yi, nor_rm$vi, result,
                     "revman_formula: Hedges' g with approximate correction 1-3/(4N-9) and v = N/(n1 n2) + g^2/(2(N-3.94)) (Deeks & Higgins 2010).",
                     extra = list(yi_revman = arr(nor_rm$yi), vi_revman = arr(nor_rm$vi))))
}

## ===========================================================================
## 6. dat.linde2005 RR (rows 5, 26: no response data; row 6: double zero; removed
##    as in the metadat help example)
## ===========================================================================
lin <- dat.linde2005[-c(5, 6, 26), ]
lin$study <- paste(lin$study, lin$year)
lin_input <- input_dich(lin$study, lin$ai, lin$n1i, lin$ci, lin$n2i)
for (method in c("DL", "REML")) {
  add_case(uni_case(sprintf("linde_RR_%s", method), "dat.linde2005[-c(5,6,26),]", lin, "RR", method, "z",
                    "dichotomous", lin_input,
                    note = paste("One study with a zero cell (escalc default add=1/2 to='only0').", note_pi)))
}

## ===========================================================================
## 7. Subgroup analyses with RevMan's test for subgroup differences:
##    fit each subgroup separately, then rma(est_g, se_g^2, method='FE') on the
##    subgroup estimates: Q_between = QE, df = G-1, p = QEp, I2 = max(0,(Q-df)/Q)*100
##    [RevMan5-SA, "Tests for subgroup differences"; Borenstein & Higgins 2013].
## ===========================================================================
subgroup_block <- function(d, column, fitfun, fit_code) {
  vals <- as.character(d[[column]])
  lev <- unique(vals)
  groups <- list(); est <- c(); se <- c()
  for (g in lev) {
    res <- suppressWarnings(fitfun(d[vals == g, ]))
    k_yi <- if (!is.null(res$k.yi)) res$k.yi else res$k
    is_uni <- inherits(res, "rma.uni") && !inherits(res, "rma.mh") && !inherits(res, "rma.peto")
    q_df <- if (is_uni) res$k - res$p else res$k.yi - 1
    groups[[length(groups) + 1]] <- list(
      name = g, k = res$k, estimate = sc(res$beta), se = sc(res$se),
      ci_low = sc(res$ci.lb), ci_high = sc(res$ci.ub), stat = sc(res$zval), p = sc(res$pval),
      tau2 = if (is.null(res$tau2) || is.na(res$tau2)) 0 else sc(res$tau2),
      q = sc(res$QE), q_df = q_df, q_p = sc(res$QEp),
      i2_metafor = sc(res$I2), i2_q = i2_q(res$QE, q_df))
    est <- c(est, res$beta); se <- c(se, res$se)
  }
  tst <- rma(est, se^2, method = "FE")
  list(column = column, values = I(vals), fit = fit_code, groups = groups,
       test = list(call = "rma(est_g, se_g^2, method='FE')",
                   q = sc(tst$QE), df = length(lev) - 1, p = sc(tst$QEp),
                   i2 = i2_q(tst$QE, length(lev) - 1)))
}

sub_uni_case <- function(id, dataset, d, measure, method, input, column, note = "") {
  cs <- uni_case(id, dataset, d, measure, method, "z", "dichotomous", input,
                 note = paste("Overall fit in result; per-subgroup fits (same method) and RevMan's test for",
                              "subgroup differences in 'subgroups'.", note_pi, note))
  dt <- attr(cs, "dat")
  dt[[column]] <- d[[column]]
  fitfun <- if (method %in% c("REML", "PM")) {
    function(x) rma(yi, vi, data = x, method = method,
                    control = list(threshold = 1e-12, maxiter = 10000, stepadj = 0.5, tol = 1e-15))
  } else function(x) rma(yi, vi, data = x, method = method)
  cs$subgroups <- subgroup_block(dt, column, fitfun,
                                 sprintf("rma(yi, vi, data=dat[dat$%s==g,], %s)", column, method_arg(method)))
  cs
}
add_case(sub_uni_case("bcg_RR_REML_subgroup_alloc", "dat.bcg", bcg, "RR", "REML", bcg_input, "alloc"))
add_case(sub_uni_case("bcg_RR_DL_subgroup_alloc", "dat.bcg", bcg, "RR", "DL", bcg_input, "alloc"))
lin$group <- paste0("group", lin$group)
add_case(sub_uni_case("linde_RR_DL_subgroup_group", "dat.linde2005[-c(5,6,26),]", lin, "RR", "DL",
                      lin_input, "group"))

## Peto subgroups over several yusuf tables (tables are different outcomes, so the
## pooled 'overall' is only a numerical reference)
local({
  tabs <- c("6", "9", "10", "11")
  d <- yus[yus$table %in% tabs, ]
  d$table <- as.character(d$table)
  sg <- subgroup_block(d, "table",
                       function(x) rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = x, add = 0),
                       "rma.peto(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d[d$table==g,], add=0)")
  add_case(peto_case("yusuf_PETO_subgroup_table", "dat.yusuf1985[table %in% c('6','9','10','11')]",
                     d, yus_input(d),
                     note = paste("Overall Peto fit across tables 6, 9, 10, 11 (numerical reference only);",
                                  "subgroups = table with RevMan's test for subgroup differences."),
                     extra = list(subgroups = sg)))
})

## ===========================================================================
## 10. Edge cases
## ===========================================================================
## k = 1 and k = 2 (first studies of dat.bcg)
for (kk in 1:2) {
  d <- bcg[seq_len(kk), ]
  inp <- input_dich(d$study, d$ai, d$n1i, d$ci, d$n2i)
  meths <- if (kk == 1) c("FE", "DL", "REML") else c("FE", "DL", "REML", "PM")
  for (method in meths) {
    add_case(uni_case(sprintf("bcg_k%d_RR_%s", kk, method), sprintf("dat.bcg[1:%d,]", kk), d, "RR",
                      method, "z", "dichotomous", inp,
                      note = paste(sprintf("Edge case k = %d.", kk),
                                   if (kk == 1) "metafor: tau2 = 0, Q = 0 on 0 df (p = 1), PI = CI." else "",
                                   "pi_*_t null since k-2 < 1.")))
  }
  if (kk == 2) {
    cs <- uni_case("bcg_k2_RR_DL_knha", "dat.bcg[1:2,]", d, "RR", "DL", "knha", "dichotomous", inp,
                   note = "Edge case k = 2 with Hartung-Knapp (t with 1 df).")
    add_case(cs)
    add_case(adhoc_case(cs, "bcg_k2_RR_DL_adhoc"))
  }
}

## generic IV set with Q < df: tau2 must be 0 for DL, REML, PM
gq <- data.frame(study = paste0("S", 1:4), yi = c(0.10, 0.12, 0.11, 0.09), vi = c(0.04, 0.05, 0.03, 0.06))
for (method in c("FE", "DL", "REML", "PM")) {
  cs <- uni_case(sprintf("gen_qlow_%s", method), "generic (Q < df)", gq, "GEN", method, "z", "generic",
                 input_gen(gq), note = "Q < df: tau2 truncated at 0 for all estimators.")
  if (method != "FE") stopifnot(attr(cs, "fit")$tau2 == 0)
  add_case(cs)
}
cs <- uni_case("gen_qlow_DL_knha", "generic (Q < df)", gq, "GEN", "DL", "knha", "generic", input_gen(gq),
               note = "Q < df with Hartung-Knapp: qh < 1, so knha CI is narrower than the z CI.")
add_case(cs)
add_case(adhoc_case(cs, "gen_qlow_DL_adhoc"))

## generic IV set with large tau2
gb <- data.frame(study = paste0("S", 1:5), yi = c(-1.2, 0.3, 1.5, 2.8, -0.4), vi = c(0.02, 0.05, 0.03, 0.04, 0.06))
for (method in c("FE", "DL", "REML", "PM")) {
  add_case(uni_case(sprintf("gen_bigtau_%s", method), "generic (large tau2)", gb, "GEN", method, "z", "generic",
                    input_gen(gb), note = paste("Large between-study variance.", if (method != "FE") note_pi else "")))
}
for (method in c("REML", "DL")) {
  cs <- uni_case(sprintf("gen_bigtau_%s_knha", method), "generic (large tau2)", gb, "GEN", method, "knha",
                 "generic", input_gen(gb), note = paste("Large tau2 with Hartung-Knapp.", note_pi))
  add_case(cs)
  add_case(adhoc_case(cs, sprintf("gen_bigtau_%s_adhoc", method)))
}

## zero cells: one single-zero study, one double-zero study
zc <- data.frame(study = paste0("Z", 1:4), ai = c(0, 0, 5, 12), n1i = c(20, 25, 40, 60),
                 ci = c(3, 0, 9, 15), n2i = c(21, 24, 41, 58))
zc_input <- input_dich(zc$study, zc$ai, zc$n1i, zc$ci, zc$n2i)
for (measure in c("RR", "OR", "RD")) {
  drop00 <- if (measure == "RD") "FALSE" else "TRUE"
  for (method in c("FE", "DL")) {
    add_case(uni_case(sprintf("zero_%s_%s", measure, method), "zero-cell example", zc, measure, method, "z",
                      "dichotomous", zc_input,
                      escalc_args = sprintf(", add=1/2, to='only0', drop00=%s", drop00),
                      esc = if (measure == "RD") rd_revman_call else NULL,
                      note = paste(if (measure == "RD")
                                     paste("RevMan's RD convention: estimate from the raw counts, variance with 0.5",
                                           "added to all cells of studies with a zero; double-zero study kept for RD (drop00=FALSE).")
                                   else paste("Zero cells: 0.5 added to all cells of studies with a zero;",
                                              "double-zero study not estimable for RR/OR (drop00=TRUE) -> null yi/vi/weight, as RevMan."),
                                   if (method != "FE") note_pi else "")))
  }
  add_case(mh_case(sprintf("zero_%s_MH", measure), "zero-cell example", zc, measure, zc_input,
                   extra_args = if (measure == "RD") ", drop00=FALSE" else "",
                   note = paste("Zero-cell example.", if (measure == "RD") "Double-zero study kept (drop00=FALSE) and contributes to the MH RD."
                                else "Double-zero study has zero MH weight; k counts it, k_yi does not.")))
}
add_case(peto_case("zero_PETO", "zero-cell example", zc, zc_input, note = "Zero-cell example."))

## ===========================================================================
## write JSON
## ===========================================================================
cases <- lapply(cases, function(cs) { attr(cs, "fit") <- NULL; attr(cs, "dat") <- NULL; cs })
out <- list(r_version = R.version.string,
            metafor_version = packageDescription("metafor")$Version,
            cases = cases)
json <- toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null", null = "null")
writeLines(json, out_file, useBytes = TRUE)
cat(sprintf("wrote %s with %d cases\n", out_file, length(cases)))
