"""The sources the judgement rules rest on, in one place.

Every rule of the appraisal layer names the source it follows by a key of
:data:`SOURCES`; the book's methods page lists each rule with its source, and
the bibliography (``book/references.bib``) carries the same keys.  Page and
section numbers are given where the rule is read; a source read only in a
secondary summary is not used as the basis of a rule.
"""
from __future__ import annotations

#: key -> short citation (author, year, where, and the part that states the rule)
SOURCES = {
    "handbook-ch14": "Schünemann HJ, Higgins JPT, Vist GE, et al. Chapter 14: Completing 'Summary of findings' "
                     "tables and grading the certainty of the evidence. Cochrane Handbook for Systematic Reviews of "
                     "Interventions, version 6",
    "handbook-ch10": "Deeks JJ, Higgins JPT, Altman DG. Chapter 10: Analysing data and undertaking meta-analyses. "
                     "Cochrane Handbook, version 6 (10.10 heterogeneity; 10.11 subgroup analyses)",
    "handbook-ch13": "Page MJ, Higgins JPT, Sterne JAC. Chapter 13: Assessing risk of bias due to missing results in "
                     "a synthesis. Cochrane Handbook, version 6",
    "handbook-ch22": "Thomas J, Askie LM, Berlin JA, et al. Chapter 22: Prospective approaches to accumulating "
                     "evidence. Cochrane Handbook, version 6",
    "handbook51-12.2.d": "Cochrane Handbook 5.1, Table 12.2.d: further guidelines for factor 1 (limitations in the "
                         "design and implementation) of GRADE",
    "handbook51-12.5.4": "Cochrane Handbook 5.1, 12.5.4.2 and 12.5.4.3: computing absolute risk reduction from a "
                         "risk ratio or an odds ratio and an assumed control risk",
    "handbook51-11.5": "Cochrane Handbook 5.1, 11.5.6: the 'Summary of findings' table (outcomes, assumed and "
                       "corresponding risks, participants (studies), quality of the evidence, comments)",
    "grade3": "Balshem H, Helfand M, Schünemann HJ, et al. GRADE guidelines: 3. Rating the quality of evidence. "
              "J Clin Epidemiol 2011;64:401-406",
    "grade4": "Guyatt GH, Oxman AD, Vist G, et al. GRADE guidelines: 4. Rating the quality of evidence - study "
              "limitations (risk of bias). J Clin Epidemiol 2011;64:407-415",
    "grade5": "Guyatt GH, Oxman AD, Montori V, et al. GRADE guidelines: 5. Rating the quality of evidence - "
              "publication bias. J Clin Epidemiol 2011;64:1277-1282",
    "grade6": "Guyatt GH, Oxman AD, Kunz R, et al. GRADE guidelines 6. Rating the quality of evidence - "
              "imprecision. J Clin Epidemiol 2011;64:1283-1293",
    "grade7": "Guyatt GH, Oxman AD, Kunz R, et al. GRADE guidelines: 7. Rating the quality of evidence - "
              "inconsistency. J Clin Epidemiol 2011;64:1294-1302",
    "grade8": "Guyatt GH, Oxman AD, Kunz R, et al. GRADE guidelines: 8. Rating the quality of evidence - "
              "indirectness. J Clin Epidemiol 2011;64:1303-1310",
    "grade12": "Guyatt GH, Oxman AD, Santesso N, et al. GRADE guidelines: 12. Preparing summary of findings "
               "tables - binary outcomes. J Clin Epidemiol 2013;66:158-172",
    "grade13": "Guyatt GH, Thorlund K, Oxman AD, et al. GRADE guidelines: 13. Preparing summary of findings "
               "tables and evidence profiles - continuous outcomes. J Clin Epidemiol 2013;66:173-183",
    "grade26": "Santesso N, Glenton C, Dahm P, et al. GRADE guidelines 26: informative statements to communicate "
               "the findings of systematic reviews of interventions. J Clin Epidemiol 2020;119:126-135",
    "grade9": "Guyatt GH, Oxman AD, Sultan S, et al. GRADE guidelines: 9. Rating up the quality of evidence. "
              "J Clin Epidemiol 2011;64:1311-1316 (a large effect: RR above 2 or below 0.5)",
    "grade35": "Schünemann HJ, Neumann I, Hultcrantz M, et al. GRADE guidance 35: update on rating imprecision for "
               "assessing contextualized certainty of evidence and making decisions. J Clin Epidemiol "
               "2022;150:225-242 (rating down one, two or three levels: serious, very serious, extremely serious)",
    "kce-imprecision": "Belgian Health Care Knowledge Centre (KCE). KCE Process Book, 5.5 Imprecision (a single "
                       "study is rated down unless it is a large multicentre trial)",
    "handbook51-8.5.3": "Cochrane Handbook 5.1, 8.5.3: the judgement of risk of bias ('unclear risk' where the "
                        "information is insufficient)",
    "handbook51-12.6.2": "Cochrane Handbook 5.1, 12.6.2: re-expressing SMDs by rules of thumb (0.8: a large effect)",
    "gradepro": "GRADEpro GDT (McMaster University and Evidence Prime): the summary of findings' assumed risk of the "
                "'study population', control-arm events over control-arm participants of the studies",
    "grade34": "Zeng L, Brignardello-Petersen R, Hultcrantz M, et al. GRADE Guidance 34: update on rating "
               "imprecision using a minimally contextualized approach. J Clin Epidemiol 2022;150:216-224",
    "rob2": "Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for assessing risk of bias in randomised "
            "trials. BMJ 2019;366:l4898",
    "norman2003": "Norman GR, Sloan JA, Wyrwich KW. Interpretation of changes in health-related quality of life: "
                  "the remarkable universality of half a standard deviation. Med Care 2003;41:582-592",
    "sterne2011": "Sterne JAC, Sutton AJ, Ioannidis JPA, et al. Recommendations for examining and interpreting "
                  "funnel plot asymmetry in meta-analyses of randomised controlled trials. BMJ 2011;343:d4002",
    "egger1997": "Egger M, Davey Smith G, Schneider M, Minder C. Bias in meta-analysis detected by a simple, "
                 "graphical test. BMJ 1997;315:629-634",
    "roever2015": "Röver C, Knapp G, Friede T. Hartung-Knapp-Sidik-Jonkman approach and its modification for "
                  "random-effects meta-analysis with few studies. BMC Med Res Methodol 2015;15:99",
    "knapp2003": "Knapp G, Hartung J. Improved tests for a random effects meta-regression with a single "
                 "covariate. Stat Med 2003;22:2693-2710 (the ad hoc variance factor max(1, q))",
    "jackson2017": "Jackson D, Law M, Rücker G, Schwarzer G. The Hartung-Knapp modification for random-effects "
                   "meta-analysis: a useful refinement but are there any residual concerns? Stat Med "
                   "2017;36:3923-3934",
    "sun2010": "Sun X, Briel M, Walter SD, Guyatt GH. Is a subgroup effect believable? Updating criteria to "
               "evaluate the credibility of subgroup analyses. BMJ 2010;340:c117",
    "wetterslev2017": "Wetterslev J, Jakobsen JC, Gluud C. Trial Sequential Analysis in systematic reviews with "
                      "meta-analysis. BMC Med Res Methodol 2017;17:39",
    "simmonds2017": "Simmonds M, Salanti G, McKenzie J, Elliott J; Living Systematic Review Network. Living "
                    "systematic reviews: 3. Statistical methods for updating meta-analyses. J Clin Epidemiol "
                    "2017;91:38-46",
}


