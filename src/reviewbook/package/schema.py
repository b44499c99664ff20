"""The vocabulary and typed tables of a Cochrane data package.

Column names and value vocabularies of the RevMan Web export (both header
generations of ``overall-estimates-and-settings.csv``), and the frozen
dataclasses a package is read into: :class:`Package`, :class:`AnalysisSettings`
and :class:`StoredEstimate`.  Shared by the readers (:mod:`.datapackage`,
:mod:`.revman5`, :mod:`.rows`) and the writer, so that none of them imports
another.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# ------------------------------------------------------------------ vocabulary

DATA_TYPES = ("Dichotomous", "Continuous", "O-E and variance", "Contrast level",
              "Generic inverse variance")
METHODS = ("MH", "IV", "Peto")
MEASURE_CODES = {
    "Risk Ratio": "RR", "Odds Ratio": "OR", "Risk Difference": "RD",
    "Mean Difference": "MD", "Standardized Mean Difference": "SMD",
    "Standardised Mean Difference": "SMD", "Std. Mean Difference": "SMD",
    "Peto Odds Ratio": "OR", "Hazard Ratio": "HR",
    "Rate Ratio": "RaR", "Ratio of Means": "ROM",
    # generic inverse variance whose measure the data cannot name (import-rows)
    "Generic (difference scale)": "GEN", "Generic (ratio, log scale)": "GENR",
}
#: Effect measure text written for each engine measure code (RevMan's spelling).
MEASURE_NAMES = {"RR": "Risk Ratio", "OR": "Odds Ratio", "RD": "Risk Difference", "MD": "Mean Difference",
                 "SMD": "Standardized Mean Difference", "HR": "Hazard Ratio",
                 "GEN": "Generic (difference scale)", "GENR": "Generic (ratio, log scale)"}
#: Our extension column of overall-estimates-and-settings.csv: the SMD formula
#: (RevMan does not store it; blank means RevMan 5's).
SMD_FORMULAS = {"RevMan 5": "revman", "exact (metafor)": "exact", "Hedges-Olkin": "hedges"}
MODELS = ("Fixed effect", "Random effect", "Random effects", "Fixed effects")
ESTIMATORS = ("DL", "REML", "PM", "")
CI_METHODS = ("Wald", "HKSJ", "")

DATA_ROW_COLUMNS = [
    "Analysis group", "Analysis number", "Analysis name", "Subgroup", "Applicability", "Study",
    "Study year", "GIV Mean", "GIV SE", "Experimental mean", "Experimental SD",
    "Experimental cases", "Experimental N", "Control mean", "Control SD", "Control cases",
    "Control N", "O-E", "Variance", "Weight", "Mean", "CI start", "CI end", "Footnotes"]
DATA_ROW_NUMERIC = DATA_ROW_COLUMNS[7:23]

OVERALL_REQUIRED = [
    "Analysis group", "Analysis number", "Analysis name", "Data type", "Statistical method",
    "Effect measure", "Analysis model", "Mean", "CI start", "CI end"]
OVERALL_COLUMNS_OLD = [
    "Analysis group", "Analysis number", "Analysis name", "Analysis group name", "Data source",
    "Data source eligibility", "Data type", "Log-scale data", "Outcome", "Intervention grouping",
    "Experimental intervention", "Control intervention", "Subgroup by", "Filter criteria",
    "Experimental group label", "Control group label", "Statistical method", "Effect measure",
    "Unit of effect measure", "Analysis model", "Subgroup estimates", "Overall estimates",
    "Test for subgroup differences", "Swap event and non-event", "Study CI", "Estimate CI",
    "Experimental cases", "Experimental N", "Control cases", "Control N", "Mean", "CI start",
    "CI end", "Heterogeneity Tau²", "Heterogeneity Chi²", "Heterogeneity df", "Heterogeneity P",
    "Heterogeneity I²", "Effect Z", "Effect P", "Subgroup Chi²", "Subgroup df", "Subgroup P",
    "Subgroup I²", "ID"]
OVERALL_NEW_EXTRA = ["Heterogeneity estimator", "CI method", "Prediction interval", "CI/PI level",
                     "Graph label (left)", "Graph label (right)", "Show risk of bias"]
OVERALL_NUMERIC = [
    "Analysis group", "Analysis number", "Experimental cases", "Experimental N", "Control cases",
    "Control N", "Mean", "CI start", "CI end", "Heterogeneity Tau²", "Heterogeneity Chi²",
    "Heterogeneity df", "Heterogeneity P", "Heterogeneity I²", "Effect Z", "Effect P",
    "Subgroup Chi²", "Subgroup df", "Subgroup P", "Subgroup I²"]
SUBGROUP_COLUMNS = [
    "Analysis group", "Analysis number", "Subgroup", "Subgroup number", "Experimental cases",
    "Experimental N", "Control cases", "Control N", "Weight", "Mean", "CI start", "CI end",
    "Heterogeneity Tau²", "Heterogeneity Chi²", "Heterogeneity df", "Heterogeneity P",
    "Heterogeneity I²", "Effect Z", "Effect P", "ID"]
SUBGROUP_NUMERIC = [c for c in SUBGROUP_COLUMNS if c not in ("Subgroup", "ID")]
STUDY_INFO_COLUMNS = ["Study", "Year", "Data source", "Char: Methods", "Char: Participants",
                      "Char: Interventions", "Char: Outcomes", "Char: Notes"]
RIS_KINDS = ("included", "excluded", "ongoing", "awaiting")

FILES = {
    "rows": ("analysis-data", "data-rows.csv"),
    "overall": ("analysis-data", "overall-estimates-and-settings.csv"),
    "subgroups": ("analysis-data", "subgroup-estimates.csv"),
    "studies": ("study-data", "study-information.csv"),
    "rob": ("study-data", "risk-of-bias.csv"),
}
REQUIRED_FILES = ("rows", "overall")

# ------------------------------------------------------------------ bounds on input
# Stated limits on what is read (README, "Faults").  Real packages are far below
# them: the largest of the 252 Pairwise70 data-rows tables is 2.2 MB, its longest
# cell 2,074 characters, and its CSV text deflates at most 33 to 1.

#: Largest single file read (a CSV, RIS or review file), in bytes.
MAX_FILE_BYTES = 64 * 1024 ** 2
#: Longest CSV cell, in characters (Python's csv default limit).
MAX_FIELD_CHARS = 131_072
#: Total uncompressed bytes extracted from a package zip (nested zips included),
#: counted while streaming: extraction stops before writing more.
MAX_ZIP_BYTES = 256 * 1024 ** 2
#: Largest ratio of a member's uncompressed to compressed size, checked while
#: streaming once the member has expanded past :data:`ZIP_RATIO_FROM` bytes.
MAX_ZIP_RATIO = 200
ZIP_RATIO_FROM = 1024 ** 2
#: Largest magnitude of any number read (the largest in the 249 Pairwise70
#: training reviews is 8.2e6); larger ones would overflow the pooling arithmetic.
MAX_MAGNITUDE = 1e12
#: Smallest positive variance or SD the ``pool`` input may give (the smallest SD in
#: Pairwise70 is 1e-6); smaller ones make inverse-variance weights overflow.
MIN_POSITIVE = 1e-12
#: Largest analysis group or analysis number (comparison and outcome numbers).
MAX_ANALYSIS_NUMBER = 9999
#: Most members in one package zip.
MAX_ZIP_MEMBERS = 10_000
#: Longest study name, in characters (the longest of the 250 Pairwise70 training
#: reviews has 49); subgroup and analysis names (longest 259 and 213 there).
MAX_STUDY_CHARS = 200
MAX_NAME_CHARS = 1000
#: Most analyses in one package (the training half's largest review has 756).
MAX_ANALYSES = 2000
from .limits import MAX_NOTE_CHARS, MAX_SOURCE_CHARS  # noqa: E402,F401 - add-rows' text bounds

# ------------------------------------------------------------------ numbers and years
#: The one grammar of a number read from a file or a command line: ASCII digits, an
#: optional sign, a decimal point and an exponent, nothing else (Python's float()
#: and int() also take '1_2', '٣', full-width digits, 'inf', 'nan' and spaces
#: inside; none of them is a number here).
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
NUMBER_RULE = "a number (ASCII digits, an optional sign, decimal point and exponent, e.g. 12, -0.5, 1e-3)"


def parse_number(text) -> float | None:
    """``text`` (stripped) as a float when it follows :data:`NUMBER`, else None."""
    t = str(text).strip()
    return float(t) if NUMBER.fullmatch(t) else None


#: Study years: four ASCII digits from MIN_YEAR to the current year (UTC) + 1.  The
#: first randomised trial usually cited is the MRC streptomycin trial (BMJ 1948);
#: controlled trials in reviews go back to the 1930s (the 1931 sanocrysin trial), and
#: the oldest year in the 250 Pairwise70 training reviews is 1947 (one '1019' there is
#: a typing error); 1900 bounds them all with room.  The year after this one admits a
#: report published ahead of print with next year's date.
MIN_YEAR = 1900


def max_year() -> int:
    import datetime as dt
    return dt.datetime.now(dt.timezone.utc).year + 1


YEAR_RULE = f"four ASCII digits from {MIN_YEAR} to {max_year()} (next year)"


def year_of(text) -> int | None:
    """The year ``text`` gives when it is four ASCII digits within the stated range
    (:data:`MIN_YEAR` to :func:`max_year`), else None."""
    t = str(text).strip()
    if re.fullmatch(r"[0-9]{4}", t) and MIN_YEAR <= int(t) <= max_year():
        return int(t)
    return None


#: A package id (``<ID>`` of ``<ID>-data-rows.csv``, or a RevMan 5 CSV's file
#: name): it names files and folders of the package and of the site.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
ID_RULE = "an id of at most 100 letters, digits, '.', '_' or '-', starting with a letter or digit"


@dataclass(frozen=True)
class Package:
    """A Cochrane data package as typed tables.

    ``analyses``: one row per analysis (overall-estimates-and-settings.csv);
    ``rows``: one row per study per analysis (data-rows.csv);
    ``subgroup_estimates``, ``studies`` (study-information.csv), ``risk_of_bias``:
    as in the package (empty frames where absent); ``references``: RIS records
    by kind (included, excluded, ongoing, awaiting), each a dict tag -> list of
    values; ``extra``: other CSV files of ``<ID>-study-data`` (e.g. our
    ``study-flow.csv``) by file name suffix.  ``source_format`` is
    ``"revman-web"`` or ``"revman5-csv"``.
    """

    id: str
    analyses: pd.DataFrame
    rows: pd.DataFrame
    subgroup_estimates: pd.DataFrame
    studies: pd.DataFrame
    risk_of_bias: pd.DataFrame
    references: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    warnings: tuple = ()
    source_format: str = "revman-web"

    def __eq__(self, other):
        if not isinstance(other, Package):
            return NotImplemented
        frames = ("analyses", "rows", "subgroup_estimates", "studies", "risk_of_bias")
        return (self.id == other.id and self.references == other.references
                and all(_frame_equal(getattr(self, f), getattr(other, f)) for f in frames)
                and self.extra.keys() == other.extra.keys()
                and all(_frame_equal(self.extra[k], other.extra[k]) for k in self.extra))

    __hash__ = None

    def analysis_ids(self):
        return [analysis_id(g, n) for g, n in zip(self.analyses["Analysis group"],
                                                   self.analyses["Analysis number"])]

    def analysis(self, aid: str) -> "AnalysisSettings":
        # settings are immutable: each is built once per Package (a book page asks often)
        memo = self.__dict__.setdefault("_settings_memo", {})
        if aid in memo:
            return memo[aid]
        for i, a in enumerate(self.analysis_ids()):
            if a == aid:
                memo[aid] = AnalysisSettings.from_row(self.analyses.iloc[i])
                return memo[aid]
        raise KeyError(f"no analysis {aid!r} in package {self.id}; it has {', '.join(self.analysis_ids())}")

    def rows_of(self, aid: str) -> pd.DataFrame:
        """The data rows of analysis ``aid`` (a new frame, index from 0), in package order."""
        g, n = (int(x) for x in aid.split("."))
        # positions by (group, number), found once per Package: a book page asks for
        # every analysis, and three comparisons over the whole table per call added up
        where = self.__dict__.get("_rows_where")
        if where is None:
            where = {}
            for i, key in enumerate(zip(self.rows["Analysis group"].tolist(),
                                        self.rows["Analysis number"].tolist())):
                where.setdefault(key, []).append(i)
            self.__dict__["_rows_where"] = where
        return self.rows.take(where.get((g, n), [])).reset_index(drop=True)

    def subgroups_of(self, aid: str) -> pd.DataFrame:
        g, n = (int(x) for x in aid.split("."))
        se = self.subgroup_estimates
        if se.empty:
            return se
        m = (se["Analysis group"] == g) & (se["Analysis number"] == n)
        return se[m].reset_index(drop=True)


def _frame_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        for u, v in zip(x, y):
            if isinstance(u, float) and isinstance(v, float):
                if not (u == v or (np.isnan(u) and np.isnan(v))):
                    return False
            elif u != v:
                return False
    return True


def analysis_id(group, number) -> str:
    return f"{int(group)}.{int(number)}"


@dataclass(frozen=True)
class StoredEstimate:
    """RevMan's own pooled result as stored in the package (None where blank)."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    tau2: float | None = None
    chi2: float | None = None
    df: float | None = None
    p_het: float | None = None
    i2: float | None = None
    z: float | None = None
    p: float | None = None

    @property
    def is_blank(self) -> bool:
        """No usable stored estimate (blank, or all zero as RevMan writes uncomputed ones)."""
        vals = (self.estimate, self.ci_low, self.ci_high)
        return any(v is None for v in vals) or all(v == 0 for v in vals)


