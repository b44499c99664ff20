"""Judgements about evidence: direction of benefit, minimal important
differences, GRADE certainty, narrative statements and absolute effects.

Between ``package`` (the data) and ``views`` (figures and tables): it reads no
files and draws nothing.  Every rule names its source (:mod:`.sources`); the
book's methods page states each rule.
"""
from .assess import Appraisal, appraise
from .config import Config

__all__ = ["Appraisal", "Config", "appraise"]
