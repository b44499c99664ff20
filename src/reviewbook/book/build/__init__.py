"""The book's build as five stages, each a module that takes and returns plain values
(paths, the plan, the package), so that each can be run and tested alone, after a
stage 0 that may find there is nothing to do:

0. :mod:`.quick`: a rebuild with nothing to do, told from the bytes of the last build's
   inputs before anything is read (standard library only: the command line asks it
   before importing the rest);
1. :mod:`.plan`: the inputs (the data package and review file), their fingerprints, the
   plan of pages and what the cache already holds;
2. :mod:`.execute`: the warm kernels, the cache and the notebooks run, with the side
   computations (results, the previous build's rows, the exports) made meanwhile;
3. :mod:`.validate`: the executed notebooks checked;
4. :mod:`.site`: the book's sources, the results and downloads, the Sphinx build and the
   pruning of what earlier builds left;
5. :mod:`.publish`: the cache kept, the new site swapped into place and the state recorded.

A stage imports only the stages before it (and :mod:`.base`);
:func:`reviewbook.book.runner.build` runs them in turn.
"""