@dataclass(frozen=True)
class AnalysisSettings:
    """The settings of one analysis, typed (from overall-estimates-and-settings.csv)."""

    id: str
    name: str
    group_name: str
    data_type: str
    method: str
    measure: str
    measure_code: str | None
    model: str  # "fixed" or "random"
    estimator: str | None
    ci_method: str | None
    level: float
    prediction_interval: bool
    label_left: str  # RevMan's "Graph label (left)" as stored ('' when blank)
    label_right: str  # RevMan's "Graph label (right)" as stored ('' when blank)
    experimental_label: str
    control_label: str
    subgroup_by: str
    log_scale: bool
    stored: StoredEstimate
    smd_formula: str = "revman"  # engine code: revman, exact or hedges
    study_level: float = 0.95  # level of the per-study CIs ("Study CI")
    totals: bool = True  # "Overall estimates": false means subtotals only, weights within subgroups
    #: which way benefit lies ("lower", "higher" or None), from our extension column
    #: "Direction of benefit" (RevMan stores only graph labels), with its source
    direction: str | None = None
    direction_source: str = ""
    instrument: str = ""
    swap_events: bool = False  # "Swap event and non-event": the non-events are analysed (dichotomous)

    @classmethod
    def from_row(cls, row) -> "AnalysisSettings":
        def text(c):
            v = row.get(c, "")
            return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()

        def num(c):
            v = row.get(c)
            return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)

        level = _percent(text("CI/PI level") or text("Estimate CI"))
        model = "random" if text("Analysis model").lower().startswith("random") else "fixed"
        return cls(
            id=analysis_id(row["Analysis group"], row["Analysis number"]),
            name=text("Analysis name"), group_name=text("Analysis group name"),
            data_type=text("Data type"), method=text("Statistical method"),
            measure=text("Effect measure"), measure_code=MEASURE_CODES.get(text("Effect measure")),
            model=model, estimator=text("Heterogeneity estimator") or None,
            ci_method=text("CI method") or None, level=level,
            prediction_interval=text("Prediction interval").lower() == "true",
            label_left=text("Graph label (left)"), label_right=text("Graph label (right)"),
            experimental_label=text("Experimental group label") or "Experimental",
            control_label=text("Control group label") or "Control",
            subgroup_by=text("Subgroup by"), log_scale=text("Log-scale data").lower() == "true",
            stored=StoredEstimate(
                num("Mean"), num("CI start"), num("CI end"), num("Heterogeneity Tau²"),
                num("Heterogeneity Chi²"), num("Heterogeneity df"), num("Heterogeneity P"),
                num("Heterogeneity I²"), num("Effect Z"), num("Effect P")),
            smd_formula=SMD_FORMULAS.get(text("SMD formula"), "revman"),
            study_level=_percent(text("Study CI")),
            totals=text("Overall estimates").lower() != "false",
            direction=text("Direction of benefit").lower() if text("Direction of benefit").lower() in ("lower", "higher")
            else None,
            direction_source=text("Direction source"), instrument=text("Outcome instrument"),
            swap_events=text("Swap event and non-event").lower() == "true")


def _percent(text: str, default: float = 0.95) -> float:
    """'95%' -> 0.95; blank or unreadable -> ``default``."""
    t = parse_number(text.strip().rstrip("%"))
    return t / 100 if t is not None and t >= 0 else default
