"""reviewbook: re-run a Cochrane review from its data package.

Engine (:mod:`effects`, :mod:`pooling`, :mod:`tau2`, :mod:`batch`) knows nothing of
files; :mod:`datapackage` reads and validates packages; views (tables, figures,
GRADE) take results; :mod:`runner` and :mod:`cli` orchestrate.
"""
__version__ = "0.2.0"
