"""Put this folder on PYTHONPATH with REVIEWBOOK_PROFILE_SPHINX=/path/prefix set, and the
Sphinx process of a build (``python -m reviewbook.book.sphinx``) writes its cProfile to
``prefix.<pid>`` (the main process and each parallel worker; the smallest pid is the
main process).  Nothing happens in any other process."""
import os
import sys

if os.environ.get("REVIEWBOOK_PROFILE_SPHINX") and any("reviewbook.book.sphinx" in a
                                                        for a in getattr(sys, "orig_argv", [])):
    import atexit
    import cProfile

    _prof = cProfile.Profile()
    _prof.enable()

    def _dump():
        _prof.disable()
        _prof.dump_stats(f"{os.environ['REVIEWBOOK_PROFILE_SPHINX']}.{os.getpid()}")

    atexit.register(_dump)
    _exit = os._exit

    def _exit_dumping(code):  # the Sphinx process ends with os._exit (no atexit)
        _dump()
        _exit(code)

    os._exit = _exit_dumping

if os.environ.get("REVIEWBOOK_SPHINX_STAMPS") and any("reviewbook.book.sphinx" in a
                                                       for a in getattr(sys, "orig_argv", [])):
    # REVIEWBOOK_SPHINX_STAMPS=FILE: the Sphinx process appends the wall-clock time of each phase to FILE
    # (its start, the application made, 'go' received, read, merged, consistency checked, written)
    import time

    _stamps = open(os.environ["REVIEWBOOK_SPHINX_STAMPS"], "a")

    def _stamp(what):
        _stamps.write(f"{time.time():.2f} {what}\n")
        _stamps.flush()

    _stamp("process started")
    from sphinx.application import Sphinx as _Sphinx

    _init, _build = _Sphinx.__init__, _Sphinx.build

    def _timed_init(self, *a, **k):
        _init(self, *a, **k)
        _stamp("application made")
        for event in ("env-before-read-docs", "env-updated", "env-check-consistency", "build-finished"):
            self.connect(event, (lambda ev: lambda *x, **y: _stamp(ev))(event))

    def _timed_build(self, *a, **k):
        _stamp("go received")
        return _build(self, *a, **k)

    _Sphinx.__init__, _Sphinx.build = _timed_init, _timed_build
