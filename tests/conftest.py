import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from needs import require  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(*what): the test needs chromium, poppler, metafor, shared or rpact; "
                                       "skipped without it, failed under CI (tests/needs.py)")


def pytest_runtest_setup(item):
    for mark in item.iter_markers("needs"):
        require(*mark.args)
