"""A missing browser, R or ../shared skips a test on a developer's machine and fails it
under CI (tests/needs.py); the optional rpact cross-check is skipped everywhere."""
import pytest

import needs


@pytest.fixture
def nothing_installed(monkeypatch):
    for name, (_, how) in list(needs.CHECKS.items()):
        monkeypatch.setitem(needs.CHECKS, name, (lambda: False, how))
    needs.available.cache_clear()
    yield
    needs.available.cache_clear()


@pytest.mark.parametrize("what", ["chromium", "poppler", "metafor", "shared"])
def test_missing_dependency_fails_under_ci_and_skips_elsewhere(what, nothing_installed, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"needs {what}.*CI is set"):
        needs.require(what)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=f"needs {what}"):
        needs.require(what)


def test_rpact_is_optional_even_under_ci(nothing_installed, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.skip.Exception, match="optional"):
        needs.require("rpact")

