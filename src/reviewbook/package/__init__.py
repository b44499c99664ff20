"""The package layer: reading, validating, importing and writing Cochrane data
packages, and recomputing their analyses with the engine.  It knows no plots."""
