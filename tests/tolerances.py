"""The one place where test tolerances live, by kind of quantity.

* ``CLOSED``: closed-form quantities (effect sizes, FE/MH/Peto/DL pooling, Q, I2,
  p-values, subgroup tests).  The reference values are stored with 15 significant
  digits, so agreement is limited only by floating-point rounding.
* ``ITERATIVE``: quantities that depend on an iteratively estimated tau2 (REML,
  PM), compared with metafor run at ``threshold=1e-12`` (tests/reference).  The
  issue asks for relative 1e-6; we hold ourselves to 1e-7.
* ``ABS_FLOOR``: absolute floor for values that are (near) zero, e.g. tau2 = 0.
* ``BATCH``: the vectorised batch path against the single-fit path.
* ``STORED``: RevMan's stored numbers in a data package carry 6 significant
  digits (Fleiss1993: ``0.896866``); half a unit in the 6th decimal.
* The few-study methods (Bayesian meta-analysis, group-sequential boundaries,
  information size): each constant below says why it has its value; none was
  loosened to make a test pass.
"""
CLOSED = 1e-9
ITERATIVE = 1e-7
ABS_FLOOR = 1e-10
BATCH = 1e-8
STORED = 5e-6


def close(actual, expected, rel, abs_=ABS_FLOOR):
    """True when ``actual`` is within ``rel`` (relative) or ``abs_`` of ``expected``."""
    if expected is None or actual is None:
        return actual is None and expected is None
    return abs(actual - expected) <= max(rel * abs(expected), abs_)

# ------------------------------------------------------------ few-study methods


# --- bayes -------------------------------------------------------------------

#: Our quadrature against an independent scipy adaptive-quadrature reference
#: (``quad`` at epsrel 1e-12, written in the test).  Both are "exact" up to
#: quadrature error; measured agreement ~1e-12 relative, except where the
#: half-Cauchy tail beyond 1e10 x scale is cut (mass < 1e-10).  Relative 1e-8.
BAYES_QUAD_REL = 1e-8
#: Absolute floor for posterior probabilities compared with the quad reference
#: (same reasoning; the cut tail mass is < 1e-10).
BAYES_QUAD_ABS = 1e-9

#: bayesmeta's published tau summaries come from its own adaptive integration
#: of the tau posterior (rel.tol 2^16 eps), so they are exact to print
#: precision: we allow this fraction of one unit in the last printed digit
#: (0.5 = correct rounding; 0.6 allows for the reference itself being
#: rounded from a value a hair off the exact one).
PRINTED_LAST_DIGIT_UNITS = 0.6


def printed_tolerance(text, units=PRINTED_LAST_DIGIT_UNITS):
    """Absolute tolerance for a number printed as ``text``: ``units`` of its last digit."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return units * 10.0 ** (-decimals)

#: bayesmeta's published mu summaries use its DIRECT discretisation of the
#: normal mixture (Röver & Friede 2017; defaults delta = 0.01, epsilon = 1e-4),
#: not exact quadrature.  Our values agree with scipy adaptive quadrature to
#: 1e-15; the vignette's differ from them by up to 1.9e-4 posterior SDs of mu
#: (median 7.962961 vs exact 7.963499: 1.1e-4 SD; 95% quantile 16.11009 vs
#: 16.10912: 1.9e-4 SD; SD 4.996).  Tolerance: 3e-4 posterior SDs of mu (a
#: wrong mu-prior SD, 50 -> 45, moves the median by 3.5e-3 SDs and a uniform mu
#: prior by 1.5e-2 SDs, so either fails).
BAYESMETA_MU_SD_UNITS = 3e-4
#: ...and for P(mu > 0) from the same mixture: observed difference 1.7e-5.
BAYESMETA_PROB_ABS = 4e-5

#: Importance-sampling Monte Carlo in the test: the estimate must lie within
#: this many Monte Carlo standard errors (delta-method SE of the
#: self-normalised ratio estimator) of the exact value.  4 SE: a false alarm
#: has probability ~6e-5 per comparison for a fixed seed chosen once.
MC_SE_MULTIPLIER = 4.0

#: Batch path against the single-fit path (different grid ranges per call):
#: measured ~1e-12; relative 1e-9 (same reasoning as BAYES_QUAD_REL).
BAYES_BATCH_REL = 1e-9


# --- sequential ----------------------------------------------------------------

#: Published boundaries printed to 3 decimals (4.877, 3.357, ...): half a unit
#: in the 3rd decimal.
PUBLISHED_3DP = 5e-4
#: gsDesign vignette bounds printed to 7 significant digits (2.962588 ...):
#: half a unit in the 6th decimal.
PUBLISHED_6DP = 5e-7
#: rpact unit-test values are asserted in rpact itself with tolerance 1e-7
#: (relative, testthat ``expect_equal(..., tolerance = 1e-07)``) and printed
#: to 8 significant digits; we use the same 1e-7.
RPACT_REL = 1e-7
#: Brute-force check of the crossing probabilities with scipy's Genz
#: multivariate-normal CDF (its default absolute error target is 1e-5 per
#: evaluation); the exit probabilities must match the spent alpha within 2e-5.
MVN_ABS = 2e-5

# --- ris -------------------------------------------------------------------------

#: Closed-form quantities (RIS formulas, D^2 from DL/FE variances) against
#: values computed from the same closed forms by hand or from metafor's
#: 15-digit output: floating-point rounding only.
RIS_CLOSED_REL = 1e-9
#: Published information sizes are integers (rounded or rounded up): within
#: one participant.
PUBLISHED_PARTICIPANTS_ABS = 1.0

# --- sequential: futility boundaries (beta-spending) ------------------------------

#: Futility bounds against rpact 3.3.4 (tests/reference/rpact_futility.json):
#: rpact finds them by bisection to 1e-8 on its Newton-Cotes integration grid
#: (49-91 points per interval); measured agreement <= 1.2e-8.  Absolute, because
#: bounds can be near 0 (0.0486).
RPACT_FUTILITY_ABS = 1e-7
#: Beta spent against rpact: measured <= 1e-9 (rpact's own design) and ~1e-14
#: where the bounds were solved on rpact's integrator in R (fixed drift).
RPACT_PROB_ABS = 1e-8
#: Power (upper crossing under the alternative) against rpact: measured <= 4e-9
#: where rpact's efficacy bounds agree with ours to 1e-8; up to 2.1e-7 in the two
#: designs where rpact's two-sided efficacy bound at a look spending < 1e-6 of
#: alpha is off by up to 0.012 in z (rpact's own error, fewstudy.md), which moves
#: the crossing probability under the alternative by that much.
RPACT_POWER_ABS = 5e-7
#: rpact's getDesignCharacteristics() shift solves "upper-crossing power = 1 -
#: beta" exactly, while the design's bounds meet where P(no efficacy crossing on
#: either side) = beta: the two differ by the probability of crossing the lower
#: (harm) boundary under the alternative (~7e-7), which moves the two-sided shift
#: by up to 1.8e-6 relative (measured; one-sided, where there is no lower
#: boundary, 1.1e-8).  The design's own drift is pinned by the power comparison.
RPACT_SHIFT_REL_TWO_SIDED = 3e-6
#: Monte Carlo checks of stopping probabilities (fixed seed): within this many
#: binomial standard errors sqrt(p (1 - p) / n).
MC_SE_UNITS = 4.0
