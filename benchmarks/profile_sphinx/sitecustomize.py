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
