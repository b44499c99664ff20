"""The summary of findings as a FHIR R5 Bundle that follows the HL7 Evidence
Based Medicine on FHIR implementation guide (EBM-on-FHIR, canonical
``http://hl7.org/fhir/uv/ebm``): ``evidence.fhir.json`` in the site and
``reviewbook export PACKAGE --format fhir``.

It is built from the objects the book's pages and ``results.json`` read
(:func:`reviewbook.book.evidence.judged_all`, the summary of findings' main
comparisons of :func:`reviewbook.book.synthesis.main_comparisons`), so that no
number in it can differ from the book's.  The bundle (``type`` collection)
holds:

* one ``Composition`` per main comparison (profile ``summary-of-findings``):
  the column headers section, then a summary of findings section with one
  section per outcome in the book's order, each pointing at its Evidence;
* one ``Evidence`` per outcome (profiles ``comparative-evidence`` and
  ``evidence-synthesis-evidence``): the analysis id in ``identifier``, the
  effect estimate with its 95% CI on the reporting scale (a ratio as a ratio),
  the number of studies and participants, the model and method, I² and τ², the
  absolute effect (risk difference per 1,000, or the mean difference) with the
  assumed and corresponding risks in words, the GRADE certainty with its five
  domains and their reasons (``Evidence.certainty``, as the guide's examples
  give it), and the narrative statement (``assertion``);
* one ``Evidence`` per outcome for the comparator alone (profile
  ``comparator-only-evidence``): the assumed control risk per 1,000, or the
  control mean;
* ``EvidenceVariable`` resources (profile ``variable-definition``) for the
  population, intervention and comparator of each main comparison and for
  each outcome;
* a ``Citation`` of the review (its DOI where the package gives it) and one per
  included study (its DOI, PubMed id or trial registration where the package's
  RIS records carry them).

Every reference is an ``urn:uuid`` full URL of an entry of the bundle (made
deterministically from the package id and the resource), so the bundle stands
alone; :func:`check` verifies that and the profile constraints listed in
:data:`CHECKED`.
"""
from __future__ import annotations

import html
import json
import re
import uuid

PROFILE = "http://hl7.org/fhir/uv/ebm/StructureDefinition/"
EBM = "https://fevir.net/resources/CodeSystem/179423"
SEVCO = "https://fevir.net/sevco"
CERTAINTY_TYPE = "http://terminology.hl7.org/CodeSystem/certainty-type"
CERTAINTY_RATING = "http://terminology.hl7.org/CodeSystem/certainty-rating"
MODEL = "http://terminology.hl7.org/CodeSystem/statistic-model-code"
SYNTHESIS = "http://terminology.hl7.org/CodeSystem/synthesis-type"
VARIABLE_ROLE = "http://terminology.hl7.org/CodeSystem/variable-role"
ANALYSIS_SYSTEM = "urn:reviewbook:analysis"
DOI_SYSTEM = "https://doi.org"
PUBMED_SYSTEM = "https://pubmed.ncbi.nlm.nih.gov"
NCT_SYSTEM = "https://clinicaltrials.gov"

#: Statistic types of the effect measures (SEVCO/STATO codes, as the guide's examples use them).
STATISTIC = {
    "RR": ("STATO:0000245", "risk ratio"), "OR": ("STATO:0000182", "odds ratio"),
    "RD": ("STATO:0000424", "risk difference"), "MD": ("STATO:0000457", "difference in means"),
    "SMD": ("STATO:0000100", "standardized mean difference"), "HR": ("STATO:0000677", "hazard ratio"),
}
#: The pooling methods in words (the engine's codes, see :mod:`reviewbook.engine.codes`).
METHOD_WORDS = {
    "FE": "inverse variance, fixed effect", "MH": "Mantel-Haenszel, fixed effect", "PETO": "Peto, fixed effect",
    "MH-DL": "Mantel-Haenszel, random effects (DerSimonian-Laird tau-squared)",
    "DL": "inverse variance, random effects (DerSimonian-Laird tau-squared)",
    "REML": "inverse variance, random effects (restricted maximum likelihood tau-squared)",
    "PM": "inverse variance, random effects (Paule-Mandel tau-squared)",
}
RANDOM = ("MH-DL", "DL", "REML", "PM")
DOMAIN_CODES = {"risk of bias": ("RiskOfBias", "Risk of bias"), "inconsistency": ("Inconsistency", "Inconsistency"),
                "indirectness": ("Indirectness", "Indirectness"), "imprecision": ("Imprecision", "Imprecision"),
                "publication bias": ("PublicationBias", "Publication bias")}
