# Live cross-check of the futility boundaries with rpact (optional: the test that
# calls it skips when rpact is not installed).  Called by tests/test_sequential.py:
#   Rscript tests/reference/live_rpact.R IN.json OUT.json
# Each input item: information, alpha, beta, sides.  Output: rpact's design
# getDesignGroupSequential(typeOfDesign = "asOF", typeBetaSpending = "bsOF",
# bindingFutility = FALSE): futility bounds (NA: no futility stop), beta spent.
suppressPackageStartupMessages({library(rpact); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
items <- fromJSON(args[1], simplifyVector = FALSE)
out <- lapply(items, function(it) {
  x <- suppressWarnings(getDesignGroupSequential(
    informationRates = as.numeric(unlist(it$information)), alpha = it$alpha, beta = it$beta,
    sided = it$sides, typeOfDesign = "asOF", typeBetaSpending = "bsOF", bindingFutility = FALSE))
  list(futility_bounds = x$futilityBounds, beta_spent = x$betaSpent)
})
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null"), args[2])