def cite(*keys: str) -> str:
    """Short in-text form of one or more sources: first author and year, joined
    by '; ' (e.g. 'Guyatt 2011 (GRADE 6)')."""
    out = []
    for k in keys:
        if k not in SOURCES:
            raise KeyError(f"no source {k!r}")
        out.append(SHORT.get(k, k))
    return "; ".join(out)


SHORT = {
    "handbook-ch14": "Cochrane Handbook ch. 14", "handbook-ch10": "Cochrane Handbook ch. 10",
    "handbook-ch13": "Cochrane Handbook ch. 13", "handbook-ch22": "Cochrane Handbook ch. 22",
    "handbook51-12.2.d": "Cochrane Handbook 5.1 Table 12.2.d", "handbook51-12.5.4": "Cochrane Handbook 5.1 12.5.4",
    "handbook51-11.5": "Cochrane Handbook 5.1 11.5.6",
    "grade3": "Balshem 2011, GRADE 3", "grade4": "Guyatt 2011, GRADE 4", "grade5": "Guyatt 2011, GRADE 5", "grade6": "Guyatt 2011, GRADE 6",
    "grade7": "Guyatt 2011, GRADE 7", "grade8": "Guyatt 2011, GRADE 8", "grade12": "Guyatt 2013, GRADE 12",
    "grade13": "Guyatt 2013, GRADE 13", "grade9": "Guyatt 2011, GRADE 9",
    "grade35": "Schünemann 2022, GRADE 35", "kce-imprecision": "KCE Process Book 5.5",
    "handbook51-8.5.3": "Cochrane Handbook 5.1 8.5.3", "handbook51-12.6.2": "Cochrane Handbook 5.1 12.6.2",
    "gradepro": "GRADEpro GDT", "grade26": "Santesso 2020, GRADE 26", "grade34": "Zeng 2022, GRADE 34",
    "rob2": "Sterne 2019, RoB 2", "norman2003": "Norman 2003", "sterne2011": "Sterne 2011", "egger1997": "Egger 1997",
    "roever2015": "Röver 2015", "knapp2003": "Knapp and Hartung 2003", "jackson2017": "Jackson 2017",
    "sun2010": "Sun 2010", "wetterslev2017": "Wetterslev 2017",
    "simmonds2017": "Simmonds 2017",
}