LEVEL_CODES = {"high": ("high", "High quality"), "moderate": ("moderate", "Moderate quality"),
               "low": ("low", "Low quality"), "very low": ("very-low", "Very low quality")}
CONCERN_CODES = {0: ("no-concern", "no serious concern"), 1: ("serious-concern", "serious concern"),
                 2: ("very-serious-concern", "very serious concern"),
                 3: ("extremely-serious-concern", "extremely serious concern")}
#: The summary of findings' sections (the guide's codes, the Cochrane table's column titles).
COLUMNS = (("outcomeDefinition", "outcome-measure", "Outcome Measure", "Outcomes"),
           ("resultWithoutTreatment", "result-with-comparator-alone", "Result with comparator alone",
            "Anticipated absolute effects: risk with comparator"),
           ("resultWithTreatmentDerived", "result-with-intervention-alone-calculated",
            "Result with intervention alone (calculated)", "Anticipated absolute effects: risk with intervention"),
           ("effectEstimate", "result-with-intervention-vs-comparator", "Result with intervention vs. comparator",
            "Relative effect (95% CI)"),
           ("sampleSize", "sample-size", "Sample Size", "No of participants (studies)"),
           ("certaintyOfEvidence", "certainty-of-evidence", "Certainty of Evidence",
            "Certainty of the evidence (GRADE)"),
           ("assertion", "assertion", "Assertion", "Comments"))
REGISTRY = re.compile(r"\b(NCT\d{8}|ISRCTN\d{8}|ACTRN\d{14}|EUCTR[\d-]+(?:-[A-Z]{2})?|ChiCTR[-\w]+|"
                      r"DRKS\d{8}|CTRI/\d{4}/\d+/\d+|IRCT\w+|JPRN-\w+|NTR\d+|UMIN\d+)\b")
PMID = re.compile(r"\bPMID:?\s*(\d{4,9})\b", re.IGNORECASE)


def _coding(system, code, display=None) -> dict:
    c = {"system": system, "code": code}
    if display:
        c["display"] = display
    return c


