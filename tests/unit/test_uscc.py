"""统一社会信用代码: the check character of GB 32100-2015, one at a time and vectorised."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scoring.uscc import ALPHABET, is_valid_uscc, make_uscc, uscc_problem, uscc_problems


def test_real_codes_and_a_typo():
    for code in ("91110108551385082Q", "91440300708461136T", "91330100716105852F"):
        assert is_valid_uscc(code)
    assert "应为Q" in uscc_problem("91110108551385082R")
    assert "18位" in uscc_problem("9111010855138508")
    assert "不允许的字符" in uscc_problem("91110108551385082I")


@given(st.lists(st.one_of(
    st.text(alphabet=ALPHABET, min_size=17, max_size=17).map(make_uscc),
    st.text(alphabet=ALPHABET + "IOZSV甲 ", min_size=0, max_size=20),
), max_size=40))
def test_vectorised_check_agrees_with_the_one_by_one_check(codes):
    assert uscc_problems(codes) == [uscc_problem(c) for c in codes]
