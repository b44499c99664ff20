"""The engine: effect sizes, tau² estimators, pooling, the batch path and the
few-study methods.  It knows no files: every function takes arrays or results
and returns frozen dataclasses (``yi``, ``vi``: effect sizes on the analysis
scale, log scale for ratio measures; I² in percent)."""
