"""The bounds of the text a command line adds to a package (``add-rows --source`` and
``--note``), kept apart from :mod:`.schema` so that the command line's help can state
them without importing pandas."""

#: Longest ``add-rows --source`` and ``--note`` text, in characters (a citation,
#: DOI or URL; a sentence).
MAX_SOURCE_CHARS = 2000
MAX_NOTE_CHARS = 2000