def _cc(system, code, display=None, text=None) -> dict:
    out = {"coding": [_coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def _narrative(text: str) -> dict:
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{html.escape(text)}</div>'}


def _num(x):
    """A number as results.json writes it (10 significant digits)."""
    return None if x is None else float(f"{x:.10g}")


class _Bundle:
    """Entries with deterministic ``urn:uuid`` full URLs."""

    def __init__(self, pkg_id: str):
        self.ns = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:reviewbook:{pkg_id}")
        self.entries = []

    def url(self, key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(self.ns, key)}"

    def add(self, key: str, resource: dict) -> dict:
        self.entries.append({"fullUrl": self.url(key), "resource": resource})
        return {"reference": self.url(key), "type": resource["resourceType"],
                "display": resource.get("title") or resource.get("name") or key}


def _slug(text) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-")[:60] or "x"


def _rid(prefix, key) -> str:
    """A resource id ([A-Za-z0-9-.]{1,64}) from a key of the package."""
    return f"{prefix}-{_slug(key)}"[:64]


# ------------------------------------------------------------------ citations

def _study_identifiers(rec: dict) -> list:
    """DOI, PubMed id and trial registrations of one RIS record (tag -> [values])."""
    out = []
    seen = set()

    def add(system, value, text):
        if (system, value) not in seen:
            seen.add((system, value))
            ident = {"type": {"text": text}, "value": value}
            if system:
                ident["system"] = system
            out.append(ident)

    for v in rec.get("DO", []):
        doi = str(v).strip().removeprefix("https://doi.org/").removeprefix("doi:").strip()
        if re.fullmatch(r"10\.\d{4,9}/\S+", doi):
            add(DOI_SYSTEM, doi, "DOI")
    text = " ".join(str(x) for tag, vals in rec.items() if tag not in ("AB",) for x in vals)
    for m in PMID.finditer(text):
        add(PUBMED_SYSTEM, m.group(1), "PubMed id")
    db = " ".join(str(x) for x in rec.get("DB", [])).lower()
    if "pubmed" in db or "medline" in db:
        for v in rec.get("AN", []):
            if str(v).strip().isdigit():
                add(PUBMED_SYSTEM, str(v).strip(), "PubMed id")
    for m in REGISTRY.finditer(text):
        reg = m.group(1)
        add(NCT_SYSTEM if reg.startswith("NCT") else None, reg, "trial registration")
    return out


def primary_reports(pkg) -> list:
    """One (study, report or None, RIS record or None) per included study of the
    package, in the package's order: the study's first report with
    bibliographic details (the one the book cites), else its first report."""
    from .references import study_keys, study_reports

    reports = study_reports(pkg)
    keys = study_keys(pkg)
    out = []
    for study in included_studies(pkg):
        mine = [r for r in reports if r.study == study]
        chosen = next((r for r in mine if r.key == keys.get(study)), mine[0] if mine else None)
        out.append((study, chosen, chosen.record if chosen else None))
    return out


def included_studies(pkg) -> list:
    """The included studies: the study-information table's, then any other study of the data rows."""
    studies = [str(s) for s in pkg.studies["Study"]] if not pkg.studies.empty and "Study" in pkg.studies else []
    if "Study" in pkg.rows:
        studies += [s for s in dict.fromkeys(str(x) for x in pkg.rows["Study"]) if s not in studies]
    return list(dict.fromkeys(studies))


def _study_citation(study, report, rec, date) -> dict:
    fields = dict(report.fields) if report else {}
    idents = _study_identifiers(rec or {})
    journal = report is not None and report.kind == "article"
    res = {"resourceType": "Citation", "id": _rid("citation-study", study), "status": "active",
           "title": f"Citation of the study {study}", "date": date,
           "identifier": [{"type": {"text": "study name in the data package"}, "value": study}]}
    art = {"title": [{"text": fields.get("title") or study}]}
    if idents:
        art["identifier"] = idents
    if report is None:
        art["title"] = [{"text": study}]
        res["description"] = "The data package gives no report of this study."
    form = {}
    if fields.get("journal") or fields.get("howpublished"):
        form["publishedIn"] = {"title": fields.get("journal") or fields.get("howpublished")}
    for name, key in (("volume", "volume"), ("number", "issue"), ("pages", "pageString")):
        if fields.get(name):
            form[key] = fields[name].replace("--", "-")
    if fields.get("year"):
        form["publicationDateText"] = fields["year"]
    if form:
        art["publicationForm"] = [form]
    if report and report.authors:
        art["contributorship"] = {"summary": [{"value": "; ".join(report.authors)}]}
    if journal:
        res["meta"] = {"profile": [PROFILE + "journal-article-citation"]}
        art["classification"] = [_journal_class()]
    res["citedArtifact"] = art
    return res


def _journal_class() -> dict:
    return {"type": _cc("http://terminology.hl7.org/CodeSystem/cited-artifact-classification-type",
                        "knowledge-artifact-type", "Knowledge Artifact Type"),
            "classifier": [_cc("http://terminology.hl7.org/CodeSystem/citation-artifact-classifier", "D016428",
                               "Journal Article")]}


def _review_citation(pkg, rvw, date) -> dict:
    from .review import review_identity

    ident = review_identity(pkg)
    res = {"resourceType": "Citation", "id": "citation-review", "status": "active",
           "title": f"Citation of the review: {rvw.title}", "date": date}
    art = {"title": [{"text": rvw.title}]}
    ids = []
    if ident.get("review_doi"):
        ids.append({"type": {"text": "DOI"}, "system": DOI_SYSTEM, "value": ident["review_doi"]})
    if ids:
        art["identifier"] = ids
    if ident.get("review_url"):
        art["webLocation"] = [{"url": ident["review_url"]}]
    if rvw.citation:
        res["citedArtifact"] = {**art, "contributorship": {"summary": [{"value": str(rvw.citation)}]}}
    else:
        res["citedArtifact"] = art
    if ident.get("review_doi", "").startswith("10.1002/14651858."):
        # a Cochrane review: an article of the Cochrane Database of Systematic Reviews
        res["meta"] = {"profile": [PROFILE + "journal-article-citation"]}
        res["citedArtifact"]["classification"] = [_journal_class()]
        res["citedArtifact"]["publicationForm"] = [{"publishedIn": {
            "title": "Cochrane Database of Systematic Reviews"}}]
    return res


# ------------------------------------------------------------------ variables and evidence

def _variable(key, title, description, handling, date, characteristic=None, extra=None) -> dict:
    res = {"resourceType": "EvidenceVariable", "id": _rid("variable", key),
           "meta": {"profile": [PROFILE + "variable-definition"]}, "status": "active", "title": title,
           "description": description, "handling": handling, "date": date}
    if characteristic:
        res["characteristic"] = [{"description": characteristic}]
    res.update(extra or {})
    return res


def _handling(it) -> str:
    s = it.settings
    if s.data_type == "Dichotomous":
        return "dichotomous"
    if s.data_type == "Continuous":
        return "continuous"
    measure = it.pooled.measure if it.pooled is not None else getattr(s, "measure", "")
    return "dichotomous" if measure in ("RR", "OR", "HR", "RD") else "continuous"


def _certainty(a) -> list:
    g = a.grade
    if g is None:
        return []
    code, display = LEVEL_CODES[g.certainty]
    subs = []
    for d in g.domains:
        t, td = DOMAIN_CODES[d.name]
        c, cd = CONCERN_CODES[min(int(d.levels), 3)]
        note = f"{d.verdict[:1].upper()}{d.verdict[1:]}: {d.reason}"
        if d.sources:
            from ..appraisal.sources import cite

            note += f" ({cite(*d.sources)})"
        # a domain not assessed has no rating of concern (its verdict says so); any other
        # domain is rated by the levels it was rated down
        rating = ({"text": d.verdict} if d.verdict == "not assessed" else
                  _cc(CERTAINTY_RATING, c, cd, text=d.verdict))
        subs.append({"type": _cc(CERTAINTY_TYPE, t, td), "rating": rating, "note": [{"text": note}]})
    out = {"description": g.label, "type": _cc(CERTAINTY_TYPE, "Overall", "Overall certainty"),
           "rating": _cc(CERTAINTY_RATING, code, display, text=g.certainty), "subcomponent": subs}
    return [out]


def _model(it) -> list:
    m = it.result.engine_method
    out = [{"code": _cc(MODEL, "metaAnalysis", "Meta-analysis")},
           {"code": _cc(MODEL, "effectsRandom" if m in RANDOM else "effectsFixed",
                        "Random-effects" if m in RANDOM else "Fixed-effects")},
           {"code": {"text": "pooling method: " + METHOD_WORDS.get(m, m)}}]
    if it.result.hksj:
        out.append({"code": {"text": "confidence interval: Hartung-Knapp-Sidik-Jonkman"
                                     + (" (ad hoc: variance factor at least 1)" if it.result.hksj == "adhoc" else "")}})
    return out


def _effect_statistic(it, a) -> dict:
    r = it.pooled
    code = STATISTIC.get(r.measure)
    stype = _cc(SEVCO, *code) if code else {"text": r.measure}
    from .sections import effect_text

    stat = {"description": effect_text(r), "statisticType": stype, "quantity": {"value": _num(r.estimate)},
            "sampleSize": {"numberOfStudies": a.count.k, "numberOfParticipants": a.count.participants},
            "attributeEstimate": [{"type": _cc(SEVCO, "STATO:0000196", "confidence interval"),
                                   "level": 0.95 if it.settings.level is None else _num(it.settings.level),
                                   "range": {"low": {"value": _num(r.ci_low)}, "high": {"value": _num(r.ci_high)}}}],
            "modelCharacteristic": _model(it)}
    if r.i2 is not None:
        stat["attributeEstimate"].append({"type": _cc(SEVCO, "STATO:0000420", "I-squared"),
                                          "quantity": {"value": _num(r.i2 / 100)}})
    if r.tau2 is not None:
        stat["attributeEstimate"].append({"type": _cc(SEVCO, "STATO:0000421", "tau squared"),
                                          "quantity": {"value": _num(r.tau2)}})
    if a.count.events is not None:
        e1, _, e2, _ = a.count.events
        stat["numberOfEvents"] = int(e1 + e2)
    return stat


def _absolute_statistic(a) -> dict | None:
    ab = a.absolute
    if ab.kind in ("ratio", "risk difference") and ab.difference is not None:
        d = ab.difference
        return {"description": f"Risk with the comparator: {ab.control}; with the intervention: {ab.intervention}.",
                "statisticType": _cc(SEVCO, "STATO:0000424", "risk difference"),
                "quantity": {"value": _num(d[0]), "unit": "per 1000"},
                "attributeEstimate": [{"type": _cc(SEVCO, "STATO:0000196", "confidence interval"), "level": 0.95,
                                       "range": {"low": {"value": _num(d[1]), "unit": "per 1000"},
                                                 "high": {"value": _num(d[2]), "unit": "per 1000"}}}],
                "note": [{"text": n} for n in ab.footnotes]}
    return None


def _roles(pop_ref, int_ref, com_ref, out_ref, population, intervention, comparison) -> list:
    return [{"variableRole": _cc(VARIABLE_ROLE, "population", "population"), "description": population,
             "observed": pop_ref},
            {"variableRole": _cc(VARIABLE_ROLE, "exposure", "exposure"), "description": intervention,
             "observed": int_ref},
            {"variableRole": _cc(VARIABLE_ROLE, "referenceExposure", "reference exposure"),
             "description": comparison, "observed": com_ref},
            {"variableRole": _cc(VARIABLE_ROLE, "measuredVariable", "measured variable"), "observed": out_ref}]


def bundle(pkg, rvw) -> dict:
    """The FHIR R5 Bundle (a dict) of the summary of findings of ``pkg`` read with review file ``rvw``."""
    from .changes import data_version
    from .evidence import judged_all
    from .sections import outcome_cell
    from .synthesis import main_comparisons

    judged = judged_all(pkg, rvw, {})
    mains = main_comparisons(pkg, rvw, judged)
    version = data_version(pkg)
    vtext = version.get("version") or "not recorded"
    date = version.get("date") or None
    b = _Bundle(pkg.id)
    review_ref = b.add("citation-review", _review_citation(pkg, rvw, date))
    study_refs = {}
    for study, report, rec in primary_reports(pkg):
        study_refs[study] = b.add(f"citation-study:{study}", _study_citation(study, report, rec, date))
    for m in mains:
        g = _slug(m.group)
        population = m.population or "not stated"
        pop_ref = b.add(f"population:{m.group}", _variable(
            f"population-{g}", f"Population: {m.title}", population, "dichotomous", date, population))
        int_ref = b.add(f"intervention:{m.group}", _variable(
            f"intervention-{g}", f"Intervention: {m.intervention}", m.intervention, "dichotomous", date))
        com_ref = b.add(f"comparator:{m.group}", _variable(
            f"comparator-{g}", f"Comparator: {m.comparison}", m.comparison, "dichotomous", date))
        outcome_sections = []
        outcome_refs = []
        for aid in m.outcomes:
            it = judged[aid]
            a = it.appraisal
            name = outcome_cell(it) if it.result is not None else it.settings.name
            out_ref = b.add(f"outcome:{aid}", _variable(
                f"outcome-{aid}", f"Outcome: {name} ({aid})", f"{name} (analysis {aid})", _handling(it), date,
                extra={"identifier": [{"system": f"{ANALYSIS_SYSTEM}:{pkg.id}", "value": aid}]}))
            outcome_refs.append(out_ref)
            ev = {"resourceType": "Evidence", "id": _rid("evidence", aid),
                  "meta": {"profile": [PROFILE + "comparative-evidence", PROFILE + "evidence-synthesis-evidence"]},
                  "identifier": [{"type": {"text": "analysis id"}, "system": f"{ANALYSIS_SYSTEM}:{pkg.id}",
                                  "value": aid}],
                  "version": vtext, "status": "active", "date": date,
                  "title": f"{name}: {m.intervention} versus {m.comparison} (analysis {aid})",
                  "variableDefinition": _roles(pop_ref, int_ref, com_ref, out_ref, population, m.intervention,
                                               m.comparison),
                  "relatedArtifact": [{"type": "derived-from", "resourceReference": review_ref}]}
            for s in (a.count.studies if a is not None else ()):
                if s in study_refs:
                    ev["relatedArtifact"].append({"type": "derived-from", "label": s,
                                                  "resourceReference": study_refs[s]})
            k = a.count.k if a is not None else 0
            ev["synthesisType"] = (_cc(SYNTHESIS, "std-MA", "summary data meta-analysis") if k >= 2 else
                                   _cc(SYNTHESIS, "NotApplicable", "not applicable"))
            if it.pooled is not None:
                ev["statistic"] = [_effect_statistic(it, a)]
                extra = _absolute_statistic(a)
                if extra:
                    ev["statistic"].append(extra)
                ev["certainty"] = _certainty(a)
                ev["assertion"] = a.statement
                ev["description"] = a.statement
            else:
                why = it.reason if it.result is None else "not estimable"
                ev["statistic"] = [{"description": f"Not estimable: {why}",
                                    "sampleSize": {"numberOfStudies": k, "numberOfParticipants":
                                                   a.count.participants if a is not None else 0}}]
                ev["description"] = f"No effect estimate: {why}."
            ev_ref = b.add(f"evidence:{aid}", ev)
            control = a.absolute.control if a is not None else "not reported"
            comp = {"resourceType": "Evidence", "id": _rid("evidence-comparator", aid),
                    "meta": {"profile": [PROFILE + "comparator-only-evidence"]}, "status": "active", "date": date,
                    "version": vtext, "title": f"{name} with {m.comparison} (analysis {aid})",
                    "identifier": [{"type": {"text": "analysis id"}, "system": f"{ANALYSIS_SYSTEM}:{pkg.id}",
                                    "value": aid}],
                    "variableDefinition": [
                        {"variableRole": _cc(VARIABLE_ROLE, "population", "population"),
                         "description": f"{population}; receiving {m.comparison}", "observed": pop_ref},
                        {"variableRole": _cc(VARIABLE_ROLE, "measuredVariable", "measured variable"),
                         "observed": out_ref}],
                    "description": control}
            cstat = {"description": control}
            if a is not None and a.absolute.assumed_risk is not None:
                cstat.update(statisticType=_cc(SEVCO, "STATO:0000607", "proportion"),
                             quantity={"value": _num(a.absolute.assumed_risk)},
                             note=[{"text": n} for n in a.absolute.footnotes[:1]])
            comp["statistic"] = [cstat]
            comp_ref = b.add(f"evidence-comparator:{aid}", comp)
            outcome_sections.append(_outcome_section(aid, name, it, a, out_ref, ev_ref, comp_ref))
        comp_res = {
            "resourceType": "Composition", "id": _rid("summary-of-findings", m.group),
            "meta": {"profile": [PROFILE + "summary-of-findings"]}, "status": "final", "version": vtext,
            "type": _cc(EBM, "SummaryOfFindings", "SummaryOfFindings", text="Summary of Findings"),
            "date": date or _today(), "title": f"Summary of findings: {m.title}",
            "author": [{"display": "Re-analysis of the review's data package (reviewbook)"}],
            "identifier": [{"system": f"urn:reviewbook:summary-of-findings:{pkg.id}", "value": str(m.group)}],
            "relatesTo": [{"type": "derived-from", "resourceReference": review_ref}],
            "section": [
                {"title": "Column Headers", "code": _cc(EBM, "column-headers", "Column Headers"),
                 "section": [{"title": col, "code": _cc(EBM, code, display)} for _, code, display, col in COLUMNS]},
                {"title": "Summary of Findings", "code": _cc(EBM, "summary-of-findings", "Summary of Findings"),
                 "section": outcome_sections},
                {"title": "Groups", "code": _cc(EBM, "groups", "Groups"), "entry": [pop_ref, int_ref, com_ref]},
                {"title": "Variables", "code": _cc(EBM, "variables", "Variables"), "entry": outcome_refs}]}
        b.add(f"summary-of-findings:{m.group}", comp_res)
    stamp = (date or _today()) + "T00:00:00Z"
    return _prune({"resourceType": "Bundle", "id": _rid("evidence", pkg.id), "type": "collection",
                   "timestamp": stamp,
                   "identifier": {"system": "urn:reviewbook:evidence-bundle", "value": f"{pkg.id} version {vtext}"},
                   "entry": b.entries})


def _prune(node):
    """``node`` without the values FHIR JSON forbids: null, empty text, empty arrays and objects."""
    if isinstance(node, dict):
        out = {k: _prune(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(node, list):
        return [x for x in (_prune(v) for v in node) if x not in (None, "", [], {})]
    return node


def _today() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).date().isoformat()


def _outcome_section(aid, name, it, a, out_ref, ev_ref, comp_ref) -> dict:
    from .sections import effect_text

    r = it.pooled
    texts = {
        "outcomeDefinition": f"{name} ({aid})",
        "sampleSize": a.count.text() if a is not None else "not reported",
        "resultWithoutTreatment": a.absolute.control if a is not None else "not reported",
        "resultWithTreatmentDerived": a.absolute.intervention if a is not None else "not reported",
        "effectEstimate": (effect_text(r) if r.is_ratio else "not applicable") if r is not None else "not estimable",
        "certaintyOfEvidence": a.grade.label if (a is not None and a.grade is not None) else "not assessed",
        "assertion": (a.statement if (a is not None and a.statement) else "no statement: no effect estimate"),
    }
    entries = {"outcomeDefinition": [out_ref], "resultWithoutTreatment": [comp_ref],
               "resultWithTreatmentDerived": [ev_ref], "effectEstimate": [ev_ref], "sampleSize": [ev_ref],
               "certaintyOfEvidence": [ev_ref], "assertion": [ev_ref]}
    subs = []
    for key, code, display, col in COLUMNS:
        subs.append({"title": col, "code": _cc(EBM, code, display), "text": _narrative(texts[key]),
                     "entry": entries[key]})
    return {"title": f"{name} ({aid})",
            "code": _cc(EBM, "summary-of-findings-entry-for-a-single-outcome",
                        "Summary of findings entry for a single outcome"),
            "focus": out_ref, "section": subs}


# ------------------------------------------------------------------ validation

#: The profile constraints :func:`check` verifies (besides the R5 base rules fhir.resources enforces).
CHECKED = (
    "every meta.profile is a canonical URL of the guide (http://hl7.org/fhir/uv/ebm/StructureDefinition/...)",
    "every reference is the fullUrl of an entry of the bundle, of the resource type it names",
    "SummaryOfFindings: type.coding exactly 1, SummaryOfFindings of the guide's code system; section 2..*; "
    "exactly one columnHeaders and one summaryOfFindings section (codes); columnHeaders has 2..* sections with "
    "exactly one outcome-measure; summaryOfFindings has 1..* outcome entries (code), each with focus on a "
    "variable-definition EvidenceVariable and 1..* sections; each section's code.coding exactly 1; "
    "entry cardinalities 0..1 (0..2 for the calculated result) and target profiles",
    "ComparativeEvidence: variableDefinition 3..*, at least one population, exactly one exposure and at least "
    "one outcome (measured variable) role",
    "EvidenceSynthesisEvidence: synthesisType 1..1",
    "ComparatorOnlyEvidence (NonComparativeEvidence): variableDefinition 2..* with a population and an outcome",
    "VariableDefinition: handling 1..1",
    "JournalArticleCitation: classification knowledge-artifact-type with the Journal Article classifier",
    "certainty: type Overall and the five GRADE domains, ratings from the certainty-rating code system",
)


def validate(data: dict):
    """The bundle read by fhir.resources' R5 models (raises pydantic's
    ValidationError on what the base specification forbids)."""
    from fhir.resources.bundle import Bundle

    return Bundle.model_validate(data)


def _references(node, path="") -> list:
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                out.append((path, v, node.get("type")))
            else:
                out += _references(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _references(v, f"{path}[{i}]")
    return out


def check(data: dict) -> list:
    """Problems with the bundle against the constraints of :data:`CHECKED`
    (an empty list when there are none)."""
    problems = []
    by_url = {e["fullUrl"]: e["resource"] for e in data.get("entry", [])}
    if len(by_url) != len(data.get("entry", [])):
        problems.append("two entries share a fullUrl")
    for path, ref, rtype in _references(data):
        target = by_url.get(ref)
        if target is None:
            problems.append(f"{path}: reference {ref} resolves to no entry of the bundle")
        elif rtype and target["resourceType"] != rtype:
            problems.append(f"{path}: reference typed {rtype} points at a {target['resourceType']}")

    def profiles(res):
        return res.get("meta", {}).get("profile", [])

    def has(res, name):
        return PROFILE + name in profiles(res)

    def target(ref):
        return by_url.get((ref or {}).get("reference"), {})

    def code_of(sec):
        codings = sec.get("code", {}).get("coding", [])
        if len(codings) != 1:
            problems.append(f"section '{sec.get('title')}': {len(codings)} codings; expected exactly 1")
            return None
        return codings[0].get("code") if codings[0].get("system") == EBM else None

    allowed = {"sampleSize": None, "resultWithoutTreatment": ("comparator-only-evidence",),
               "resultWithTreatmentDerived": ("comparator-only-evidence", "comparative-evidence"),
               "effectEstimate": ("comparative-evidence",), "certaintyOfEvidence": ("comparative-evidence",),
               "assertion": ("comparative-evidence",), "outcomeDefinition": ("variable-definition",)}
    slice_of = {code: key for key, code, _, _ in COLUMNS}
    for res in by_url.values():
        for p in profiles(res):
            if not p.startswith(PROFILE):
                problems.append(f"{res['resourceType']}/{res.get('id')}: profile {p} is not of the guide")
        rid = f"{res['resourceType']}/{res.get('id')}"
        if has(res, "summary-of-findings"):
            tc = res.get("type", {}).get("coding", [])
            if len(tc) != 1 or tc[0].get("system") != EBM or tc[0].get("code") != "SummaryOfFindings":
                problems.append(f"{rid}: type.coding must be exactly {EBM}#SummaryOfFindings")
            secs = res.get("section", [])
            codes = [code_of(s) for s in secs]
            if len(secs) < 2 or codes.count("column-headers") != 1 or codes.count("summary-of-findings") != 1:
                problems.append(f"{rid}: expected 2..* sections with one column-headers and one summary-of-findings")
                continue
            heads = secs[codes.index("column-headers")].get("section", [])
            if len(heads) < 2 or [code_of(s) for s in heads].count("outcome-measure") != 1:
                problems.append(f"{rid}: column headers need 2..* sections with exactly one outcome-measure")
            entries = secs[codes.index("summary-of-findings")].get("section", [])
            if not entries:
                problems.append(f"{rid}: the summary of findings has no outcome entry (1..* required)")
            for o in entries:
                if code_of(o) != "summary-of-findings-entry-for-a-single-outcome":
                    problems.append(f"{rid}: section '{o.get('title')}' is not an outcome entry (closed slicing)")
                if not has(target(o.get("focus")), "variable-definition"):
                    problems.append(f"{rid}: outcome '{o.get('title')}' focus is not a VariableDefinition")
                if not o.get("section"):
                    problems.append(f"{rid}: outcome '{o.get('title')}' has no sections (1..*)")
                seen = []
                for s in o.get("section", []):
                    key = slice_of.get(code_of(s))
                    if key is None:
                        continue
                    seen.append(key)
                    limit = 2 if key == "resultWithTreatmentDerived" else 1
                    ents = s.get("entry", [])
                    if key != "certaintyOfEvidence" and len(ents) > limit:
                        problems.append(f"{rid}: '{o.get('title')}' {key} has {len(ents)} entries (0..{limit})")
                    for e in ents:
                        if allowed[key] and not any(has(target(e), p) for p in allowed[key]):
                            problems.append(f"{rid}: '{o.get('title')}' {key} entry is not a {allowed[key]}")
                dup = {k for k in seen if seen.count(k) > 1}
                if dup:
                    problems.append(f"{rid}: '{o.get('title')}' repeats {sorted(dup)} (0..1 each)")
        if res["resourceType"] == "Evidence":
            roles = [c["code"] for v in res.get("variableDefinition", [])
                     for c in v.get("variableRole", {}).get("coding", [])]
            if has(res, "comparative-evidence"):
                if (len(res.get("variableDefinition", [])) < 3 or roles.count("population") < 1
                        or roles.count("exposure") != 1 or roles.count("measuredVariable") < 1):
                    problems.append(f"{rid}: ComparativeEvidence needs 3..* variables: population 1..*, exposure "
                                    f"1..1, outcome 1..* (found {roles})")
            if has(res, "comparator-only-evidence") and (roles.count("population") < 1
                                                          or roles.count("measuredVariable") < 1):
                problems.append(f"{rid}: ComparatorOnlyEvidence needs a population and an outcome (found {roles})")
            if has(res, "evidence-synthesis-evidence") and not res.get("synthesisType"):
                problems.append(f"{rid}: EvidenceSynthesisEvidence needs synthesisType (1..1)")
            for c in res.get("certainty", []):
                types = [x["code"] for s in c.get("subcomponent", []) for x in s["type"]["coding"]]
                if c["type"]["coding"][0]["code"] != "Overall" or sorted(types) != sorted(
                        t for t, _ in DOMAIN_CODES.values()):
                    problems.append(f"{rid}: certainty must be Overall with the five GRADE domains (found {types})")
                for s in [c, *c.get("subcomponent", [])]:
                    if any(x["system"] != CERTAINTY_RATING for x in s["rating"].get("coding", [])):
                        problems.append(f"{rid}: a certainty rating outside {CERTAINTY_RATING}")
        if has(res, "variable-definition") and not res.get("handling"):
            problems.append(f"{rid}: VariableDefinition needs handling (1..1)")
        if has(res, "journal-article-citation"):
            cls = res.get("citedArtifact", {}).get("classification", [])
            if not any(c["type"]["coding"][0]["code"] == "knowledge-artifact-type"
                       and any(x["coding"][0]["code"] == "D016428" for x in c.get("classifier", []))
                       for c in cls):
                problems.append(f"{rid}: JournalArticleCitation needs the Journal Article classification")
    return problems


def dumps(data: dict) -> str:
    """The bundle as JSON text (deterministic)."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def build_json(pkg, rvw) -> str:
    """The bundle, validated by fhir.resources' R5 models and by :func:`check`, as JSON text;
    raises ValueError when it breaks a rule (a fault of this module, never of the input)."""
    data = bundle(pkg, rvw)
    validate(data)
    problems = check(data)
    if problems:
        raise ValueError("the FHIR bundle breaks the guide's profiles: " + "; ".join(problems[:5]))
    return dumps(data)
