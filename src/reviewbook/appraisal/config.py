"""What the judgements need beyond the data: the review file's outcome rules
(directions, instruments, MIDs), its indirectness judgements, counts of
studies without data, which subgroup analyses were pre-specified, and the error
rates.  Plain data, built by the book layer from the review file (this layer
reads no files); every default is stated here with its source.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.codes import ALPHA, POWER  # noqa: F401
from ..package.patterns import search

#: ALPHA, POWER: two-sided type I error and power of the optimal information size (GRADE 6),
#: of the trial sequential analysis (Wetterslev 2017) and of ``reviewbook ris``: one pair for
#: all, stated once (reviewbook.engine.ris).
#: Relative risk reduction (or increase) taken as important when the review file gives
#: no MID for a ratio outcome: GRADE 6 names RR 0.75 and 1.25 as the default thresholds.
RRR = 0.25
#: MID in SD units when the review file gives none (Norman et al. 2003: half a standard
#: deviation); for a mean difference it is converted by the pooled SD of the arms.
SMD_MID = 0.5


@dataclass(frozen=True)
class StudyIndirectness:
    """A study whose population, intervention, comparator or outcome differs from
    the review question; ``outcome``: optional regular expression on the analysis
    name limiting the flag to some outcomes."""

    study: str
    domain: str
    reason: str
    source: str
    outcome: str | None = None

    def applies(self, name: str) -> bool:
        return self.outcome is None or search(self.outcome, name)


@dataclass(frozen=True)
class Indirectness:
    """The review file's indirectness judgement: ``assessed`` false means the book
    says "not assessed"; otherwise ``basis`` states why the included studies
    answer the review question directly, and ``studies`` lists the exceptions."""

    assessed: bool = False
    basis: str = ""
    source: str = ""
    studies: tuple = ()


@dataclass(frozen=True)
class MissingEvidence:
    """Included studies that measured an outcome but contribute no data to its
    analysis, as a count stated by the review file with its source."""

    studies_without_data: int
    source: str
    analyses: tuple | None = None
    outcome: str | None = None

    def matches(self, aid: str, name: str) -> bool:
        if self.analyses is not None and aid not in self.analyses:
            return False
        if self.outcome and not search(self.outcome, name):
            return False
        return True


@dataclass(frozen=True)
class Prespecified:
    """Whether the subgroup analyses matching ``pattern`` (a regular expression on
    the analysis name) were pre-specified in the protocol, with the source."""

    pattern: str
    prespecified: bool
    source: str


@dataclass(frozen=True)
class AssumedRisk:
    """A stated representative control risk (per 1) for the outcomes matching
    ``outcome`` (regular expression on the analysis name), with its source."""

    outcome: str
    risk: float
    source: str


@dataclass(frozen=True)
class Config:
    """Everything the appraisal needs besides the data (see the module docstring)."""

    outcomes: tuple = ()  # reviewbook.package.outcomes.OutcomeRule
    alpha: float = ALPHA
    power: float = POWER
    rrr: float = RRR
    smd_mid: float = SMD_MID
    indirectness: Indirectness = field(default_factory=Indirectness)
    missing_evidence: tuple = ()
    prespecified: tuple = ()
    assumed_risks: tuple = ()

    def missing_for(self, aid: str, name: str) -> MissingEvidence | None:
        return next((m for m in self.missing_evidence if m.matches(aid, name)), None)

    def prespecified_for(self, name: str) -> Prespecified | None:
        return next((p for p in self.prespecified if search(p.pattern, name)), None)

    def assumed_risk_for(self, name: str) -> AssumedRisk | None:
        return next((a for a in self.assumed_risks if search(a.outcome, name)), None)
