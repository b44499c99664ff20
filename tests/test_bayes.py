"""reviewbook.engine.bayes against published bayesmeta output, an independent
adaptive-quadrature reference, analytic special cases and an importance-sampling
Monte Carlo.  Tolerances: tests/tolerances.py."""
import itertools

import numpy as np
import pytest
from scipy import integrate, optimize, stats
from tolerances import (
    BAYES_BATCH_REL,
    BAYES_QUAD_ABS,
    BAYES_QUAD_REL,
    BAYESMETA_MU_SD_UNITS,
    BAYESMETA_PROB_ABS,
    MC_SE_MULTIPLIER,
    printed_tolerance,
)

from reviewbook.engine.bayes import bayes, bayes_batch, prob_mu_below
from reviewbook.errors import ArgumentError

# Rubin (1981) eight schools, as printed in the bayesmeta vignette (data("Rubin1981")):
# cran/bayesmeta, inst/doc/bayesmeta.html (commit ed80bff8f9727e2e3f3d599a61e58fe9651a56ed,
# the vignette citing Röver 2020, J Stat Softw 93(6)), section "Estimates and standard errors".
SCHOOLS_Y = np.array([28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16])
SCHOOLS_SE = np.array([14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6])
SCHOOLS_PRIORS = {"tau_prior": ("halfcauchy", 25), "mu_prior": ("normal", 0, 50)}
VIGNETTE = "cran/bayesmeta inst/doc/bayesmeta.html @ed80bff8, 'A simple example'"


@pytest.fixture(scope="module")
def schools():
    return bayes(SCHOOLS_Y, SCHOOLS_SE ** 2, **SCHOOLS_PRIORS)


def test_schools_tau_matches_bayesmeta_vignette(schools):
    """bayesmeta vignette, schools.example.1 (half-Cauchy(25) tau prior, N(0, 50^2)
    mu prior), 'marginal posterior summary': tau median 4.758539, mean 5.884511;
    and later in the same vignette, ``schools.example.1$qposterior(tau.p=c(0.025,
    0.975))`` = 0.2199559, 18.0531718 and ``qposterior(tau.p=0.95)`` = 15.16589."""
    expected = {"tau": "4.758539", "tau_mean": "5.884511",
                "tau_low": "0.2199559", "tau_high": "18.0531718"}
    for name, text in expected.items():
        got = getattr(schools, name)
        assert abs(got - float(text)) <= printed_tolerance(text), (name, got, text, VIGNETTE)
    q95 = bayes(SCHOOLS_Y, SCHOOLS_SE ** 2, level=0.90, **SCHOOLS_PRIORS).tau_high
    assert abs(q95 - 15.16589) <= printed_tolerance("15.16589"), (q95, VIGNETTE)


def test_schools_mu_matches_bayesmeta_vignette(schools):
    """bayesmeta vignette, schools.example.1, 'marginal posterior summary': mu median
    7.962961, mean 7.985729, sd 4.995762; ``1 - pposterior(mu=0)`` = 0.9487521;
    ``qposterior(mu.p=0.95)`` = 16.11009.  bayesmeta's mu figures carry its DIRECT
    mixture-approximation error (see tolerances.BAYESMETA_MU_SD_UNITS)."""
    tol = BAYESMETA_MU_SD_UNITS * 4.995762
    for name, value in {"mu": 7.962961, "mu_mean": 7.985729, "mu_sd": 4.995762}.items():
        got = getattr(schools, name)
        assert abs(got - value) <= tol, (name, got, value, VIGNETTE)
    assert abs((1 - schools.p_mu_below_0) - 0.9487521) <= BAYESMETA_PROB_ABS, VIGNETTE
    q95 = bayes(SCHOOLS_Y, SCHOOLS_SE ** 2, level=0.90, **SCHOOLS_PRIORS).mu_high
    assert abs(q95 - 16.11009) <= tol, (q95, VIGNETTE)


# ----------------------------------------------------------------------------
# independent reference: scipy adaptive quadrature of the same model

