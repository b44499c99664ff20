#!/usr/bin/env Rscript
## =============================================================================
## Reference values for the cumulative meta-analysis (reviewbook.engine.cumulative).
##
## Run from the repository root:
##     Rscript tests/reference/make_cumul.R
## Writes tests/reference/cumul_reference.json (deterministic: no timestamps).
##
## Source: metafor 3.8-1, cumul() (https://wviechtb.github.io/metafor/reference/cumul.html):
## "the model is fitted k times, adding one study at a time", in the order of the
## variable given as 'order' (ties keep the input order: R's order() is stable).
## Each case stores the R call that produced it.
## =============================================================================

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_file <- file.path("tests", "reference", "cumul_reference.json")
if (!dir.exists(dirname(out_file))) stop("run from the repository root")
CTRL <- list(threshold = 1e-12, maxiter = 10000, stepadj = 0.5, tol = 1e-15)

num <- function(x) { x <- unname(as.numeric(x)); x[!is.finite(x)] <- NA; I(x) }

case <- function(id, call, env, input, extra = list()) {
  cu <- eval(parse(text = call), envir = env)
  fit <- attr(cu, "fit")
  ## the positions (0-based) of the studies in the order they were added
  pos <- match(cu$slab, env$slab) - 1
  c(list(id = id, call = call, input = input, order = I(pos),
         steps = list(estimate = num(cu$estimate), se = num(cu$se), ci_low = num(cu$ci.lb),
                      ci_high = num(cu$ci.ub), q = num(cu$Q), tau2 = num(cu$tau2),
                      i2_metafor = num(cu$I2))), extra)
}

cases <- list()

## 1-3. dat.bcg (13 trials of BCG vaccine), log risk ratio, studies by year of publication
bcg <- new.env()
with(bcg, {
  d <- dat.bcg
  slab <- paste(d$author, d$year)
  es <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d)
})
bcg_input <- list(study = I(bcg$slab), events1 = num(bcg$d$tpos), n1 = num(bcg$d$tpos + bcg$d$tneg),
                  events2 = num(bcg$d$cpos), n2 = num(bcg$d$cpos + bcg$d$cneg), year = num(bcg$d$year))
cases[[length(cases) + 1]] <- case("bcg_RR_DL_year",
  "cumul(rma(yi, vi, data=es, method='DL', slab=slab), order=d$year)", bcg, bcg_input,
  list(measure = "RR", method = "DL", test = "z"))
cases[[length(cases) + 1]] <- case("bcg_RR_REML_year",
  "cumul(rma(yi, vi, data=es, method='REML', slab=slab, control=CTRL), order=d$year)", bcg, bcg_input,
  list(measure = "RR", method = "REML", test = "z"))
cases[[length(cases) + 1]] <- case("bcg_RR_MH_year",
  "cumul(rma.mh(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=d, measure='RR', slab=slab), order=d$year)",
  bcg, bcg_input, list(measure = "RR", method = "MH", test = "z"))
cases[[length(cases) + 1]] <- case("bcg_RR_DL_knha_year",
  "cumul(rma(yi, vi, data=es, method='DL', test='knha', slab=slab), order=d$year)", bcg, bcg_input,
  list(measure = "RR", method = "DL", test = "knha"))

## 5. The review's analysis 1.1 (data/CD015373, IV ketamine, pain intensity, immediate term):
##    mean difference, DerSimonian-Laird, studies by year then row order
k11 <- new.env()
with(k11, {
  rows <- read.csv(file.path("data", "CD015373", "CD015373-analysis-data", "CD015373-data-rows.csv"),
                   check.names = FALSE, fileEncoding = "UTF-8-BOM")
  d <- rows[rows[["Analysis group"]] == 1 & rows[["Analysis number"]] == 1, ]
  slab <- make.unique(d$Study)
  es <- escalc(measure = "MD", m1i = d[["Experimental mean"]], sd1i = d[["Experimental SD"]],
               n1i = d[["Experimental N"]], m2i = d[["Control mean"]], sd2i = d[["Control SD"]],
               n2i = d[["Control N"]])
  yr <- d[["Study year"]]
})
cases[[length(cases) + 1]] <- case("CD015373_1.1_MD_DL_year",
  "cumul(rma(yi, vi, data=es, method='DL', slab=slab), order=yr)", k11,
  list(analysis = "1.1", study = I(k11$slab), year = num(k11$yr)),
  list(measure = "MD", method = "DL", test = "z"))

out <- list(r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
            cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), out_file)
cat("wrote", out_file, "with", length(cases), "cases\n")
