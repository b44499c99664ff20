"""Judgements about evidence: direction of benefit, minimal important
differences, GRADE certainty, narrative statements and absolute effects.

Between ``package`` (the data) and ``views`` (figures and tables): it reads no
files and draws nothing.  Every rule names its source (:mod:`.sources`); the
book's methods page states each rule.
"""
__all__ = ["Appraisal", "Config", "appraise"]


def __getattr__(name):
    """``Appraisal``, ``appraise`` and ``Config`` imported when first asked for: a module
    that needs only :mod:`.config` (e.g. the review file's reader, on a rebuild with
    nothing to do) does not import the engine and scipy through :mod:`.assess`."""
    if name in ("Appraisal", "appraise"):
        from . import assess

        return getattr(assess, name)
    if name == "Config":
        from .config import Config

        return Config
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
