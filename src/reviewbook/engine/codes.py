"""The engine's codes (metafor's and RevMan's vocabulary), importable without
numpy or scipy, so that the command line starts quickly."""

#: Effect measures: mean difference, standardised mean difference, risk ratio,
#: odds ratio, risk difference, hazard ratio (O-E and variance), and generic
#: inverse-variance estimates on their own scale (GEN) or on the log scale (GENR).
MEASURES = ("MD", "SMD", "RR", "OR", "RD", "HR", "GEN", "GENR")
#: Measures pooled on the log scale.
RATIO_MEASURES = ("RR", "OR", "HR", "GENR")
DICHOTOMOUS_MEASURES = ("RR", "OR", "RD")
CONTINUOUS_MEASURES = ("MD", "SMD")
#: SMD small-sample corrections: RevMan 5's approximate Hedges' g, metafor's
#: exact correction, and Hedges' (1981) approximation.
SMD_CORRECTIONS = ("revman", "exact", "hedges")

#: Pooling methods: inverse-variance fixed effect, Mantel-Haenszel fixed effect,
#: RevMan's 'M-H, Random', Peto, and inverse-variance random effects by tau² estimator.
METHODS = ("FE", "MH", "MH-DL", "PETO", "DL", "REML", "PM")
RANDOM_METHODS = ("MH-DL", "DL", "REML", "PM")
FIXED_METHODS = ("FE", "MH", "PETO")
HKSJ_VARIANTS = (None, "plain", "adhoc")

#: The one default pair of error rates: two-sided type I error and power of the
#: required (optimal) information size.  The book's imprecision rating (GRADE 6:
#: alpha 0.05, beta 0.20), its sequential analysis and ``reviewbook ris`` all read
#: these (a review file may set others for its book).
ALPHA = 0.05
POWER = 0.80
