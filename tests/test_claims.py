"""labkit.claims: the one-line verdict that ends every experiment."""
import math

import pytest

from labkit.claims import ClaimFailed, claim


def test_a_claim_that_holds_prints_a_tick_with_the_measured_and_expected_values(capsys, monkeypatch):
    monkeypatch.setenv("LABKIT_STRICT_CLAIMS", "1")
    c = claim("the error falls as h²", 2.013, between=(1.8, 2.2))
    assert c and c.holds
    assert capsys.readouterr().out.strip() == "✓ the error falls as h² (measured 2.01; expected 1.8 to 2.2)"


@pytest.mark.parametrize("kwargs, measured, holds", [({"at_least": 0.5}, 0.5, True), ({"at_least": 0.5}, 0.49, False),
                                                     ({"at_most": 1e-3}, 2e-3, False), ({"at_most": 1e-3}, math.nan, False),
                                                     ({"at_least": 1, "at_most": 3}, 2, True)])
def test_bounds_are_inclusive_and_nan_never_holds(kwargs, measured, holds, monkeypatch):
    monkeypatch.delenv("LABKIT_STRICT_CLAIMS", raising=False)
    assert claim("x", measured, quiet=True, **kwargs).holds is holds


def test_a_failed_claim_warns_a_student_and_fails_the_maintainers_run(capsys, monkeypatch):
    monkeypatch.delenv("LABKIT_STRICT_CLAIMS", raising=False)
    assert not claim("ReLU keeps the gradient", 0.1, at_least=0.5)
    out = capsys.readouterr().out
    assert out.startswith("✗ ReLU keeps the gradient (measured 0.1; expected at least 0.5)") and "your functions" in out
    monkeypatch.setenv("LABKIT_STRICT_CLAIMS", "1")
    with pytest.raises(ClaimFailed, match="expected at least 0.5"):
        claim("ReLU keeps the gradient", 0.1, at_least=0.5)


def test_a_claim_judged_by_the_notebook_says_what_was_expected_and_bad_calls_are_refused(monkeypatch):
    monkeypatch.delenv("LABKIT_STRICT_CLAIMS", raising=False)
    assert claim("units differ", "3 of 3", holds=True, expected="all units differ", quiet=True).line() == \
        "✓ units differ (measured 3 of 3; expected all units differ)"
    with pytest.raises(ValueError, match="exactly one"):
        claim("x", 1.0)
    with pytest.raises(ValueError, match="expected="):
        claim("x", 1.0, holds=True)
    with pytest.raises(ValueError, match="a number"):
        claim("x", "abc", at_least=1)
