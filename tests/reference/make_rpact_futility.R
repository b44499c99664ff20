#!/usr/bin/env Rscript
## =============================================================================
## Reference values for the non-binding futility boundaries (beta-spending) of
## reviewbook.engine.sequential.futility_boundaries.
##
## Run from the repository root:
##     Rscript tests/reference/make_rpact_futility.R
## Writes tests/reference/rpact_futility.json (deterministic: no timestamps).
## Needs rpact (Debian: apt-get install -y --no-install-recommends r-cran-rpact,
## rpact 3.3.4) and jsonlite.  Tests read the stored file; rpact is not needed at
## test time.
##
## Two kinds of case:
##
## 1. "inflated": rpact's own design,
##      getDesignGroupSequential(informationRates = t, alpha, beta, sided,
##        typeOfDesign = "asOF", typeBetaSpending = "bsOF", bindingFutility = FALSE)
##    and getDesignCharacteristics() of it.  rpact solves the drift ("shift" =
##    drift^2) so that the futility and efficacy bounds meet at t = 1; this is
##    futility_boundaries(..., inflate = TRUE).  Two-sided beta spending is marked
##    "experimental" by rpact 3.3.4 (a warning, suppressed here).
##
## 2. "fixed": the drift fixed at qnorm(1 - alpha/sided) + qnorm(1 - beta) (the
##    default of futility_boundaries: the fractions are of the fixed-sample
##    required information size).  rpact has no option for this, so the bounds are
##    solved here with uniroot() on rpact's own integrator,
##    getGroupSequentialProbabilities(), look by look, by the rules stated in
##    futility_boundaries' docstring (the same rules as rpact's design code,
##    src/f_design_group_sequential.cpp, getFutilityBoundTwoSided and
##    getAdjustedBetaSpendingValues, but with the drift fixed):
##      * OBF-type beta spending B(t) = 2 - 2 Phi(z_{1-beta/2} / sqrt(t));
##      * two-sided: no futility stop at a look where the one-sided bound (same
##        drift, same efficacy bounds) is <= 0; the spending restarts at the last
##        such look before the first look with a stop;
##      * futility bound capped at the efficacy bound; the type II error not spent
##        at a look is carried to the next (the cumulative spending is the target).
##    This is an implementation independent of the Python one (different
##    integration: rpact's Newton-Cotes grid; different root finder).
## =============================================================================

suppressPackageStartupMessages({
  library(rpact)
  library(jsonlite)
})

out_file <- file.path("tests", "reference", "rpact_futility.json")
if (!dir.exists(dirname(out_file))) stop("run from the repository root")

TOL <- 1e-12

## --------------------------------------------------------------------------- 1
inflated_case <- function(id, t, alpha, beta, sided) {
  call <- sprintf(paste0("getDesignGroupSequential(informationRates = c(%s), alpha = %s, beta = %s, ",
                         "sided = %d, typeOfDesign = \"asOF\", typeBetaSpending = \"bsOF\", ",
                         "bindingFutility = FALSE)"),
                  paste(format(t, digits = 15), collapse = ", "), format(alpha), format(beta), sided)
  x <- suppressWarnings(eval(parse(text = call)))
  y <- suppressWarnings(getDesignCharacteristics(x))
  list(id = id, kind = "inflated", call = call, information = t, alpha = alpha, beta = beta, sides = sided,
       critical_values = x$criticalValues, futility_bounds = x$futilityBounds,
       alpha_spent = x$alphaSpent, beta_spent = x$betaSpent, power = x$power,
       shift = y$shift, inflation_factor = y$inflationFactor, n_fixed = y$nFixed)
}

## --------------------------------------------------------------------------- 2
## P(reach look k without stopping, Z_k in the futility region) for k = 1..K under
## drift theta, and P(reach look k, Z_k >= c_k) (upper crossing), by rpact.
probs <- function(t, crit, fut, theta, sided) {
  m <- theta * sqrt(t)
  if (sided == 1) {
    lower <- pmax(fut, -30)  # -Inf: no futility stop; rpact clamps far tails itself
    dm <- rbind(lower - m, crit - m)
    p <- getGroupSequentialProbabilities(dm, t)
    list(futility = p[1, ], upper = p[3, ] - p[2, ])
  } else {
    f <- ifelse(is.na(fut), 0, fut)
    dm <- rbind(-crit - m, -f - m, f - m, crit - m)
    p <- getGroupSequentialProbabilities(dm, t)
    list(futility = p[3, ] - p[2, ], upper = p[5, ] - p[4, ])
  }
}

## Solve the futility bound at look k given the bounds before it.
solve_look <- function(k, t, crit, fut, theta, sided, target_cum) {
  tk <- t[1:k]; ck <- crit[1:k]
  spent_before <- if (k > 1) sum(probs(tk[-k], ck[-k], fut[1:(k - 1)], theta, sided)$futility) else 0
  target <- target_cum - spent_before
  if (target <= 0) return(if (sided == 1) -Inf else NA_real_)
  g <- function(a) { f <- fut[1:k]; f[k] <- a; sum(probs(tk, ck, f, theta, sided)$futility) - target_cum }
  lo <- if (sided == 1) -20 else 0
  if (g(crit[k]) <= 0) return(crit[k])  # capped at the efficacy bound
  uniroot(g, c(lo, crit[k]), tol = TOL)$root
}