def quad_reference(y, v, tau_prior, mu_prior, level=0.95, thresholds=(0.0,)):
    """Posterior summaries by scipy.integrate.quad (epsrel 1e-12) on the tau axis,
    split at decades of the prior scale; quantiles by brentq.  Written here,
    independently of the engine's sinh-grid Gauss-Legendre rule."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    kind, s = tau_prior

    def cond(t):
        w = 1 / (v + t * t)
        if mu_prior is None:
            prec = w.sum()
            m = w @ y / prec
            q = w @ (y - m) ** 2
        else:
            w0 = 1 / mu_prior[2] ** 2
            prec = w.sum() + w0
            m = (w @ y + w0 * mu_prior[1]) / prec
            q = w @ (y - m) ** 2 + w0 * (mu_prior[1] - m) ** 2
        return -0.5 * (np.log(v + t * t).sum() + np.log(prec) + q), m, 1 / prec

    def logprior(t):
        return -0.5 * (t / s) ** 2 if kind == "halfnormal" else -np.log1p((t / s) ** 2)

    c = max(cond(t)[0] + logprior(t) for t in np.linspace(0, 5 * s, 201))

    def post(t):
        return np.exp(cond(t)[0] + logprior(t) - c)

    brk = [0.0] + [s * 10.0 ** e for e in range(-4, 5)]

    def integral(f, upper=np.inf):
        total = 0.0
        for a, b in itertools.pairwise(brk):
            if a < upper:
                total += integrate.quad(f, a, min(b, upper), epsabs=0, epsrel=1e-12, limit=500)[0]
        if upper > brk[-1]:
            total += integrate.quad(f, brk[-1], upper, epsabs=0, epsrel=1e-12, limit=500)[0]
        return total

    z = integral(post)

    def f_tau(x):
        return integral(post, x) / z

    def f_mu(x):
        return integral(lambda t: post(t) * stats.norm.cdf(x, cond(t)[1], np.sqrt(cond(t)[2]))) / z

    lo_p, hi_p = (1 - level) / 2, (1 + level) / 2
    span = 60 * (np.sqrt(v.max()) + s)
    a, b = y.min() - span, y.max() + span
    out = {
        "tau": optimize.brentq(lambda x: f_tau(x) - 0.5, 1e-12 * s, 1e4 * s, xtol=1e-14),
        "tau_high": optimize.brentq(lambda x: f_tau(x) - hi_p, 1e-12 * s, 1e4 * s, xtol=1e-14),
        "mu": optimize.brentq(lambda x: f_mu(x) - 0.5, a, b, xtol=1e-13),
        "mu_low": optimize.brentq(lambda x: f_mu(x) - lo_p, a, b, xtol=1e-13),
        "mu_high": optimize.brentq(lambda x: f_mu(x) - hi_p, a, b, xtol=1e-13),
        "p": [f_mu(t) for t in thresholds],
    }
    return out


QUAD_CASES = [
    # (label, yi, vi, tau_prior, mu_prior)
    ("pain MD k=2 HN(12)", [-18.0, -6.0], [60.0, 45.0], ("halfnormal", 12), None),
    ("pain MD k=2 HC(12)", [-18.0, -6.0], [60.0, 45.0], ("halfcauchy", 12), None),
    ("pain MD k=3 HN(24) N(0,100) mu", [-20.0, -5.0, -12.0], [400.0, 100.0, 250.0],
     ("halfnormal", 24), ("normal", 0, 100)),
    ("log OR k=4 tiny vi HN(0.5)", [-0.5, -0.1, 0.2, -0.3], [1e-4, 2e-4, 5e-5, 1e-3],
     ("halfnormal", 0.5), None),
    ("log OR k=6 Crins-like HN(0.5)", [-2.31, -0.46, -2.30, -1.76, -1.26, -2.42],
     [0.359, 0.310, 0.775, 0.208, 0.412, 2.337], ("halfnormal", 0.5), None),
]


@pytest.mark.parametrize("label,yi,vi,tau_prior,mu_prior", QUAD_CASES, ids=[c[0] for c in QUAD_CASES])
def test_against_adaptive_quadrature(label, yi, vi, tau_prior, mu_prior):
    """Every summary equals an independent scipy-quad computation of the same model
    (reference written in this file; no published numbers involved)."""
    fit = bayes(yi, vi, tau_prior=tau_prior, mu_prior=mu_prior)
    ref = quad_reference(yi, vi, tau_prior, mu_prior, thresholds=(0.0, -10.0))
    for name in ("tau", "tau_high", "mu", "mu_low", "mu_high"):
        got, want = getattr(fit, name), ref[name]
        assert abs(got - want) <= BAYES_QUAD_REL * max(abs(want), 1e-3 * tau_prior[1]), (label, name, got, want)
    assert abs(fit.p_mu_below_0 - ref["p"][0]) <= BAYES_QUAD_ABS, (label, fit.p_mu_below_0, ref["p"][0])
    assert abs(fit.prob_mu_below(-10.0) - ref["p"][1]) <= BAYES_QUAD_ABS, label


@pytest.mark.parametrize("kind,median_factor", [("halfcauchy", 1.0),
                                                ("halfnormal", stats.norm.ppf(0.75))])
def test_single_study_posterior_tau_is_prior(kind, median_factor):
    """Analytic: with one study and a uniform mu prior, p(y | tau) does not depend on
    tau, so the tau posterior is the prior (median S for half-Cauchy(S), S z_0.75 for
    half-normal(S)) and mu | y is symmetric about y (median y)."""
    s, y = 0.5, 0.3
    fit = bayes([y], [0.04], tau_prior=(kind, s))
    assert abs(fit.tau - median_factor * s) <= BAYES_QUAD_REL * s
    assert abs(fit.mu - y) <= BAYES_QUAD_REL
    assert abs((fit.mu_low + fit.mu_high) / 2 - y) <= BAYES_QUAD_REL * (fit.mu_high - fit.mu_low)


# ----------------------------------------------------------------------------
# importance-sampling Monte Carlo (independent of the closed-form mu integration)

def importance_sample(y, v, tau_prior, mu_prior, n, seed):
    """Draw tau from its prior and mu from a wide normal proposal q; weight by the
    full likelihood prod N(y_i; mu, v_i + tau^2) x mu-prior / q.  Returns
    (tau, mu, normalised weights)."""
    rng = np.random.default_rng(seed)
    kind, s = tau_prior
    tau = np.abs(rng.standard_normal(n)) * s if kind == "halfnormal" else np.abs(rng.standard_cauchy(n)) * s
    m0, s0 = float(np.mean(y)), 3.0 * (np.std(y) + np.sqrt(np.max(v)) + s)
    mu = rng.normal(m0, s0, n)
    var = np.asarray(v)[None, :] + tau[:, None] ** 2
    logw = stats.norm.logpdf(np.asarray(y)[None, :], mu[:, None], np.sqrt(var)).sum(axis=1)
    logw -= stats.norm.logpdf(mu, m0, s0)
    if mu_prior is not None:
        logw += stats.norm.logpdf(mu, mu_prior[1], mu_prior[2])
    w = np.exp(logw - logw.max())
    return tau, mu, w / w.sum()


def mc_mean(w, h):
    """Self-normalised estimate of E[h] and its delta-method Monte Carlo SE."""
    est = w @ h
    return est, np.sqrt(np.sum(w ** 2 * (h - est) ** 2))


MC_CASES = [
    ("pain MD k=3 HN(12) uniform mu", [-18.0, -6.0, -11.0], [60.0, 45.0, 90.0],
     ("halfnormal", 12), None, 20240601),
    ("eight schools HC(25) N(0,50)", SCHOOLS_Y, SCHOOLS_SE ** 2, ("halfcauchy", 25),
     ("normal", 0, 50), 20240602),
]


@pytest.mark.parametrize("label,yi,vi,tau_prior,mu_prior,seed", MC_CASES, ids=[c[0] for c in MC_CASES])
def test_against_importance_sampling(label, yi, vi, tau_prior, mu_prior, seed):
    """Posterior CDFs at the engine's quantiles, P(mu < 0), P(mu < -10) and E[tau]
    agree with a 400,000-draw importance sample within MC_SE_MULTIPLIER Monte Carlo
    standard errors (fixed seed)."""
    fit = bayes(yi, vi, tau_prior=tau_prior, mu_prior=mu_prior)
    tau, mu, w = importance_sample(np.asarray(yi), np.asarray(vi), tau_prior, mu_prior, 400_000, seed)
    checks = {
        "F_tau(tau median) = 0.5": (mc_mean(w, (tau < fit.tau).astype(float)), 0.5),
        "F_tau(tau_high) = 0.975": (mc_mean(w, (tau < fit.tau_high).astype(float)), 0.975),
        "F_mu(mu median) = 0.5": (mc_mean(w, (mu < fit.mu).astype(float)), 0.5),
        "F_mu(mu_low) = 0.025": (mc_mean(w, (mu < fit.mu_low).astype(float)), 0.025),
        "P(mu < 0)": (mc_mean(w, (mu < 0).astype(float)), fit.p_mu_below_0),
        "P(mu < -10)": (mc_mean(w, (mu < -10).astype(float)), fit.prob_mu_below(-10.0)),
        "E[tau]": (mc_mean(w, tau), fit.tau_mean),
        "E[mu]": (mc_mean(w, mu), fit.mu_mean),
    }
    ess = 1.0 / np.sum(w ** 2)
    assert ess > 5_000, (label, ess)                       # the MC itself is informative
    for name, ((est, se), exact) in checks.items():
        assert abs(est - exact) <= MC_SE_MULTIPLIER * se, (label, name, est, exact, se)


# ----------------------------------------------------------------------------
# batch path

def test_batch_equals_single_fits_including_ragged_rows():
    """bayes_batch row by row equals bayes (NaN-padded rows with fewer studies)."""
    rng = np.random.default_rng(7)
    B, k = 40, 5
    vi = rng.uniform(20, 200, (B, k))
    yi = -10 + rng.normal(0, 8, (B, k)) + rng.normal(0, np.sqrt(vi))
    yi[::3, 3:] = np.nan
    vi[::3, 3:] = np.nan
    prior = ("halfnormal", 12)
    res = bayes_batch(yi, vi, tau_prior=prior, thresholds=(-10.0, 5.0))
    for i in range(B):
        ok = ~np.isnan(yi[i])
        s = bayes(yi[i][ok], vi[i][ok], tau_prior=prior)
        for name in ("mu", "mu_low", "mu_high", "mu_mean", "mu_sd", "tau", "tau_low",
                     "tau_high", "tau_mean"):
            a, b = getattr(res, name)[i], getattr(s, name)
            assert abs(a - b) <= BAYES_BATCH_REL * max(abs(b), 1.0), (i, name, a, b)
        assert abs(res.p_mu_below_0[i] - s.p_mu_below_0) <= BAYES_BATCH_REL
        assert abs(res.p_mu_below[i, 0] - s.prob_mu_below(-10.0)) <= BAYES_BATCH_REL
        assert abs(res.p_mu_below[i, 1] - s.prob_mu_below(5.0)) <= BAYES_BATCH_REL
        assert res.k[i] == ok.sum()


def test_prob_mu_below_is_the_posterior_cdf(schools):
    """prob_mu_below at the median is 0.5, at 0 equals p_mu_below_0, and is increasing."""
    assert abs(prob_mu_below(schools, schools.mu) - 0.5) <= 1e-10
    assert abs(schools.prob_mu_below(0.0) - schools.p_mu_below_0) <= 1e-14
    grid = np.linspace(-20, 30, 11)
    p = schools.prob_mu_below(grid)
    assert p.shape == grid.shape and np.all(np.diff(p) > 0)


@pytest.mark.parametrize("kwargs", [
    {"tau_prior": ("uniform", 1)},
    {"tau_prior": ("halfnormal", -1)},
    {"tau_prior": ("halfnormal",)},
    {"tau_prior": ("halfnormal", 1), "mu_prior": ("normal", 0, 0)},
    {"tau_prior": ("halfnormal", 1), "mu_prior": ("cauchy", 0, 1)},
    {"tau_prior": ("halfnormal", 1), "level": 1.0},
])
def test_argument_errors(kwargs):
    with pytest.raises(ArgumentError):
        bayes([0.1, 0.2], [0.01, 0.02], **kwargs)


@pytest.mark.parametrize("yi,vi", [([0.1, 0.2], [0.01]), ([0.1], [0.0]), ([np.nan], [0.1]), ([], [])])
def test_data_errors(yi, vi):
    with pytest.raises(ArgumentError):
        bayes(yi, vi, tau_prior=("halfnormal", 1))