fixed_bounds <- function(t, crit, alpha, beta, sided) {
  K <- length(t)
  theta <- qnorm(1 - alpha / sided) + qnorm(1 - beta)
  B <- 2 - 2 * pnorm(qnorm(1 - beta / 2) / sqrt(t))
  allowed <- rep(TRUE, K)
  spend <- B
  if (sided == 2) {
    one <- rep(-Inf, K)
    for (k in 1:K) one[k] <- solve_look(k, t, crit, one, theta, 1, B[k])
    allowed <- c(one[-K] > 0, TRUE)
    interim <- which(allowed[-K])
    j <- if (length(interim)) interim[1] else K
    if (j > 1) {
      anchor <- B[j - 1]
      spend <- beta * (B - anchor) / (beta - anchor)
      spend[1:(j - 1)] <- 0
    }
  }
  fut <- rep(if (sided == 1) -Inf else NA_real_, K)
  for (k in 1:K) if (allowed[k]) fut[k] <- solve_look(k, t, crit, fut, theta, sided, spend[k])
  p <- probs(t, crit, fut, theta, sided)
  list(futility = fut, beta_spent = cumsum(p$futility), power = cumsum(p$upper), drift = theta,
       spending = spend)
}

fixed_case <- function(id, t, alpha, beta, sided) {
  ## efficacy critical values: rpact's one-sided asOF design at alpha/sided (for
  ## these looks the two-sided design differs from it by the probability of
  ## crossing one boundary and then the other, < 1e-9; rpact's two-sided
  ## recursion is less accurate at tiny alpha increments, see fewstudy.md).  A
  ## design needs its last look at 1, and Lan-DeMets bounds at a look do not
  ## depend on later looks, so a final look t_K < 1 is computed in a design with
  ## an extra look at 1, dropped.  rpact returns Inf where its alpha spent
  ## underflows (1 - pnorm); there the first-look bound is computed from the
  ## spending function directly: qnorm(alpha_1(t_1) / sided, lower.tail = FALSE).
  tt <- if (t[length(t)] < 1) c(t, 1) else t
  d <- getDesignGroupSequential(informationRates = tt, alpha = alpha / sided, sided = 1, typeOfDesign = "asOF")
  crit <- d$criticalValues[seq_along(t)]
  if (!is.finite(crit[1])) {
    a1 <- 2 * pnorm(qnorm(1 - alpha / sided / 2) / sqrt(t[1]), lower.tail = FALSE)
    crit[1] <- qnorm(a1, lower.tail = FALSE)
  }
  if (any(!is.finite(crit))) stop("non-finite critical value after the first look")
  r <- fixed_bounds(t, crit, alpha, beta, sided)
  fut <- r$futility
  list(id = id, kind = "fixed",
       call = sprintf("fixed_bounds(t = c(%s), crit, alpha = %s, beta = %s, sided = %d) in make_rpact_futility.R",
                      paste(format(t, digits = 15), collapse = ", "), format(alpha), format(beta), sided),
       information = t, alpha = alpha, beta = beta, sides = sided,
       critical_values = crit,
       futility_bounds = ifelse(is.infinite(fut), NA, fut),
       beta_spent = r$beta_spent, power = r$power, drift = r$drift, spending = r$spending)
}

cases <- list(
  inflated_case("two_equal5_b20", c(0.2, 0.4, 0.6, 0.8, 1), 0.05, 0.2, 2),
  inflated_case("two_small_first_b20", c(0.05, 0.15, 0.4, 0.7, 1), 0.05, 0.2, 2),
  inflated_case("two_unequal4_b10", c(0.3, 0.4, 0.8, 1), 0.05, 0.1, 2),
  inflated_case("two_unequal3_b20", c(0.5, 0.75, 1), 0.05, 0.2, 2),
  inflated_case("two_equal10_b10", seq(0.1, 1, by = 0.1), 0.05, 0.1, 2),
  inflated_case("one_equal5_b20", c(0.2, 0.4, 0.6, 0.8, 1), 0.025, 0.2, 1),
  inflated_case("one_small_first_b20", c(0.05, 0.15, 0.4, 0.7, 1), 0.025, 0.2, 1),
  fixed_case("fixed_two_equal5_b20", c(0.2, 0.4, 0.6, 0.8, 1), 0.05, 0.2, 2),
  fixed_case("fixed_two_small_first_b20", c(0.05, 0.15, 0.4, 0.7, 1), 0.05, 0.2, 2),
  fixed_case("fixed_two_unequal4_b10", c(0.3, 0.4, 0.8, 1), 0.05, 0.1, 2),
  fixed_case("fixed_two_short_b10", c(0.1, 0.35, 0.6), 0.05, 0.1, 2),
  fixed_case("fixed_one_small_first_b20", c(0.05, 0.15, 0.4, 0.7, 1), 0.025, 0.2, 1)
)

out <- list(r_version = R.version.string, rpact_version = as.character(packageVersion("rpact")),
            jsonlite_version = as.character(packageVersion("jsonlite")), cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), out_file)
cat("wrote", out_file, "\n")
